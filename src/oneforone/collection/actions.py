"""Actions of a hub: buy phones from collectors (intakes) and pack them into sealed lots."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections.abc import Sequence
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from stdnum import imei as stdnum_imei

from oneforone.accounts.models import User
from oneforone.accounts.permissions import require_member
from oneforone.collection import payments, prices, signals
from oneforone.collection.models import (
    Collector,
    Condition,
    Country,
    Hub,
    Intake,
    IntakeImei,
    IntakePhoto,
    Lot,
    LotKind,
    PaymentMethod,
)
from oneforone.core import audit
from oneforone.core.money import check_currency


class CollectionError(Exception):
    pass


def hub_timezone(hub: Hub) -> zoneinfo.ZoneInfo:
    country = Country.objects.filter(code=hub.country).only("timezone").first()
    return zoneinfo.ZoneInfo(country.timezone if country else "UTC")


def local_date(hub: Hub, moment: dt.datetime) -> dt.date:
    """The hub's calendar day at `moment` (an intake at 00:30 in Lagos is that day, not UTC's)."""
    return moment.astimezone(hub_timezone(hub)).date()


def clean_imeis(values: Sequence[str]) -> list[str]:
    """IMEIs read from the phones, validated (15 digits, Luhn) by python-stdnum."""
    cleaned = []
    for value in values:
        try:
            cleaned.append(stdnum_imei.validate(value)[:15])
        except Exception as error:
            raise CollectionError(f"{value!r} is not a valid IMEI ({error})") from error
    return list(dict.fromkeys(cleaned))


@transaction.atomic
def record_intake(
    *,
    actor: User,
    hub: Hub,
    collector: Collector,
    phones: int,
    net_weight_kg: Decimal,
    price_per_phone: Decimal,
    currency: str,
    collected_at: dt.datetime | None = None,
    collected_on: dt.date | None = None,
    batteries_removed: int = 0,
    battery_weight_kg: Decimal = Decimal(0),
    condition: str = Condition.WHOLE,
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    gps_accuracy_m: int | None = None,
    imeis: Sequence[str] = (),
    photos: Sequence[str] = (),
    note: str = "",
    client_uuid: uuid.UUID | None = None,
    paid_with: PaymentMethod | None = None,
    payment_reference: str = "",
    enforce_cap: bool = True,
) -> Intake:
    """A hub buys phones from a collector, paying a price per phone (never per kilogram).

    `collected_at` is when the purchase happened (default: now); `collected_on` alone, as older
    forms send it, means noon at the hub that day. `paid_with` pays the collector on the spot: a
    ledger row in the same transaction. `photos` are SHA-256 hex digests (bytes may come later).
    """
    require_member(actor, hub.organisation)
    if collector.hub_id != hub.pk:
        raise CollectionError(f"collector {collector.code} belongs to another hub")
    if not collector.active:
        raise CollectionError(f"collector {collector.code} is not active at this hub")
    if check_currency(currency) != hub.currency:
        raise CollectionError(f"{hub.name} pays collectors in {hub.currency}, not {currency}")
    if isinstance(price_per_phone, float) or isinstance(net_weight_kg, float):
        raise TypeError("prices and weights are Decimals, never floats")
    if collected_at is None:
        if collected_on is None:
            collected_at = timezone.now()
        elif collected_on > local_date(hub, timezone.now()):
            raise CollectionError("the collection date is in the future")
        else:
            noon = dt.datetime.combine(collected_on, dt.time(12), hub_timezone(hub))
            collected_at = min(noon, timezone.now())
    collected_on = local_date(hub, collected_at)
    if collected_at > timezone.now() + dt.timedelta(minutes=5):
        raise CollectionError("the collection time is in the future")
    if phones < 1:
        raise CollectionError("an intake counts at least one phone")
    if net_weight_kg <= 0:
        raise CollectionError("the net weight must be more than 0 kg")
    if batteries_removed < 0 or battery_weight_kg < 0:
        raise CollectionError("batteries removed and their weight cannot be negative")
    if condition not in Condition.values:
        raise CollectionError(f"unknown condition {condition!r}")
    if enforce_cap and (refusal := prices.outside_cap(hub, price_per_phone, collected_on)):
        raise CollectionError(refusal)
    now = timezone.now()
    intake = Intake.objects.create(
        hub=hub,
        collector=collector,
        client_uuid=client_uuid or uuid.uuid4(),
        collected_on=collected_on,
        collected_at=collected_at,
        phones=phones,
        net_weight_kg=net_weight_kg,
        batteries_removed=batteries_removed,
        battery_weight_kg=battery_weight_kg,
        condition=condition,
        latitude=latitude,
        longitude=longitude,
        gps_accuracy_m=gps_accuracy_m,
        note=note.strip(),
        price_per_phone=price_per_phone,
        currency=hub.currency,
        recorded_by=actor,
        recorded_at=now,
    )
    IntakeImei.objects.bulk_create(
        IntakeImei(intake=intake, imei=value) for value in clean_imeis(imeis)
    )
    IntakePhoto.objects.bulk_create(
        IntakePhoto(intake=intake, sha256=digest.lower()) for digest in dict.fromkeys(photos)
    )
    if paid_with is not None:
        payments.purchase_payment(
            intake=intake,
            method=paid_with,
            reference=payment_reference,
            paid_by=actor,
            paid_at=collected_at,
            recorded_at=now,
        )
    flags = signals.raise_for_intake(intake)
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
            "paid_with": paid_with or "",
            "flags": [flag.kind for flag in flags],
        },
    )
    return intake


@transaction.atomic
def seal_lot(
    *,
    actor: User,
    hub: Hub,
    seal_number: str,
    intakes: Sequence[Intake],
    kind: str = LotKind.PHONES,
) -> Lot:
    """Pack open intakes into a sealed lot whose count and weight are their sums.

    A phone lot takes the intakes' phones; a battery lot the batteries taken out of them."""
    require_member(actor, hub.organisation)
    ids = [i.pk for i in intakes]
    slot = "lot" if kind == LotKind.PHONES else "battery_lot"
    locked = list(
        Intake.objects.select_for_update().filter(pk__in=ids, hub=hub, **{f"{slot}__isnull": True})
    )
    if not ids or len(locked) != len(set(ids)):
        raise CollectionError(
            "choose open intakes of this hub; some are packed already or elsewhere"
        )
    totals = Intake.objects.filter(pk__in=ids).aggregate(
        phones=Sum("phones"),
        weight=Sum("net_weight_kg"),
        batteries=Sum("batteries_removed"),
        battery_weight=Sum("battery_weight_kg"),
    )
    if kind == LotKind.BATTERIES:
        if not totals["batteries"] or not totals["battery_weight"]:
            raise CollectionError("these intakes have no batteries with a weight to pack")
        figures = {
            "phones": 0,
            "batteries": totals["batteries"],
            "net_weight_kg": totals["battery_weight"],
        }
    else:
        figures = {"phones": totals["phones"], "batteries": 0, "net_weight_kg": totals["weight"]}
    lot = Lot.objects.create(
        hub=hub,
        seal_number=seal_number.strip(),
        kind=kind,
        sealed_at=timezone.now(),
        sealed_by=actor,
        **figures,
    )
    Intake.objects.filter(pk__in=ids).update(**{slot: lot})
    flags = signals.raise_for_lot(lot)
    audit.record(
        actor=actor,
        code="collection.lot.sealed",
        obj=lot,
        organisation=hub.organisation,
        data={
            "seal_number": lot.seal_number,
            "kind": kind,
            "intakes": len(ids),
            "phones": lot.phones,
            "batteries": lot.batteries,
            "net_weight_kg": lot.net_weight_kg,
            "flags": [flag.kind for flag in flags],
        },
    )
    return lot
