"""Collectors and safe work as the hub, the collection partner and the operator see them."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from oneforone.accounts.models import Organisation
from oneforone.collection.models import (
    Collector,
    ConductAcknowledgement,
    EquipmentIssue,
    EquipmentItem,
    Hub,
    Incident,
    Intake,
    PersonalDataAccess,
    Training,
    TrainingTopic,
)

# A collector counts as trained with both topics that keep them safe at the bench, and as
# equipped with what protects hands and eyes from broken glass and battery sparks.
REQUIRED_TOPICS: tuple[str, ...] = (TrainingTopic.SAFE_HANDLING, TrainingTopic.BATTERY_REMOVAL)
REQUIRED_EQUIPMENT: tuple[str, ...] = (EquipmentItem.GLOVES, EquipmentItem.GOGGLES)
# The code of conduct in force; collectors who acknowledged only an older one are asked again.
CURRENT_CONDUCT_VERSION = "2.0"


def _has_all(model: type[Training] | type[EquipmentIssue], field: str, values: Iterable[str]) -> Q:
    condition = Q()
    for value in values:
        condition &= Q(Exists(model.objects.filter(collector=OuterRef("pk"), **{field: value})))
    return condition


def with_safe_work(collectors: QuerySet[Collector]) -> QuerySet[Collector]:
    """Collectors annotated with trained, equipped and acknowledged (the current code)."""
    return collectors.annotate(
        trained=ExpressionWrapper(
            _has_all(Training, "topic", REQUIRED_TOPICS), output_field=BooleanField()
        ),
        equipped=ExpressionWrapper(
            _has_all(EquipmentIssue, "item", REQUIRED_EQUIPMENT), output_field=BooleanField()
        ),
        acknowledged=Exists(
            ConductAcknowledgement.objects.filter(
                collector=OuterRef("pk"), version=CURRENT_CONDUCT_VERSION
            )
        ),
    )


def collectors_list(collectors: QuerySet[Collector], month: dt.date) -> QuerySet[Collector]:
    """The collectors page's rows: safe work, open incidents, phones in the month from `month`."""
    next_month = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    open_incidents = (
        Incident.objects.filter(collector=OuterRef("pk"), closed_at__isnull=True)
        .order_by()
        .values("collector")
        .annotate(n=Count("id"))
        .values("n")
    )
    return with_safe_work(collectors).annotate(
        open_incidents=Coalesce(Subquery(open_incidents, output_field=IntegerField()), Value(0)),
        phones_this_month=Coalesce(_month_phones(month, next_month), Value(0)),
    )


def _month_phones(month: dt.date, next_month: dt.date) -> Subquery:
    phones = (
        Intake.objects.filter(
            collector=OuterRef("pk"), collected_on__gte=month, collected_on__lt=next_month
        )
        .order_by()
        .values("collector")
        .annotate(total=Sum("phones"))
        .values("total")
    )
    return Subquery(phones, output_field=IntegerField())


@dataclass(frozen=True)
class SafeWorkRow:
    """Safe work of a group of collectors: a hub, or a collection partner in a country."""

    label: str
    country: str
    active: int
    trained: int
    equipped: int
    acknowledged: int
    open_incidents: int

    def share(self, count: int) -> Decimal | None:
        """Percent of active collectors, one decimal; None when there is nobody to count."""
        if not self.active:
            return None
        return (Decimal(100) * count / self.active).quantize(Decimal("0.1"))

    @property
    def trained_share(self) -> Decimal | None:
        return self.share(self.trained)

    @property
    def equipped_share(self) -> Decimal | None:
        return self.share(self.equipped)

    @property
    def acknowledged_share(self) -> Decimal | None:
        return self.share(self.acknowledged)


def _rows(hubs: QuerySet[Hub], key: str) -> list[SafeWorkRow]:
    """Group active collectors and open incidents by hub (key "hub") or by collection partner
    and country (key "partner"); three queries whatever the size."""
    hubs = hubs.select_related("organisation")
    hub_list = list(hubs)

    def group(hub: Hub) -> tuple[str, str]:
        if key == "hub":
            return (hub.name, hub.country)
        return (hub.organisation.name, hub.country)

    groups = {hub.pk: group(hub) for hub in hub_list}
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for hub in hub_list:
        counts[groups[hub.pk]]  # every hub shows, collectors or not
    collectors = with_safe_work(Collector.objects.filter(hub__in=hubs, active=True))
    # The annotations are unknown to the type checker's model of the queryset.
    rows = collectors.values_list("hub_id", "trained", "equipped", "acknowledged")  # type: ignore[misc]
    for hub_id, trained, equipped, acknowledged in rows:
        row = counts[groups[hub_id]]
        row[0] += 1
        row[1] += bool(trained)
        row[2] += bool(equipped)
        row[3] += bool(acknowledged)
    open_by_hub = (
        Incident.objects.filter(hub__in=hubs, closed_at__isnull=True)
        .values("hub_id")
        .annotate(n=Count("id"))
    )
    for entry in open_by_hub:
        counts[groups[entry["hub_id"]]][4] += entry["n"]
    return [
        SafeWorkRow(label, country, *numbers)
        for (label, country), numbers in sorted(counts.items(), key=lambda item: item[0][::-1])
    ]


def safe_work_per_hub(organisation: Organisation) -> list[SafeWorkRow]:
    return _rows(Hub.objects.filter(organisation=organisation), "hub")


def safe_work_per_partner() -> list[SafeWorkRow]:
    """The operator's view: every collection partner, per country it collects in."""
    return _rows(Hub.objects.all(), "partner")


def open_incidents(hubs: QuerySet[Hub]) -> QuerySet[Incident]:
    return (
        Incident.objects.filter(hub__in=hubs, closed_at__isnull=True)
        .select_related("hub", "collector")
        .order_by("occurred_on", "id")
    )


def access_log(collector: Collector) -> QuerySet[PersonalDataAccess]:
    return collector.accesses.select_related("user", "organisation").order_by("-at", "-id")
