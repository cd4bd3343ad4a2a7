"""The certificate PDF, drawn with fpdf2 from the frozen snapshot, byte-for-byte reproducible."""

from __future__ import annotations

import io

from django.conf import settings
from django.urls import reverse
from fpdf import FPDF

from oneforone.core.qr import qr_png
from oneforone.registry.models import Certificate

GREEN = (22, 101, 52)


def verification_url(certificate: Certificate) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse("verify", args=[certificate.code])


def render_pdf(certificate: Certificate) -> bytes:
    facts = certificate.snapshot
    pdf = FPDF(format="A4")
    pdf.set_creation_date(certificate.issued_at)
    pdf.set_producer("oneforone")
    pdf.file_id = lambda: ""  # type: ignore[method-assign]  # no random ID: same snapshot, same bytes
    pdf.set_title(f"One-for-one certificate {certificate.code}")
    pdf.set_author("oneforone")
    pdf.add_page()
    pdf.set_margins(20, 20, 20)
    pdf.set_text_color(*GREEN)
    pdf.set_font("Helvetica", "B", 22)
    pdf.cell(0, 12, "One-for-one compensation certificate", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 12)
    pdf.set_text_color(60, 60, 60)
    pdf.cell(
        0,
        8,
        f"Certificate {certificate.code}, issued {certificate.issued_at:%d %B %Y}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(4)
    pdf.set_text_color(0, 0, 0)
    pdf.multi_cell(
        0,
        6,
        f"{facts['partner']} registered {facts['devices']:,} {facts['category'].lower()} device(s) "
        f"under reference {facts['registration']}. For them, {facts['units']:,} end-of-life phone(s) "
        "were collected, shipped and certified as recycled; each is a numbered unit allocated to "
        "this registration alone.",
    )
    pdf.ln(3)
    rows = [
        ("Units", f"{facts['units']:,}"),
        ("Origin countries", ", ".join(facts["origin_countries"])),
        (
            "Collection period",
            f"{facts['collection_period']['from']} to {facts['collection_period']['until']}",
        ),
        ("Consignments", ", ".join(facts["consignments"])),
        ("Recycler(s)", ", ".join(facts["recyclers"])),
        ("Treatment completed", facts["treatment_completed"]),
        ("E-waste diverted", f"{facts['net_weight_kg']} kg (weighed at reception)"),
        ("Snapshot SHA-256", certificate.snapshot_sha256),
    ]
    pdf.set_font("Helvetica", "", 10)
    with pdf.table(col_widths=(45, 125), text_align="LEFT", first_row_as_headings=False) as table:
        for label, value in rows:
            table.row((label, value))
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(0, 6, "Unit serial blocks", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Courier", "", 9)
    for block in facts["unit_blocks"]:
        pdf.cell(0, 5, block, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    url = verification_url(certificate)
    top = pdf.get_y()
    pdf.image(io.BytesIO(qr_png(url)), x=20, y=top, w=35, h=35)
    pdf.set_xy(60, top + 4)
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(
        130,
        5,
        f"Anyone can verify this certificate, its units and the records behind them at:\n{url}",
    )
    return bytes(pdf.output())
