"""The partner's impact report for a period as a PDF (fpdf2): the figures with their sources,
the dashboard's SVG charts drawn as vectors, and the living-wage lines with their benchmarks."""

from __future__ import annotations

import io

from django.utils import timezone
from fpdf import FPDF

from oneforone.reporting.report import SOURCES, PartnerReport

GREEN = (22, 101, 52)


def _text(value: object) -> str:
    """The core PDF fonts cover Latin-1; anything else is replaced rather than dropped silently."""
    text = str(value).replace("\u2013", "-").replace("\u2014", "-").replace("\u2026", "...")
    return text.encode("latin-1", "replace").decode("latin-1")


def _chart(pdf: FPDF, svg: str, heading: str) -> None:
    # fpdf2 draws SVG text with its own fonts: name one it has.
    svg = svg.replace('font-family="system-ui, sans-serif"', 'font-family="Helvetica"')
    if pdf.get_y() > 180:
        pdf.add_page()
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, _text(heading), new_x="LMARGIN", new_y="NEXT")
    pdf.image(io.BytesIO(svg.encode()), w=150)
    pdf.ln(4)


def render(report: PartnerReport) -> bytes:
    scope = report.scope
    pdf = FPDF(format="A4")
    pdf.set_producer("oneforone")
    pdf.set_title(_text(f"Impact report of {scope.partner.name}, {scope.label}"))
    pdf.set_author("oneforone")
    pdf.set_margins(20, 20, 20)
    pdf.add_page()
    pdf.set_text_color(*GREEN)
    pdf.set_font("Helvetica", "B", 20)
    pdf.cell(0, 11, _text(f"Impact report: {scope.partner.name}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(60, 60, 60)
    pdf.set_font("Helvetica", "", 11)
    programme = f"programme {scope.programme.name}" if scope.programme else "all programmes"
    pdf.cell(
        0,
        7,
        _text(f"{scope.label}, {programme}; drawn up {timezone.localdate():%d %B %Y}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(3)
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, "Figures and their sources", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    with pdf.table(col_widths=(40, 28, 102), text_align="LEFT") as table:
        table.row(("Figure", "Value", "Source"))
        for key, label, value, unit in report.figures():
            shown = (
                f"{value:,} {unit}" if not hasattr(value, "quantize") else f"{value:,.1f} {unit}"
            )
            table.row((_text(label), _text(shown), _text(SOURCES[key])))
    pdf.ln(4)
    if len(report.programmes) > 1:
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(0, 8, "By programme (devices)", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 9)
        with pdf.table(col_widths=(70, 33, 33, 34), text_align="LEFT") as table:
            table.row(("Programme", "Registered", "Compensated", "Owed at the end"))
            for row in report.programmes:
                table.row(
                    (
                        _text(f"{row.programme.name} ({row.programme.code})"),
                        f"{row.registered:,}",
                        f"{row.compensated:,}",
                        f"{row.owed:,}",
                    )
                )
        pdf.ln(4)
    _chart(pdf, report.history_chart, "Devices registered, compensated and owed")
    _chart(pdf, report.origin_chart, "Where the phones came from")
    _chart(pdf, report.pipeline_chart, "What you are owed and the phones on their way")
    pdf.set_font("Helvetica", "B", 12)
    if pdf.get_y() > 230:
        pdf.add_page()
    pdf.cell(0, 8, "Living-wage months: income and benchmarks", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    lines = report.impact.living_wages.lines
    if not lines:
        pdf.multi_cell(0, 5, "No income behind units allocated to you in this period.")
    else:
        with pdf.table(col_widths=(24, 14, 32, 70, 30), text_align="LEFT") as table:
            table.row(("Place", "Year", "Income", "Benchmark (source)", "Months"))
            for line in lines:
                b = line.benchmark
                benchmark = (
                    f"{b.monthly_amount:,} {b.currency}/month ({b.year}); {b.source}"
                    if b
                    else "no benchmark: left out of the total"
                )
                table.row(
                    (
                        _text(f"{line.country} {line.area}"),
                        str(line.year),
                        _text(f"{line.income:,} {line.currency}"),
                        _text(benchmark),
                        "-" if line.months is None else f"{line.months:,}",
                    )
                )
    return bytes(pdf.output())
