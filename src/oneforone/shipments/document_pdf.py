"""The notification and movement documents as PDFs, laid out by the numbered blocks of the
forms (Annex IA and IB of Regulation (EU) 2024/1157, the Basel Convention's Annex V A and V B
layout). Drawn from the same blocks as the JSON export, so the two never disagree."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone
from fpdf import FPDF

from oneforone.shipments.diwass import (
    CodeRef,
    MovementBlocks,
    NotificationBlocks,
    Party,
    movement_blocks,
    notification_blocks,
)
from oneforone.shipments.models import MovementDocument, Notification

GREEN = (22, 101, 52)
Rows = list[tuple[str, str]]
NOT_YET = "not recorded yet"


def plain(text: object) -> str:
    """The core PDF fonts cover Latin-1 only; anything else becomes a question mark."""
    return str(text).encode("latin-1", "replace").decode("latin-1")


def code(ref: CodeRef | None) -> str:
    if ref is None:
        return "-"
    label = f" - {ref.label}" if ref.label else ""
    warning = "" if ref.valid_on_document_date else " (NOT valid on the document's date)"
    return f"{ref.code}{label}{warning}"


def codes(refs: Iterable[CodeRef]) -> str:
    return "; ".join(code(ref) for ref in refs) or "-"


def party_rows(who: Party) -> Rows:
    rows = [("Name", who.name), ("Country", who.country)]
    if who.site:
        rows.append(("Site / process", who.site))
    return rows


class BlockPdf:
    """A form document: a title, then one titled table per numbered block."""

    def __init__(self, title: str, subtitle: str) -> None:
        self.pdf = FPDF(format="A4")
        self.pdf.set_producer("oneforone")
        self.pdf.set_author("oneforone")
        self.pdf.set_title(plain(title))
        self.pdf.set_margins(15, 15, 15)
        self.pdf.set_auto_page_break(True, margin=15)
        self.pdf.add_page()
        self.pdf.set_text_color(*GREEN)
        self.pdf.set_font("Helvetica", "B", 16)
        self.pdf.multi_cell(0, 8, plain(title), new_x="LMARGIN", new_y="NEXT")
        self.pdf.set_font("Helvetica", "", 9)
        self.pdf.set_text_color(60, 60, 60)
        self.pdf.multi_cell(0, 5, plain(subtitle), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(2)

    def block(self, number: str, title: str, rows: Rows) -> None:
        self.pdf.set_text_color(*GREEN)
        self.pdf.set_font("Helvetica", "B", 10)
        self.pdf.cell(0, 7, plain(f"{number}. {title}"), new_x="LMARGIN", new_y="NEXT")
        self.pdf.set_text_color(0, 0, 0)
        self.pdf.set_font("Helvetica", "", 9)
        with self.pdf.table(
            col_widths=(50, 130), text_align="LEFT", first_row_as_headings=False
        ) as table:
            for label, value in rows or [("", "-")]:
                table.row((plain(label), plain(value)))
        self.pdf.ln(1)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def notification_pdf(notification: Notification) -> bytes:
    blocks = notification_blocks(notification)
    doc = BlockPdf(
        f"Notification document {notification.number}",
        "Transboundary shipment of waste, Regulation (EU) 2024/1157 Annex IA (Basel Convention "
        f"Annex V A). Printed {timezone.localdate():%Y-%m-%d} by oneforone from its records; "
        "the authorities' copy is the one in DIWASS or the stamped original.",
    )
    draw_notification(doc, blocks)
    return doc.output()


def draw_notification(doc: BlockPdf, b: NotificationBlocks) -> None:
    doc.block("1", "Exporter - notifier", party_rows(b.block_1_notifier))
    doc.block("2", "Importer - consignee", party_rows(b.block_2_consignee))
    number = b.block_3_notification
    doc.block(
        "3",
        "Notification No.",
        [
            ("Notification No.", number.number),
            ("A. Shipments", f"{number.shipment_type} shipment(s)"),
            ("B. Operation", number.operation_kind),
        ],
    )
    doc.block(
        "4",
        "Total intended number of shipments",
        [("Shipments", str(b.block_4_intended_shipments))],
    )
    doc.block(
        "5",
        "Total intended quantity",
        [("Tonnes (Mg)", b.block_5_intended_quantity.tonnes)],
    )
    period = b.block_6_intended_period
    doc.block(
        "6",
        "Intended period of time for shipment(s)",
        [
            ("First departure", period.first_departure.isoformat()),
            ("Last departure", period.last_departure.isoformat()),
        ],
    )
    doc.block("7", "Packaging type(s)", [("Types", codes(b.block_7_packaging_types))])
    doc.block(
        "8",
        "Intended carrier(s)",
        [
            (
                f"Carrier {c.sequence}",
                f"{c.name} ({c.country}), means: {code(c.means_of_transport)}",
            )
            for c in b.block_8_intended_carriers
        ],
    )
    doc.block("9", "Waste generator(s) - producer(s)", party_rows(b.block_9_generator))
    doc.block("10", "Recovery facility", party_rows(b.block_10_facility))
    doc.block(
        "11",
        "Recovery operation(s)",
        [
            ("R code", code(b.block_11_operation.code)),
            ("Technology", b.block_11_operation.technology or "-"),
        ],
    )
    doc.block(
        "12",
        "Designation and composition of the waste",
        [("Designation", b.block_12_designation.description)],
    )
    doc.block(
        "13", "Physical characteristics", [("Code", code(b.block_13_physical_characteristics))]
    )
    ids = b.block_14_identification
    doc.block(
        "14",
        "Waste identification",
        [
            ("Basel Annex VIII/IX", code(ids.basel)),
            ("EU List of Waste", code(ids.eu_list_of_waste)),
            ("Customs code (HS)", code(ids.hs)),
            ("Y-code", codes(ids.y_codes)),
            ("H-code", codes(ids.h_codes)),
            ("UN number", code(ids.un_number)),
        ],
    )
    doc.block(
        "15",
        "States concerned, competent authorities, points of exit and entry",
        [
            (
                f"State of {s.role} ({s.sequence}): {s.country}",
                f"{s.competent_authority}; exit: {s.exit_point or '-'}; "
                f"entry: {s.entry_point or '-'}",
            )
            for s in b.block_15_states_concerned
        ],
    )
    doc.block(
        "16",
        "Customs offices of entry, exit and export",
        [(f"{o.role} ({o.country})", o.office) for o in b.block_16_customs_offices],
    )
    doc.block(
        "17",
        "Exporter's - notifier's declaration",
        [("Dated", b.block_17_declaration.dated.isoformat())],
    )
    doc.block("18", "Number of annexes attached", [("Attachments", str(b.block_18_annexes))])
    doc.block(
        "19-21",
        "Acknowledgement, consents and conditions of the competent authorities",
        [
            (
                f"{d.country}: {d.competent_authority}",
                f"{d.decision} on {d.decided_on.isoformat()}"
                + (f", valid {d.valid_from} to {d.valid_to}" if d.valid_from else "")
                + (f", ref. {d.reference}" if d.reference else "")
                + (f"; conditions: {d.conditions}" if d.conditions else ""),
            )
            for d in b.blocks_19_21_decisions
        ]
        or [("Decisions", "none recorded yet")],
    )


def movement_document_pdf(document: MovementDocument) -> bytes:
    blocks = movement_blocks(document)
    serial = blocks.block_2_serial
    doc = BlockPdf(
        f"Movement document {serial.serial}/{serial.total} of notification "
        f"{blocks.block_1_notification_number}",
        "Transboundary shipment of waste, Regulation (EU) 2024/1157 Annex IB (Basel Convention "
        f"Annex V B). Printed {timezone.localdate():%Y-%m-%d} by oneforone from its records and "
        "the custody signatures.",
    )
    draw_movement(doc, blocks)
    return doc.output()


def draw_movement(doc: BlockPdf, b: MovementBlocks) -> None:
    doc.block(
        "1", "Corresponding to notification No.", [("Notification", b.block_1_notification_number)]
    )
    doc.block(
        "2",
        "Serial / total number of shipments",
        [("Shipment", f"{b.block_2_serial.serial}/{b.block_2_serial.total}")],
    )
    doc.block("3", "Exporter - notifier", party_rows(b.block_3_notifier))
    doc.block("4", "Importer - consignee", party_rows(b.block_4_consignee))
    doc.block("5", "Actual quantity", [("Tonnes (Mg)", b.block_5_actual_quantity.tonnes)])
    doc.block("6", "Actual date of shipment", [("Date", b.block_6_actual_departure.isoformat())])
    doc.block(
        "7",
        "Packaging",
        [("Type", code(b.block_7_packaging.type)), ("Packages", str(b.block_7_packaging.packages))],
    )
    doc.block(
        "8",
        "Carriers",
        [
            (
                f"Carrier {leg.leg}: {leg.name} ({leg.country})",
                f"means: {code(leg.means_of_transport)}; vehicle/vessel: "
                f"{leg.vehicle_or_vessel or '-'}; transfer: {leg.transferred_on.isoformat()}; "
                f"signed by {leg.signed_by}",
            )
            for leg in b.block_8_carriers
        ]
        or [("Carriers", NOT_YET)],
    )
    doc.block("9", "Waste generator(s) - producer(s)", party_rows(b.block_9_generator))
    doc.block("10", "Recovery facility", party_rows(b.block_10_facility))
    doc.block("11", "Recovery operation", [("R code", code(b.block_11_operation))])
    doc.block(
        "12",
        "Designation and composition of the waste",
        [("Designation", b.block_12_designation.description)],
    )
    doc.block(
        "13", "Physical characteristics", [("Code", code(b.block_13_physical_characteristics))]
    )
    ids = b.block_14_identification
    rows = [
        ("Basel Annex VIII/IX", code(ids.basel)),
        ("EU List of Waste", code(ids.eu_list_of_waste)),
        ("Customs code (HS)", code(ids.hs)),
        ("Y-code", codes(ids.y_codes)),
        ("H-code", codes(ids.h_codes)),
    ]
    if ids.dangerous_goods is not None:
        goods = ids.dangerous_goods
        rows += [
            ("UN number", code(goods.un_number)),
            ("UN class", goods.dangerous_goods_class or "-"),
            ("Packing instruction", code(goods.packing_instruction)),
            ("Damaged or defective", "yes" if goods.damaged else "no"),
        ]
    doc.block("14", "Waste identification", rows)
    declaration = b.block_15_declaration
    doc.block(
        "15",
        "Exporter's - notifier's declaration (dispatch signature)",
        [("Signed", f"by {declaration.signed_by} on {declaration.signed_on.isoformat()}")]
        if declaration
        else [("Signed", NOT_YET)],
    )
    doc.block(
        "16",
        "Additional information",
        [
            ("Consignment", b.block_16_additional.consignment_reference),
            ("Container number", b.block_16_additional.container_number or "-"),
        ],
    )
    consignee = b.block_17_received_by_consignee
    doc.block(
        "17",
        "Shipment received by importer - consignee",
        [
            ("Received on", consignee.received_on.isoformat()),
            ("Tonnes (Mg)", consignee.quantity.tonnes),
        ]
        if consignee
        else [("Received", NOT_YET)],
    )
    facility = b.block_18_received_at_facility
    doc.block(
        "18",
        "Shipment received at recovery facility",
        [
            ("Received on", facility.received_on.isoformat()),
            ("Decision", facility.decision.replace("_", " ")),
            ("Accepted (t)", facility.accepted.tonnes),
            ("Refused (t)", facility.refused.tonnes),
            ("Reason", facility.refusal_reason or "-"),
        ]
        if facility
        else [("Received", NOT_YET)],
    )
    done = b.block_19_recovery_completed
    doc.block(
        "19",
        "Recovery completed",
        [("Completed on", done.completed_on.isoformat()), ("Operation", done.operation)]
        if done
        else [("Completed", NOT_YET)],
    )
