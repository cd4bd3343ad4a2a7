"""Public API: which recycled phone compensated a device (POST, so the identifier stays out of
addresses and logs; rate-limited per client address like the page)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext
from ninja import Router, Schema, Status
from ninja.decorators import decorate_view
from pydantic import model_validator

from oneforone.core.apitools import ErrorOut
from oneforone.core.ratelimit import rate_limited
from oneforone.partners.identifiers import DeviceKind, InvalidIdentifier, kind_name
from oneforone.registry.device_views import LOOKUP_LIMIT, LOOKUP_WINDOW, unit_url
from oneforone.registry.devices import look_up

router = Router(tags=["public"])


class DeviceQuery(Schema):
    imei: str | None = None
    serial: str | None = None

    @model_validator(mode="after")
    def exactly_one(self) -> DeviceQuery:
        if (self.imei is None) == (self.serial is None):
            raise ValueError("give exactly one of imei or serial")
        return self


class DeviceUnitOut(Schema):
    serial: str
    url: str
    origin_country: str
    collected_from_month: str
    collected_until_month: str
    consignment: str
    recycler: str
    treatment_completed: dt.date
    certificate: str | None


class DeviceAnswerOut(Schema):
    status: str
    units: list[DeviceUnitOut]


@router.post(
    "/verify/device",
    auth=None,
    response={200: DeviceAnswerOut, 400: ErrorOut},
    summary="Which unit compensated a device",
    description=(
        "`status` is `compensated` (with the unit or units and where the phone came from), "
        "`waiting` (registered, no unit allocated yet) or `not_registered`. Nothing is said about "
        f"any other device. Limited to {LOOKUP_LIMIT} lookups a minute per client address; past "
        "it the answer is 429 with `Retry-After`."
    ),
    openapi_extra={
        "requestBody": {"content": {"application/json": {"example": {"imei": "490154203237518"}}}}
    },
)
@decorate_view(rate_limited("verify-device", limit=LOOKUP_LIMIT, window=LOOKUP_WINDOW))
def verify_device(request: HttpRequest, payload: DeviceQuery) -> Status[dict[str, Any]]:
    kind, text = (
        (DeviceKind.IMEI, payload.imei)
        if payload.imei is not None
        else (DeviceKind.SERIAL, payload.serial)
    )
    try:
        answer = look_up(text or "", kind)
    except InvalidIdentifier as problem:
        message = gettext("not a valid %(kind)s: %(problem)s") % {
            "kind": kind_name(kind),
            "problem": problem,
        }
        return Status(400, {"code": "invalid_identifier", "message": message})
    return Status(
        200,
        {
            "status": answer.status,
            "units": [
                {
                    "serial": u.serial,
                    "url": unit_url(u.serial),
                    "origin_country": u.origin_country,
                    "collected_from_month": u.collection_months[0].strftime("%Y-%m"),
                    "collected_until_month": u.collection_months[1].strftime("%Y-%m"),
                    "consignment": u.batch.consignment.reference,
                    "recycler": u.batch.consignment.recycler.name,
                    "treatment_completed": u.batch.treatment.completed_on,
                    "certificate": u.certificate_code,
                }
                for u in answer.units
            ],
        },
    )
