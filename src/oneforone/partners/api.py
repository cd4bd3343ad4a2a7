"""API v1 for partners: registrations (one or a batch), their devices, and conflicts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.db import IntegrityError
from django.db.models import F, Q, QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.params import Path as PathParam
from pydantic import StringConstraints

from oneforone.accounts.models import ApiKey, Organisation
from oneforone.core.apitools import (
    ApiError,
    ErrorOut,
    PageQuery,
    error_item,
    keyset_page,
)
from oneforone.partners import actions
from oneforone.partners.models import Channel, Device, DeviceStatus, Programme, Registration
from oneforone.partners.queries import (
    PARTNER_DEVICE_STATUS,
    DeviceCounts,
    ProgrammeFigures,
    device_counts,
    devices_of,
    programme_figures,
    programmes_of,
    registrations_of,
)
from oneforone.partners.schemas import RegistrationRow

router = Router(tags=["registrations"])

MAX_DEVICES_PER_REQUEST = 10_000
MAX_BATCH = MAX_DEVICES_PER_REQUEST
DEVICES_IN_DETAIL = 100
NoNul = Annotated[str, StringConstraints(max_length=100, pattern=r"^[^\x00]*$")]


class RegistrationFilters(PageQuery):
    created_after: dt.datetime | None = Field(None, description="created at or after")
    created_before: dt.datetime | None = Field(None, description="created before")
    category: NoNul | None = Field(None, description="category code, e.g. phone")
    programme: NoNul | None = Field(None, description="programme code, e.g. retail-2026")
    status: Literal["owed", "compensated", "cancelled"] | None = None
    reference: NoNul | None = Field(None, description="part of the reference")


class ConflictFilters(PageQuery):
    status: Literal["held", "declined", "withdrawn"] | None = None


RegistrationId = Annotated[int, PathParam(ge=1, le=2**63 - 1)]
ProgrammeCodePath = Annotated[
    str, PathParam(min_length=1, max_length=40, pattern=r"^[-a-zA-Z0-9_]+$")
]

_REGISTRATION_EXAMPLE: dict[str, Any] = {
    "id": 42,
    "reference": "INV-2026-00042",
    "programme": "retail-2026",
    "category": "phone",
    "product_model": "X2 Pro",
    "quantity": 2,
    "units_owed": 2,
    "units_allocated": 0,
    "status": "owed",
    "cancelled_at": None,
    "devices_listed": 2,
    "devices_claimed": 2,
    "devices_already_compensated": 0,
    "certificate": None,
    "created_at": "2026-11-27T10:15:00.123456+00:00",
}


class RegistrationOut(Schema):
    model_config = {"json_schema_extra": {"examples": [_REGISTRATION_EXAMPLE]}}

    id: int
    reference: str
    programme: str = Field(description="code of the programme it belongs to")
    category: str
    product_model: str = Field(description="the devices' product model, as you gave it (or empty)")
    quantity: int
    units_owed: int = Field(description="0 once cancelled")
    units_allocated: int
    status: Literal["owed", "compensated", "cancelled"] = Field(
        description="compensated once every unit owed is allocated; cancelled before allocation"
    )
    cancelled_at: dt.datetime | None = Field(description="when you cancelled it, if you did")
    devices_listed: int = Field(description="devices listed one by one (0: a quantity only)")
    devices_claimed: int = Field(description="listed devices that count for compensation")
    devices_already_compensated: int = Field(
        description="listed devices already registered for compensation (by you or anyone): "
        "not owed twice; the operator reviews them"
    )
    certificate: str | None = Field(description="code of the certificate in force, if any")
    created_at: dt.datetime


class DeviceOut(Schema):
    position: int = Field(description="1-based, in the order you listed the devices")
    kind: str = Field(description="imei or serial")
    status: str = Field(description="claimed, held, declined or withdrawn")
    status_label: str = Field(description="counted, already compensated or withdrawn")
    note: str


class RegistrationDetailOut(RegistrationOut):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    **_REGISTRATION_EXAMPLE,
                    "devices": [
                        {
                            "position": 1,
                            "kind": "imei",
                            "status": "claimed",
                            "status_label": "counted",
                            "note": "Counts for compensation.",
                        }
                    ],
                    "devices_next_cursor": None,
                }
            ]
        }
    }

    devices: list[DeviceOut] = Field(
        description=f"the first {DEVICES_IN_DETAIL} devices listed, by position"
    )
    devices_next_cursor: str | None = Field(
        description="if there are more: the cursor for GET /registrations/{id}/devices"
    )


class RegistrationPage(Schema):
    items: list[RegistrationOut]
    next_cursor: str | None = Field(description="give it as `cursor` for the next page; null: end")


class DevicePage(Schema):
    items: list[DeviceOut]
    next_cursor: str | None


class RegistrationBatchIn(Schema):
    registrations: list[RegistrationRow] = Field(
        min_length=1,
        max_length=MAX_BATCH,
        description=f"all are registered or none; at most {MAX_DEVICES_PER_REQUEST:,} devices "
        "listed in one request",
    )


class RegistrationBatchOut(Schema):
    items: list[RegistrationOut] = Field(description="the new registrations, in the order given")


def key_of(request: HttpRequest) -> ApiKey:
    key = request.auth  # type: ignore[attr-defined]
    assert isinstance(key, ApiKey)
    return key


def registration_out(
    registration: Registration, counts: DeviceCounts | None = None
) -> dict[str, Any]:
    """The API's view of a registration; units_allocated comes from registrations_of()."""
    counts = counts or device_counts([registration.pk]).get(registration.pk, DeviceCounts())
    allocated = getattr(registration, "units_allocated", 0)
    certificate = registration.current_certificate()
    return {
        "id": registration.pk,
        "reference": registration.reference,
        "programme": registration.programme.code,
        "category": registration.category.code,
        "product_model": registration.product_model,
        "quantity": registration.quantity,
        "units_owed": registration.units_owed,
        "units_allocated": allocated,
        "status": _status(registration, allocated),
        "cancelled_at": registration.cancelled_at,
        "devices_listed": counts.listed,
        "devices_claimed": counts.claimed,
        "devices_already_compensated": counts.already_compensated,
        "certificate": certificate.code if certificate else None,
        "created_at": registration.created_at,
    }


def _status(registration: Registration, allocated: int) -> str:
    if registration.cancelled_at is not None:
        return "cancelled"
    return "compensated" if allocated >= registration.units_owed else "owed"


def device_out(device: Device) -> dict[str, Any]:
    label, note = PARTNER_DEVICE_STATUS[device.status]
    return {
        "position": device.position,
        "kind": device.kind,
        "status": device.status,
        "status_label": str(label),
        "note": str(note),
    }


def _detail(registration: Registration) -> dict[str, Any]:
    """A registration with its first devices: their status, never who else claimed one."""
    devices, next_cursor = keyset_page(
        devices_of(registration), key=(("position", int),), cursor=None, limit=DEVICES_IN_DETAIL
    )
    return {
        **registration_out(registration),
        "devices": [device_out(d) for d in devices],
        "devices_next_cursor": next_cursor,
    }


def _registrations(request: HttpRequest) -> QuerySet[Registration]:
    return registrations_of(key_of(request).organisation).prefetch_related(
        "certificates__withdrawal"
    )


def _check_size(rows: list[RegistrationRow]) -> None:
    listed = sum(len(row.devices or []) for row in rows)
    if listed > MAX_DEVICES_PER_REQUEST:
        raise ApiError(
            413,
            "too_many_devices",
            f"{listed:,} devices listed in one request; at most {MAX_DEVICES_PER_REQUEST:,}. "
            "Split them over several requests, or upload a file",
        )


def _register(request: HttpRequest, rows: list[RegistrationRow], *, batch: bool) -> list[int]:
    key = key_of(request)
    _check_size(rows)
    try:
        registered = actions.register_devices(
            actor=key.created_by,
            partner=key.organisation,
            rows=list(enumerate(rows, start=1)),
            channel=Channel.API,
        )
    except actions.RegistrationRejected as exc:
        codes = [p.code for p in exc.problems]
        taken = all(code == "reference_taken" for code in codes)
        raise ApiError(
            409 if taken else 422,
            "reference_taken" if taken else "rejected",
            "nothing was registered: "
            + (
                "the reference is already one of your registrations; use a new reference"
                if taken
                else "see `errors` for each problem"
            ),
            [
                error_item(code, p.message, p.field or None, p.line if batch else None)
                for code, p in zip(codes, exc.problems, strict=True)
            ],
        ) from None
    except IntegrityError:
        raise ApiError(
            409,
            "reference_taken",
            "a registration with this reference was made at the same moment; nothing was "
            "registered by this request",
        ) from None
    return [r.pk for r in registered]


@router.post(
    "/registrations",
    response={201: RegistrationDetailOut, 409: ErrorOut, 413: ErrorOut, 422: ErrorOut},
    summary="Register devices owed compensation",
    description=(
        'Give a `quantity`, or list the `devices` one by one (`{"imei": ...}` or '
        '`{"serial": ...}`, at most 10,000). A device already registered for compensation, by '
        "you or another partner, is not owed twice: it is listed with status `held` while the "
        "operator reviews it, and `units_owed` leaves it out. A reference already yours: 409."
    ),
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "examples": {
                        "quantity": {
                            "summary": "a quantity only",
                            "value": {
                                "reference": "INV-2026-00042",
                                "category": "phone",
                                "quantity": 250,
                            },
                        },
                        "devices": {
                            "summary": "devices one by one",
                            "value": {
                                "reference": "INV-2026-00043",
                                "category": "phone",
                                "devices": [
                                    {"imei": "490154203237518"},
                                    {"serial": "C02XK1ABJG5H"},
                                ],
                            },
                        },
                    }
                }
            }
        }
    },
)
def create_registration(request: HttpRequest, payload: RegistrationRow) -> Status[dict[str, Any]]:
    [pk] = _register(request, [payload], batch=False)
    return Status(201, _detail(_registrations(request).get(pk=pk)))


@router.post(
    "/registrations/batch",
    response={201: RegistrationBatchOut, 409: ErrorOut, 413: ErrorOut, 422: ErrorOut},
    summary="Register a batch: all or nothing",
    description=(
        f"Up to {MAX_BATCH:,} registrations and {MAX_DEVICES_PER_REQUEST:,} listed devices in "
        "one request (more: 413 `too_many_devices`). If any is wrong, none is registered and "
        "`errors` says which, `line` being the 1-based item in `registrations`."
    ),
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "example": {
                        "registrations": [
                            {"reference": "PO-7781", "category": "laptop", "quantity": 40},
                            {
                                "reference": "PO-7782",
                                "category": "phone",
                                "devices": [{"imei": "490154203237518"}],
                            },
                        ]
                    }
                }
            }
        }
    },
)
def create_registrations(
    request: HttpRequest, payload: RegistrationBatchIn
) -> Status[dict[str, Any]]:
    pks = _register(request, payload.registrations, batch=True)
    rows = {r.pk: r for r in _registrations(request).filter(pk__in=pks)}
    counts = device_counts(pks)
    return Status(
        201, {"items": [registration_out(rows[pk], counts.get(pk, DeviceCounts())) for pk in pks]}
    )


def _aware(moment: dt.datetime | None, field: str) -> dt.datetime | None:
    """In UTC (no time zone: UTC); PostgreSQL refuses offsets beyond ±15:59."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:
        raise ApiError(
            422,
            "validation_error",
            "the request is not valid: see `errors` for each problem",
            [error_item("datetime_range", "this time is out of range", field)],
        ) from None


@router.get(
    "/registrations",
    response={200: RegistrationPage},
    summary="Your registrations, oldest first, a page at a time",
    description=(
        "Follow `next_cursor` until it is null. New registrations appear at the end, so a client "
        "that keeps the last cursor can come back for the new ones."
    ),
)
def list_registrations(request: HttpRequest, filters: Query[RegistrationFilters]) -> dict[str, Any]:
    rows = _registrations(request)
    if created_after := _aware(filters.created_after, "created_after"):
        rows = rows.filter(created_at__gte=created_after)
    if created_before := _aware(filters.created_before, "created_before"):
        rows = rows.filter(created_at__lt=created_before)
    if filters.category:
        rows = rows.filter(category__code=filters.category.strip().lower())
    if filters.programme:
        rows = rows.filter(programme__code=filters.programme.strip().lower())
    if filters.status == "owed":
        rows = rows.filter(units_allocated__lt=F("units_owed"))  # type: ignore[misc]
    elif filters.status == "compensated":
        rows = rows.filter(  # type: ignore[misc]
            cancelled_at__isnull=True, units_allocated__gte=F("units_owed")
        )
    elif filters.status == "cancelled":
        rows = rows.filter(cancelled_at__isnull=False)
    if filters.reference and filters.reference.strip():
        rows = rows.filter(Q(reference__icontains=filters.reference.strip()))
    page, next_cursor = keyset_page(
        rows,
        key=(("created_at", dt.datetime), ("id", int)),
        cursor=filters.cursor,
        limit=filters.limit,
    )
    counts = device_counts(r.pk for r in page)
    return {
        "items": [registration_out(r, counts.get(r.pk, DeviceCounts())) for r in page],
        "next_cursor": next_cursor,
    }


def _registration(request: HttpRequest, registration_id: int) -> Registration:
    registration = _registrations(request).filter(pk=registration_id).first()
    if registration is None:
        raise ApiError(
            404, "not_found", f"no registration {registration_id} among your registrations"
        )
    return registration


@router.get(
    "/registrations/{registration_id}",
    response={200: RegistrationDetailOut, 404: ErrorOut},
    summary="One of your registrations, with its first devices",
)
def get_registration(request: HttpRequest, registration_id: RegistrationId) -> dict[str, Any]:
    return _detail(_registration(request, registration_id))


@router.get(
    "/registrations/{registration_id}/devices",
    response={200: DevicePage, 404: ErrorOut},
    summary="The devices of one of your registrations, by position",
)
def list_devices(
    request: HttpRequest, registration_id: RegistrationId, page: Query[PageQuery]
) -> dict[str, Any]:
    registration = _registration(request, registration_id)
    devices, next_cursor = keyset_page(
        devices_of(registration), key=(("position", int),), cursor=page.cursor, limit=page.limit
    )
    return {"items": [device_out(d) for d in devices], "next_cursor": next_cursor}


class CancelIn(Schema):
    reason: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)
    ] = Field(description="why; it stays in the history", examples=["order returned"])


@router.post(
    "/registrations/{registration_id}/cancel",
    response={200: RegistrationDetailOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Cancel a registration before any unit is allocated to it",
    description=(
        "It then owes nothing and its devices may be registered again. Once units are "
        "allocated, 409 `already_allocated`: ask the operator for a correction instead. "
        "Cancelling twice: 409 `already_cancelled`."
    ),
)
def cancel_registration(
    request: HttpRequest, registration_id: RegistrationId, payload: CancelIn
) -> dict[str, Any]:
    registration = _registration(request, registration_id)
    try:
        actions.cancel_registration(
            actor=key_of(request).created_by, registration=registration, reason=payload.reason
        )
    except actions.CancellationRefused as exc:
        code = "already_cancelled" if "already cancelled" in str(exc) else "already_allocated"
        raise ApiError(409, code, str(exc)) from None
    return _detail(_registration(request, registration_id))


# Programmes -----------------------------------------------------------------------------------


class ProgrammeOut(Schema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "code": "retail-2026",
                    "name": "Phones sold in our shops",
                    "activation_mode": "consumer_products",
                    "price_per_unit": "4.8000",
                    "currency": "EUR",
                    "starts_on": "2026-01-01",
                    "ends_on": None,
                    "claim_wording": "For every phone sold, one old phone is recycled.",
                    "contracting_authority": None,
                    "tender_reference": None,
                    "quota": None,
                    "is_default": True,
                    "registrations": 12,
                    "devices": 5400,
                    "units_owed": 5400,
                    "units_allocated": 5000,
                }
            ]
        }
    }

    code: str
    name: str
    activation_mode: Literal["consumer_products", "b2b_service", "public_tender", "internal"]
    price_per_unit: Decimal
    currency: str = Field(description="ISO 4217")
    starts_on: dt.date
    ends_on: dt.date | None = Field(description="null: open-ended")
    claim_wording: str = Field(description="the claim you may publish for this programme")
    contracting_authority: str | None = Field(description="public tenders only")
    tender_reference: str | None = Field(description="public tenders only")
    quota: int | None = Field(description="public tenders: devices the contract covers at most")
    is_default: bool = Field(description="takes registrations that name no programme")
    registrations: int = Field(description="registrations not cancelled")
    devices: int = Field(description="devices that count (double claims left out)")
    units_owed: int
    units_allocated: int


class ProgrammePage(Schema):
    items: list[ProgrammeOut]
    next_cursor: str | None


def programme_out(programme: Programme, figures: ProgrammeFigures) -> dict[str, Any]:
    return {
        "code": programme.code,
        "name": programme.name,
        "activation_mode": programme.activation_mode,
        "price_per_unit": programme.price_per_unit,
        "currency": programme.currency,
        "starts_on": programme.starts_on,
        "ends_on": programme.ends_on,
        "claim_wording": programme.claim_wording,
        "contracting_authority": programme.contracting_authority or None,
        "tender_reference": programme.tender_reference or None,
        "quota": programme.quota,
        "is_default": programme.is_default,
        "registrations": figures.registrations,
        "devices": figures.devices,
        "units_owed": figures.units_owed,
        "units_allocated": figures.units_allocated,
    }


@router.get(
    "/programmes",
    response={200: ProgrammePage},
    tags=["programmes"],
    summary="Your programmes with what each has registered and received",
)
def list_programmes(request: HttpRequest, page: Query[PageQuery]) -> dict[str, Any]:
    rows, next_cursor = keyset_page(
        programmes_of(key_of(request).organisation),
        key=(("id", int),),
        cursor=page.cursor,
        limit=page.limit,
    )
    figures = programme_figures(p.pk for p in rows)
    return {
        "items": [programme_out(p, figures.get(p.pk, ProgrammeFigures())) for p in rows],
        "next_cursor": next_cursor,
    }


@router.get(
    "/programmes/{code}",
    response={200: ProgrammeOut, 404: ErrorOut},
    tags=["programmes"],
    summary="One of your programmes",
)
def get_programme(request: HttpRequest, code: ProgrammeCodePath) -> dict[str, Any]:
    programme = programme_of(key_of(request).organisation, code)
    figures = programme_figures([programme.pk]).get(programme.pk, ProgrammeFigures())
    return programme_out(programme, figures)


def programme_of(partner: Organisation, code: str) -> Programme:
    """The partner's programme with this code, or a 404 error body."""
    programme = programmes_of(partner).filter(code=code.strip().lower()).first()
    if programme is None:
        raise ApiError(404, "not_found", f"no programme {code!r} among your programmes")
    return programme


# Conflicts: your devices that are not counted -------------------------------------------------


class ConflictOut(Schema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "id": 9001,
                    "registration_id": 42,
                    "registration_reference": "INV-2026-00042",
                    "position": 3,
                    "kind": "imei",
                    "status": "held",
                    "status_label": "already compensated",
                    "note": str(PARTNER_DEVICE_STATUS[DeviceStatus.HELD][1]),
                    "review": "open",
                    "raised_at": "2026-11-27T10:15:00+00:00",
                    "resolved_at": None,
                }
            ]
        }
    }

    id: int = Field(description="the device's id")
    registration_id: int
    registration_reference: str
    position: int
    kind: str
    status: str = Field(description="held (under review), declined or withdrawn")
    status_label: str
    note: str
    review: str | None = Field(
        description="the operator's review: open, kept_first, transferred or rejected"
    )
    raised_at: dt.datetime | None
    resolved_at: dt.datetime | None


class ConflictPage(Schema):
    items: list[ConflictOut]
    next_cursor: str | None


@router.get(
    "/conflicts",
    response={200: ConflictPage},
    tags=["conflicts"],
    summary="Your devices that are not counted: held for review, declined or withdrawn",
    description=(
        "A device registered for compensation before (by you or anyone) is held while the "
        "operator reviews it. Nothing here says who else registered it."
    ),
)
def list_conflicts(request: HttpRequest, filters: Query[ConflictFilters]) -> dict[str, Any]:
    devices = (
        Device.objects.filter(registration__partner=key_of(request).organisation)
        .exclude(status=DeviceStatus.CLAIMED)
        .select_related("registration", "conflict")
        .prefetch_related("conflicts_as_first")
    )
    if filters.status:
        devices = devices.filter(status=filters.status)
    page, next_cursor = keyset_page(
        devices, key=(("id", int),), cursor=filters.cursor, limit=filters.limit
    )
    items = []
    for device in page:
        conflict = getattr(device, "conflict", None)
        if conflict is None:  # withdrawn as the first claim of an identifier
            conflict = max(
                device.conflicts_as_first.all(), key=lambda c: (c.raised_at, c.pk), default=None
            )
        items.append(
            {
                "id": device.pk,
                "registration_id": device.registration.pk,
                "registration_reference": device.registration.reference,
                **{k: v for k, v in device_out(device).items() if k != "position"},
                "position": device.position,
                "review": conflict.status if conflict else None,
                "raised_at": conflict.raised_at if conflict else None,
                "resolved_at": conflict.resolved_at if conflict else None,
            }
        )
    return {"items": items, "next_cursor": next_cursor}
