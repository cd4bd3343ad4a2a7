"""The certificate PDF, drawn with fpdf2 from the frozen snapshot in the active language, byte for
byte reproducible for the same snapshot, language and figures.

The copy rendered once at issue (`actions.render_certificate_document`) holds the snapshot alone;
a reader's copy adds the impact figures under a methodology version and, once withdrawn, says so.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from django.conf import settings
from django.urls import reverse
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from fpdf import FPDF

from oneforone.core.pdftext import latin1
from oneforone.core.qr import qr_png
from oneforone.registry.models import Certificate, CertificateWithdrawal

if TYPE_CHECKING:  # the impact app reads the registry; the view hands its figures in
    from oneforone.impact.cards import ImpactCards

GREEN = (22, 101, 52)
RED = (153, 27, 27)


def verification_url(certificate: Certificate) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse("verify", args=[certificate.code])


def _number(value: object, places: int = 0) -> str:
    return number_format(value, places, use_l10n=True, force_grouping=True)  # type: ignore[arg-type]


def _claim(facts: dict[str, object]) -> str:
    devices, units = int(facts["devices"]), int(facts["units"])  # type: ignore[call-overload]
    registered = ngettext(
        "%(partner)s registered %(devices)s %(category)s device under reference %(reference)s.",
        "%(partner)s registered %(devices)s %(category)s devices under reference %(reference)s.",
        devices,
    ) % {
        "partner": facts["partner"],
        "devices": _number(devices),
        "category": str(facts["category"]).lower(),
        "reference": facts["registration"],
    }
    recycled = ngettext(
        "For it, %(units)s end-of-life phone was collected, shipped and certified as recycled; "
        "it is a numbered unit allocated to this registration alone.",
        "For them, %(units)s end-of-life phones were collected, shipped and certified as "
        "recycled; each is a numbered unit allocated to this registration alone.",
        units,
    ) % {"units": _number(units)}
    return f"{registered} {recycled}"


def _impact(pdf: FPDF, cards: ImpactCards) -> None:
    version = cards.version
    pdf.set_font("Helvetica", "B", 10)
    heading = _("Impact under methodology version %(label)s") % {"label": version.label}
    pdf.cell(0, 6, latin1(heading), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    rows: list[tuple[str, str]] = []
    if cards.mass:
        rows.append((_("E-waste diverted"), cards.mass.text))
    for metal in cards.metals:
        label = _("%(name)s (%(symbol)s) recovered") % {"name": metal.name, "symbol": metal.metal}
        rows.append((label, metal.recovered.text))
    if cards.avoided:
        label = _("Emissions avoided (reported apart from scope 1-3)")
        rows.append((label, cards.avoided.text))
    if cards.transport:
        rows.append((_("Transport emissions"), cards.transport.text))
    if cards.not_recovered:
        names = ", ".join(str(card.label).lower() for card in cards.not_recovered)
        rows.append((_("Not recovered"), names))
    with pdf.table(col_widths=(70, 100), text_align="LEFT", first_row_as_headings=False) as table:
        for label, value in rows:
            table.row((latin1(label), latin1(value)))
    url = settings.PUBLIC_BASE_URL.rstrip("/") + reverse(
        "methodology-version", args=[version.number]
    )
    note = _("The factors, their sources and the method: %(url)s") % {"url": url}
    if cards.units_waiting:
        note += " " + _("%(units)s units have no figures under this version yet.") % {
            "units": _number(cards.units_waiting)
        }
    pdf.multi_cell(0, 5, latin1(note), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def render_pdf(
    certificate: Certificate,
    *,
    impact: ImpactCards | None = None,
    withdrawal: CertificateWithdrawal | None = None,
) -> bytes:
    facts = certificate.snapshot
    pdf = FPDF(format="A4")
    pdf.set_creation_date(certificate.issued_at)
    pdf.set_producer("oneforone")
    pdf.file_id = lambda: ""  # type: ignore[method-assign]  # no random ID: same snapshot, same bytes
    pdf.set_title(latin1(_("One-for-one certificate %(code)s") % {"code": certificate.code}))
    pdf.set_author("oneforone")
    pdf.add_page()
    pdf.set_margins(20, 20, 20)
    pdf.set_text_color(*GREEN)
    pdf.set_font("Helvetica", "B", 22)
    pdf.cell(
        0,
        12,
        latin1(_("One-for-one compensation certificate")),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("Helvetica", "", 12)
    pdf.set_text_color(60, 60, 60)
    issued = date_format(certificate.issued_at, "j F Y")
    pdf.cell(
        0,
        8,
        latin1(
            _("Certificate %(code)s, issued %(day)s") % {"code": certificate.code, "day": issued}
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    if withdrawal is not None:
        pdf.set_text_color(*RED)
        pdf.set_font("Helvetica", "B", 12)
        text = _("Withdrawn on %(day)s because %(reason)s") % {
            "day": date_format(withdrawal.withdrawn_at, "j F Y"),
            "reason": withdrawal.reason_shown,
        }
        pdf.multi_cell(0, 6, latin1(text), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 12)
    pdf.ln(4)
    pdf.set_text_color(0, 0, 0)
    pdf.multi_cell(0, 6, latin1(_claim(facts)), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    period = facts["collection_period"]
    rows = [
        (_("Units"), _number(facts["units"])),
        (_("Origin countries"), ", ".join(facts["origin_countries"])),
        (
            _("Collection period"),
            _("%(start)s to %(end)s") % {"start": period["from"], "end": period["until"]},
        ),
        (_("Consignments"), ", ".join(facts["consignments"])),
        (_("Recycler(s)"), ", ".join(facts["recyclers"])),
        (_("Treatment completed"), facts["treatment_completed"]),
        (
            _("E-waste diverted"),
            _("%(kg)s kg (weighed at reception)") % {"kg": facts["net_weight_kg"]},
        ),
        ("Snapshot SHA-256", certificate.snapshot_sha256),
    ]
    pdf.set_font("Helvetica", "", 10)
    with pdf.table(col_widths=(45, 125), text_align="LEFT", first_row_as_headings=False) as table:
        for label, value in rows:
            table.row((latin1(label), latin1(value)))
    pdf.ln(4)
    if impact is not None and impact.units:
        _impact(pdf, impact)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(0, 6, latin1(_("Unit serial blocks")), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Courier", "", 9)
    for block in facts["unit_blocks"]:
        pdf.cell(0, 5, block, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    url = verification_url(certificate)
    if pdf.get_y() > 240:
        pdf.add_page()
    top = pdf.get_y()
    pdf.image(io.BytesIO(qr_png(url)), x=20, y=top, w=35, h=35)
    pdf.set_xy(60, top + 4)
    pdf.set_font("Helvetica", "", 10)
    verify = _("Anyone can verify this certificate, its units and the records behind them at:")
    pdf.multi_cell(130, 5, latin1(f"{verify}\n{url}"))
    return bytes(pdf.output())
