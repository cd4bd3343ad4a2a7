"""Every write of the impact app: methodology versions (draft, factors, publish) and the figures
computed per issuance batch under a published version."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from oneforone.accounts.models import User
from oneforone.accounts.permissions import require_operator
from oneforone.collection import money_queries
from oneforone.collection.models import LivingWageBenchmark
from oneforone.core import audit
from oneforone.impact import method as m
from oneforone.impact.models import (
    Computation,
    Confidence,
    Factor,
    Figure,
    MethodologyVersion,
    Rule,
    VersionStatus,
)
from oneforone.recycling.models import LotAssay
from oneforone.registry.models import IssuanceBatch
from oneforone.shipments.models import CarrierLeg


class MethodologyError(ValueError):
    """The methodology change is refused; the message says what to do instead."""


# --- versions -----------------------------------------------------------------------------------


@transaction.atomic
def draft_version(
    *,
    actor: User,
    label: str,
    title: str,
    change_notes: str,
    based_on: MethodologyVersion | None = None,
) -> MethodologyVersion:
    """A new draft version numbered after the last one, with a copy of `based_on`'s factors and
    rules (default: the latest published version) to change before publishing."""
    require_operator(actor)
    if not change_notes.strip():
        raise MethodologyError(gettext("say what changes in this version (change notes)"))
    if MethodologyVersion.objects.filter(label=label).exists():
        raise MethodologyError(
            gettext("version %(label)s exists already: choose another label") % {"label": label}
        )
    base = based_on or latest_published()
    last = MethodologyVersion.objects.select_for_update().order_by("-number").first()
    version = MethodologyVersion.objects.create(
        number=(last.number + 1) if last else 1,
        label=label,
        title=title,
        change_notes=change_notes.strip(),
        created_at=timezone.now(),
    )
    if base is not None:
        Factor.objects.bulk_create(
            Factor(
                version=version,
                key=f.key,
                qualifier=f.qualifier,
                name=f.name,
                value=f.value,
                unit=f.unit,
                source=f.source,
                source_year=f.source_year,
                confidence=f.confidence,
                note=f.note,
            )
            for f in base.factors.all()
        )
        Rule.objects.bulk_create(
            Rule(
                version=version,
                key=r.key,
                position=r.position,
                statement=r.statement,
                parameters=r.parameters,
            )
            for r in base.rules.all()
        )
    audit.record(
        actor=actor,
        code="impact.version.drafted",
        obj=version,
        data={"label": label, "based_on": base.label if base else None},
    )
    return version


@transaction.atomic
def set_factor(
    *,
    actor: User,
    version: MethodologyVersion,
    key: str,
    qualifier: str = "",
    value: Decimal,
    unit: str,
    source: str,
    source_year: int | None,
    confidence: str,
    name: str = "",
    note: str = "",
) -> Factor:
    """Add or change a factor of a draft version (a published version is frozen)."""
    require_operator(actor)
    version = MethodologyVersion.objects.select_for_update().get(pk=version.pk)
    if version.is_published:
        raise MethodologyError(
            gettext(
                "version %(label)s is published and frozen: draft a new version to change %(key)s"
            )
            % {"label": version.label, "key": key}
        )
    if value < 0:
        raise MethodologyError(gettext("a factor is zero or more"))
    if not source.strip():
        raise MethodologyError(
            gettext("give the source of %(key)s (publication or record, and its year)")
            % {"key": key}
        )
    if confidence not in Confidence.values:
        raise MethodologyError(
            gettext("confidence is one of %(choices)s") % {"choices": ", ".join(Confidence.values)}
        )
    factor, created = Factor.objects.update_or_create(
        version=version,
        key=key,
        qualifier=qualifier,
        defaults={
            "name": name or key.replace("-", " "),
            "value": value,
            "unit": unit,
            "source": source.strip(),
            "source_year": source_year,
            "confidence": confidence,
            "note": note,
        },
    )
    audit.record(
        actor=actor,
        code="impact.factor.set",
        obj=factor,
        data={
            "version": version.label,
            "key": key,
            "qualifier": qualifier,
            "value": value,
            "unit": unit,
            "source": source,
            "created": created,
        },
    )
    return factor


@transaction.atomic
def publish_version(*, actor: User, version: MethodologyVersion) -> MethodologyVersion:
    """Publish a draft: from now on the database refuses any change to it, its factors and
    rules. After commit, every batch's figures are computed under it (figures stored under
    earlier versions are never touched)."""
    require_operator(actor)
    version = MethodologyVersion.objects.select_for_update().get(pk=version.pk)
    if version.is_published:
        raise MethodologyError(
            gettext("version %(label)s is published already") % {"label": version.label}
        )
    if not version.factors.exists() or not version.rules.exists():
        raise MethodologyError(
            gettext("version %(label)s has no factors or rules: add them first")
            % {"label": version.label}
        )
    version.status = VersionStatus.PUBLISHED
    version.published_at = timezone.now()
    version.published_by = actor
    version.save(update_fields=["status", "published_at", "published_by"])
    audit.record(
        actor=actor,
        code="impact.version.published",
        obj=version,
        data={"number": version.number, "label": version.label},
    )
    number = version.number
    transaction.on_commit(lambda: _enqueue_version(number))
    return version


def _enqueue_version(number: int) -> None:
    from oneforone.impact.tasks import compute_version_figures

    compute_version_figures.enqueue(number)


def latest_published() -> MethodologyVersion | None:
    return (
        MethodologyVersion.objects.filter(status=VersionStatus.PUBLISHED)
        .order_by("-number")
        .first()
    )


# --- figures ------------------------------------------------------------------------------------


def load_method(version: MethodologyVersion) -> m.Method:
    return m.Method(
        version.label,
        [
            m.FactorValue(
                key=f.key,
                qualifier=f.qualifier,
                value=f.value,
                unit=f.unit,
                source=f.source,
                source_year=f.source_year,
                confidence=f.confidence,
                name=f.name,
                id=f.pk,
            )
            for f in version.factors.all()
        ],
        {r.key: r.parameters for r in version.rules.all()},
    )


def benchmark_input(benchmark: LivingWageBenchmark | None) -> m.BenchmarkInput | None:
    if benchmark is None:
        return None
    return m.BenchmarkInput(
        id=benchmark.pk,
        country=benchmark.country,
        area=benchmark.area,
        year=benchmark.year,
        monthly_amount=benchmark.monthly_amount,
        currency=benchmark.currency,
        source=benchmark.source,
    )


def batch_inputs(
    batch: IssuanceBatch, benchmarks: money_queries.Benchmarks | None = None
) -> m.BatchInputs:
    """The records a batch's figures are computed from."""
    benchmarks = benchmarks or money_queries.Benchmarks()
    consignment = batch.consignment
    reception = batch.treatment.reception
    incomes = []
    for income in batch.incomes.order_by("country", "area", "year", "currency"):
        incomes.append(
            m.IncomeInput(
                id=income.pk,
                country=income.country,
                area=income.area,
                year=income.year,
                currency=income.currency,
                amount=income.amount,
                benchmark=benchmark_input(
                    benchmarks.for_year(income.country, income.area, income.year)
                ),
            )
        )
    return m.BatchInputs(
        batch_id=batch.pk,
        phones=batch.quantity,
        origin_country=batch.origin_country,
        consignment=consignment.reference,
        reception_id=reception.pk,
        # Weighed at reception, less the part the facility refused (not treated here).
        net_weight_kg=reception.net_weight_kg - reception.refused_weight_kg,
        shipped_weight_kg=consignment.net_weight_kg_dispatched,
        # Carrier legs record no distance yet: every leg takes its route default.
        legs=[
            m.LegInput(id=leg.pk, sequence=leg.sequence, mode=leg.means_of_transport)
            for leg in CarrierLeg.objects.filter(consignment=consignment).order_by("sequence")
        ],
        assays=[
            m.AssayInput(
                id=a.pk,
                metal=a.metal,
                grade_g_per_t=a.grade_g_per_t,
                sample_mass_kg=a.sample_mass_kg,
                laboratory=a.laboratory,
                assayed_on=a.assayed_on,
            )
            for a in LotAssay.objects.filter(consignment=consignment).order_by("id")
        ],
        incomes=incomes,
    )


@transaction.atomic
def compute_batch(
    *,
    actor: User,
    batch: IssuanceBatch,
    version: MethodologyVersion,
    reason: str,
    method: m.Method | None = None,
    benchmarks: money_queries.Benchmarks | None = None,
) -> Computation:
    """Compute and store (append) a batch's figures under a published version."""
    if not version.is_published:
        raise MethodologyError(
            gettext(
                "version %(label)s is a draft: figures are stored only under a published version"
            )
            % {"label": version.label}
        )
    values = m.compute(batch_inputs(batch, benchmarks), method or load_method(version))
    computation = Computation.objects.create(
        batch=batch, version=version, reason=reason, computed_at=timezone.now(), computed_by=actor
    )
    Figure.objects.bulk_create(
        Figure(
            computation=computation,
            key=v.key,
            value=v.value,
            unit=v.unit,
            note=v.note,
            inputs=_jsonable(v.inputs),
        )
        for v in values
    )
    audit.record(
        actor=actor,
        code="impact.batch.computed",
        obj=computation,
        data={
            "batch": batch.pk,
            "block": batch.block,
            "version": version.label,
            "reason": reason,
            "figures": {v.key: v.value for v in values if v.value is not None},
        },
    )
    return computation


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def batches_to_compute(version: MethodologyVersion, *, again: bool = False) -> Iterable[int]:
    """Ids of the batches without figures under the version (every batch with `again`)."""
    batches = IssuanceBatch.objects.order_by("id")
    if not again:
        batches = batches.exclude(impact_computations__version=version)
    return list(batches.values_list("id", flat=True))
