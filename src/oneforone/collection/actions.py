"""Actions of a hub: buy phones from collectors (intakes) and pack them into sealed lots."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext, ngettext
from stdnum import imei as stdnum_imei

from oneforone.accounts.models import Membership, User
from oneforone.accounts.permissions import NotAllowed, require_member, require_operator
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
    Photo,
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
            raise CollectionError(
                gettext("%(value)s is not a valid IMEI (%(error)s)")
                % {"value": repr(value), "error": error}
            ) from error
    return list(dict.fromkeys(cleaned))


def _check_collector(hub: Hub, collector: Collector) -> None:
    if collector.hub_id != hub.pk:
        raise CollectionError(
            gettext("collector %(code)s belongs to another hub") % {"code": collector.code}
        )
    if not collector.active:
        raise CollectionError(
            gettext("collector %(code)s is not active at this hub") % {"code": collector.code}
        )


def _check_figures(
    *,
    hub: Hub,
    collected_at: dt.datetime,
    phones: int,
    net_weight_kg: Decimal,
    batteries_removed: int,
    battery_weight_kg: Decimal,
    condition: str,
    price_per_phone: Decimal,
    enforce_cap: bool,
) -> None:
    """The checks every version of a purchase record passes, worded for the hub operator."""
    for value in (price_per_phone, net_weight_kg, battery_weight_kg):
        if isinstance(value, float):
            raise TypeError(gettext("prices and weights are Decimals, never floats"))
    if collected_at > timezone.now() + dt.timedelta(minutes=5):
        raise CollectionError(gettext("the collection time is in the future"))
    if phones < 1:
        raise CollectionError(gettext("an intake counts at least one phone"))
    if net_weight_kg <= 0:
        raise CollectionError(gettext("the net weight must be more than 0 kg"))
    if batteries_removed < 0 or battery_weight_kg < 0:
        raise CollectionError(gettext("batteries removed and their weight cannot be negative"))
    if battery_weight_kg > 0 and batteries_removed == 0:
        raise CollectionError(gettext("a battery weight needs the number of batteries removed"))
    if condition not in Condition.values:
        raise CollectionError(
            gettext("unknown condition %(condition)s") % {"condition": repr(condition)}
        )
    on = local_date(hub, collected_at)
    if enforce_cap and (refusal := prices.outside_cap(hub, price_per_phone, on)):
        raise CollectionError(refusal)


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
    revision: int = 1,
) -> Intake:
    """A hub buys phones from a collector, paying a price per phone (never per kilogram).

    `collected_at` is when the purchase happened (default: now); `collected_on` alone, as older
    forms send it, means noon at the hub that day. `paid_with` pays the collector on the spot: a
    ledger row in the same transaction. `photos` are SHA-256 hex digests (bytes may come later).
    """
    require_member(actor, hub.organisation)
    _check_collector(hub, collector)
    if check_currency(currency) != hub.currency:
        raise CollectionError(
            gettext("%(name)s pays collectors in %(currency)s, not %(currency2)s")
            % {"name": hub.name, "currency": hub.currency, "currency2": currency}
        )
    if collected_at is None:
        if collected_on is None:
            collected_at = timezone.now()
        elif collected_on > local_date(hub, timezone.now()):
            raise CollectionError(gettext("the collection date is in the future"))
        else:
            noon = dt.datetime.combine(collected_on, dt.time(12), hub_timezone(hub))
            collected_at = min(noon, timezone.now())
    collected_on = local_date(hub, collected_at)
    _check_figures(
        hub=hub,
        collected_at=collected_at,
        phones=phones,
        net_weight_kg=net_weight_kg,
        batteries_removed=batteries_removed,
        battery_weight_kg=battery_weight_kg,
        condition=condition,
        price_per_phone=price_per_phone,
        enforce_cap=enforce_cap,
    )
    if revision < 1:
        raise CollectionError(gettext("a record's revision starts at 1"))
    now = timezone.now()
    intake = Intake.objects.create(
        hub=hub,
        collector=collector,
        client_uuid=client_uuid or uuid.uuid4(),
        revision=revision,
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
        Intake.objects.select_for_update(of=("self",)).filter(
            pk__in=ids, hub=hub, **{f"{slot}__isnull": True}
        )
    )
    if not ids or len(locked) != len(set(ids)):
        raise CollectionError(
            gettext("choose open intakes of this hub; some are packed already or elsewhere")
        )
    # A record reversed while open, and its reversal, cancel out: neither goes into a lot.
    if (
        Intake.objects.filter(pk__in=ids)
        .filter(Q(reverses__isnull=False) | Q(reversed_by__isnull=False))
        .exists()
    ):
        raise CollectionError(
            gettext("a reversed record or a reversal is not packed; leave it out")
        )
    totals = Intake.objects.filter(pk__in=ids).aggregate(
        phones=Sum("phones"),
        weight=Sum("net_weight_kg"),
        batteries=Sum("batteries_removed"),
        battery_weight=Sum("battery_weight_kg"),
    )
    if kind == LotKind.BATTERIES:
        if not totals["batteries"] or not totals["battery_weight"]:
            raise CollectionError(gettext("these intakes have no batteries with a weight to pack"))
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


# --- editing, reversing and correcting a record -------------------------------------------------


def _require_hub_or_operator(actor: User, hub: Hub) -> None:
    """A reversal is written by the hub's own people or by operator staff resolving a flag."""
    try:
        require_member(actor, hub.organisation)
    except NotAllowed:
        if Membership.objects.filter(user=actor, organisation=hub.organisation).exists():
            raise  # a read-only member of the hub's own organisation: say so
        require_operator(actor)


def why_locked(intake: Intake) -> str | None:
    """Why a record can no longer be edited in place (the database refuses it too), or None."""
    if intake.reverses_id is not None:
        return gettext("the record is a reversal and cannot change")
    if Intake.objects.filter(reverses=intake).exists():
        return gettext("the record has been reversed and cannot change")
    if intake.lot_id is not None or intake.battery_lot_id is not None:
        lot = intake.lot or intake.battery_lot
        assert lot is not None
        return gettext("the record is packed in lot %(seal)s; record a correction") % {
            "seal": lot.seal_number
        }
    if intake.payments.exists():
        return gettext("the record has been paid; record a correction")
    return None


def editable(intake: Intake) -> bool:
    return why_locked(intake) is None


@transaction.atomic
def revise_intake(
    *,
    actor: User,
    intake: Intake,
    revision: int,
    collector: Collector,
    collected_at: dt.datetime,
    phones: int,
    net_weight_kg: Decimal,
    price_per_phone: Decimal,
    batteries_removed: int = 0,
    battery_weight_kg: Decimal = Decimal(0),
    condition: str = Condition.WHOLE,
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    gps_accuracy_m: int | None = None,
    imeis: Sequence[str] = (),
    photos: Sequence[str] = (),
    note: str = "",
    paid_with: PaymentMethod | None = None,
    payment_reference: str = "",
    enforce_cap: bool = True,
) -> Intake:
    """A newer version of an open, unpaid, unpacked record (the hub device's edit counter went up).

    The whole record is replaced, its IMEIs and photos too, and the signals run again. Once a
    record is paid or packed it can only be corrected (`correct_intake`)."""
    intake = Intake.objects.select_for_update(of=("self",)).select_related("hub").get(pk=intake.pk)
    hub = intake.hub
    require_member(actor, hub.organisation)
    if (refusal := why_locked(intake)) is not None:
        raise CollectionError(refusal)
    if revision <= intake.revision:
        raise CollectionError(
            gettext("an edit of intake %(client_uuid)s needs a revision above %(revision)s")
            % {"client_uuid": intake.client_uuid, "revision": intake.revision}
        )
    _check_collector(hub, collector)
    _check_figures(
        hub=hub,
        collected_at=collected_at,
        phones=phones,
        net_weight_kg=net_weight_kg,
        batteries_removed=batteries_removed,
        battery_weight_kg=battery_weight_kg,
        condition=condition,
        price_per_phone=price_per_phone,
        enforce_cap=enforce_cap,
    )
    before = intake.revision
    intake.revision = revision
    intake.collector = collector
    intake.collected_at = collected_at
    intake.collected_on = local_date(hub, collected_at)
    intake.phones = phones
    intake.net_weight_kg = net_weight_kg
    intake.batteries_removed = batteries_removed
    intake.battery_weight_kg = battery_weight_kg
    intake.condition = condition
    intake.latitude = latitude
    intake.longitude = longitude
    intake.gps_accuracy_m = gps_accuracy_m
    intake.price_per_phone = price_per_phone
    intake.note = note.strip()
    intake.save(update_fields=[*REVISED_FIELDS, "revision"])
    intake.refresh_from_db(fields=["amount_paid"])
    intake.imeis.all().delete()
    IntakeImei.objects.bulk_create(
        IntakeImei(intake=intake, imei=value) for value in clean_imeis(imeis)
    )
    intake.photos.all().delete()
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
            recorded_at=timezone.now(),
        )
    flags = signals.raise_for_intake(intake)
    audit.record(
        actor=actor,
        code="collection.intake.revised",
        obj=intake,
        organisation=hub.organisation,
        data={
            "from_revision": before,
            "revision": revision,
            "collector": collector.code,
            "phones": phones,
            "net_weight_kg": net_weight_kg,
            "price_per_phone": price_per_phone,
            "paid_with": paid_with or "",
            "flags": [flag.kind for flag in flags],
        },
    )
    return intake


REVISED_FIELDS = (
    "collector",
    "collected_at",
    "collected_on",
    "phones",
    "net_weight_kg",
    "batteries_removed",
    "battery_weight_kg",
    "condition",
    "latitude",
    "longitude",
    "gps_accuracy_m",
    "price_per_phone",
    "note",
)


def reversal_uuid(original: Intake) -> uuid.UUID:
    """The reversing record's UUID follows from the original's, so a device can name it offline."""
    return uuid.uuid5(original.client_uuid, "reversal")


@transaction.atomic
def reverse_intake(*, actor: User, intake: Intake, reason: str) -> Intake:
    """Cancel a purchase record with a reversing one: the negated figures, in the original's lots.

    The original stays as it was written. Payments are not touched: what the collector was paid
    stays in the ledger until the money side reverses it. A lot that has left the hub cannot take
    a reversal: its figures travel with the consignment and the recycler counts what arrives."""
    original = (
        Intake.objects.select_for_update(of=("self",))
        .select_related("hub", "lot__consignment", "battery_lot__consignment", "collector")
        .get(pk=intake.pk)
    )
    _require_hub_or_operator(actor, original.hub)
    reason = reason.strip()
    if not reason:
        raise CollectionError(gettext("say why the record is reversed"))
    if original.reverses_id is not None:
        raise CollectionError(gettext("this record is itself a reversal; it cannot be reversed"))
    if Intake.objects.filter(reverses=original).exists():
        raise CollectionError(gettext("this record has been reversed already"))
    for lot in (original.lot, original.battery_lot):
        consignment = lot.consignment if lot is not None else None
        if lot is not None and consignment is not None and consignment.state != "draft":
            raise CollectionError(
                gettext(
                    "lot %(seal_number)s has left the hub in consignment %(reference)s; its figures can no "
                    "longer be corrected here, the recycler counts what arrives"
                )
                % {"seal_number": lot.seal_number, "reference": consignment.reference}
            )
    reversal = Intake.objects.create(
        hub=original.hub,
        collector=original.collector,
        client_uuid=reversal_uuid(original),
        collected_on=original.collected_on,
        collected_at=original.collected_at,
        phones=-original.phones,
        net_weight_kg=-original.net_weight_kg,
        batteries_removed=-original.batteries_removed,
        battery_weight_kg=-original.battery_weight_kg,
        condition=original.condition,
        reverses=original,
        note=reason[:300],
        price_per_phone=original.price_per_phone,
        currency=original.currency,
        lot=original.lot,
        battery_lot=original.battery_lot,
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    audit.record(
        actor=actor,
        code="collection.intake.reversed",
        obj=reversal,
        organisation=original.hub.organisation,
        data={
            "reverses": str(original.client_uuid),
            "phones": reversal.phones,
            "net_weight_kg": reversal.net_weight_kg,
            "lot": original.lot.seal_number if original.lot else "",
            "battery_lot": original.battery_lot.seal_number if original.battery_lot else "",
            "reason": reason,
        },
    )
    return reversal


@dataclass(frozen=True)
class Correction:
    reversal: Intake
    corrected: Intake


@transaction.atomic
def correct_intake(
    *,
    actor: User,
    intake: Intake,
    reason: str,
    phones: int,
    net_weight_kg: Decimal,
    price_per_phone: Decimal,
    batteries_removed: int = 0,
    battery_weight_kg: Decimal = Decimal(0),
    condition: str = Condition.WHOLE,
    collector: Collector | None = None,
    imeis: Sequence[str] = (),
    note: str = "",
    paid_with: PaymentMethod | None = None,
    payment_reference: str = "",
) -> Correction:
    """Reverse a record and write the right figures as a new one, in one transaction.

    The corrected record keeps the original's time, place and photos; it is open (not in a lot),
    to be packed with the next lot, and unpaid unless `paid_with` says how the difference was
    settled (the original's payment stays in the ledger)."""
    original = Intake.objects.select_related("hub", "collector").get(pk=intake.pk)
    reversal = reverse_intake(actor=actor, intake=original, reason=reason)
    corrected = record_intake(
        actor=actor,
        hub=original.hub,
        collector=collector or original.collector,
        phones=phones,
        net_weight_kg=net_weight_kg,
        price_per_phone=price_per_phone,
        currency=original.currency,
        collected_at=original.collected_at,
        batteries_removed=batteries_removed,
        battery_weight_kg=battery_weight_kg,
        condition=condition,
        latitude=original.latitude,
        longitude=original.longitude,
        gps_accuracy_m=original.gps_accuracy_m,
        imeis=imeis,
        photos=list(original.photos.values_list("sha256", flat=True)),
        note=(note.strip() or f"corrects {original.client_uuid}: {reason.strip()}")[:300],
        paid_with=paid_with,
        payment_reference=payment_reference,
    )
    audit.record(
        actor=actor,
        code="collection.intake.corrected",
        obj=corrected,
        organisation=original.hub.organisation,
        data={
            "original": str(original.client_uuid),
            "reversal": str(reversal.client_uuid),
            "phones": phones,
            "net_weight_kg": net_weight_kg,
            "price_per_phone": price_per_phone,
            "reason": reason.strip(),
        },
    )
    return Correction(reversal=reversal, corrected=corrected)


# --- photos --------------------------------------------------------------------------------------

MAX_PHOTO_BYTES = 5 * 1024 * 1024
PHOTO_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


def _looks_like(content_type: str, data: bytes) -> bool:
    """The first bytes match the type claimed (a renamed file or a script is refused)."""
    if content_type == "image/jpeg":
        return data.startswith(b"\xff\xd8\xff")
    if content_type == "image/png":
        return data.startswith(b"\x89PNG\r\n\x1a\n")
    return data[:4] == b"RIFF" and data[8:12] == b"WEBP"


@transaction.atomic
def store_photo(*, actor: User, hub: Hub, data: bytes, content_type: str) -> Photo:
    """Keep an intake photo under its SHA-256; the same bytes sent again return the same Photo."""
    require_member(actor, hub.organisation)
    content_type = content_type.split(";")[0].strip().lower()
    if content_type not in PHOTO_TYPES:
        raise CollectionError(
            gettext("a photo must be JPEG, PNG or WebP, not %(unknown)s")
            % {"unknown": content_type or "unknown"}
        )
    if not data:
        raise CollectionError(gettext("the photo is empty"))
    if len(data) > MAX_PHOTO_BYTES:
        raise CollectionError(
            gettext(
                "the photo is %(data)s KB; at most %(max_photo_bytes)s KB, take it at a lower "
                "resolution"
            )
            % {"data": len(data) // 1024, "max_photo_bytes": MAX_PHOTO_BYTES // 1024}
        )
    if not _looks_like(content_type, data):
        raise CollectionError(
            gettext("the file is not a %(content_type)s image") % {"content_type": content_type}
        )
    digest = hashlib.sha256(data).hexdigest()
    existing = Photo.objects.filter(sha256=digest).first()
    if existing is not None:
        return existing
    # The file is written before the row commits: a rollback leaves an unreferenced file under
    # its hash, harmless, and the same bytes uploaded again get a row.
    photo = Photo(
        sha256=digest,
        content_type=content_type,
        size=len(data),
        uploaded_at=timezone.now(),
        uploaded_by=actor,
    )
    photo.file.save(f"{digest}.{PHOTO_TYPES[content_type]}", ContentFile(data), save=False)
    try:
        with transaction.atomic():
            photo.save(force_insert=True)
    except IntegrityError:
        return Photo.objects.get(sha256=digest)
    audit.record(
        actor=actor,
        code="collection.photo.stored",
        obj=photo,
        organisation=hub.organisation,
        data={"sha256": digest, "content_type": content_type, "size": len(data)},
    )
    return photo


# --- reconciliation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LotReconciliation:
    """A lot's sealed figures against the sums of its intakes now, reversals included."""

    lot: Lot
    unit: str
    sealed_count: int
    sealed_weight_kg: Decimal
    current_count: int
    current_weight_kg: Decimal
    reversals: list[Intake]
    reversed_count: int
    reversed_weight_kg: Decimal

    @property
    def reconciles(self) -> bool:
        """Every difference to the seal is explained by a reversing record."""
        return (
            self.sealed_count + self.reversed_count == self.current_count
            and self.sealed_weight_kg + self.reversed_weight_kg == self.current_weight_kg
        )

    def _units(self, count: int) -> str:
        """A number of the lot's units: "40 phones", "3 batteries", in the active language."""
        if self.unit == "batteries":
            text = ngettext("%(count)s battery", "%(count)s batteries", count)
        else:
            text = ngettext("%(count)s phone", "%(count)s phones", count)
        return text % {"count": number_format(count)}

    @property
    def explanation(self) -> str:
        sealed = gettext("Sealed with %(units)s, %(kg)s kg.") % {
            "units": self._units(self.sealed_count),
            "kg": number_format(self.sealed_weight_kg),
        }
        if not self.reversals and self.reconciles:
            return gettext("%(sealed)s Its intakes add up to the same figures.") % {
                "sealed": sealed
            }
        if not self.reconciles:
            return gettext(
                "%(sealed)s Its intakes now add up to %(units)s, %(kg)s kg, which reversals do "
                "not explain: tell the operator."
            ) % {
                "sealed": sealed,
                "units": self._units(self.current_count),
                "kg": number_format(self.current_weight_kg),
            }
        return ngettext(
            "%(sealed)s %(records)s reversing record took out %(units)s and %(kg)s kg since: "
            "the lot now counts %(now)s, %(now_kg)s kg.",
            "%(sealed)s %(records)s reversing records took out %(units)s and %(kg)s kg since: "
            "the lot now counts %(now)s, %(now_kg)s kg.",
            len(self.reversals),
        ) % {
            "sealed": sealed,
            "records": len(self.reversals),
            "units": self._units(-self.reversed_count),
            "kg": number_format(-self.reversed_weight_kg),
            "now": self._units(self.current_count),
            "now_kg": number_format(self.current_weight_kg),
        }


def lot_reconciliation(lot: Lot) -> LotReconciliation:
    return lot_reconciliations([lot])[lot.pk]


def lot_reconciliations(lots: Sequence[Lot]) -> dict[int, LotReconciliation]:
    """The reconciliation of each lot, in three queries whatever the number of lots."""
    ids = [lot.pk for lot in lots]
    phones = Intake.objects.filter(lot_id__in=ids).values("lot_id")
    batteries = Intake.objects.filter(battery_lot_id__in=ids).values("battery_lot_id")
    reversed_filter = Q(reverses__isnull=False)
    sums: dict[int, dict[str, Any]] = {
        row["lot_id"]: dict(row)
        for row in phones.annotate(
            count=Sum("phones"),
            weight=Sum("net_weight_kg"),
            reversed_count=Sum("phones", filter=reversed_filter),
            reversed_weight=Sum("net_weight_kg", filter=reversed_filter),
        )
    }
    sums |= {
        row["battery_lot_id"]: dict(row)
        for row in batteries.annotate(
            count=Sum("batteries_removed"),
            weight=Sum("battery_weight_kg"),
            reversed_count=Sum("batteries_removed", filter=reversed_filter),
            reversed_weight=Sum("battery_weight_kg", filter=reversed_filter),
        )
    }
    reversals: dict[int, list[Intake]] = {lot_id: [] for lot_id in ids}
    for reversal in Intake.objects.filter(
        Q(lot_id__in=ids) | Q(battery_lot_id__in=ids), reverses__isnull=False
    ).order_by("recorded_at", "id"):
        for lot_id in (reversal.lot_id, reversal.battery_lot_id):
            if lot_id in reversals:
                reversals[lot_id].append(reversal)
    result = {}
    for lot in lots:
        row: dict[str, Any] = sums.get(lot.pk, {})
        batteries_lot = lot.kind == LotKind.BATTERIES
        result[lot.pk] = LotReconciliation(
            lot=lot,
            unit="batteries" if batteries_lot else "phones",
            sealed_count=lot.batteries if batteries_lot else lot.phones,
            sealed_weight_kg=lot.net_weight_kg,
            current_count=row.get("count") or 0,
            current_weight_kg=row.get("weight") or Decimal(0),
            reversals=reversals[lot.pk],
            reversed_count=row.get("reversed_count") or 0,
            reversed_weight_kg=row.get("reversed_weight") or Decimal(0),
        )
    return result
