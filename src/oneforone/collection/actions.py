from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from oneforone.accounts.models import User
from oneforone.accounts.permissions import require_member
from oneforone.collection.models import Collector, Hub, Intake, Lot
from oneforone.core import audit
from oneforone.core.money import check_currency


class CollectionError(Exception):
    pass


@transaction.atomic
def record_intake(
    *,
    actor: User,
    hub: Hub,
    collector: Collector,
    collected_on: dt.date,
    phones: int,
    net_weight_kg: Decimal,
    batteries_removed: int,
    price_per_phone: Decimal,
    currency: str,
) -> Intake:
    """A hub buys phones from a collector, paying a price per phone (never per kilogram)."""
    require_member(actor, hub.organisation)
    if collector.hub_id != hub.pk:
        raise CollectionError(f"collector {collector.code} belongs to another hub")
    if check_currency(currency) != hub.currency:
        raise CollectionError(f"{hub.name} pays collectors in {hub.currency}, not {currency}")
    if collected_on > timezone.localdate():
        raise CollectionError("the collection date is in the future")
    intake = Intake.objects.create(
        hub=hub,
        collector=collector,
        collected_on=collected_on,
        collected_at=dt.datetime.combine(collected_on, dt.time(12), tzinfo=dt.UTC),
        phones=phones,
        net_weight_kg=net_weight_kg,
        batteries_removed=batteries_removed,
        price_per_phone=price_per_phone,
        currency=hub.currency,
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    audit.record(
        actor=actor,
        code="collection.intake.recorded",
        obj=intake,
        organisation=hub.organisation,
        data={
            "collector": collector.code,
            "phones": phones,
            "net_weight_kg": net_weight_kg,
            "price_per_phone": price_per_phone,
            "currency": hub.currency,
        },
    )
    return intake


@transaction.atomic
def seal_lot(*, actor: User, hub: Hub, seal_number: str, intakes: Sequence[Intake]) -> Lot:
    """Pack open intakes into a sealed lot whose count and weight are their sums."""
    require_member(actor, hub.organisation)
    ids = [i.pk for i in intakes]
    locked = list(Intake.objects.select_for_update().filter(pk__in=ids, hub=hub, lot__isnull=True))
    if not ids or len(locked) != len(set(ids)):
        raise CollectionError(
            "choose open intakes of this hub; some are packed already or elsewhere"
        )
    totals = Intake.objects.filter(pk__in=ids).aggregate(
        phones=Sum("phones"), weight=Sum("net_weight_kg")
    )
    lot = Lot.objects.create(
        hub=hub,
        seal_number=seal_number.strip(),
        phones=totals["phones"],
        net_weight_kg=totals["weight"],
        sealed_at=timezone.now(),
        sealed_by=actor,
    )
    Intake.objects.filter(pk__in=ids).update(lot=lot)
    audit.record(
        actor=actor,
        code="collection.lot.sealed",
        obj=lot,
        organisation=hub.organisation,
        data={
            "seal_number": lot.seal_number,
            "intakes": len(ids),
            "phones": lot.phones,
            "net_weight_kg": lot.net_weight_kg,
        },
    )
    return lot
