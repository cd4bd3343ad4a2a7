"""API v1: partners register devices and read their registrations and certificates."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError
from django.http import HttpRequest
from ninja import Field, NinjaAPI, Schema, Status
from ninja.errors import HttpError
from ninja.security import APIKeyHeader

from oneforone.accounts.models import ApiKey, OrganisationKind
from oneforone.accounts.queries import api_key_for
from oneforone.partners import actions as partner_actions
from oneforone.partners.models import Channel, Registration
from oneforone.partners.queries import (
    PARTNER_DEVICE_STATUS,
    DeviceCounts,
    device_counts,
    devices_of,
    registrations_of,
)
from oneforone.partners.schemas import RegistrationRow
from oneforone.registry.device_api import router as device_router
from oneforone.registry.models import Certificate
from oneforone.registry.public_api import router as public_router


class PartnerKey(APIKeyHeader):
    param_name = "X-API-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiKey | None:
        if not key:
            return None
        api_key = api_key_for(key)
        if api_key is None or api_key.organisation.kind != OrganisationKind.PARTNER:
            return None
        return api_key


api = NinjaAPI(
    title="oneforone API",
    version="1",
    description=(
        "Register the devices you sell, buy or lease; each is compensated by one certified "
        "recycled end-of-life phone. Authenticate with the `X-API-Key` header (keys are created "
        "in the partner portal and shown once)."
    ),
    auth=PartnerKey(),
    openapi_url="/openapi.json",
    docs_url="/docs",
)
api.add_router("/", device_router)


class ErrorOut(Schema):
    code: str
    message: str
    errors: list[dict[str, Any]] = []


class RegistrationOut(Schema):
    id: int
    reference: str
    category: str
    quantity: int
    units_owed: int
    units_allocated: int
    devices_listed: int = Field(description="devices listed one by one (0: a quantity only)")
    devices_claimed: int = Field(description="listed devices that count for compensation")
    devices_already_compensated: int = Field(
        description="listed devices already registered for compensation (by you or anyone): "
        "not owed twice; the operator reviews them"
    )
    certificate: str | None
    created_at: str


class DeviceOut(Schema):
    position: int = Field(description="1-based, in the order you listed the devices")
    kind: str = Field(description="imei or serial")
    status: str = Field(description="claimed, held, declined or withdrawn")
    status_label: str = Field(description="counted, already compensated or withdrawn")
    note: str


class RegistrationDetailOut(RegistrationOut):
    devices: list[DeviceOut] = Field(description="the devices listed, by position")


def _out(registration: Registration, counts: DeviceCounts | None = None) -> dict[str, Any]:
    """The API's view of a registration; units_allocated comes from registrations_of()."""
    counts = counts or device_counts([registration.pk]).get(registration.pk, DeviceCounts())
    return {
        "id": registration.pk,
        "reference": registration.reference,
        "category": registration.category.code,
        "quantity": registration.quantity,
        "units_owed": registration.units_owed,
        "units_allocated": getattr(registration, "units_allocated", 0),
        "devices_listed": counts.listed,
        "devices_claimed": counts.claimed,
        "devices_already_compensated": counts.already_compensated,
        "certificate": _certificate_code(registration),
        "created_at": registration.created_at.isoformat(),
    }


def _detail(registration: Registration) -> dict[str, Any]:
    """A registration with its devices: their status, never who else claimed one."""
    return {
        **_out(registration),
        "devices": [
            {
                "position": device.position,
                "kind": device.kind,
                "status": device.status,
                "status_label": PARTNER_DEVICE_STATUS[device.status][0],
                "note": PARTNER_DEVICE_STATUS[device.status][1],
            }
            for device in devices_of(registration).iterator(chunk_size=2000)
        ],
    }


def _key(request: HttpRequest) -> ApiKey:
    key = request.auth  # type: ignore[attr-defined]
    assert isinstance(key, ApiKey)
    return key


@api.post(
    "/registrations",
    response={201: RegistrationDetailOut, 409: ErrorOut, 422: ErrorOut},
    summary="Register devices owed compensation",
    description=(
        'Give a `quantity`, or list the `devices` one by one (`{"imei": ...}` or '
        '`{"serial": ...}`). A device already registered for compensation, by you or another '
        "partner, is not owed twice: it is listed with status `held` while the operator reviews "
        "it, and `units_owed` leaves it out."
    ),
)
def create_registration(request: HttpRequest, payload: RegistrationRow) -> Status[dict[str, Any]]:
    key = _key(request)
    try:
        [registration] = partner_actions.register_devices(
            actor=key.created_by,
            partner=key.organisation,
            rows=[(1, payload)],
            channel=Channel.API,
        )
    except partner_actions.RegistrationRejected as exc:
        status = 409 if any("already registered" in p.message for p in exc.problems) else 422
        return Status(
            status,
            {
                "code": "rejected",
                "message": str(exc),
                "errors": [{"field": p.field, "message": p.message} for p in exc.problems],
            },
        )
    except IntegrityError:
        return Status(
            409,
            {
                "code": "conflict",
                "message": "this reference was registered at the same moment",
            },
        )
    registration = (
        registrations_of(key.organisation)
        .prefetch_related("certificates__withdrawal")
        .get(pk=registration.pk)
    )
    return Status(201, _detail(registration))


@api.get(
    "/registrations", response=list[RegistrationOut], summary="Your registrations, newest first"
)
def list_registrations(
    request: HttpRequest, limit: int = 100, offset: int = 0
) -> list[dict[str, Any]]:
    limit = max(1, min(limit, 1000))
    rows = list(
        registrations_of(_key(request).organisation)
        .prefetch_related("certificates__withdrawal")
        .order_by("-created_at", "-id")[offset : offset + limit]
    )
    counts = device_counts(r.pk for r in rows)
    return [_out(r, counts.get(r.pk, DeviceCounts())) for r in rows]


@api.get("/registrations/{registration_id}", response={200: RegistrationDetailOut, 404: ErrorOut})
def get_registration(request: HttpRequest, registration_id: int) -> Status[dict[str, Any]]:
    registration = (
        registrations_of(_key(request).organisation)
        .prefetch_related("certificates__withdrawal")
        .filter(pk=registration_id)
        .first()
    )
    if registration is None:
        return Status(
            404, {"code": "not_found", "message": f"no registration {registration_id} of yours"}
        )
    return Status(200, _detail(registration))


def _certificate_code(registration: Registration) -> str | None:
    certificate = registration.current_certificate()
    return certificate.code if certificate else None


class CertificateOut(Schema):
    code: str
    issued_at: str
    snapshot: dict[str, Any]
    snapshot_sha256: str
    verify_url: str


@api.get("/certificates/{code}", response={200: CertificateOut, 404: ErrorOut})
def get_certificate(request: HttpRequest, code: str) -> Status[dict[str, Any]]:
    from oneforone.registry.certificate_pdf import verification_url

    certificate = Certificate.objects.filter(
        code=code, registration__partner=_key(request).organisation
    ).first()
    if certificate is None:
        raise HttpError(404, f"no certificate {code} of yours")
    return Status(
        200,
        {
            "code": certificate.code,
            "issued_at": certificate.issued_at.isoformat(),
            "snapshot": certificate.snapshot,
            "snapshot_sha256": certificate.snapshot_sha256,
            "verify_url": verification_url(certificate),
        },
    )


# The public registry (no key): batches, units, ledger roots; see registry/public_api.py.
api.add_router("/public/", public_router)
