"""The evidence pack of one product model, for an "e-waste compensated" product certification.

A ZIP a certifier can check on its own: a PDF summary of the claim for the model (devices
registered in the period, how many are compensated under which certificates, the units and
batches behind them with their public verification addresses, the methodology and figures of
those units, the ledger references), CSVs of the registrations, devices, certificates and units,
and a manifest with the SHA-256 of every file.

Built with a fixed number of queries whatever the number of devices: the devices stream in
chunks, and each device's unit is found by walking its registration's allocations in order.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Sum
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from oneforone.impact import method
from oneforone.impact import queries as impact_queries
from oneforone.impact.models import MethodologyVersion
from oneforone.partners.models import Device, DeviceStatus, Registration
from oneforone.registry import serials
from oneforone.registry.certificate_pdf import verification_url
from oneforone.registry.models import Allocation, Certificate, LedgerEntry, LedgerRoot
from oneforone.reporting import queries
from oneforone.reporting.exports import inert
from oneforone.reporting.queries import Scope

MANIFEST = "manifest.json"
DEVICE_CHUNK = 5000


@dataclass(frozen=True)
class ModelRow:
    product_model: str
    registrations: int
    devices: int


def product_models(scope: Scope) -> list[ModelRow]:
    """The product models of the scope's registrations made in the period, by name."""
    rows = (
        _registrations(scope)
        .exclude(product_model="")
        .values("product_model")
        .annotate(count=Count("id"), devices=Sum(F("quantity") - F("devices_excluded")))
        .order_by("product_model")
    )
    return [ModelRow(r["product_model"], r["count"], int(r["devices"] or 0)) for r in rows]


def _registrations(scope: Scope) -> Any:
    return queries.registrations(scope).order_by()


@dataclass(frozen=True)
class LedgerReference:
    entry_hash: str
    day: str
    root: str | None


@dataclass
class Evidence:
    """What the pack states about one model of one partner in one period."""

    scope: Scope
    product_model: str
    registrations: list[Registration]
    certificates: list[Certificate]
    allocations: dict[int, list[Allocation]]  # by registration, in unit-number order
    ledger: dict[str, LedgerReference]  # by certificate code
    figures: impact_queries.ImpactFigures | None
    base_url: str
    generated_at: Any = field(default_factory=timezone.now)

    @property
    def devices_registered(self) -> int:
        return sum(r.quantity - r.devices_excluded for r in self.registrations)

    @property
    def devices_compensated(self) -> int:
        return sum(_allocated(r) // r.units_per_device for r in self.registrations)

    @property
    def certified(self) -> list[Registration]:
        codes = {c.registration_id for c in self.certificates}
        return [r for r in self.registrations if r.pk in codes]

    def methodology_url(self, version: MethodologyVersion) -> str:
        return self.base_url + reverse("methodology-version", args=[version.number])

    def batch_url(self, batch_id: int) -> str:
        return self.base_url + reverse("registry-batch", args=[batch_id])

    def unit_url(self, block: str) -> str:
        return self.base_url + reverse("registry-unit", args=[block])


def _allocated(registration: Registration) -> int:
    return int(registration.units_allocated)  # type: ignore[attr-defined]


def gather(scope: Scope, product_model: str) -> Evidence | None:
    """The model's evidence, or None when the scope has no registration of that model."""
    registrations = list(
        queries.registrations(scope)
        .filter(product_model=product_model)
        .order_by("created_at", "id")
    )
    if not registrations:
        return None
    certificates = [c for r in registrations if (c := r.current_certificate()) is not None]
    certified = tuple(c.registration_id for c in certificates)
    allocations: dict[int, list[Allocation]] = defaultdict(list)
    for allocation in (
        Allocation.objects.filter(registration__in=registrations)
        .select_related("batch__consignment")
        .order_by("registration_id", "units")
    ):
        allocations[allocation.registration_id].append(allocation)
    figures = None
    if certified:
        try:
            figures = impact_queries.impact_figures(
                impact_queries.Scope(partner=scope.partner, registrations=certified)
            )
        except MethodologyVersion.DoesNotExist:
            figures = None
    return Evidence(
        scope,
        product_model,
        registrations,
        certificates,
        dict(allocations),
        _ledger_references(certificates),
        figures,
        settings.PUBLIC_BASE_URL.rstrip("/"),
    )


def _ledger_references(certificates: list[Certificate]) -> dict[str, LedgerReference]:
    """Each certificate's issuance entry in the unit ledger and the published root of its day
    (two queries for all of them; the proof itself is in the certificate's public JSON)."""
    entries = LedgerEntry.objects.filter(
        kind="certificate.issued", reference__in=[f"certificate:{c.code}" for c in certificates]
    ).values_list("reference", "entry_hash", "recorded_at")
    found = {ref.removeprefix("certificate:"): (h, at.date()) for ref, h, at in entries}
    roots = dict(
        LedgerRoot.objects.filter(day__in={day for _, day in found.values()}).values_list(
            "day", "root"
        )
    )
    return {
        code: LedgerReference(entry_hash, day.isoformat(), roots.get(day))
        for code, (entry_hash, day) in found.items()
    }


# --- the files ------------------------------------------------------------------------------------


def _csv(header: list[str], lines: Iterator[list[Any]] | list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(lines)
    return buffer.getvalue().encode()


REGISTRATION_COLUMNS = [
    "reference",
    "product_model",
    "programme",
    "category",
    "registered_at",
    "devices",
    "units_owed",
    "units_allocated",
    "devices_compensated",
    "certificate",
]


def registrations_csv(evidence: Evidence) -> bytes:
    codes = {c.registration_id: c.code for c in evidence.certificates}
    return _csv(
        REGISTRATION_COLUMNS,
        [
            [
                inert(r.reference),
                inert(r.product_model),
                r.programme.code,
                r.category.code,
                r.created_at.isoformat(),
                r.quantity - r.devices_excluded,
                r.units_owed,
                _allocated(r),
                _allocated(r) // r.units_per_device,
                codes.get(r.pk, ""),
            ]
            for r in evidence.registrations
        ],
    )


DEVICE_COLUMNS = ["registration", "position", "kind", "status", "units", "certificate"]


def _serials(allocations: list[Allocation]) -> Iterator[str]:
    for allocation in allocations:
        batch = allocation.batch
        for number in range(allocation.units.lower, allocation.units.upper):
            yield serials.format_serial(batch.origin_country, batch.vintage_year, number)


def device_rows(evidence: Evidence) -> Iterator[list[Any]]:
    """The devices listed one by one, in listing order, each with the unit(s) compensating it:
    the n-th claimed device holds the n-th stretch of its registration's units."""
    by_id = {r.pk: r for r in evidence.registrations}
    codes = {c.registration_id: c.code for c in evidence.certificates}
    current: int | None = None
    units: Iterator[str] = iter(())
    devices = (
        Device.objects.filter(registration_id__in=list(by_id))
        .order_by("registration_id", "position")
        .values_list("registration_id", "position", "kind", "status")
        .iterator(chunk_size=DEVICE_CHUNK)
    )
    for registration_id, position, kind, status in devices:
        registration = by_id[registration_id]
        if registration_id != current:
            current = registration_id
            units = _serials(evidence.allocations.get(registration_id, []))
        held: list[str] = []
        if status == DeviceStatus.CLAIMED:
            held = [u for _, u in zip(range(registration.units_per_device), units, strict=False)]
            if len(held) < registration.units_per_device:
                held = []
        yield [
            inert(registration.reference),
            position,
            kind,
            status,
            " ".join(held),
            codes.get(registration_id, "") if held else "",
        ]


CERTIFICATE_COLUMNS = [
    "code",
    "version",
    "registration",
    "issued_at",
    "devices",
    "units",
    "unit_blocks",
    "origin_countries",
    "consignments",
    "recyclers",
    "snapshot_sha256",
    "verification_url",
    "ledger_entry_hash",
    "ledger_day",
    "ledger_root",
]


def certificate_rows(evidence: Evidence) -> list[list[Any]]:
    rows = []
    for c in evidence.certificates:
        facts = c.snapshot
        ledger = evidence.ledger.get(c.code)
        rows.append(
            [
                c.code,
                c.version,
                inert(c.registration.reference),
                c.issued_at.isoformat(),
                facts.get("devices", ""),
                facts.get("units", ""),
                " ".join(facts.get("unit_blocks", [])),
                " ".join(facts.get("origin_countries", [])),
                " ".join(facts.get("consignments", [])),
                "; ".join(facts.get("recyclers", [])),
                c.snapshot_sha256,
                verification_url(c),
                ledger.entry_hash if ledger else "",
                ledger.day if ledger else "",
                (ledger.root or "") if ledger else "",
            ]
        )
    return rows


UNIT_COLUMNS = [
    "certificate",
    "registration",
    "unit_block",
    "units",
    "batch",
    "origin_country",
    "consignment",
    "unit_url",
    "batch_url",
]


def unit_rows(evidence: Evidence) -> list[list[Any]]:
    """The units behind the certificates: each allocated block and the batch it came from."""
    rows = []
    for c in evidence.certificates:
        for a in evidence.allocations.get(c.registration_id, []):
            rows.append(
                [
                    c.code,
                    inert(c.registration.reference),
                    a.block,
                    a.units.upper - a.units.lower,
                    a.batch_id,
                    a.batch.origin_country,
                    a.batch.consignment.reference,
                    evidence.unit_url(a.block),
                    evidence.batch_url(a.batch_id),
                ]
            )
    return rows


def figure_rows(evidence: Evidence) -> list[tuple[str, str]]:
    """(label, value with unit) of the certified units' impact, for the summary."""
    figures = evidence.figures
    if figures is None:
        return []

    def shown(key: str, unit: str, places: int = 1) -> str:
        value = figures.value(key)
        return "-" if value is None else f"{number(value, places)} {unit}"

    rows = [
        (_("Units behind the certificates"), number(figures.units)),
        (_("E-waste diverted (mass)"), shown(method.EWASTE_MASS, "kg")),
    ]
    for key in sorted(figures.figures):
        if key.startswith("metal_") and key.endswith("_recovered_g"):
            symbol = key.removeprefix("metal_").removesuffix("_recovered_g").capitalize()
            rows.append((_("Metal recovered: %(symbol)s") % {"symbol": symbol}, shown(key, "g", 2)))
    rows += [
        (
            _("Avoided emissions (apart from scope 1-3, never netted)"),
            shown(method.AVOIDED_EMISSIONS, "kg CO2e"),
        ),
        (_("Living-wage months"), shown(method.LIVING_WAGE_MONTHS, _("months"), 2)),
    ]
    return rows


def number(value: int | Decimal, places: int = 0) -> str:
    """A number in the active language's format (grouped thousands)."""
    return formats.number_format(value, decimal_pos=places, use_l10n=True, force_grouping=True)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pack(evidence: Evidence) -> bytes:
    """The ZIP: summary PDF, CSVs and the manifest of their SHA-256 digests."""
    from oneforone.reporting import evidence_pdf

    files = {
        "summary.pdf": evidence_pdf.render(evidence),
        "registrations.csv": registrations_csv(evidence),
        "devices.csv": _csv(DEVICE_COLUMNS, device_rows(evidence)),
        "certificates.csv": _csv(CERTIFICATE_COLUMNS, certificate_rows(evidence)),
        "units.csv": _csv(UNIT_COLUMNS, unit_rows(evidence)),
    }
    scope = evidence.scope
    figures = evidence.figures
    manifest = {
        "pack": "oneforone evidence pack: e-waste compensated, per product model",
        "partner": scope.partner.name,
        "product_model": evidence.product_model,
        "programme": scope.programme.code if scope.programme else None,
        "period": {"from": f"{scope.first:%Y-%m}", "to": f"{scope.last:%Y-%m}"},
        "generated_at": evidence.generated_at.isoformat(),
        "methodology": None
        if figures is None
        else {
            "label": figures.version.label,
            "number": figures.version.number,
            "url": evidence.methodology_url(figures.version),
        },
        "certificates": [c.code for c in evidence.certificates],
        "algorithm": "SHA-256",
        "files": [
            {"name": name, "bytes": len(data), "sha256": _digest(data)}
            for name, data in files.items()
        ],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr(MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))
    return buffer.getvalue()
