"""Notifications of transboundary shipments and what the authorities and parties answer to them:
acknowledgement, consents, contract, financial guarantee and significant changes."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from oneforone.accounts.models import Membership, Organisation, OrganisationKind, Role, User
from oneforone.accounts.permissions import NotAllowed, require_member
from oneforone.core import audit
from oneforone.shipments.codes import CodeError, require_code
from oneforone.shipments.models import (
    ChangeAnswer,
    ChangeKind,
    ChangeRequest,
    CodeList,
    Consent,
    Contract,
    Decision,
    FinancialGuarantee,
    Notification,
    NotifiedCarrier,
    RouteRole,
    RouteStop,
    ShipmentType,
    Stream,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class NotificationError(Exception):
    """A notification document refused; the message says what to correct."""


# Optional patterns of the numbers each authority of export issues, checked on the number as
# issued. Only the two-letters-ten-digits shape was observed on real forms; none of these is
# confirmed by the authorities named, so a project can override them with the setting
# NOTIFICATION_NUMBER_PATTERNS (country -> regular expression; a country left out takes any).
DEFAULT_NUMBER_PATTERNS: dict[str, str] = {
    "GH": r"^GH[0-9]{10}$",
    "NG": r"^NG[0-9]{10}$",
    "CM": r"^CM[0-9]{10}$",
}

# EU member states: their transit authorities consent tacitly after 30 days (Regulation (EU)
# 2024/1157, Art. 9); other transit Parties after 60 days (Basel Convention, Art. 6(4)).
# fmt: off
EU_COUNTRIES = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})
# fmt: on
EU_TRANSIT_TACIT_DAYS = 30
BASEL_TRANSIT_TACIT_DAYS = 60
TACIT_CONSENT_SOURCES = {
    EU_TRANSIT_TACIT_DAYS: "Regulation (EU) 2024/1157, Art. 9 (transit in the EU)",
    BASEL_TRANSIT_TACIT_DAYS: "Basel Convention, Art. 6(4) (transit outside the EU)",
}
CHANGE_FIELDS: dict[str, frozenset[str]] = {
    ChangeKind.QUANTITY: frozenset({"total_quantity_kg", "intended_shipments"}),
    ChangeKind.DATES: frozenset({"first_departure", "last_departure"}),
    ChangeKind.CARRIER: frozenset({"carriers"}),
    ChangeKind.ROUTE: frozenset({"route"}),
}


@dataclass(frozen=True)
class StopBlock:
    """One country of the route (block 16), with its authority and border points."""

    role: str
    country: str
    competent_authority: str
    entry_point: str = ""
    exit_point: str = ""
    customs_office: str = ""

    def as_data(self) -> dict[str, str]:
        return {
            "role": self.role,
            "country": self.country,
            "competent_authority": self.competent_authority,
            "entry_point": self.entry_point,
            "exit_point": self.exit_point,
            "customs_office": self.customs_office,
        }


@dataclass(frozen=True)
class CarrierBlock:
    """A carrier named in block 8 with its means of transport code."""

    carrier: Organisation
    means_of_transport: str


@dataclass(frozen=True)
class NotificationBlocks:
    """The blocks of the notification form (Annex IA) an operator fills in."""

    number: str
    notifier: Organisation
    consignee: Organisation
    generator: Organisation
    generator_site: str
    facility: Organisation
    facility_site: str
    shipment_type: str
    intended_shipments: int
    total_quantity_kg: Decimal
    first_departure: dt.date
    last_departure: dt.date
    operation_code: str
    waste_description: str
    physical_characteristics: str
    basel_code: str
    ewc_code: str
    hs_code: str
    notified_on: dt.date
    route: Sequence[StopBlock]
    carriers: Sequence[CarrierBlock]
    stream: str = Stream.PHONES
    packaging_types: Sequence[str] = ("4",)
    technology: str = ""
    y_codes: Sequence[str] = field(default_factory=tuple)
    h_codes: Sequence[str] = field(default_factory=tuple)
    un_number: str = ""


def require_notifier_or_operator(actor: User, notifier: Organisation) -> None:
    """Operator staff, or a writing member of the notifying organisation."""
    if Membership.objects.filter(
        user=actor,
        organisation__kind=OrganisationKind.OPERATOR,
        role__in=[Role.ADMIN, Role.MEMBER],
    ).exists():
        return
    try:
        require_member(actor, notifier)
    except NotAllowed as error:
        raise NotAllowed(
            gettext("%(problem)s; only operator staff or the notifier (%(name)s) record this")
            % {"problem": error, "name": notifier.name}
        ) from error


def number_pattern(country: str) -> str | None:
    patterns: Mapping[str, str] = getattr(
        settings, "NOTIFICATION_NUMBER_PATTERNS", DEFAULT_NUMBER_PATTERNS
    )
    return patterns.get(country)


def _check_number(number: str, export_country: str) -> None:
    if not number:
        raise NotificationError(gettext("enter the notification number as the authority issued it"))
    pattern = number_pattern(export_country)
    if pattern and not re.fullmatch(pattern, number):
        raise NotificationError(
            gettext(
                "notification number %(number)s does not look like one issued in %(export_country)s "
                "(expected %(pattern)s); copy it exactly from the authority's acknowledgement"
            )
            % {"number": number, "export_country": export_country, "pattern": pattern}
        )


def _check_route(route: Sequence[StopBlock]) -> None:
    roles = [stop.role for stop in route]
    if len(roles) < 2 or roles[0] != RouteRole.EXPORT or roles[-1] != RouteRole.IMPORT:
        raise NotificationError(
            gettext(
                "the route starts with the country of export and ends with the country of import"
            )
        )
    if any(role != RouteRole.TRANSIT for role in roles[1:-1]):
        raise NotificationError(
            gettext("every country between export and import is a transit country")
        )
    for stop in route:
        if not re.fullmatch(r"[A-Z]{2}", stop.country):
            raise NotificationError(
                gettext("%(country)s is not a two-letter ISO country code")
                % {"country": repr(stop.country)}
            )
        if not stop.competent_authority.strip():
            raise NotificationError(
                gettext("name the competent authority of %(country)s") % {"country": stop.country}
            )
    countries = [stop.country for stop in route]
    if len(set(countries)) != len(countries):
        raise NotificationError(gettext("each country appears once on the route"))


def _check_codes(blocks: NotificationBlocks) -> None:
    """Every code against its list on the notification's date; all refusals together."""
    on = blocks.notified_on
    wanted: list[tuple[str, str]] = [
        (CodeList.OPERATION, blocks.operation_code),
        (CodeList.PHYSICAL, blocks.physical_characteristics),
        (CodeList.BASEL, blocks.basel_code),
        (CodeList.EWC, blocks.ewc_code),
        (CodeList.HS, blocks.hs_code),
        *[(CodeList.PACKAGING, code) for code in blocks.packaging_types],
        *[(CodeList.BASEL, code) for code in blocks.y_codes],
        *[(CodeList.HAZARD, code) for code in blocks.h_codes],
        *[(CodeList.TRANSPORT, c.means_of_transport) for c in blocks.carriers],
    ]
    if blocks.un_number:
        wanted.append((CodeList.UN_NUMBER, blocks.un_number))
    problems = []
    for code_list, code in wanted:
        try:
            require_code(code_list, code, on=on)
        except CodeError as error:
            problems.append(str(error))
    if not blocks.packaging_types:
        problems.append(gettext("choose at least one packaging type"))
    if problems:
        raise NotificationError("; ".join(problems))


def _check_terms(blocks: NotificationBlocks) -> None:
    if blocks.shipment_type == ShipmentType.SINGLE and blocks.intended_shipments != 1:
        raise NotificationError(
            gettext("a single-shipment notification covers exactly one shipment")
        )
    if blocks.intended_shipments < 1 or blocks.total_quantity_kg <= 0:
        raise NotificationError(
            gettext("the intended shipments and the total quantity must be positive")
        )
    if blocks.last_departure < blocks.first_departure:
        raise NotificationError(gettext("the last departure cannot be before the first departure"))
    if not blocks.carriers:
        raise NotificationError(gettext("name at least one carrier"))
    for item in blocks.carriers:
        if item.carrier.kind != OrganisationKind.CARRIER:
            raise NotificationError(
                gettext("%(name)s is not a carrier organisation") % {"name": item.carrier.name}
            )


def _blocks_data(blocks: NotificationBlocks) -> dict[str, Any]:
    return {
        "number": blocks.number,
        "stream": blocks.stream,
        "intended_shipments": blocks.intended_shipments,
        "total_quantity_kg": str(blocks.total_quantity_kg),
        "first_departure": blocks.first_departure,
        "last_departure": blocks.last_departure,
        "codes": [blocks.basel_code, blocks.ewc_code, blocks.hs_code, blocks.operation_code],
        "route": [stop.country for stop in blocks.route],
        "carriers": [item.carrier.pk for item in blocks.carriers],
    }


@transaction.atomic
def create_notification(*, actor: User, blocks: NotificationBlocks) -> Notification:
    """Record a notification as submitted to the authority of export, by its form blocks."""
    require_notifier_or_operator(actor, blocks.notifier)
    number = blocks.number.strip()
    _check_route(blocks.route)
    _check_number(number, blocks.route[0].country)
    _check_terms(blocks)
    _check_codes(blocks)
    if Notification.objects.filter(number=number).exists():
        raise NotificationError(
            gettext("notification %(number)s is recorded already; open it instead")
            % {"number": number}
        )
    notification = Notification.objects.create(
        number=number,
        stream=blocks.stream,
        notifier=blocks.notifier,
        consignee=blocks.consignee,
        generator=blocks.generator,
        generator_site=blocks.generator_site.strip(),
        facility=blocks.facility,
        facility_site=blocks.facility_site.strip(),
        shipment_type=blocks.shipment_type,
        intended_shipments=blocks.intended_shipments,
        total_quantity_kg=blocks.total_quantity_kg,
        first_departure=blocks.first_departure,
        last_departure=blocks.last_departure,
        packaging_types=list(blocks.packaging_types),
        operation_code=blocks.operation_code,
        technology=blocks.technology.strip(),
        waste_description=blocks.waste_description.strip(),
        physical_characteristics=blocks.physical_characteristics,
        basel_code=blocks.basel_code,
        ewc_code=blocks.ewc_code,
        hs_code=blocks.hs_code,
        y_codes=list(blocks.y_codes),
        h_codes=list(blocks.h_codes),
        un_number=blocks.un_number,
        notified_on=blocks.notified_on,
        created_at=timezone.now(),
        created_by=actor,
    )
    _write_route(notification, blocks.route)
    _write_carriers(notification, blocks.carriers)
    audit.record(
        actor=actor,
        code="shipments.notification.created",
        obj=notification,
        organisation=blocks.notifier,
        data=_blocks_data(blocks),
    )
    return notification


def _write_route(notification: Notification, route: Sequence[StopBlock]) -> None:
    for sequence, stop in enumerate(route, start=1):
        RouteStop.objects.create(notification=notification, sequence=sequence, **stop.as_data())


def _write_carriers(notification: Notification, carriers: Sequence[CarrierBlock]) -> None:
    for sequence, item in enumerate(carriers, start=1):
        NotifiedCarrier.objects.create(
            notification=notification,
            sequence=sequence,
            carrier=item.carrier,
            means_of_transport=item.means_of_transport,
        )


def lock_notification(notification: Notification) -> Notification:
    return Notification.objects.select_for_update().get(pk=notification.pk)


# "The <what> date ... is in the future", one whole sentence for each dated act.
FUTURE_DATE: dict[str, StrOrPromise] = {
    "acknowledgement": gettext_lazy("the acknowledgement date %(day)s is in the future"),
    "decision": gettext_lazy("the decision date %(day)s is in the future"),
    "tacit consent": gettext_lazy("the tacit consent date %(day)s is in the future"),
    "signature": gettext_lazy("the signature date %(day)s is in the future"),
    "release": gettext_lazy("the release date %(day)s is in the future"),
    "answer": gettext_lazy("the answer date %(day)s is in the future"),
}


def _not_in_future(day: dt.date, what: str) -> None:
    if day > timezone.localdate():
        raise NotificationError(str(FUTURE_DATE[what]) % {"day": format(day, "%Y-%m-%d")})


@transaction.atomic
def acknowledge_notification(
    *, actor: User, notification: Notification, acknowledged_on: dt.date
) -> Notification:
    """The competent authority of destination acknowledged the notification as complete."""
    require_notifier_or_operator(actor, notification.notifier)
    notification = lock_notification(notification)
    if notification.acknowledged_on is not None:
        raise NotificationError(
            gettext("notification %(number)s was acknowledged on %(acknowledged_on)s already")
            % {
                "number": notification.number,
                "acknowledged_on": format(notification.acknowledged_on, "%Y-%m-%d"),
            }
        )
    _not_in_future(acknowledged_on, "acknowledgement")
    if acknowledged_on < notification.notified_on:
        raise NotificationError(
            gettext("the acknowledgement cannot be before the notification (%(notified_on)s)")
            % {"notified_on": format(notification.notified_on, "%Y-%m-%d")}
        )
    notification.acknowledged_on = acknowledged_on
    notification.save(update_fields=["acknowledged_on"])
    audit.record(
        actor=actor,
        code="shipments.notification.acknowledged",
        obj=notification,
        organisation=notification.notifier,
        data={"number": notification.number, "acknowledged_on": acknowledged_on},
    )
    return notification


def _require_stop(notification: Notification, route_stop: RouteStop) -> None:
    if route_stop.notification_id != notification.pk:
        raise NotificationError(
            gettext("%(competent_authority)s is not on the route of %(number)s")
            % {"competent_authority": route_stop.competent_authority, "number": notification.number}
        )


def _require_validity(valid_from: dt.date | None, valid_to: dt.date | None) -> None:
    if valid_from is None or valid_to is None:
        raise NotificationError(gettext("enter the period the consent is valid for (from and to)"))
    if valid_to < valid_from:
        raise NotificationError(gettext("the consent's validity ends before it starts"))


@transaction.atomic
def record_consent(
    *,
    actor: User,
    notification: Notification,
    route_stop: RouteStop,
    decision: str,
    decided_on: dt.date,
    valid_from: dt.date | None = None,
    valid_to: dt.date | None = None,
    conditions: str = "",
    reference: str = "",
) -> Consent:
    """A competent authority's written decision; a new one supersedes the one before."""
    require_notifier_or_operator(actor, notification.notifier)
    notification = lock_notification(notification)
    _require_stop(notification, route_stop)
    _not_in_future(decided_on, "decision")
    if decision == Decision.TACIT:
        raise NotificationError(
            gettext("record a tacit consent with its own form, once the period ends")
        )
    if decision not in Decision.values:
        raise NotificationError(
            gettext("%(decision)s is not a decision; choose consent or objection")
            % {"decision": decision}
        )
    if decision == Decision.OBJECTION:
        valid_from = valid_to = None
    else:
        _require_validity(valid_from, valid_to)
    if decision == Decision.CONDITIONS and not conditions.strip():
        raise NotificationError(gettext("copy the authority's conditions into the consent"))
    consent = Consent.objects.create(
        notification=notification,
        route_stop=route_stop,
        decision=decision,
        conditions=conditions.strip(),
        decided_on=decided_on,
        valid_from=valid_from,
        valid_to=valid_to,
        reference=reference.strip(),
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    _audit_consent(actor, notification, consent)
    return consent


def _audit_consent(actor: User, notification: Notification, consent: Consent) -> None:
    audit.record(
        actor=actor,
        code="shipments.notification.consent_recorded",
        obj=notification,
        organisation=notification.notifier,
        data={
            "number": notification.number,
            "country": consent.route_stop.country,
            "decision": consent.decision,
            "decided_on": consent.decided_on,
            "valid_from": consent.valid_from,
            "valid_to": consent.valid_to,
        },
    )


def tacit_consent_days(route_stop: RouteStop) -> int | None:
    """The days after the acknowledgement after which a transit authority's silence is consent;
    None where silence is no consent (export and import authorities)."""
    if route_stop.role != RouteRole.TRANSIT:
        return None
    if route_stop.country in EU_COUNTRIES:
        return EU_TRANSIT_TACIT_DAYS
    return BASEL_TRANSIT_TACIT_DAYS


def tacit_consent_possible_on(notification: Notification, route_stop: RouteStop) -> dt.date | None:
    days = tacit_consent_days(route_stop)
    if days is None or notification.acknowledged_on is None:
        return None
    return notification.acknowledged_on + dt.timedelta(days=days)


def _one_year_from(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year + 1) - dt.timedelta(days=1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


@transaction.atomic
def record_tacit_consent(
    *, actor: User, notification: Notification, route_stop: RouteStop, on: dt.date | None = None
) -> Consent:
    """A transit authority raised no objection within the legal period since acknowledgement."""
    require_notifier_or_operator(actor, notification.notifier)
    notification = lock_notification(notification)
    _require_stop(notification, route_stop)
    on = on or timezone.localdate()
    _not_in_future(on, "tacit consent")
    authority = f"{route_stop.competent_authority} ({route_stop.country})"
    days = tacit_consent_days(route_stop)
    if days is None:
        raise NotificationError(
            gettext(
                "%(authority)s is the %(route_stop)s: only a written consent counts; tacit consent "
                "applies to transit authorities"
            )
            % {"authority": authority, "route_stop": route_stop.get_role_display().lower()}
        )
    if notification.acknowledged_on is None:
        raise NotificationError(
            gettext("record the acknowledgement first: the period for tacit consent runs from it")
        )
    if route_stop.consents.exists():
        raise NotificationError(
            gettext("%(authority)s has decided already; tacit consent cannot apply")
            % {"authority": authority}
        )
    possible_on = notification.acknowledged_on + dt.timedelta(days=days)
    if on < possible_on:
        raise NotificationError(
            gettext(
                "tacit consent of %(authority)s is possible from %(possible_on)s, %(days)s days after "
                "the acknowledgement of %(acknowledged_on)s (%(days2)s)"
            )
            % {
                "authority": authority,
                "possible_on": format(possible_on, "%Y-%m-%d"),
                "days": days,
                "acknowledged_on": format(notification.acknowledged_on, "%Y-%m-%d"),
                "days2": TACIT_CONSENT_SOURCES[days],
            }
        )
    consent = Consent.objects.create(
        notification=notification,
        route_stop=route_stop,
        decision=Decision.TACIT,
        decided_on=possible_on,
        valid_from=possible_on,
        valid_to=_one_year_from(possible_on),
        reference=TACIT_CONSENT_SOURCES[days],
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    _audit_consent(actor, notification, consent)
    return consent


@transaction.atomic
def record_contract(
    *,
    actor: User,
    notification: Notification,
    reference: str,
    signed_on: dt.date,
    valid_from: dt.date,
    valid_to: dt.date,
) -> Contract:
    """The contract between notifier and consignee for the recovery of the notified waste."""
    require_notifier_or_operator(actor, notification.notifier)
    if not reference.strip():
        raise NotificationError(gettext("enter the contract's reference"))
    _not_in_future(signed_on, "signature")
    if valid_to < valid_from:
        raise NotificationError(gettext("the contract's validity ends before it starts"))
    contract = Contract.objects.create(
        notification=notification,
        reference=reference.strip(),
        signed_on=signed_on,
        valid_from=valid_from,
        valid_to=valid_to,
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    audit.record(
        actor=actor,
        code="shipments.notification.contract_recorded",
        obj=notification,
        organisation=notification.notifier,
        data={
            "number": notification.number,
            "reference": contract.reference,
            "valid_from": valid_from,
            "valid_to": valid_to,
        },
    )
    return contract


@transaction.atomic
def record_guarantee(
    *,
    actor: User,
    reference: str,
    guarantor: str,
    amount: Decimal,
    currency: str,
    valid_from: dt.date,
    valid_to: dt.date,
    notifications: Sequence[Notification],
) -> FinancialGuarantee:
    """A guarantee or insurance covering one or more notifications."""
    if not notifications:
        raise NotificationError(gettext("choose the notifications the guarantee covers"))
    for notification in notifications:
        require_notifier_or_operator(actor, notification.notifier)
    if not isinstance(amount, Decimal) or amount <= 0:
        raise NotificationError(gettext("enter the guaranteed amount as a positive figure"))
    currency = currency.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise NotificationError(gettext("enter the currency as its three-letter code, e.g. EUR"))
    if valid_to < valid_from:
        raise NotificationError(gettext("the guarantee's validity ends before it starts"))
    reference = reference.strip()
    if not reference or FinancialGuarantee.objects.filter(reference=reference).exists():
        raise NotificationError(
            gettext("guarantee %(reference)s: enter a new reference")
            % {"reference": reference or gettext("(blank)")}
        )
    guarantee = FinancialGuarantee.objects.create(
        reference=reference,
        guarantor=guarantor.strip(),
        amount=amount,
        currency=currency,
        valid_from=valid_from,
        valid_to=valid_to,
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    guarantee.notifications.set(notifications)
    audit.record(
        actor=actor,
        code="shipments.guarantee.recorded",
        obj=guarantee,
        organisation=notifications[0].notifier,
        data={
            "reference": reference,
            "amount": str(amount),
            "currency": currency,
            "valid_from": valid_from,
            "valid_to": valid_to,
            "notifications": sorted(n.number for n in notifications),
        },
    )
    return guarantee


@transaction.atomic
def release_guarantee(
    *, actor: User, guarantee: FinancialGuarantee, released_on: dt.date
) -> FinancialGuarantee:
    """The guarantee is released (the certificates of recovery arrived); it covers no more."""
    guarantee = FinancialGuarantee.objects.select_for_update().get(pk=guarantee.pk)
    covered = list(guarantee.notifications.select_related("notifier"))
    for notification in covered:
        require_notifier_or_operator(actor, notification.notifier)
    if guarantee.released_on is not None:
        raise NotificationError(
            gettext("guarantee %(reference)s was released on %(released_on)s")
            % {
                "reference": guarantee.reference,
                "released_on": format(guarantee.released_on, "%Y-%m-%d"),
            }
        )
    _not_in_future(released_on, "release")
    guarantee.released_on = released_on
    guarantee.save(update_fields=["released_on"])
    audit.record(
        actor=actor,
        code="shipments.guarantee.released",
        obj=guarantee,
        organisation=covered[0].notifier if covered else None,
        data={"reference": guarantee.reference, "released_on": released_on},
    )
    return guarantee


def _parse_date(value: object, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as error:
        raise NotificationError(
            gettext("%(name)s must be a date (YYYY-MM-DD)") % {"name": name}
        ) from error


def _check_proposed(notification: Notification, kind: str, proposed: Mapping[str, Any]) -> None:
    """Refuse a change whose proposed values the notification could not take."""
    allowed = CHANGE_FIELDS[kind]
    if not proposed or not set(proposed) <= allowed:
        raise NotificationError(
            gettext("a %(kind)s change proposes %(allowed)s; nothing else")
            % {"kind": kind, "allowed": ", ".join(sorted(allowed))}
        )
    if "total_quantity_kg" in proposed:
        try:
            quantity = Decimal(str(proposed["total_quantity_kg"]))
        except InvalidOperation as error:
            raise NotificationError(
                gettext("the proposed quantity must be a number of kg")
            ) from error
        if quantity <= 0:
            raise NotificationError(gettext("the proposed quantity must be positive"))
    if "intended_shipments" in proposed:
        shipments = int(proposed["intended_shipments"])
        if shipments < 1 or (notification.shipment_type == ShipmentType.SINGLE and shipments > 1):
            raise NotificationError(
                gettext("the proposed number of shipments does not fit the notification")
            )
    if kind == ChangeKind.DATES:
        first = _parse_date(proposed.get("first_departure", notification.first_departure), "first")
        last = _parse_date(proposed.get("last_departure", notification.last_departure), "last")
        if last < first:
            raise NotificationError(
                gettext("the proposed last departure is before the first departure")
            )
    if kind == ChangeKind.CARRIER:
        _proposed_carriers(notification, proposed["carriers"])
    if kind == ChangeKind.ROUTE:
        _check_route(_proposed_route(proposed["route"]))


def _proposed_carriers(notification: Notification, items: object) -> list[CarrierBlock]:
    if not isinstance(items, list) or not items:
        raise NotificationError(
            gettext("propose the carriers as a list of carrier and means of transport")
        )
    carriers = []
    for item in items:
        carrier = Organisation.objects.filter(
            pk=item.get("carrier"), kind=OrganisationKind.CARRIER
        ).first()
        if carrier is None:
            raise NotificationError(
                gettext("carrier %(carrier)s is not a carrier organisation")
                % {"carrier": item.get("carrier")}
            )
        code = str(item.get("means_of_transport", ""))
        try:
            require_code(CodeList.TRANSPORT, code, on=timezone.localdate())
        except CodeError as error:
            raise NotificationError(str(error)) from error
        carriers.append(CarrierBlock(carrier, code))
    return carriers


def _proposed_route(items: object) -> list[StopBlock]:
    if not isinstance(items, list):
        raise NotificationError(gettext("propose the route as the list of its countries in order"))
    try:
        return [StopBlock(**item) for item in items]
    except TypeError as error:
        raise NotificationError(
            gettext("a proposed route stop is incomplete: %(error)s") % {"error": error}
        ) from error


@transaction.atomic
def request_change(
    *,
    actor: User,
    notification: Notification,
    kind: str,
    description: str,
    proposed: Mapping[str, Any],
) -> ChangeRequest:
    """A significant change to the notification; shipments wait until the authorities answer."""
    require_notifier_or_operator(actor, notification.notifier)
    notification = lock_notification(notification)
    if kind not in ChangeKind.values:
        raise NotificationError(
            gettext("%(kind)s is not a kind of change; choose %(changekind)s")
            % {"kind": kind, "changekind": ", ".join(ChangeKind)}
        )
    if not description.strip():
        raise NotificationError(gettext("describe the change as it was sent to the authorities"))
    _check_proposed(notification, kind, proposed)
    change = ChangeRequest.objects.create(
        notification=notification,
        kind=kind,
        description=description.strip(),
        proposed=dict(proposed),
        requested_by=actor,
        requested_at=timezone.now(),
    )
    audit.record(
        actor=actor,
        code="shipments.notification.change_requested",
        obj=notification,
        organisation=notification.notifier,
        data={"number": notification.number, "kind": kind, "proposed": dict(proposed)},
    )
    return change


@transaction.atomic
def answer_change(
    *,
    actor: User,
    change: ChangeRequest,
    answer: str,
    answered_on: dt.date,
    note: str = "",
) -> ChangeRequest:
    """The authorities' answer (or the notifier's withdrawal); an accepted change is applied."""
    notification = lock_notification(change.notification)
    require_notifier_or_operator(actor, notification.notifier)
    change = ChangeRequest.objects.select_for_update().get(pk=change.pk)
    if change.answer:
        raise NotificationError(
            gettext("this change was answered on %(answered_on)s (%(answer)s)")
            % {"answered_on": format(change.answered_on, "%Y-%m-%d"), "answer": change.answer}
        )
    if answer not in ChangeAnswer.values:
        raise NotificationError(
            gettext("choose an answer: %(values)s") % {"values": ", ".join(ChangeAnswer.values)}
        )
    _not_in_future(answered_on, "answer")
    if answer == ChangeAnswer.ACCEPTED:
        _apply_change(notification, change)
    change.answer = answer
    change.answered_on = answered_on
    change.answer_note = note.strip()
    change.answered_by = actor
    change.save(update_fields=["answer", "answered_on", "answer_note", "answered_by"])
    audit.record(
        actor=actor,
        code="shipments.notification.change_answered",
        obj=notification,
        organisation=notification.notifier,
        data={"number": notification.number, "kind": change.kind, "answer": answer},
    )
    return change


def _apply_change(notification: Notification, change: ChangeRequest) -> None:
    _check_proposed(notification, change.kind, change.proposed)
    proposed = change.proposed
    if change.kind == ChangeKind.QUANTITY:
        if "total_quantity_kg" in proposed:
            notification.total_quantity_kg = Decimal(str(proposed["total_quantity_kg"]))
        if "intended_shipments" in proposed:
            notification.intended_shipments = int(proposed["intended_shipments"])
    elif change.kind == ChangeKind.DATES:
        for name in ("first_departure", "last_departure"):
            if name in proposed:
                setattr(notification, name, _parse_date(proposed[name], name))
    elif change.kind == ChangeKind.CARRIER:
        carriers = _proposed_carriers(notification, proposed["carriers"])
        notification.carriers.all().delete()
        _write_carriers(notification, carriers)
    else:
        _replace_route(notification, _proposed_route(proposed["route"]))
    notification.save()


def _replace_route(notification: Notification, route: Sequence[StopBlock]) -> None:
    """Keep the stops (and their consents) of countries still on the route, add the new ones;
    a country whose authority decided already cannot leave the route."""
    existing = {stop.country: stop for stop in notification.route.all()}
    wanted = {stop.country for stop in route}
    for country, stop in existing.items():
        if country not in wanted:
            if stop.consents.exists():
                raise NotificationError(
                    gettext(
                        "%(competent_authority)s (%(country)s) decided on this notification; a route without "
                        "it needs a new notification"
                    )
                    % {"competent_authority": stop.competent_authority, "country": country}
                )
            stop.delete()
    # Renumber in two passes: the sequence is unique per notification.
    notification.route.update(sequence=F("sequence") + 1000)
    for sequence, block in enumerate(route, start=1):
        kept = existing.get(block.country)
        if kept is None:
            RouteStop.objects.create(
                notification=notification, sequence=sequence, **block.as_data()
            )
            continue
        for name, value in block.as_data().items():
            setattr(kept, name, value)
        kept.sequence = sequence
        kept.save()
