"""The partner's impact report for a period as a PDF (fpdf2), in the language of the request: the
figures with their sources, the methodology's metals and emissions under the chosen version, the
dashboard's SVG charts drawn as vectors, and the living-wage lines with their benchmarks."""

from __future__ import annotations

import io

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from fpdf import FPDF

from oneforone.core.pdftext import latin1
from oneforone.impact.cards import ImpactCards
from oneforone.reporting.report import SOURCES, PartnerReport, shown

GREEN = (22, 101, 52)


def _chart(pdf: FPDF, svg: str, heading: str) -> None:
    # fpdf2 draws SVG text with its own fonts: name one it has.
    svg = latin1(svg).replace('font-family="system-ui, sans-serif"', 'font-family="Helvetica"')
    if pdf.get_y() > 180:
        pdf.add_page()
    _heading(pdf, heading)
    pdf.image(io.BytesIO(svg.encode()), w=150)
    pdf.ln(4)


def _heading(pdf: FPDF, text: str) -> None:
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, latin1(text), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)


def _methodology(pdf: FPDF, cards: ImpactCards) -> None:
    version = cards.version
    _heading(
        pdf, _("Metals recovered and emissions (methodology %(label)s)") % {"label": version.label}
    )
    url = settings.PUBLIC_BASE_URL.rstrip("/") + reverse(
        "methodology-version", args=[version.number]
    )
    pdf.multi_cell(
        0,
        5,
        latin1(
            _(
                "Computed under methodology version %(label)s from the records of each batch of "
                "recycled phones and the published factors with their sources: %(url)s"
            )
            % {"label": version.label, "url": url}
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    if cards.units_waiting:
        pdf.multi_cell(
            0,
            5,
            latin1(
                _("%(units)s units come from batches without figures under this version yet.")
                % {"units": shown(cards.units_waiting)}
            ),
            new_x="LMARGIN",
            new_y="NEXT",
        )
    pdf.ln(2)
    rows = []
    if cards.mass:
        note = _(
            "weighed at the recycler's reception (counted phones × default mass where no "
            "weight is recorded)"
        )
        rows.append((_("E-waste diverted"), cards.mass.text, note))
    for metal in cards.metals:
        share = (
            ""
            if metal.recovered_share is None
            else _("%(share)s%% of the content of the phones")
            % {"share": shown(metal.recovered_share)}
        )
        label = _("%(name)s (%(symbol)s) recovered") % {"name": metal.name, "symbol": metal.metal}
        rows.append((label, metal.recovered.text, share))
    if cards.avoided:
        note = _("Reported apart: not part of your scope 1-3 inventory.")
        rows.append((_("Emissions avoided"), cards.avoided.text, note))
    if cards.transport:
        tkm = cards.transport_tkm
        note = (
            _("%(tkm)s tonne-kilometres by sea and road from the hubs to the recycler")
            % {"tkm": shown(tkm.value, "", 0)}
            if tkm and tkm.value is not None
            else ""
        )
        rows.append((_("Transport emissions"), cards.transport.text, note))
    for card in cards.not_recovered:
        rows.append((str(card.label), _("not recovered"), card.note))
    with pdf.table(col_widths=(45, 30, 95), text_align="LEFT") as table:
        table.row((_("Figure"), _("Value"), _("Note")))
        for row in rows:
            table.row(tuple(latin1(cell) for cell in row))
    pdf.ln(4)


def render(report: PartnerReport) -> bytes:
    scope = report.scope
    pdf = FPDF(format="A4")
    pdf.set_producer("oneforone")
    pdf.set_title(
        latin1(
            _("Impact report of %(partner)s, %(period)s")
            % {"partner": scope.partner.name, "period": scope.label}
        )
    )
    pdf.set_author("oneforone")
    pdf.set_margins(20, 20, 20)
    pdf.add_page()
    pdf.set_text_color(*GREEN)
    pdf.set_font("Helvetica", "B", 20)
    pdf.cell(
        0,
        11,
        latin1(_("Impact report: %(partner)s") % {"partner": scope.partner.name}),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_text_color(60, 60, 60)
    pdf.set_font("Helvetica", "", 11)
    programme = (
        _("programme %(name)s") % {"name": scope.programme.name}
        if scope.programme
        else _("all programmes")
    )
    pdf.cell(
        0,
        7,
        latin1(
            _("%(period)s, %(programme)s; drawn up %(day)s")
            % {
                "period": scope.label,
                "programme": programme,
                "day": date_format(timezone.localdate(), "j F Y"),
            }
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(3)
    pdf.set_text_color(0, 0, 0)
    _heading(pdf, _("Figures and their sources"))
    with pdf.table(col_widths=(40, 28, 102), text_align="LEFT") as table:
        table.row((_("Figure"), _("Value"), _("Source")))
        for key, label, value, unit in report.figures():
            table.row((latin1(label), latin1(shown(value, unit)), latin1(SOURCES[key])))
    pdf.ln(4)
    if report.methodology is not None:
        _methodology(pdf, report.methodology)
    if len(report.programmes) > 1:
        _heading(pdf, _("By programme (devices)"))
        with pdf.table(col_widths=(70, 33, 33, 34), text_align="LEFT") as table:
            table.row((_("Programme"), _("Registered"), _("Compensated"), _("Owed at the end")))
            for row in report.programmes:
                table.row(
                    (
                        latin1(f"{row.programme.name} ({row.programme.code})"),
                        latin1(shown(row.registered)),
                        latin1(shown(row.compensated)),
                        latin1(shown(row.owed)),
                    )
                )
        pdf.ln(4)
    if report.metals_chart:
        _chart(pdf, report.metals_chart, _("Share of each metal in the phones that is recovered"))
    _chart(pdf, report.history_chart, _("Devices registered, compensated and owed"))
    _chart(pdf, report.origin_chart, _("Where the phones came from"))
    _chart(pdf, report.pipeline_chart, _("What you are owed and the phones on their way"))
    if pdf.get_y() > 230:
        pdf.add_page()
    _heading(pdf, _("Living-wage months: income and benchmarks"))
    lines = report.impact.living_wages.lines
    if not lines:
        pdf.multi_cell(0, 5, latin1(_("No income behind units allocated to you in this period.")))
    else:
        with pdf.table(col_widths=(24, 14, 32, 70, 30), text_align="LEFT") as table:
            table.row((_("Place"), _("Year"), _("Income"), _("Benchmark (source)"), _("Months")))
            for line in lines:
                b = line.benchmark
                benchmark = (
                    _("%(amount)s %(currency)s/month (%(year)s); %(source)s")
                    % {
                        "amount": shown(b.monthly_amount, "", 2),
                        "currency": b.currency,
                        "year": b.year,
                        "source": b.source,
                    }
                    if b
                    else _("no benchmark: left out of the total")
                )
                table.row(
                    (
                        latin1(f"{line.country} {line.area}"),
                        str(line.year),
                        latin1(f"{shown(line.income, '', 2)} {line.currency}"),
                        latin1(benchmark),
                        "-" if line.months is None else latin1(shown(line.months, "", 2)),
                    )
                )
    return bytes(pdf.output())
