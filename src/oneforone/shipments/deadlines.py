"""The deadline engine: every deadline of the movements an organisation may see, computed from the
records (planned departures, custody signatures, receptions, treatment completions, consents,
guarantees, change requests) and the rules, with the acts recorded against them.

A fixed number of queries whatever the number of consignments: rules, consignments (with their
notification, route, reception, treatment and dispatch signature), notifications (with route,
consents, change requests), guarantees and acts are each read once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy

from oneforone.accounts.models import Organisation
from oneforone.recycling.models import FacilityDecision
from oneforone.shipments import workdays
from oneforone.shipments.deadline_models import (
    DeadlineAct,
    DeadlineKind,
    DeadlineRule,
    Direction,
    PeriodUnit,
)
from oneforone.shipments.models import (
    ChangeKind,
    Consent,
    Consignment,
    ConsignmentState,
    CustodySignature,
    CustodyStep,
    Decision,
    FinancialGuarantee,
    Notification,
    RouteRole,
)
from oneforone.shipments.queries import READ_ALL_KINDS, visible_consignments

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

DUE_SOON_DAYS = 5


class DeadlineStatus:
    DUE = "due"
    OVERDUE = "overdue"
    MET = "met"


# The act that meets a deadline, where it is not the deadline's own kind.
MET_BY: dict[str, str] = {
    DeadlineKind.COMPLETION_CERTIFICATE_OUTER: DeadlineKind.COMPLETION_CERTIFICATE,
}

CONSIGNMENT_KINDS = (
    DeadlineKind.PRE_SHIPMENT_INFORMATION,
    DeadlineKind.RECEIPT_CONFIRMATION,
    DeadlineKind.COMPLETION_CERTIFICATE,
    DeadlineKind.COMPLETION_CERTIFICATE_OUTER,
    DeadlineKind.TAKE_BACK,
)


def _fill(sentence: StrOrPromise, values: dict[str, object]) -> str:
    return str(sentence) % values


_filled = lazy(_fill, str)


def worded(sentence: StrOrPromise, **values: object) -> str:
    """A deadline's subject or anchor, worded when it is read: deadlines are computed once and
    shown on a page, in reminders of several languages and in refusals, each in its reader's
    language. Dates stay ISO, as on the documents."""
    return _filled(sentence, values)


# The anchor of a take-back, by the facility's decision.
TAKE_BACK_ANCHORS: dict[str, StrOrPromise] = {
    FacilityDecision.PARTIALLY_REFUSED: gettext_lazy("partially refused %(date)s"),
    FacilityDecision.REFUSED: gettext_lazy("refused %(date)s"),
}
# The subject of an awaited answer to a change, by the kind of change.
CHANGE_SUBJECTS: dict[str, StrOrPromise] = {
    ChangeKind.QUANTITY: gettext_lazy("quantity change to %(number)s"),
    ChangeKind.ROUTE: gettext_lazy("route change to %(number)s"),
    ChangeKind.DATES: gettext_lazy("dates change to %(number)s"),
    ChangeKind.CARRIER: gettext_lazy("carrier change to %(number)s"),
}


class NoRule(LookupError):
    """No deadline rule of a kind is valid for a route on a date."""


@dataclass(frozen=True)
class Route:
    """The countries whose calendars a rule may name, and the facility's operation."""

    export: str
    import_: str
    transit: str
    facility: str
    operation: str

    def country(self, calendar: str) -> str:
        return {
            "export": self.export,
            "import": self.import_,
            "transit": self.transit,
            "facility": self.facility,
        }[calendar]


@dataclass(frozen=True)
class Deadline:
    kind: str
    subject_key: str
    subject: str
    url: str
    consignment: Consignment | None
    notification: Notification | None
    anchor: str
    anchor_on: dt.date
    due_on: dt.date
    status: str
    met_on: dt.date | None
    rule: DeadlineRule
    calendar_country: str
    responsible: Organisation
    route: Route

    @property
    def kind_label(self) -> str:
        return str(DeadlineKind(self.kind).label)

    @property
    def met_late(self) -> bool:
        return self.met_on is not None and self.met_on > self.due_on

    @property
    def act_kind(self) -> str:
        return MET_BY.get(self.kind, self.kind)

    @property
    def countries(self) -> set[str]:
        return {self.route.export, self.route.import_, self.route.transit}

    def days_left(self, today: dt.date) -> int:
        return (self.due_on - today).days


def consignment_key(consignment_id: int) -> str:
    return f"c:{consignment_id}"


def choose_rule(
    rules: Iterable[DeadlineRule], kind: str, route: Route, on: dt.date
) -> DeadlineRule:
    """The most specific rule of `kind` for the route valid on `on`: a rule naming the facility's
    operation beats one naming countries, which beats one for any route."""
    candidates = [
        rule
        for rule in rules
        if rule.kind == kind
        and (rule.valid_from is None or rule.valid_from <= on)
        and (rule.valid_to is None or rule.valid_to >= on)
        and rule.export_country in ("", route.export)
        and rule.import_country in ("", route.import_)
        and (not rule.operations or route.operation in rule.operations.split())
    ]
    if not candidates:
        raise NoRule(
            f"no {DeadlineKind(kind).label.lower()} rule for {route.export}->{route.import_} on "
            f"{on:%Y-%m-%d}; add one in the back office (deadline rules)"
        )
    return max(
        candidates,
        key=lambda r: (
            bool(r.operations),
            bool(r.export_country) + bool(r.import_country),
            r.valid_from or dt.date.min,
        ),
    )


def due_date(rule: DeadlineRule, anchor_on: dt.date, country: str) -> dt.date:
    sign = -1 if rule.direction == Direction.BEFORE else 1
    if rule.unit == PeriodUnit.WORKING_DAYS:
        return workdays.add_working_days(anchor_on, sign * rule.period, country)
    return anchor_on + dt.timedelta(days=sign * rule.period)


def _route_of(notification: Notification | None, consignment: Consignment | None) -> Route:
    stops = list(notification.route.all()) if notification is not None else []
    by_role: dict[str, str] = {}
    for stop in stops:
        by_role.setdefault(stop.role, stop.country)
    hub_country = consignment.origin_hub.country if consignment is not None else ""
    recycler_country = consignment.recycler.country if consignment is not None else ""
    export = by_role.get(RouteRole.EXPORT, hub_country)
    import_ = by_role.get(RouteRole.IMPORT, recycler_country)
    return Route(
        export=export,
        import_=import_,
        transit=by_role.get(RouteRole.TRANSIT, export),
        facility=notification.facility.country if notification is not None else import_,
        operation=notification.operation_code if notification is not None else "",
    )


class _Builder:
    """Collects deadlines for one computation, reading rules and acts once."""

    def __init__(self, today: dt.date, rules: list[DeadlineRule]) -> None:
        self.today = today
        self.rules = rules
        self.pending: list[dict[str, object]] = []

    def add(
        self,
        *,
        kind: str,
        subject_key: str,
        subject: str,
        url: str,
        route: Route,
        anchor: str,
        anchor_on: dt.date,
        responsible: Organisation,
        consignment: Consignment | None = None,
        notification: Notification | None = None,
        met_on: dt.date | None = None,
    ) -> None:
        try:
            rule = choose_rule(self.rules, kind, route, anchor_on)
        except NoRule:
            return  # an operator removed the rule: nothing to track for this route
        country = route.country(rule.calendar)
        self.pending.append(
            {
                "kind": kind,
                "subject_key": subject_key,
                "subject": subject,
                "url": url,
                "consignment": consignment,
                "notification": notification,
                "anchor": anchor,
                "anchor_on": anchor_on,
                "due_on": due_date(rule, anchor_on, country),
                "met_on": met_on,
                "rule": rule,
                "calendar_country": country if rule.unit == PeriodUnit.WORKING_DAYS else "",
                "responsible": responsible,
                "route": route,
            }
        )

    def finish(self) -> list[Deadline]:
        keys = {str(p["subject_key"]) for p in self.pending}
        acts: dict[tuple[str, str], dt.date] = {}
        for kind, key, done_on in (
            DeadlineAct.objects.filter(subject_key__in=keys)
            .order_by("done_on")
            .values_list("kind", "subject_key", "done_on")
        ):
            acts.setdefault((kind, key), done_on)
        deadlines = []
        for fields in self.pending:
            kind, key = str(fields["kind"]), str(fields["subject_key"])
            met_on = fields.pop("met_on") or acts.get((MET_BY.get(kind, kind), key))
            due_on = fields["due_on"]
            assert isinstance(due_on, dt.date)
            status = (
                DeadlineStatus.MET
                if met_on is not None
                else DeadlineStatus.OVERDUE
                if self.today > due_on
                else DeadlineStatus.DUE
            )
            deadlines.append(Deadline(status=status, met_on=met_on, **fields))  # type: ignore[arg-type]
        return deadlines


def _local_date(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


def _consignment_deadlines(builder: _Builder, consignments: QuerySet[Consignment]) -> None:
    rows = consignments.select_related(
        "origin_hub__organisation",
        "recycler",
        "notification__facility",
        "reception",
        "treatment",
    ).prefetch_related(
        "notification__route",
        Prefetch(
            "signatures",
            queryset=CustodySignature.objects.filter(step=CustodyStep.DISPATCH),
            to_attr="dispatch_signatures",
        ),
    )
    for consignment in rows:
        _add_consignment(builder, consignment)


def _add_consignment(builder: _Builder, consignment: Consignment) -> None:
    route = _route_of(consignment.notification, consignment)
    common = {
        "subject_key": consignment_key(consignment.pk),
        "subject": worded(
            gettext_lazy("consignment %(reference)s"), reference=consignment.reference
        ),
        "url": reverse("shipments-detail", args=[consignment.reference]),
        "route": route,
        "consignment": consignment,
        "notification": consignment.notification,
    }
    hub = consignment.origin_hub.organisation
    dispatches = consignment.dispatch_signatures  # type: ignore[attr-defined]
    if dispatches:
        departed = _local_date(dispatches[0].signed_at)
        builder.add(
            kind=DeadlineKind.PRE_SHIPMENT_INFORMATION,
            anchor=worded(gettext_lazy("dispatched %(date)s"), date=f"{departed:%Y-%m-%d}"),
            anchor_on=departed,
            responsible=hub,
            **common,  # type: ignore[arg-type]
        )
    elif consignment.planned_departure is not None:
        builder.add(
            kind=DeadlineKind.PRE_SHIPMENT_INFORMATION,
            anchor=worded(
                gettext_lazy("planned departure %(date)s"),
                date=f"{consignment.planned_departure:%Y-%m-%d}",
            ),
            anchor_on=consignment.planned_departure,
            responsible=hub,
            **common,  # type: ignore[arg-type]
        )
    reception = getattr(consignment, "reception", None)
    if reception is None:
        return
    received = _local_date(reception.received_at)
    for kind in (DeadlineKind.RECEIPT_CONFIRMATION, DeadlineKind.COMPLETION_CERTIFICATE_OUTER):
        builder.add(
            kind=kind,
            anchor=worded(gettext_lazy("received %(date)s"), date=f"{received:%Y-%m-%d}"),
            anchor_on=received,
            responsible=consignment.recycler,
            **common,  # type: ignore[arg-type]
        )
    if reception.decision != FacilityDecision.ACCEPTED:
        builder.add(
            kind=DeadlineKind.TAKE_BACK,
            anchor=worded(
                TAKE_BACK_ANCHORS.get(reception.decision, f"{reception.decision} %(date)s"),
                date=f"{received:%Y-%m-%d}",
            ),
            anchor_on=received,
            responsible=hub,
            **common,  # type: ignore[arg-type]
        )
    treatment = getattr(consignment, "treatment", None)
    if treatment is not None:
        builder.add(
            kind=DeadlineKind.COMPLETION_CERTIFICATE,
            anchor=worded(
                gettext_lazy("treatment completed %(date)s"),
                date=f"{treatment.completed_on:%Y-%m-%d}",
            ),
            anchor_on=treatment.completed_on,
            responsible=consignment.recycler,
            **common,  # type: ignore[arg-type]
        )


def _notification_deadlines(builder: _Builder, notifications: QuerySet[Notification]) -> None:
    rows = (
        notifications.select_related("notifier", "facility")
        .annotate(
            shipments_made=Count(
                "consignments", filter=~Q(consignments__state=ConsignmentState.DRAFT)
            ),
            successor_notified_on=Subquery(_successors().values("notified_on")[:1]),
        )
        .prefetch_related(
            "route",
            Prefetch(
                "consents",
                queryset=Consent.objects.select_related("route_stop").order_by("recorded_at"),
            ),
            Prefetch("change_requests"),
        )
    )
    by_id: dict[int, Notification] = {}
    for notification in rows:
        by_id[notification.pk] = notification
        _add_notification(builder, notification)
    if not by_id:
        return
    guarantees = (
        FinancialGuarantee.objects.filter(notifications__in=list(by_id))
        .distinct()
        .prefetch_related("notifications")
    )
    for guarantee in guarantees:
        covered = [n.pk for n in guarantee.notifications.all() if n.pk in by_id]
        first = by_id[min(covered)]
        builder.add(
            kind=DeadlineKind.GUARANTEE_EXPIRY,
            subject_key=f"g:{guarantee.pk}",
            subject=worded(gettext_lazy("guarantee %(reference)s"), reference=guarantee.reference),
            url=reverse("shipments-deadlines") + f"?notification={first.number}",
            route=_route_of(first, None),
            anchor=worded(
                gettext_lazy("guarantee valid to %(date)s"), date=f"{guarantee.valid_to:%Y-%m-%d}"
            ),
            anchor_on=guarantee.valid_to,
            responsible=first.notifier,
            notification=first,
            met_on=guarantee.released_on,
        )


def _successors() -> QuerySet[Notification]:
    """Later notifications of the same shipments (notifier, facility, stream), earliest filed
    first: filing one is what the consent-expiry warning asks for."""
    return Notification.objects.filter(
        notifier=OuterRef("notifier"),
        facility=OuterRef("facility"),
        stream=OuterRef("stream"),
        first_departure__gt=OuterRef("first_departure"),
    ).order_by("notified_on")


def _consent_expiry_met_on(notification: Notification, consent: Consent) -> dt.date | None:
    """Met when every intended shipment was made, or when the next notification of the same
    shipments was filed before the consent ran out."""
    assert consent.valid_to is not None
    if notification.shipments_made >= notification.intended_shipments:  # type: ignore[attr-defined]
        return consent.valid_to
    successor_on: dt.date | None = notification.successor_notified_on  # type: ignore[attr-defined]
    if successor_on is not None and successor_on <= consent.valid_to:
        return successor_on
    return None


def _add_notification(builder: _Builder, notification: Notification) -> None:
    route = _route_of(notification, None)
    url = reverse("shipments-deadlines") + f"?notification={notification.number}"
    latest: dict[int, Consent] = {}
    for consent in notification.consents.all():
        latest[consent.route_stop_id] = consent  # ordered by recorded_at: the last one stands
    for consent in latest.values():
        if consent.decision == Decision.OBJECTION or consent.valid_to is None:
            continue
        builder.add(
            kind=DeadlineKind.CONSENT_EXPIRY,
            subject_key=f"consent:{consent.pk}",
            subject=worded(
                gettext_lazy("consent of %(country)s for %(number)s"),
                country=consent.route_stop.country,
                number=notification.number,
            ),
            url=url,
            route=route,
            anchor=worded(
                gettext_lazy("consent valid to %(date)s"), date=f"{consent.valid_to:%Y-%m-%d}"
            ),
            anchor_on=consent.valid_to,
            responsible=notification.notifier,
            notification=notification,
            met_on=_consent_expiry_met_on(notification, consent),
        )
    for change in notification.change_requests.all():
        requested = _local_date(change.requested_at)
        builder.add(
            kind=DeadlineKind.CHANGE_ANSWER,
            subject_key=f"cr:{change.pk}",
            subject=worded(
                CHANGE_SUBJECTS.get(change.kind, f"{change.kind} change to %(number)s"),
                number=notification.number,
            ),
            url=url,
            route=route,
            anchor=worded(gettext_lazy("change requested %(date)s"), date=f"{requested:%Y-%m-%d}"),
            anchor_on=requested,
            responsible=notification.notifier,
            notification=notification,
            met_on=change.answered_on,
        )


def visible_notifications(organisation: Organisation | None) -> QuerySet[Notification]:
    """Notifications the organisation is a party to or moves consignments under; all for the
    operator and auditors."""
    if organisation is None:
        return Notification.objects.none()
    if organisation.kind in READ_ALL_KINDS:
        return Notification.objects.all()
    # A subquery, not a join: the shipment count annotated later must count every consignment.
    party_to = Notification.objects.filter(
        Q(notifier=organisation)
        | Q(consignee=organisation)
        | Q(facility=organisation)
        | Q(consignments__in=visible_consignments(organisation))
    ).values("pk")
    return Notification.objects.filter(pk__in=party_to)


def compute_deadlines(
    *,
    today: dt.date,
    consignments: QuerySet[Consignment],
    notifications: QuerySet[Notification],
    include_met: bool = True,
) -> list[Deadline]:
    """Every deadline of these consignments and notifications: overdue first, then due, then
    met; each group by due date."""
    builder = _Builder(today, list(DeadlineRule.objects.all()))
    if not include_met:
        # A consignment whose completion certificate was sent has nothing left to track.
        consignments = consignments.exclude(
            Exists(
                DeadlineAct.objects.filter(
                    kind=DeadlineKind.COMPLETION_CERTIFICATE,
                    consignment=OuterRef("pk"),
                )
            )
        )
    _consignment_deadlines(builder, consignments)
    _notification_deadlines(builder, notifications)
    order = {DeadlineStatus.OVERDUE: 0, DeadlineStatus.DUE: 1, DeadlineStatus.MET: 2}
    deadlines = builder.finish()
    if not include_met:
        deadlines = [d for d in deadlines if d.status != DeadlineStatus.MET]
    return sorted(deadlines, key=lambda d: (order[d.status], d.due_on, d.subject_key, d.kind))


def deadlines_for(
    organisation: Organisation | None, *, today: dt.date, include_met: bool = True
) -> list[Deadline]:
    """The deadlines of everything the organisation may see."""
    return compute_deadlines(
        today=today,
        consignments=visible_consignments(organisation),
        notifications=visible_notifications(organisation),
        include_met=include_met,
    )


def find_deadline(kind: str, subject_key: str, *, today: dt.date) -> Deadline | None:
    """The one deadline of this kind on this subject, if the records give it."""
    prefix, _, raw_id = subject_key.partition(":")
    if not raw_id.isdigit():
        return None
    pk = int(raw_id)
    consignments = Consignment.objects.none()
    notifications = Notification.objects.none()
    if prefix == "c":
        consignments = Consignment.objects.filter(pk=pk)
    elif prefix == "consent":
        notifications = Notification.objects.filter(consents__pk=pk)
    elif prefix == "cr":
        notifications = Notification.objects.filter(change_requests__pk=pk)
    elif prefix == "g":
        notifications = Notification.objects.filter(guarantees__pk=pk)
    found = compute_deadlines(today=today, consignments=consignments, notifications=notifications)
    return next((d for d in found if d.kind == kind and d.subject_key == subject_key), None)
