"""Operator staff resolve plausibility flags, each with a reason."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from oneforone.accounts.models import User
from oneforone.accounts.permissions import require_operator
from oneforone.collection.models import Collector, Flag, FlagResolution, Intake
from oneforone.core import audit

MIN_REASON_LENGTH = 10  # a word or two is not a reason anyone can check later


class FlagError(Exception):
    pass


@transaction.atomic
def resolve_flag(*, actor: User, flag: Flag, resolution: str, reason: str) -> Flag:
    """Close a flag: the record stands (explained), a reversing record corrected it (corrected),
    or it was fraud (the collector is suspended: no more intakes until reactivated).

    A resolved flag no longer holds its lot back from dispatch."""
    require_operator(actor)
    reason = reason.strip()
    if resolution not in FlagResolution.values:
        raise FlagError(
            gettext("choose one of: %(values)s") % {"values": ", ".join(FlagResolution.values)}
        )
    if len(reason) < MIN_REASON_LENGTH:
        raise FlagError(
            gettext(
                "give a reason of at least %(min_reason_length)s characters that someone else can check"
            )
            % {"min_reason_length": MIN_REASON_LENGTH}
        )
    flag = (
        Flag.objects.select_for_update(of=("self",))
        .select_related("intake", "lot", "hub__organisation")
        .get(pk=flag.pk)
    )
    if flag.resolved_at is not None:
        raise FlagError(
            gettext("this flag was resolved already (%(flag)s)")
            % {"flag": flag.get_resolution_display()}
        )
    if resolution == FlagResolution.CORRECTED and not _corrected(flag):
        raise FlagError(
            gettext(
                "no reversing record cancels this intake yet (or none is packed into this lot): "
                "record the reversal first, or resolve as explained"
            )
        )
    suspended = None
    if resolution == FlagResolution.FRAUD:
        suspended = _suspend(flag)
    flag.resolution = resolution
    flag.resolution_reason = reason
    flag.resolved_at = timezone.now()
    flag.resolved_by = actor
    flag.save(update_fields=["resolution", "resolution_reason", "resolved_at", "resolved_by"])
    audit.record(
        actor=actor,
        code="collection.flag.resolved",
        obj=flag,
        organisation=flag.hub.organisation,
        data={
            "kind": flag.kind,
            "intake": flag.intake_id,
            "lot": flag.lot.seal_number if flag.lot else None,
            "resolution": resolution,
            "reason": reason,
            "collector_suspended": suspended.code if suspended else None,
        },
    )
    return flag


def _corrected(flag: Flag) -> bool:
    if flag.intake is not None:
        return Intake.objects.filter(reverses=flag.intake).exists()
    return Intake.objects.filter(lot=flag.lot, reverses__isnull=False).exists()


def _suspend(flag: Flag) -> Collector | None:
    collector_id = flag.collector_id or (flag.intake.collector_id if flag.intake else None)
    if collector_id is None:
        return None
    collector = Collector.objects.select_for_update().get(pk=collector_id)
    if collector.active:
        collector.active = False
        collector.save(update_fields=["active"])
    return collector
