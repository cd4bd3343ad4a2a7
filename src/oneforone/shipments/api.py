"""API v1 for shipment parties: consignments with their movement document, carrier legs and
signatures, scoped to the caller's organisation; revision requests go through their action.

Authentication: a key of the hub's collection partner, a carrier, a recycler, the operator or an
auditor in ``X-API-Key``. Partners' keys are refused: partners never see shipment data. Sealed
fields have no write endpoint: a change after signature is a revision request."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.security import APIKeyHeader

from oneforone.accounts.models import ApiKey, OrganisationKind
from oneforone.accounts.permissions import NotAllowed, require_member
from oneforone.core.apitools import ApiError, ErrorOut
from oneforone.shipments import revision_actions
from oneforone.shipments.custody import CustodyError
from oneforone.shipments.models import Consignment
from oneforone.shipments.movement_actions import document_number
from oneforone.shipments.queries import visible_consignments

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SHIPMENT_KINDS = frozenset(
    {
        OrganisationKind.COLLECTION_PARTNER,
        OrganisationKind.CARRIER,
        OrganisationKind.RECYCLER,
        OrganisationKind.OPERATOR,
        OrganisationKind.AUDITOR,
    }
)


class ShipmentKey(APIKeyHeader):
    """The key of an organisation that takes part in shipments (not a partner's)."""

    param_name = "X-API-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiKey | None:
        from oneforone.api import any_request_key

        api_key = any_request_key(request)
        if api_key is None or api_key.organisation.kind not in SHIPMENT_KINDS:
            return None
        write = request.method not in SAFE_METHODS
        if write and not api_key.can_write:
            raise ApiError(403, "insufficient_scope", "this key may only read")
        try:
            require_member(api_key.created_by, api_key.organisation, write=write)
        except NotAllowed as exc:
            raise ApiError(403, "forbidden", str(exc)) from None
        return api_key


router = Router(tags=["shipments"], auth=ShipmentKey())


class SignatureOut(Schema):
    step: str
    leg: int
    organisation: str
    signed_at: dt.datetime
    sealed_fields: dict[str, Any]
    hash: str


class LegOut(Schema):
    sequence: int
    carrier: str
    means_of_transport: str
    vehicle: str
    transferred_on: dt.date


class MovementOut(Schema):
    number: str
    notification: str
    actual_quantity_kg: Decimal
    actual_departure: dt.date
    packaging_type: str
    packages: int


class ConsignmentOut(Schema):
    reference: str
    state: str
    stream: str
    origin_hub: str
    carrier: str
    recycler: str
    phones_dispatched: int | None
    net_weight_kg_dispatched: Decimal | None
    container_number: str
    un_number: str
    packing_instruction: str
    movement_document: MovementOut | None
    legs: list[LegOut]
    signatures: list[SignatureOut]


class RevisionIn(Schema):
    field: str
    new_value: str
    reason: str
    leg: int | None = None


class RevisionOut(Schema):
    id: int
    field: str
    old_value: str
    new_value: str
    status: str


def _out(consignment: Consignment) -> ConsignmentOut:
    document = getattr(consignment, "movement_document", None)
    return ConsignmentOut(
        reference=consignment.reference,
        state=consignment.state,
        stream=consignment.stream,
        origin_hub=consignment.origin_hub.code,
        carrier=consignment.carrier.name,
        recycler=consignment.recycler.name,
        phones_dispatched=consignment.phones_dispatched,
        net_weight_kg_dispatched=consignment.net_weight_kg_dispatched,
        container_number=consignment.container_number,
        un_number=consignment.un_number,
        packing_instruction=consignment.packing_instruction,
        movement_document=MovementOut(
            number=document_number(document),
            notification=document.notification.number,
            actual_quantity_kg=document.actual_quantity_kg,
            actual_departure=document.actual_departure,
            packaging_type=document.packaging_type,
            packages=document.packages,
        )
        if document
        else None,
        legs=[
            LegOut(
                sequence=leg.sequence,
                carrier=leg.carrier.name,
                means_of_transport=leg.means_of_transport,
                vehicle=leg.vehicle,
                transferred_on=leg.transferred_on,
            )
            for leg in consignment.legs.select_related("carrier").order_by("sequence")
        ],
        signatures=[
            SignatureOut(
                step=s.step,
                leg=s.leg,
                organisation=s.organisation.name,
                signed_at=s.signed_at,
                sealed_fields=s.sealed_fields,
                hash=s.hash,
            )
            for s in consignment.signatures.select_related("organisation").order_by("id")
        ],
    )


def _visible(request: HttpRequest) -> Any:
    key: ApiKey = request.auth  # type: ignore[attr-defined]
    return visible_consignments(key.organisation).select_related("movement_document__notification")


def _consignment(request: HttpRequest, reference: str) -> Consignment:
    consignment = _visible(request).filter(reference=reference).first()
    if consignment is None:
        raise ApiError(404, "not_found", f"no consignment {reference} is visible to this key")
    return consignment


@router.get("/consignments", response={200: list[ConsignmentOut]})
def list_consignments(request: HttpRequest, state: str = "") -> list[ConsignmentOut]:
    """The consignments the key's organisation ships, carries or receives (all for operators),
    newest first, at most 100."""
    consignments = _visible(request)
    if state:
        consignments = consignments.filter(state=state)
    return [_out(c) for c in consignments.order_by("-created_at", "-id")[:100]]


@router.get("/consignments/{reference}", response={200: ConsignmentOut, 404: ErrorOut})
def get_consignment(request: HttpRequest, reference: str) -> ConsignmentOut:
    return _out(_consignment(request, reference))


@router.post(
    "/consignments/{reference}/revisions",
    response={201: RevisionOut, 404: ErrorOut, 409: ErrorOut, 403: ErrorOut},
)
def request_revision(
    request: HttpRequest, reference: str, payload: RevisionIn
) -> Status[RevisionOut]:
    """Ask the other parties to approve a change to a sealed field (the only way to change it)."""
    consignment = _consignment(request, reference)
    key: ApiKey = request.auth  # type: ignore[attr-defined]
    try:
        revision = revision_actions.request_revision(
            actor=key.created_by,
            consignment=consignment,
            field=payload.field,
            new_value=payload.new_value,
            reason=payload.reason,
            leg=payload.leg,
        )
    except NotAllowed as exc:
        raise ApiError(403, "forbidden", str(exc)) from None
    except CustodyError as exc:
        raise ApiError(409, "refused", str(exc)) from None
    return Status(
        201,
        RevisionOut(
            id=revision.pk,
            field=f"{revision.target}:{revision.field}",
            old_value=revision.old_value,
            new_value=revision.new_value,
            status=revision.status,
        ),
    )
