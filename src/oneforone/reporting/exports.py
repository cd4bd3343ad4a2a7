"""A partner's own data as CSV (streamed), XLSX and JSON: registrations, certificates and impact
figures of the chosen period and programme. The columns are documented in docs/partners.md."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from openpyxl import Workbook

from oneforone.registry.certificate_pdf import verification_url
from oneforone.registry.queries import certificate_state
from oneforone.reporting import queries
from oneforone.reporting.report import SOURCES, PartnerReport

REGISTRATION_COLUMNS = [
    "reference",
    "programme",
    "category",
    "quantity",
    "devices_excluded",
    "devices",
    "units_owed",
    "units_allocated",
    "devices_compensated",
    "registered_at",
    "certificate",
]
CERTIFICATE_COLUMNS = [
    "code",
    "version",
    "state",
    "registration",
    "programme",
    "issued_at",
    "devices",
    "units",
    "origin_countries",
    "verification_url",
]
IMPACT_COLUMNS = [
    "figure",
    "label",
    "value",
    "unit",
    "period_from",
    "period_to",
    "programme",
    "source",
    "methodology",
]
LIVING_WAGE_COLUMNS = [
    "country",
    "area",
    "year",
    "income",
    "currency",
    "benchmark_monthly",
    "benchmark_currency",
    "benchmark_year",
    "benchmark_source",
    "living_wage_months",
]
DATASETS = {
    "registrations": REGISTRATION_COLUMNS,
    "certificates": CERTIFICATE_COLUMNS,
    "impact": IMPACT_COLUMNS,
    "living-wages": LIVING_WAGE_COLUMNS,
}


def inert(text: str) -> str:
    """The partner's own text that a spreadsheet would run as a formula is kept as text."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def registration_rows(scope: queries.Scope) -> Iterator[list[Any]]:
    for r in queries.registrations(scope).iterator(chunk_size=2000):
        certificate = r.current_certificate()
        allocated = r.units_allocated  # type: ignore[attr-defined]
        yield [
            inert(r.reference),
            r.programme.code,
            r.category.code,
            r.quantity,
            r.devices_excluded,
            r.quantity - r.devices_excluded,
            r.units_owed,
            allocated,
            allocated // r.units_per_device,
            r.created_at.isoformat(),
            certificate.code if certificate else "",
        ]


def certificate_rows(scope: queries.Scope) -> Iterator[list[Any]]:
    for c in queries.certificates(scope).iterator(chunk_size=2000):
        facts = c.snapshot
        yield [
            c.code,
            c.version,
            str(certificate_state(c)),
            inert(c.registration.reference),
            c.registration.programme.code,
            c.issued_at.isoformat(),
            facts.get("devices", ""),
            facts.get("units", ""),
            " ".join(facts.get("origin_countries", [])),
            verification_url(c),
        ]


def impact_rows(report: PartnerReport) -> list[list[Any]]:
    """The dashboard's figures, then the methodology's (exact values as `impact_figures` gives
    them, with the version they were computed under; not-recovered lines have no value)."""
    scope = report.scope
    period = [f"{scope.first:%Y-%m}", f"{scope.last:%Y-%m}"]
    programme = scope.programme.code if scope.programme else ""
    rows = [
        [key, str(label), value, unit, *period, programme, str(SOURCES[key]), ""]
        for key, label, value, unit in report.figures()
    ]
    methodology = report.methodology
    if methodology is not None:
        for card in [*methodology.cards(), *methodology.not_recovered]:
            rows.append(
                [
                    card.key,
                    str(card.label),
                    card.value if card.value is not None else "",
                    card.unit,
                    *period,
                    programme,
                    card.note,
                    methodology.version.label,
                ]
            )
    return rows


def living_wage_rows(report: PartnerReport) -> list[list[Any]]:
    rows = []
    for line in report.impact.living_wages.lines:
        b = line.benchmark
        rows.append(
            [
                line.country,
                line.area,
                line.year,
                line.income,
                line.currency,
                b.monthly_amount if b else "",
                b.currency if b else "",
                b.year if b else "",
                b.source if b else "no benchmark",
                line.months if line.months is not None else "",
            ]
        )
    return rows


def rows_of(dataset: str, report: PartnerReport) -> Iterable[list[Any]]:
    if dataset == "registrations":
        return registration_rows(report.scope)
    if dataset == "certificates":
        return certificate_rows(report.scope)
    if dataset == "impact":
        return impact_rows(report)
    return living_wage_rows(report)


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(dataset: str, report: PartnerReport) -> Iterator[str]:
    """The dataset as CSV, one line at a time (registrations stream as the database reads them)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(DATASETS[dataset])
    for row in rows_of(dataset, report):
        yield writer.writerow(row)


def xlsx(report: PartnerReport) -> bytes:
    """One workbook, a sheet per dataset, numbers as numbers."""
    book = Workbook(write_only=True)
    for dataset, columns in DATASETS.items():
        sheet = book.create_sheet(dataset)
        sheet.append(columns)
        for row in rows_of(dataset, report):
            sheet.append([float(v) if isinstance(v, Decimal) else v for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def as_json(report: PartnerReport) -> str:
    scope = report.scope
    document = {
        "partner": scope.partner.slug,
        "programme": scope.programme.code if scope.programme else None,
        "period": {"from": f"{scope.first:%Y-%m}", "to": f"{scope.last:%Y-%m}"},
        **{
            dataset.replace("-", "_"): [
                dict(zip(columns, row, strict=True)) for row in rows_of(dataset, report)
            ]
            for dataset, columns in DATASETS.items()
        },
    }
    return json.dumps(document, cls=DjangoJSONEncoder, indent=2)
