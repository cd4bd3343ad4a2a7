from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from oneforone.accounts.models import Organisation
from oneforone.partners.models import (
    Conflict,
    ConflictStatus,
    Device,
    DeviceCategory,
    DeviceStatus,
    Registration,
    Upload,
)


def current_categories(on: dt.date | None = None) -> dict[str, DeviceCategory]:
    """The category version in force on a date, by code."""
    on = on or timezone.localdate()
    current: dict[str, DeviceCategory] = {}
    for category in DeviceCategory.objects.filter(valid_from__lte=on).order_by(
        "code", "-valid_from"
    ):
        current.setdefault(category.code, category)
    return current


def registrations_of(partner: Organisation) -> QuerySet[Registration]:
    """A partner's registrations with the units allocated so far; the only way pages read them."""
    return (
        Registration.objects.filter(partner=partner)
        .select_related("category")
        .annotate(
            units_allocated=Coalesce(
                Sum("allocations__quantity", filter=Q(allocations__revoked_at__isnull=True)), 0
            )
        )
    )


def search(queryset: QuerySet[Registration], text: str) -> QuerySet[Registration]:
    text = text.strip()
    return queryset.filter(Q(reference__icontains=text)) if text else queryset


# Devices: what a partner reads about its own devices ----------------------------------------------
# Position, kind and status only: never who else claimed a device, nor their registration (and no
# clear identifier: only its keyed hash is stored).

PARTNER_DEVICE_STATUS: dict[str, tuple[str, str]] = {
    DeviceStatus.CLAIMED: ("counted", "Counts for compensation."),
    DeviceStatus.HELD: (
        "already compensated",
        "Already registered for compensation; not compensated twice. The operator is reviewing it.",
    ),
    DeviceStatus.DECLINED: (
        "already compensated",
        "Already registered for compensation; not compensated twice.",
    ),
    DeviceStatus.WITHDRAWN: (
        "withdrawn",
        "Withdrawn by the operator after review; not compensated.",
    ),
}


@dataclass(frozen=True)
class DeviceCounts:
    """The listed devices of a registration by status (all zero when it gave a quantity only)."""

    claimed: int = 0
    held: int = 0
    declined: int = 0
    withdrawn: int = 0

    @property
    def listed(self) -> int:
        return self.claimed + self.held + self.declined + self.withdrawn

    @property
    def already_compensated(self) -> int:
        return self.held + self.declined


def device_counts(registration_ids: Iterable[int]) -> dict[int, DeviceCounts]:
    """Device counts by registration, in one query; registrations without devices are left out."""
    counts: dict[int, dict[str, int]] = {}
    rows = (
        Device.objects.filter(registration_id__in=list(registration_ids))
        .order_by()
        .values_list("registration_id", "status")
        .annotate(n=Count("pk"))
    )
    for registration_id, status, n in rows:
        counts.setdefault(registration_id, {})[status] = n
    return {pk: DeviceCounts(**by_status) for pk, by_status in counts.items()}


def devices_of(registration: Registration) -> QuerySet[Device]:
    """A registration's devices in the order they were listed, without their hashes."""
    return registration.devices.order_by("position").only(
        "registration_id", "position", "kind", "status"
    )


# Conflicts: the operator's queue --------------------------------------------------------------------


def conflicts(status: str = "") -> QuerySet[Conflict]:
    """Conflicts, open ones first (oldest first), then the resolved ones, newest first."""
    queryset = Conflict.objects.select_related(
        "first_device__registration__partner",
        "second_device__registration__partner",
        "resolved_by",
    ).annotate(
        open_first=Case(
            When(status=ConflictStatus.OPEN, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
    )
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by(
        "open_first",
        Case(When(status=ConflictStatus.OPEN, then="raised_at")).asc(),
        Coalesce("resolved_at", "raised_at").desc(),
        "-id",
    )


def conflict_counts() -> dict[str, int]:
    counts = dict(
        Conflict.objects.order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return {status: counts.get(status, 0) for status in ConflictStatus.values}


def uploads_of(partner: Organisation) -> QuerySet[Upload]:
    """A partner's bulk uploads, newest first (only its own: uploads hold its identifiers)."""
    return Upload.objects.filter(partner=partner).select_related("uploaded_by")
