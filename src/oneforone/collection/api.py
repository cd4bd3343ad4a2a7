"""API v1 for hub devices: offline-first sync of intake records, photos, and a hub's state.

Authentication: a key of a collection partner in ``X-API-Key`` (created by an administrator of
the collection partner; it acts as that person). Partners' keys are not accepted here, nor these
keys elsewhere. Rate limits and ``Idempotency-Key`` are the API's (oneforone/api.py).
See docs/collection-sync.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from decimal import Decimal
from typing import Annotated, Any

from django.db.models import Exists, OuterRef, Q
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from ninja.security import APIKeyHeader
from pydantic import BeforeValidator

from oneforone.accounts.models import ApiKey, OrganisationKind
from oneforone.accounts.permissions import NotAllowed, require_member
from oneforone.collection import actions, prices, sync
from oneforone.collection.models import (
    Collector,
    Condition,
    Hub,
    Intake,
    IntakePhoto,
    Payment,
    Photo,
)
from oneforone.core.apitools import ApiError, ErrorOut

KEY_HEADER = "X-API-Key"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
STATE_DAYS = 30


class CollectionKey(APIKeyHeader):
    """A collection partner's key, for its hub devices."""

    param_name = KEY_HEADER

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiKey | None:
        # Imported here: oneforone.api mounts this router, so it imports this module first.
        from oneforone.api import any_request_key

        api_key = any_request_key(request)
        if api_key is None or api_key.organisation.kind != OrganisationKind.COLLECTION_PARTNER:
            return None
        write = request.method not in SAFE_METHODS
        if write and not api_key.can_write:
            raise ApiError(
                403,
                "insufficient_scope",
                f"key {api_key.display_prefix} may only read; a hub device needs a write key",
            )
        try:
            require_member(api_key.created_by, api_key.organisation, write=write)
        except NotAllowed as exc:
            raise ApiError(
                403,
                "forbidden",
                f"{exc}: the key acts for the person who created it; an administrator should "
                "create a new key",
            ) from None
        return api_key


router = Router(tags=["collection"], auth=CollectionKey())


def _no_float(value: Any) -> Any:
    if isinstance(value, float):
        raise ValueError('send amounts and weights as strings, e.g. "2.60", never as JSON floats')
    return value


Amount = Annotated[Decimal, BeforeValidator(_no_float)]


class IntakeIn(Schema):
    client_uuid: uuid.UUID = Field(description="made by the device when the record was created")
    revision: int = Field(ge=1, description="the device's edit counter of this record, from 1")
    collected_at: dt.datetime = Field(description="when the phones were bought, with its offset")
    collector: str | None = Field(default=None, description="the collector's code")
    collector_uuid: uuid.UUID | None = Field(
        default=None, description="or the UUID of a collector the device registered offline"
    )
    phones: int = Field(ge=1)
    net_weight_kg: Amount = Field(gt=0, max_digits=12, decimal_places=3)
    batteries_removed: int = Field(default=0, ge=0)
    battery_weight_kg: Amount = Field(default=Decimal(0), ge=0, max_digits=12, decimal_places=3)
    condition: Condition = Condition.WHOLE
    price_per_phone: Amount = Field(
        ge=0, max_digits=12, decimal_places=4, description="in the hub's currency, as a string"
    )
    latitude: Amount | None = Field(default=None, ge=-90, le=90, decimal_places=6)
    longitude: Amount | None = Field(default=None, ge=-180, le=180, decimal_places=6)
    gps_accuracy_m: int | None = Field(default=None, ge=0)
    imeis: list[str] = Field(default_factory=list, max_length=1000)
    photos: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="SHA-256 (hex) of each photo; upload the bytes with POST /collection/photos",
    )
    note: str = Field(default="", max_length=300)
    paid_with: str | None = Field(
        default=None, description="cash or mobile_money when paid on the spot; null if not yet"
    )
    payment_reference: str = Field(default="", max_length=100)


class SyncIn(Schema):
    batch_uuid: uuid.UUID = Field(
        description="new for every batch; the same batch is answered once"
    )
    device_id: str = Field(min_length=1, max_length=100)
    hub: str = Field(description="the hub's code")
    records: list[IntakeIn] = Field(max_length=500)


class RecordOut(Schema):
    client_uuid: str
    outcome: str = Field(description="created, updated, unchanged, conflict or rejected")
    message: str
    revision: int | None = Field(description="the revision the server keeps, if any")


class SyncOut(Schema):
    batch_uuid: uuid.UUID
    replayed: bool = Field(description="true if this batch was received before: stored answer")
    counts: dict[str, int]
    records: list[RecordOut]


def _hub(key: ApiKey, code: str) -> Hub:
    hub = Hub.objects.filter(organisation=key.organisation, code=code).first()
    if hub is None:
        raise ApiError(404, "not_found", f"no hub {code!r} of {key.organisation.name}")
    return hub


def _record(item: IntakeIn) -> sync.IntakeRecord:
    return sync.IntakeRecord(
        client_uuid=item.client_uuid,
        revision=item.revision,
        collected_at=item.collected_at,
        collector_code=item.collector,
        collector_uuid=item.collector_uuid,
        phones=item.phones,
        net_weight_kg=item.net_weight_kg,
        price_per_phone=item.price_per_phone,
        batteries_removed=item.batteries_removed,
        battery_weight_kg=item.battery_weight_kg,
        condition=item.condition,
        latitude=item.latitude,
        longitude=item.longitude,
        gps_accuracy_m=item.gps_accuracy_m,
        imeis=tuple(item.imeis),
        photos=tuple(item.photos),
        note=item.note,
        paid_with=item.paid_with,
        payment_reference=item.payment_reference,
    )


@router.post("/sync", response={200: SyncOut, 404: ErrorOut, 409: ErrorOut})
def sync_records(request: HttpRequest, payload: SyncIn) -> SyncOut:
    """Send a batch of intake records made offline; each record is answered on its own.

    Conflict rule: the highest revision wins; the same revision with other content keeps the
    first; a paid, packed or reversed record is never edited (`conflict`: record a correction).
    The same batch sent again returns the stored answer (`replayed`) and changes nothing."""
    key: ApiKey = request.auth  # type: ignore[attr-defined]
    hub = _hub(key, payload.hub)
    body = payload.model_dump_json(exclude={"batch_uuid"}).encode()
    try:
        result = sync.sync_batch(
            actor=key.created_by,
            hub=hub,
            batch_uuid=payload.batch_uuid,
            device_id=payload.device_id,
            records=[_record(item) for item in payload.records],
            body_sha256=hashlib.sha256(body).hexdigest(),
        )
    except sync.SyncError as error:
        raise ApiError(409, "batch_reused", str(error)) from None
    return SyncOut(
        batch_uuid=result.batch_uuid,
        replayed=result.replayed,
        counts=result.counts(),
        records=[
            RecordOut(
                client_uuid=r.client_uuid,
                outcome=r.outcome.value,
                message=r.message,
                revision=r.revision,
            )
            for r in result.results
        ],
    )


class PhotoOut(Schema):
    sha256: str
    size: int
    content_type: str


@router.post("/photos", response={201: PhotoOut, 200: PhotoOut, 404: ErrorOut, 422: ErrorOut})
def upload_photo(request: HttpRequest, hub: str) -> Status[PhotoOut]:
    """Upload a photo's bytes as the request body (Content-Type image/jpeg, image/png or
    image/webp, at most 5 MB); records refer to it by the SHA-256 returned. 200 if the server
    had these bytes already."""
    key: ApiKey = request.auth  # type: ignore[attr-defined]
    where = _hub(key, hub)
    known = Photo.objects.filter(sha256=hashlib.sha256(request.body).hexdigest()).exists()
    try:
        photo = actions.store_photo(
            actor=key.created_by,
            hub=where,
            data=request.body,
            content_type=request.content_type or "",
        )
    except actions.CollectionError as error:
        raise ApiError(422, "photo_refused", str(error)) from None
    out = PhotoOut(sha256=photo.sha256, size=photo.size, content_type=photo.content_type)
    return Status(200 if known else 201, out)


class CollectorOut(Schema):
    code: str
    client_uuid: uuid.UUID
    active: bool


class PriceCapOut(Schema):
    max_per_phone: Decimal
    min_per_phone: Decimal
    currency: str
    valid_from: dt.date
    valid_until: dt.date | None


class IntakeStateOut(Schema):
    client_uuid: uuid.UUID
    revision: int
    editable: bool = Field(description="false once paid, packed or reversed: correct it instead")
    collected_at: dt.datetime
    collector: str
    phones: int
    net_weight_kg: Decimal
    price_per_phone: Decimal
    paid: bool
    lot: str | None


class HubOut(Schema):
    code: str
    name: str
    currency: str
    latitude: Decimal | None
    longitude: Decimal | None
    opens_at: dt.time
    closes_at: dt.time
    open_weekdays: list[int]


class HubStateOut(Schema):
    server_time: dt.datetime
    hub: HubOut
    price_cap: PriceCapOut | None
    collectors: list[CollectorOut]
    intakes: list[IntakeStateOut] = Field(
        description=f"every open record and those of the last {STATE_DAYS} days"
    )
    missing_photos: list[str] = Field(description="photos records name whose bytes are missing")


@router.get("/hubs/{code}/state", response={200: HubStateOut, 404: ErrorOut})
def hub_state(request: HttpRequest, code: str) -> HubStateOut:
    """What a device needs to resume: collectors, the price cap today, the revision the server
    keeps of each recent record and whether it can still be edited, photos still to upload."""
    key: ApiKey = request.auth  # type: ignore[attr-defined]
    hub = _hub(key, code)
    now = timezone.now()
    cap = prices.cap_for(hub.country, actions.local_date(hub, now))
    since = now - dt.timedelta(days=STATE_DAYS)
    intakes = (
        Intake.objects.filter(hub=hub)
        .filter(Q(collected_at__gte=since) | Q(lot__isnull=True))
        .select_related("collector", "lot", "battery_lot")
        .annotate(
            paid=Exists(Payment.objects.filter(intake=OuterRef("pk"))),
            reversed=Exists(Intake.objects.filter(reverses=OuterRef("pk"))),
        )
        .order_by("collected_at", "id")
    )
    missing = (
        IntakePhoto.objects.filter(intake__hub=hub)
        .exclude(sha256__in=Photo.objects.values("sha256"))
        .values_list("sha256", flat=True)
        .distinct()
    )
    return HubStateOut(
        server_time=now,
        hub=HubOut(
            code=hub.code,
            name=hub.name,
            currency=hub.currency,
            latitude=hub.latitude,
            longitude=hub.longitude,
            opens_at=hub.opens_at,
            closes_at=hub.closes_at,
            open_weekdays=list(hub.open_weekdays),
        ),
        price_cap=PriceCapOut(
            max_per_phone=cap.max_per_phone,
            min_per_phone=cap.min_per_phone,
            currency=cap.currency,
            valid_from=cap.valid_from,
            valid_until=cap.valid_until,
        )
        if cap is not None
        else None,
        collectors=[
            CollectorOut(code=c.code, client_uuid=c.client_uuid, active=c.active)
            for c in Collector.objects.filter(hub=hub).order_by("code")
        ],
        intakes=[
            IntakeStateOut(
                client_uuid=i.client_uuid,
                revision=i.revision,
                editable=not (
                    i.paid or i.reversed or i.reverses_id or i.lot_id or i.battery_lot_id
                ),
                collected_at=i.collected_at,
                collector=i.collector.code,
                phones=i.phones,
                net_weight_kg=i.net_weight_kg,
                price_per_phone=i.price_per_phone,
                paid=i.paid,
                lot=i.lot.seal_number if i.lot else None,
            )
            for i in intakes
        ],
        missing_photos=sorted(missing),
    )
