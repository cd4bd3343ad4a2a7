"""Actions on the payment ledger: paying collectors, handling fees to collection partners,
reversals, and the operator's price caps, fee rates and exchange rates.

The ledger is append-only (a trigger refuses updates and deletes); a correction is a reversal, a
new row with the negated amount that names the payment it cancels. Amounts are Decimals, never
floats: every entry point refuses a float with a TypeError."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

from oneforone.accounts.models import Membership, Organisation, OrganisationKind, User
from oneforone.accounts.permissions import require_member, require_operator
from oneforone.collection import payments
from oneforone.collection.actions import CollectionError
from oneforone.collection.models import (
    Collector,
    Country,
    ExchangeRate,
    HandlingFeeRate,
    Hub,
    Intake,
    Payment,
    PaymentKind,
    PaymentMethod,
    PriceCap,
)
from oneforone.core import audit
from oneforone.core.db import advisory_xact_lock
from oneforone.core.money import Money, check_currency, quantize

FEE_KINDS = (PaymentKind.STORAGE_FEE, PaymentKind.RECORD_KEEPING_FEE)
# Serialises handling-fee payments, so that two clicks cannot pay the same month twice.
_HANDLING_FEE_LOCK = 0x0401_0501


class PaymentError(CollectionError):
    """A payment action refused; the message says why and what to do instead."""


def require_decimal(value: object, what: str) -> Decimal:
    """Money and rates are Decimals; a float would carry binary rounding into the ledger."""
    if isinstance(value, float) or not isinstance(value, Decimal | int):
        raise TypeError(
            gettext("%(what)s must be a Decimal, never a float (got %(name)s)")
            % {"what": what, "name": type(value).__name__}
        )
    return Decimal(value)


def _check_method(method: str, reference: str) -> str:
    if method not in PaymentMethod.values:
        raise PaymentError(gettext("unknown payment method %(method)s") % {"method": repr(method)})
    if method != PaymentMethod.CASH and not reference.strip():
        raise PaymentError(
            gettext(
                "a %(label)s payment needs its transaction reference; copy it from the confirmation "
                "message"
            )
            % {"label": PaymentMethod(method).label.lower()}
        )
    return method


def _operator_organisation(actor: User) -> Organisation:
    require_operator(actor)
    membership = (
        Membership.objects.filter(user=actor, organisation__kind=OrganisationKind.OPERATOR)
        .select_related("organisation")
        .order_by("id")
        .first()
    )
    assert membership is not None  # require_operator passed
    return membership.organisation


def first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


# --- paying collectors ---------------------------------------------------------------------------


@transaction.atomic
def pay_collector(*, actor: User, intake: Intake, method: str, reference: str = "") -> Payment:
    """Pay a collector what one intake is still owed (the 0007 trigger refuses overpaying)."""
    require_member(actor, intake.hub.organisation)
    _check_method(method, reference)
    locked = Intake.objects.select_for_update().select_related("hub", "collector").get(pk=intake.pk)
    owed = payments.outstanding(locked)
    if owed <= 0:
        raise PaymentError(
            gettext(
                "the intake of %(phones)s phones from %(code)s on %(collected_on)s is paid already; "
                "nothing is owed"
            )
            % {
                "phones": locked.phones,
                "code": locked.collector.code,
                "collected_on": date_format(locked.collected_on, "j F Y"),
            }
        )
    now = timezone.now()
    payment = payments.purchase_payment(
        intake=locked,
        method=PaymentMethod(method),
        reference=reference,
        paid_by=actor,
        paid_at=now,
        recorded_at=now,
        amount=owed,
    )
    audit.record(
        actor=actor,
        code="collection.payment.collector_paid",
        obj=payment,
        organisation=locked.hub.organisation,
        data={
            "collector": locked.collector.code,
            "intake": locked.pk,
            "amount": payment.amount,
            "currency": payment.currency,
            "method": method,
            "reference": payment.reference,
        },
    )
    return payment


@transaction.atomic
def pay_all_due(
    *,
    actor: User,
    hub: Hub,
    method: str,
    reference: str = "",
    collector: Collector | None = None,
) -> list[Payment]:
    """Payday: pay every intake of the hub (or of one of its collectors) still owed something.

    A mobile-money or bank reference is written on every row it covers. Returns the payments,
    none when nothing is due."""
    require_member(actor, hub.organisation)
    _check_method(method, reference)
    if collector is not None and collector.hub_id != hub.pk:
        raise PaymentError(
            gettext("collector %(code)s belongs to another hub") % {"code": collector.code}
        )
    intakes = Intake.objects.select_for_update(of=("self",)).filter(
        hub=hub, reverses__isnull=True, reversed_by__isnull=True
    )
    if collector is not None:
        intakes = intakes.filter(collector=collector)
    # Lock first, then read what was paid: a payday running at the same time has committed by
    # then, and its payments are seen.
    locked = list(intakes.select_related("hub", "collector").order_by("collected_at", "id"))
    paid = {
        row["intake"]: row["total"]
        for row in Payment.objects.filter(intake__in=[i.pk for i in locked])
        .values("intake")
        .annotate(total=Sum("amount"))
    }
    now = timezone.now()
    made = []
    for intake in locked:
        owed = intake.phones * intake.price_per_phone - paid.get(intake.pk, Decimal(0))
        if owed > 0:
            made.append(
                payments.purchase_payment(
                    intake=intake,
                    method=PaymentMethod(method),
                    reference=reference,
                    paid_by=actor,
                    paid_at=now,
                    recorded_at=now,
                    amount=owed,
                )
            )
    if not made:
        return made
    totals: dict[str, Decimal] = {}
    for payment in made:
        totals[payment.currency] = totals.get(payment.currency, Decimal(0)) + payment.amount
    audit.record(
        actor=actor,
        code="collection.payment.payday",
        obj=hub,
        organisation=hub.organisation,
        data={
            "collector": collector.code if collector else "",
            "payments": len(made),
            "collectors": len({p.collector_id for p in made}),
            "totals": {currency: str(amount) for currency, amount in totals.items()},
            "method": method,
            "reference": reference.strip(),
        },
    )
    return made


@transaction.atomic
def reverse_payment(*, actor: User, payment: Payment, reason: str) -> list[Payment]:
    """Cancel a payment with a new row of the negated amount that names it.

    A collector's payment is reversed by its hub's organisation; a handling fee by operator
    staff, and as a whole: every hub's row of that fee is reversed together."""
    reason = reason.strip()
    if not reason:
        raise PaymentError(
            gettext("say why the payment is reversed; the reason stays in the ledger")
        )
    if payment.reverses_id is not None:
        raise PaymentError(gettext("this row is itself a reversal; record a new payment instead"))
    if payment.kind == PaymentKind.PURCHASE:
        require_member(actor, payment.payer)
        originals = [payment]
    else:
        _operator_organisation(actor)
        originals = list(
            Payment.objects.filter(
                kind=payment.kind,
                payee_organisation_id=payment.payee_organisation_id,
                period=payment.period,
                reverses__isnull=True,
            ).order_by("id")
        )
    locked = list(
        Payment.objects.select_for_update(of=("self",))
        .filter(pk__in=[p.pk for p in originals], reversed_by__isnull=True)
        .order_by("id")
    )
    if not locked:
        raise PaymentError(gettext("this payment is reversed already"))
    now = timezone.now()
    try:
        with transaction.atomic():  # a reversal committed meanwhile: the unique key refuses
            reversals = [
                Payment.objects.create(
                    kind=original.kind,
                    payer_id=original.payer_id,
                    collector_id=original.collector_id,
                    payee_organisation_id=original.payee_organisation_id,
                    hub_id=original.hub_id,
                    intake_id=original.intake_id,
                    period=original.period,
                    amount=-original.amount,
                    currency=original.currency,
                    method=original.method,
                    reference=original.reference,
                    paid_at=now,
                    paid_by=actor,
                    recorded_at=now,
                    reverses=original,
                    reason=reason,
                )
                for original in locked
            ]
    except IntegrityError as error:
        raise PaymentError(
            gettext("this payment was reversed a moment ago; reload the page")
        ) from error
    audit.record(
        actor=actor,
        code="collection.payment.reversed",
        obj=payment,
        organisation=payment.payer,
        data={
            "kind": payment.kind,
            "reversed": [p.pk for p in locked],
            "amount": sum((p.amount for p in locked), Decimal(0)),
            "currency": payment.currency,
            "reason": reason,
        },
    )
    return reversals


# --- handling fees -------------------------------------------------------------------------------


def fee_rate_for(organisation: Organisation, kind: str, on: dt.date) -> HandlingFeeRate | None:
    return (
        HandlingFeeRate.objects.filter(organisation=organisation, kind=kind, valid_from__lte=on)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=on))
        .order_by("-valid_from")
        .first()
    )


def phones_per_hub(organisation: Organisation, month: dt.date) -> dict[int, int]:
    """Phones the organisation's hubs collected in a month (the hubs' local dates), net of
    reversing records."""
    rows = (
        Intake.objects.filter(
            hub__organisation=organisation,
            collected_on__gte=month,
            collected_on__lt=next_month(month),
        )
        .values("hub")
        .annotate(phones=Sum("phones"))
    )
    return {row["hub"]: row["phones"] for row in rows if row["phones"] > 0}


@transaction.atomic
def pay_handling_fee(
    *,
    actor: User,
    organisation: Organisation,
    kind: str,
    period: dt.date,
    method: str,
    reference: str = "",
) -> list[Payment]:
    """Pay a collection partner a month's handling fee: its rate x the phones its hubs collected.

    One ledger row per hub (so that income is counted where it was earned); one fee per
    organisation, kind and month, unless the earlier one was reversed."""
    payer = _operator_organisation(actor)
    if organisation.kind != OrganisationKind.COLLECTION_PARTNER:
        raise PaymentError(
            gettext("%(name)s is not a collection partner") % {"name": organisation.name}
        )
    if kind not in FEE_KINDS:
        raise PaymentError(gettext("%(kind)s is not a handling fee") % {"kind": repr(kind)})
    _check_method(method, reference)
    month = first_of_month(period)
    if month >= first_of_month(timezone.localdate()):
        raise PaymentError(
            gettext("%(month)s is not over yet; a month's handling fee is paid once it has ended")
            % {"month": date_format(month, "F Y")}
        )
    advisory_xact_lock(_HANDLING_FEE_LOCK)
    label = PaymentKind(kind).label.lower()
    if Payment.objects.filter(
        kind=kind,
        payee_organisation=organisation,
        period=month,
        reverses__isnull=True,
        reversed_by__isnull=True,
    ).exists():
        raise PaymentError(
            gettext(
                "the %(label)s for %(name)s in %(month)s is paid already; reverse it first if it was "
                "wrong"
            )
            % {"label": label, "name": organisation.name, "month": date_format(month, "F Y")}
        )
    rate = fee_rate_for(organisation, kind, month)
    if rate is None:
        raise PaymentError(
            gettext(
                "%(name)s has no %(label)s rate on %(month)s; set one on the fee rates page first"
            )
            % {"name": organisation.name, "label": label, "month": date_format(month, "j F Y")}
        )
    phones = phones_per_hub(organisation, month)
    if not phones:
        raise PaymentError(
            gettext("%(name)s's hubs collected no phones in %(month)s")
            % {"name": organisation.name, "month": date_format(month, "F Y")}
        )
    now = timezone.now()
    hubs = Hub.objects.in_bulk(list(phones))
    rows = [
        Payment.objects.create(
            kind=kind,
            payer=payer,
            payee_organisation=organisation,
            hub=hubs[hub_id],
            period=month,
            amount=quantize(count * rate.per_phone, rate.currency),
            currency=rate.currency,
            method=method,
            reference=reference.strip(),
            paid_at=now,
            paid_by=actor,
            recorded_at=now,
        )
        for hub_id, count in sorted(phones.items())
    ]
    audit.record(
        actor=actor,
        code="collection.payment.handling_fee_paid",
        obj=organisation,
        organisation=payer,
        data={
            "kind": kind,
            "period": month,
            "phones": sum(phones.values()),
            "per_phone": rate.per_phone,
            "amount": sum((row.amount for row in rows), Decimal(0)),
            "currency": rate.currency,
            "method": method,
            "reference": reference.strip(),
        },
    )
    return rows


@transaction.atomic
def set_handling_fee_rate(
    *,
    actor: User,
    organisation: Organisation,
    kind: str,
    per_phone: Decimal,
    currency: str,
    valid_from: dt.date,
) -> HandlingFeeRate:
    """A new rate from a day on; the rate in force until then ends the day before."""
    _operator_organisation(actor)
    per_phone = require_decimal(per_phone, "the rate per phone")
    if organisation.kind != OrganisationKind.COLLECTION_PARTNER:
        raise PaymentError(
            gettext("%(name)s is not a collection partner") % {"name": organisation.name}
        )
    if kind not in FEE_KINDS:
        raise PaymentError(gettext("%(kind)s is not a handling fee") % {"kind": repr(kind)})
    if per_phone <= 0:
        raise PaymentError(gettext("the rate per phone must be more than 0"))
    currency = check_currency(currency)
    current = (
        HandlingFeeRate.objects.select_for_update()
        .filter(organisation=organisation, kind=kind)
        .order_by("-valid_from")
        .first()
    )
    if current is not None:
        if valid_from <= current.valid_from:
            raise PaymentError(
                gettext("a rate from %(valid_from)s exists; a new rate starts after it")
                % {"valid_from": date_format(current.valid_from, "j F Y")}
            )
        if current.valid_until is None or current.valid_until >= valid_from:
            current.valid_until = valid_from - dt.timedelta(days=1)
            current.save(update_fields=["valid_until"])
    rate = HandlingFeeRate.objects.create(
        organisation=organisation,
        kind=kind,
        per_phone=per_phone,
        currency=currency,
        valid_from=valid_from,
    )
    audit.record(
        actor=actor,
        code="collection.fee_rate.set",
        obj=rate,
        organisation=organisation,
        data={
            "kind": kind,
            "per_phone": per_phone,
            "currency": currency,
            "valid_from": valid_from,
            "ended": current.pk if current else None,
        },
    )
    return rate


# --- price caps ----------------------------------------------------------------------------------


def _overlapping_cap(country: str, start: dt.date, end: dt.date | None) -> PriceCap | None:
    caps = PriceCap.objects.filter(country_id=country)
    if end is not None:
        caps = caps.filter(valid_from__lte=end)
    return caps.filter(Q(valid_until__isnull=True) | Q(valid_until__gte=start)).first()


def _period(cap: PriceCap) -> str:
    start = date_format(cap.valid_from, "d M Y")
    if cap.valid_until is None:
        return gettext("%(start)s to open end") % {"start": start}
    return gettext("%(start)s to %(end)s") % {
        "start": start,
        "end": date_format(cap.valid_until, "d M Y"),
    }


@transaction.atomic
def set_price_cap(
    *,
    actor: User,
    country: Country,
    valid_from: dt.date,
    max_per_phone: Decimal,
    second_hand_value: Decimal,
    source: str,
    min_per_phone: Decimal = Decimal(0),
    valid_until: dt.date | None = None,
) -> PriceCap:
    """The most (and least) a hub in the country may pay a collector per phone in a period."""
    _operator_organisation(actor)
    max_per_phone = require_decimal(max_per_phone, "the cap per phone")
    min_per_phone = require_decimal(min_per_phone, "the floor per phone")
    second_hand_value = require_decimal(second_hand_value, "the second-hand value")
    currency = country.currency
    if not source.strip():
        raise PaymentError(
            gettext("name the source of the second-hand value (a market survey, a date)")
        )
    if max_per_phone <= 0:
        raise PaymentError(gettext("the cap must be more than 0"))
    if max_per_phone >= second_hand_value:
        raise PaymentError(
            gettext(
                "the cap of %(amount)s is not below the second-hand value of %(currency)s: hubs would "
                "buy working phones; set it lower"
            )
            % {
                "amount": Money(max_per_phone, currency),
                "currency": Money(second_hand_value, currency),
            }
        )
    if not Decimal(0) <= min_per_phone <= max_per_phone:
        raise PaymentError(gettext("the fair-pay floor must be between 0 and the cap"))
    if valid_until is not None and valid_until < valid_from:
        raise PaymentError(gettext("the last day comes before the first"))
    overlap = _overlapping_cap(country.code, valid_from, valid_until)
    if overlap is not None:
        raise PaymentError(
            gettext(
                "the cap for %(name)s from %(overlap)s covers part of this period; end that cap first, "
                "or start this one after it"
            )
            % {"name": country.name, "overlap": _period(overlap)}
        )
    try:
        with transaction.atomic():
            cap = PriceCap.objects.create(
                country=country,
                valid_from=valid_from,
                valid_until=valid_until,
                max_per_phone=max_per_phone,
                min_per_phone=min_per_phone,
                currency=currency,
                second_hand_value=second_hand_value,
                source=source.strip(),
                set_by=actor,
                set_at=timezone.now(),
            )
    except DatabaseError as error:  # another cap committed in between: the trigger refused
        raise PaymentError(
            gettext(
                "another price cap for %(name)s now covers part of this period; reload the page and "
                "check the caps"
            )
            % {"name": country.name}
        ) from error
    audit.record(
        actor=actor,
        code="collection.price_cap.set",
        obj=cap,
        data={
            "country": country.code,
            "valid_from": valid_from,
            "valid_until": valid_until,
            "max_per_phone": max_per_phone,
            "min_per_phone": min_per_phone,
            "currency": currency,
            "second_hand_value": second_hand_value,
            "source": cap.source,
        },
    )
    return cap


@transaction.atomic
def end_price_cap(*, actor: User, cap: PriceCap, last_day: dt.date) -> PriceCap:
    """End an open (or later-ending) cap on a day, so that a new one can follow it."""
    _operator_organisation(actor)
    cap = PriceCap.objects.select_for_update().get(pk=cap.pk)
    if last_day < cap.valid_from:
        raise PaymentError(
            gettext("the cap starts on %(valid_from)s; it cannot end before that")
            % {"valid_from": date_format(cap.valid_from, "j F Y")}
        )
    if cap.valid_until is not None and last_day >= cap.valid_until:
        raise PaymentError(
            gettext("the cap ends on %(valid_until)s already")
            % {"valid_until": date_format(cap.valid_until, "j F Y")}
        )
    cap.valid_until = last_day
    cap.save(update_fields=["valid_until"])
    audit.record(
        actor=actor,
        code="collection.price_cap.ended",
        obj=cap,
        data={"country": cap.country_id, "last_day": last_day},
    )
    return cap


# --- exchange rates ------------------------------------------------------------------------------


@transaction.atomic
def record_exchange_rate(
    *, actor: User, currency: str, rate_date: dt.date, units_per_eur: Decimal, source: str
) -> ExchangeRate:
    """How many units of a currency one euro bought on a day, and where that was read."""
    _operator_organisation(actor)
    units_per_eur = require_decimal(units_per_eur, "the rate")
    currency = check_currency(currency)
    if currency == "EUR":
        raise PaymentError(gettext("amounts in EUR need no exchange rate"))
    if units_per_eur <= 0:
        raise PaymentError(gettext("the rate must be more than 0"))
    if not source.strip():
        raise PaymentError(
            gettext("name the source of the rate (e.g. a central bank's reference rate)")
        )
    if ExchangeRate.objects.filter(currency=currency, rate_date=rate_date).exists():
        raise PaymentError(
            gettext(
                "a %(currency)s rate for %(rate_date)s is recorded already; rates are kept as read, so "
                "record the next day's instead"
            )
            % {"currency": currency, "rate_date": date_format(rate_date, "j F Y")}
        )
    try:
        with transaction.atomic():
            rate = ExchangeRate.objects.create(
                currency=currency,
                rate_date=rate_date,
                units_per_eur=units_per_eur,
                source=source.strip(),
            )
    except IntegrityError as error:
        raise PaymentError(
            gettext("a %(currency)s rate for %(rate_date)s was just recorded")
            % {"currency": currency, "rate_date": date_format(rate_date, "j F Y")}
        ) from error
    audit.record(
        actor=actor,
        code="collection.exchange_rate.recorded",
        obj=rate,
        data={
            "currency": currency,
            "rate_date": rate_date,
            "units_per_eur": units_per_eur,
            "source": rate.source,
        },
    )
    return rate
