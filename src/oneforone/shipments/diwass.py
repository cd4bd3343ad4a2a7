"""The notification and its movement documents as one JSON document shaped for entry into the
EU's electronic system for waste shipments (DIWASS, Regulation (EU) 2024/1157, Article 27).

DIWASS's own interface is not public to us, so this is a mapping for manual or assisted entry:
fields grouped and named by the numbered blocks of the notification (Annex IA) and movement
(Annex IB) documents, ISO dates, ISO 3166-1 country codes, quantities in tonnes with three
decimals, and codes exactly as they appear in the code lists. docs/shipments.md documents each
field; docs/shipments-export.schema.json is the JSON Schema of these models.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.utils import timezone
from pydantic import BaseModel, ConfigDict, Field

from oneforone.accounts.models import Organisation
from oneforone.shipments.codes import valid_on
from oneforone.shipments.documents import movement_documents
from oneforone.shipments.models import (
    Code,
    CodeList,
    Consignment,
    CustodySignature,
    CustodyStep,
    MovementDocument,
    Notification,
)

SCHEMA_VERSION: Literal["1"] = "1"
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]
Tonnes = Annotated[
    str, Field(pattern=r"^[0-9]+\.[0-9]{3}$", description="tonnes (Mg), three decimals")
]


class Block(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CodeRef(Block):
    code_list: Literal[
        "basel",
        "hazard",
        "operation",
        "ewc",
        "hs",
        "un_number",
        "packing_instruction",
        "packaging",
        "physical",
        "transport",
    ]
    code: str = Field(description="as it appears in the code list")
    label: str = Field(description="the list's short description; empty when not in the list")
    valid_on_document_date: bool


class Party(Block):
    name: str
    country: Country
    site: str = ""


class NotificationNumber(Block):
    number: str = Field(description="as issued by the authority of export")
    shipment_type: Literal["single", "multiple"]
    operation_kind: Literal["recovery", "disposal"]


class Quantity(Block):
    tonnes: Tonnes


class Period(Block):
    first_departure: dt.date
    last_departure: dt.date


class IntendedCarrier(Block):
    sequence: int
    name: str
    country: Country
    means_of_transport: CodeRef


class Operation(Block):
    code: CodeRef
    technology: str


class Designation(Block):
    description: str
    stream: Literal["phones", "batteries"]


class Identification(Block):
    basel: CodeRef
    eu_list_of_waste: CodeRef
    hs: CodeRef
    y_codes: list[CodeRef]
    h_codes: list[CodeRef]
    un_number: CodeRef | None


class StateConcerned(Block):
    sequence: int
    role: Literal["export", "transit", "import"]
    country: Country
    competent_authority: str
    exit_point: str
    entry_point: str


class CustomsOffice(Block):
    role: Literal["export", "transit", "import"]
    country: Country
    office: str


class Declaration(Block):
    dated: dt.date


class AuthorityDecision(Block):
    country: Country
    competent_authority: str
    decision: Literal["consent", "conditions", "objection", "tacit"]
    decided_on: dt.date
    valid_from: dt.date | None
    valid_to: dt.date | None
    reference: str
    conditions: str


class NotificationBlocks(Block):
    block_1_notifier: Party
    block_2_consignee: Party
    block_3_notification: NotificationNumber
    block_4_intended_shipments: int = Field(ge=1)
    block_5_intended_quantity: Quantity
    block_6_intended_period: Period
    block_7_packaging_types: list[CodeRef]
    block_8_intended_carriers: list[IntendedCarrier]
    block_9_generator: Party
    block_10_facility: Party
    block_11_operation: Operation
    block_12_designation: Designation
    block_13_physical_characteristics: CodeRef
    block_14_identification: Identification
    block_15_states_concerned: list[StateConcerned]
    block_16_customs_offices: list[CustomsOffice]
    block_17_declaration: Declaration
    block_18_annexes: int = Field(ge=0, description="attachments kept with the notification")
    blocks_19_21_decisions: list[AuthorityDecision]


class Serial(Block):
    serial: int = Field(ge=1)
    total: int = Field(ge=1)


class Packaging(Block):
    type: CodeRef
    packages: int = Field(ge=1)


class CarrierLeg(Block):
    leg: int = Field(ge=1)
    name: str
    country: Country
    means_of_transport: CodeRef | None
    vehicle_or_vessel: str
    transferred_on: dt.date
    signed_by: str


class DangerousGoods(Block):
    un_number: CodeRef
    dangerous_goods_class: str
    packing_instruction: CodeRef | None
    damaged: bool


class MovementIdentification(Block):
    basel: CodeRef
    eu_list_of_waste: CodeRef
    hs: CodeRef
    y_codes: list[CodeRef]
    h_codes: list[CodeRef]
    dangerous_goods: DangerousGoods | None


class Signed(Block):
    signed_by: str
    signed_on: dt.date


class Additional(Block):
    consignment_reference: str
    container_number: str


class ConsigneeReceipt(Block):
    received_on: dt.date
    quantity: Quantity


class FacilityReceipt(Block):
    received_on: dt.date
    decision: Literal["accepted", "partially_refused", "refused"]
    accepted: Quantity
    refused: Quantity
    refusal_reason: str


class Completion(Block):
    completed_on: dt.date
    operation: str


class MovementBlocks(Block):
    block_1_notification_number: str
    block_2_serial: Serial
    block_3_notifier: Party
    block_4_consignee: Party
    block_5_actual_quantity: Quantity
    block_6_actual_departure: dt.date
    block_7_packaging: Packaging
    block_8_carriers: list[CarrierLeg]
    block_9_generator: Party
    block_10_facility: Party
    block_11_operation: CodeRef
    block_12_designation: Designation
    block_13_physical_characteristics: CodeRef
    block_14_identification: MovementIdentification
    block_15_declaration: Signed | None
    block_16_additional: Additional
    block_17_received_by_consignee: ConsigneeReceipt | None
    block_18_received_at_facility: FacilityReceipt | None
    block_19_recovery_completed: Completion | None


class ShipmentsExport(Block):
    schema_version: Literal["1"]
    generated_at: dt.datetime
    notification: NotificationBlocks
    movement_documents: list[MovementBlocks]


# --- Building ---------------------------------------------------------------------------------


def tonnes(kg: Decimal) -> str:
    return str((kg / 1000).quantize(Decimal("0.001")))


def code_ref(code_list: str, code: str, *, on: dt.date) -> CodeRef:
    entry = Code.objects.filter(valid_on(code_list, on), code=code).first()
    if entry is None:  # not valid that day: still name it, with a label if the list knows it
        entry = Code.objects.filter(code_list=code_list, code=code).order_by("-valid_from").first()
        valid = False
    else:
        valid = True
    return CodeRef(
        code_list=CodeList(code_list).value,  # type: ignore[arg-type]
        code=code,
        label=entry.label if entry is not None else "",
        valid_on_document_date=valid,
    )


def party(organisation: Organisation, site: str = "") -> Party:
    return Party(name=organisation.name, country=organisation.country, site=site)


def designation(notification: Notification) -> Designation:
    return Designation(
        description=notification.waste_description,
        stream=notification.stream,  # type: ignore[arg-type]
    )


def notification_blocks(notification: Notification) -> NotificationBlocks:
    on = notification.notified_on
    route = list(notification.route.all())
    return NotificationBlocks(
        block_1_notifier=party(notification.notifier),
        block_2_consignee=party(notification.consignee),
        block_3_notification=NotificationNumber(
            number=notification.number,
            shipment_type=notification.shipment_type,  # type: ignore[arg-type]
            operation_kind="recovery"
            if notification.operation_code.startswith("R")
            else "disposal",
        ),
        block_4_intended_shipments=notification.intended_shipments,
        block_5_intended_quantity=Quantity(tonnes=tonnes(notification.total_quantity_kg)),
        block_6_intended_period=Period(
            first_departure=notification.first_departure,
            last_departure=notification.last_departure,
        ),
        block_7_packaging_types=[
            code_ref(CodeList.PACKAGING, code, on=on) for code in notification.packaging_types
        ],
        block_8_intended_carriers=[
            IntendedCarrier(
                sequence=carrier.sequence,
                name=carrier.carrier.name,
                country=carrier.carrier.country,
                means_of_transport=code_ref(CodeList.TRANSPORT, carrier.means_of_transport, on=on),
            )
            for carrier in notification.carriers.select_related("carrier")
        ],
        block_9_generator=party(notification.generator, notification.generator_site),
        block_10_facility=party(notification.facility, notification.facility_site),
        block_11_operation=Operation(
            code=code_ref(CodeList.OPERATION, notification.operation_code, on=on),
            technology=notification.technology,
        ),
        block_12_designation=designation(notification),
        block_13_physical_characteristics=code_ref(
            CodeList.PHYSICAL, notification.physical_characteristics, on=on
        ),
        block_14_identification=Identification(
            basel=code_ref(CodeList.BASEL, notification.basel_code, on=on),
            eu_list_of_waste=code_ref(CodeList.EWC, notification.ewc_code, on=on),
            hs=code_ref(CodeList.HS, notification.hs_code, on=on),
            y_codes=[code_ref(CodeList.BASEL, code, on=on) for code in notification.y_codes],
            h_codes=[code_ref(CodeList.HAZARD, code, on=on) for code in notification.h_codes],
            un_number=code_ref(CodeList.UN_NUMBER, notification.un_number, on=on)
            if notification.un_number
            else None,
        ),
        block_15_states_concerned=[
            StateConcerned(
                sequence=stop.sequence,
                role=stop.role,  # type: ignore[arg-type]
                country=stop.country,
                competent_authority=stop.competent_authority,
                exit_point=stop.exit_point,
                entry_point=stop.entry_point,
            )
            for stop in route
        ],
        block_16_customs_offices=[
            CustomsOffice(role=stop.role, country=stop.country, office=stop.customs_office)  # type: ignore[arg-type]
            for stop in route
            if stop.customs_office
        ],
        block_17_declaration=Declaration(dated=notification.notified_on),
        block_18_annexes=notification.attachments.filter(movement_document__isnull=True).count(),
        blocks_19_21_decisions=[
            AuthorityDecision(
                country=consent.route_stop.country,
                competent_authority=consent.route_stop.competent_authority,
                decision=consent.decision,  # type: ignore[arg-type]
                decided_on=consent.decided_on,
                valid_from=consent.valid_from,
                valid_to=consent.valid_to,
                reference=consent.reference,
                conditions=consent.conditions,
            )
            for consent in notification.consents.select_related("route_stop").order_by(
                "route_stop__sequence", "recorded_at"
            )
        ],
    )


def signature(consignment: Consignment, step: str) -> CustodySignature | None:
    return (
        consignment.signatures.filter(step=step).select_related("organisation", "signed_by").first()
    )


def carrier_legs(document: MovementDocument) -> list[CarrierLeg]:
    """The carriers who signed for the consignment, from the custody signatures."""
    consignment = document.consignment
    means = {
        carrier.carrier_id: carrier.means_of_transport
        for carrier in document.notification.carriers.all()
    }
    legs = []
    for number, pickup in enumerate(
        consignment.signatures.filter(step=CustodyStep.PICKUP).select_related(
            "organisation", "signed_by"
        ),
        start=1,
    ):
        code = means.get(pickup.organisation_id)
        legs.append(
            CarrierLeg(
                leg=number,
                name=pickup.organisation.name,
                country=pickup.organisation.country,
                means_of_transport=code_ref(CodeList.TRANSPORT, code, on=document.actual_departure)
                if code
                else None,
                vehicle_or_vessel=str(pickup.sealed_fields.get("vehicle_or_vessel", "")),
                transferred_on=timezone.localdate(pickup.signed_at),
                signed_by=pickup.signed_by.get_username(),
            )
        )
    return legs


def dangerous_goods(consignment: Consignment, *, on: dt.date) -> DangerousGoods | None:
    if not consignment.un_number:
        return None
    return DangerousGoods(
        un_number=code_ref(CodeList.UN_NUMBER, consignment.un_number, on=on),
        dangerous_goods_class=consignment.dangerous_goods_class,
        packing_instruction=code_ref(
            CodeList.PACKING_INSTRUCTION, consignment.packing_instruction, on=on
        )
        if consignment.packing_instruction
        else None,
        damaged=consignment.damaged,
    )


def receipts(
    consignment: Consignment,
) -> tuple[ConsigneeReceipt | None, FacilityReceipt | None, Completion | None]:
    reception = getattr(consignment, "reception", None)
    if reception is None:
        return None, None, None
    received_on = timezone.localdate(reception.received_at)
    consignee = ConsigneeReceipt(
        received_on=received_on, quantity=Quantity(tonnes=tonnes(reception.net_weight_kg))
    )
    refused_kg = (
        reception.net_weight_kg if reception.decision == "refused" else reception.refused_weight_kg
    )
    facility = FacilityReceipt(
        received_on=received_on,
        decision=reception.decision,
        accepted=Quantity(tonnes=tonnes(reception.net_weight_kg - refused_kg)),
        refused=Quantity(tonnes=tonnes(refused_kg)),
        refusal_reason=reception.refusal_reason,
    )
    treatment = getattr(consignment, "treatment", None)
    completion = (
        Completion(completed_on=treatment.completed_on, operation=treatment.operation)
        if treatment is not None
        else None
    )
    return consignee, facility, completion


def movement_blocks(document: MovementDocument) -> MovementBlocks:
    notification = document.notification
    consignment = document.consignment
    on = document.actual_departure
    dispatch = signature(consignment, CustodyStep.DISPATCH)
    consignee, facility, completion = receipts(consignment)
    return MovementBlocks(
        block_1_notification_number=notification.number,
        block_2_serial=Serial(serial=document.serial, total=notification.intended_shipments),
        block_3_notifier=party(notification.notifier),
        block_4_consignee=party(notification.consignee),
        block_5_actual_quantity=Quantity(tonnes=tonnes(document.actual_quantity_kg)),
        block_6_actual_departure=document.actual_departure,
        block_7_packaging=Packaging(
            type=code_ref(CodeList.PACKAGING, document.packaging_type, on=on),
            packages=document.packages,
        ),
        block_8_carriers=carrier_legs(document),
        block_9_generator=party(notification.generator, notification.generator_site),
        block_10_facility=party(notification.facility, notification.facility_site),
        block_11_operation=code_ref(CodeList.OPERATION, notification.operation_code, on=on),
        block_12_designation=designation(notification),
        block_13_physical_characteristics=code_ref(
            CodeList.PHYSICAL, notification.physical_characteristics, on=on
        ),
        block_14_identification=MovementIdentification(
            basel=code_ref(CodeList.BASEL, notification.basel_code, on=on),
            eu_list_of_waste=code_ref(CodeList.EWC, notification.ewc_code, on=on),
            hs=code_ref(CodeList.HS, notification.hs_code, on=on),
            y_codes=[code_ref(CodeList.BASEL, code, on=on) for code in notification.y_codes],
            h_codes=[code_ref(CodeList.HAZARD, code, on=on) for code in notification.h_codes],
            dangerous_goods=dangerous_goods(consignment, on=on),
        ),
        block_15_declaration=Signed(
            signed_by=dispatch.signed_by.get_username(),
            signed_on=timezone.localdate(dispatch.signed_at),
        )
        if dispatch is not None
        else None,
        block_16_additional=Additional(
            consignment_reference=consignment.reference,
            container_number=consignment.container_number,
        ),
        block_17_received_by_consignee=consignee,
        block_18_received_at_facility=facility,
        block_19_recovery_completed=completion,
    )


def build_export(notification: Notification) -> ShipmentsExport:
    return ShipmentsExport(
        schema_version=SCHEMA_VERSION,
        generated_at=timezone.now().replace(microsecond=0),
        notification=notification_blocks(notification),
        movement_documents=[movement_blocks(doc) for doc in movement_documents(notification)],
    )


def export_json(notification: Notification) -> dict[str, Any]:
    return build_export(notification).model_dump(mode="json")


def json_schema() -> dict[str, Any]:
    schema = ShipmentsExport.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "shipments-export.schema.json"
    return schema
