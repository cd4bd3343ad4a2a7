"""The evidence pack's summary PDF (fpdf2, in the house style of the impact report): the claim
"e-waste compensated" for one product model, and what stands behind it."""

from __future__ import annotations

from django.utils.translation import gettext as _
from fpdf import FPDF

from oneforone.core.pdftext import latin1
from oneforone.reporting.evidence import Evidence, figure_rows, number
from oneforone.reporting.report_pdf import GREEN


def _heading(pdf: FPDF, text: str) -> None:
    if pdf.get_y() > 250:
        pdf.add_page()
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, latin1(text), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)


def render(evidence: Evidence) -> bytes:
    scope = evidence.scope
    period = f"{scope.first:%Y-%m} - {scope.last:%Y-%m}"
    pdf = FPDF(format="A4")
    pdf.set_producer("oneforone")
    pdf.set_author("oneforone")
    pdf.set_title(
        latin1(
            _("Evidence pack: %(model)s, e-waste compensated") % {"model": evidence.product_model}
        )
    )
    pdf.set_margins(20, 20, 20)
    pdf.add_page()
    pdf.set_text_color(*GREEN)
    pdf.set_font("Helvetica", "B", 18)
    pdf.multi_cell(
        0,
        9,
        latin1(_("E-waste compensated: %(model)s") % {"model": evidence.product_model}),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_text_color(60, 60, 60)
    pdf.set_font("Helvetica", "", 11)
    programme = scope.programme.name if scope.programme else _("all programmes")
    pdf.multi_cell(
        0,
        6,
        latin1(
            _(
                "%(partner)s, product model %(model)s; period %(period)s, %(programme)s; drawn up %(day)s"
            )
            % {
                "partner": scope.partner.name,
                "model": evidence.product_model,
                "period": period,
                "programme": programme,
                "day": f"{evidence.generated_at:%Y-%m-%d}",
            }
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(
        0,
        5.5,
        latin1(
            _(
                "Claim: e-waste compensated. Of the %(registered)s %(model)s devices registered "
                "in the period, %(compensated)s are compensated one for one: for each, one "
                "end-of-life phone was collected, shipped to a certified recycler and recycled, "
                "and its serial-numbered unit allocated to that device alone. %(certificates)s "
                "certificate(s) state it; anyone can verify them at the addresses below."
            )
            % {
                "registered": number(evidence.devices_registered),
                "model": evidence.product_model,
                "compensated": number(evidence.devices_compensated),
                "certificates": number(len(evidence.certificates)),
            }
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    _figures(pdf, evidence)
    _certificates(pdf, evidence)
    _units(pdf, evidence)
    _heading(pdf, _("Files of this pack"))
    pdf.multi_cell(
        0,
        5,
        latin1(
            _(
                "registrations.csv, devices.csv, certificates.csv and units.csv hold the records "
                "behind this summary; manifest.json gives the SHA-256 of every file, so a "
                "certifier can check that nothing was changed."
            )
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())


def _figures(pdf: FPDF, evidence: Evidence) -> None:
    _heading(pdf, _("Figures of the certified units"))
    figures = evidence.figures
    if figures is None:
        pdf.multi_cell(0, 5, latin1(_("No certificate yet: no figures to state.")))
        return
    version = figures.version
    with pdf.table(col_widths=(95, 75), text_align="LEFT") as table:
        table.row((latin1(_("Figure")), latin1(_("Value"))))
        table.row(
            (
                latin1(_("Devices registered in the period")),
                number(evidence.devices_registered),
            )
        )
        table.row((latin1(_("Devices compensated")), number(evidence.devices_compensated)))
        for label, value in figure_rows(evidence):
            table.row((latin1(label), latin1(value)))
    pdf.ln(2)
    pdf.multi_cell(
        0,
        5,
        latin1(
            _("Methodology %(label)s (version %(number)s): %(url)s")
            % {
                "label": version.label,
                "number": version.number,
                "url": evidence.methodology_url(version),
            }
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )


def _certificates(pdf: FPDF, evidence: Evidence) -> None:
    from oneforone.registry.certificate_pdf import verification_url

    _heading(pdf, _("Certificates"))
    if not evidence.certificates:
        pdf.multi_cell(0, 5, latin1(_("None yet: the devices wait for recycled phones.")))
        return
    with pdf.table(col_widths=(28, 34, 22, 86), text_align="LEFT") as table:
        table.row(
            (
                latin1(_("Certificate")),
                latin1(_("Registration")),
                latin1(_("Devices")),
                latin1(_("Verification and ledger")),
            )
        )
        for c in evidence.certificates:
            ledger = evidence.ledger.get(c.code)
            reference = verification_url(c)
            if ledger:
                reference += "\n" + _("ledger entry %(hash)s (%(day)s)") % {
                    "hash": ledger.entry_hash[:16] + "...",
                    "day": ledger.day,
                }
                if ledger.root:
                    reference += "\n" + _("day's root %(root)s") % {
                        "root": ledger.root[:16] + "..."
                    }
            table.row(
                (
                    c.code,
                    latin1(c.registration.reference),
                    number(c.snapshot.get("devices", 0)),
                    latin1(reference),
                )
            )


def _units(pdf: FPDF, evidence: Evidence) -> None:
    _heading(pdf, _("Units and batches behind the certificates"))
    pdf.set_font("Helvetica", "", 8)
    with pdf.table(col_widths=(26, 62, 82), text_align="LEFT") as table:
        table.row((latin1(_("Certificate")), latin1(_("Unit block")), latin1(_("Batch"))))
        for c in evidence.certificates:
            for a in evidence.allocations.get(c.registration_id, []):
                table.row((c.code, a.block, evidence.batch_url(a.batch_id)))
