"""API v1 for the shipment parties: the code lists valid on a date, and a notification's export
for the EU system. Authentication: a key of an operator, collection partner, carrier or recycler
in ``X-API-Key`` (it acts as the person who created it); partners' keys are refused, as partners
never see shipment data. Read-only."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema
from ninja.security import APIKeyHeader

from oneforone.accounts.models import ApiKey
from oneforone.accounts.permissions import NotAllowed, require_member
from oneforone.core.apitools import ApiError, ErrorOut
from oneforone.shipments.codes import valid_on
from oneforone.shipments.diwass import ShipmentsExport, build_export
from oneforone.shipments.documents import SHIPMENT_KINDS, notification_for
from oneforone.shipments.models import Code, CodeList


class ShipmentKey(APIKeyHeader):
    """A key of an organisation taking part in shipments."""

    param_name = "X-API-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiKey | None:
        from oneforone.api import any_request_key  # oneforone.api imports this module first

        api_key = any_request_key(request)
        if api_key is None or api_key.organisation.kind not in SHIPMENT_KINDS:
            return None
        try:
            require_member(api_key.created_by, api_key.organisation, write=False)
        except NotAllowed as exc:
            raise ApiError(
                403, "forbidden", f"{exc}: an administrator should create a new key"
            ) from None
        return api_key


router = Router(tags=["shipments"], auth=ShipmentKey())


class CodeOut(Schema):
    code_list: str = Field(description="one of the lists, e.g. ewc, basel, operation")
    code: str = Field(description="as documents carry it, e.g. 16 02 13*")
    label: str
    hazardous: bool
    valid_from: dt.date | None = Field(description="first day valid; null: always")
    valid_to: dt.date | None = Field(description="last day valid; null: open")
    replaced_by: str
    source: str


@router.get("/codes", response={200: list[CodeOut], 400: ErrorOut, 401: ErrorOut})
def codes(request: HttpRequest, on: dt.date | None = None, code_list: str = "") -> list[Code]:
    """The entries a document dated `on` (default today) may use, of one list or all."""
    day = on or timezone.localdate()
    if code_list and code_list not in CodeList.values:
        raise ApiError(
            400, "unknown_code_list", f"code_list is one of {', '.join(CodeList.values)}"
        )
    lists = [code_list] if code_list else list(CodeList.values)
    usable = Q(pk__in=[])
    for name in lists:
        usable |= valid_on(name, day)
    return list(Code.objects.filter(usable).order_by("code_list", "code"))


@router.get(
    "/notifications/{number}/export",
    response={200: ShipmentsExport, 401: ErrorOut, 404: ErrorOut},
)
def export(request: HttpRequest, number: str) -> ShipmentsExport:
    """The notification and its movement documents by the forms' blocks (docs/shipments.md)."""
    key: ApiKey = request.auth  # type: ignore[attr-defined]
    try:
        return build_export(notification_for(key.organisation, number))
    except Http404:
        raise ApiError(
            404, "not_found", f"no notification {number} is visible to your organisation"
        ) from None
