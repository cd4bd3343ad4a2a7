"""Background computations of impact figures (the worker runs them; tests run them inline)."""

from __future__ import annotations

import datetime as dt

from django.tasks import task

from oneforone.accounts.queries import system_user
from oneforone.collection import money_queries
from oneforone.impact import actions
from oneforone.impact.models import Computation, MethodologyVersion, VersionStatus
from oneforone.registry.models import IssuanceBatch


@task()
def compute_batch_figures(batch_id: int, reason: str, since: str) -> int:
    """A batch's figures under every published version (at issuance, after a new assay), except
    under a version where it was computed at or after `since` (ISO time of the record that asked
    for it): a computation that already saw the record is not repeated."""
    actor = system_user()
    batch = IssuanceBatch.objects.get(pk=batch_id)
    seen = dt.datetime.fromisoformat(since)
    computed = 0
    for version in MethodologyVersion.objects.filter(status=VersionStatus.PUBLISHED):
        if Computation.objects.filter(batch=batch, version=version, computed_at__gte=seen).exists():
            continue
        actions.compute_batch(actor=actor, batch=batch, version=version, reason=reason)
        computed += 1
    return computed


@task()
def compute_version_figures(number: int) -> int:
    """Every batch without figures under a newly published version."""
    return compute_version(number, reason="publication")


def compute_version(
    number: int, *, reason: str, again: bool = False, progress: object = None
) -> int:
    """Compute the batches of a published version, one transaction per batch; `progress`, if
    given, is called with (done, total) after each."""
    version = MethodologyVersion.objects.get(number=number)
    method = actions.load_method(version)
    benchmarks = money_queries.Benchmarks()
    actor = system_user()
    ids = list(actions.batches_to_compute(version, again=again))
    for done, batch in enumerate(IssuanceBatch.objects.filter(pk__in=ids).order_by("id"), 1):
        actions.compute_batch(
            actor=actor,
            batch=batch,
            version=version,
            reason=reason,
            method=method,
            benchmarks=benchmarks,
        )
        if callable(progress):
            progress(done, len(ids))
    return len(ids)
