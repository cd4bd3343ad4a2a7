from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from oneforone.accounts.models import Organisation
from oneforone.partners.models import (
    Conflict,
    ConflictStatus,
    Device,
    DeviceCategory,
    DeviceStatus,
    Programme,
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
        .select_related("category", "programme")
        .annotate(
            units_allocated=Coalesce(
                Sum("allocations__quantity", filter=Q(allocations__revoked_at__isnull=True)), 0
            )
        )
    )


@dataclass(frozen=True)
class ProgrammeFigures:
    """What a programme has registered and received so far (cancelled registrations left out)."""

    registrations: int = 0
    devices: int = 0
    units_owed: int = 0
    units_allocated: int = 0

    @property
    def units_waiting(self) -> int:
        return self.units_owed - self.units_allocated


def programmes_of(partner: Organisation) -> QuerySet[Programme]:
    """A partner's programmes, the default first, then the newest."""
    return Programme.objects.filter(partner=partner).order_by("-is_default", "-starts_on", "code")


def programme_figures(programme_ids: Iterable[int]) -> dict[int, ProgrammeFigures]:
    """Figures by programme in two queries (registrations, then their active allocations)."""
    ids = list(programme_ids)
    counted = (
        Registration.objects.filter(programme__in=ids, cancelled_at__isnull=True)
        .order_by()
        .values_list("programme")
        .annotate(
            n=Count("pk"),
            counted_devices=Sum(F("quantity") - F("devices_excluded")),
            owed=Sum("units_owed"),
        )
    )
    allocated = dict(
        Registration.objects.filter(programme__in=ids, allocations__revoked_at__isnull=True)
        .order_by()
        .values_list("programme")
        .annotate(units=Sum("allocations__quantity"))
        .values_list("programme", "units")
    )
    return {
        programme: ProgrammeFigures(
            registrations=n,
            devices=devices or 0,
            units_owed=owed or 0,
            units_allocated=allocated.get(programme) or 0,
        )
        for programme, n, devices, owed in counted
    }


def search(queryset: QuerySet[Registration], text: str) -> QuerySet[Registration]:
    text = text.strip()
    return queryset.filter(Q(reference__icontains=text)) if text else queryset


# Devices: what a partner reads about its own devices ----------------------------------------------
# Position, kind and status only: never who else claimed a device, nor their registration (and no
# clear identifier: only its keyed hash is stored).

PARTNER_DEVICE_STATUS: dict[str, tuple[str | Promise, str | Promise]] = {
    DeviceStatus.CLAIMED: (_("counted"), _("Counts for compensation.")),
    DeviceStatus.HELD: (
        _("already compensated"),
        _(
            "Already registered for compensation; not compensated twice. "
            "The operator is reviewing it."
        ),
    ),
    DeviceStatus.DECLINED: (
        _("already compensated"),
        _("Already registered for compensation; not compensated twice."),
    ),
    DeviceStatus.WITHDRAWN: (
        _("withdrawn"),
        _("Withdrawn by the operator after review; not compensated."),
    ),
    DeviceStatus.CANCELLED: (
        _("cancelled"),
        _("Its registration was cancelled before allocation; not compensated."),
    ),
}


@dataclass(frozen=True)
class DeviceCounts:
    """The listed devices of a registration by status (all zero when it gave a quantity only)."""

    claimed: int = 0
    held: int = 0
    declined: int = 0
    withdrawn: int = 0
    cancelled: int = 0

    @property
    def listed(self) -> int:
        return self.claimed + self.held + self.declined + self.withdrawn + self.cancelled

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


# The partner portal: certificates and held devices of one partner ---------------------------------


NOT_COUNTED = [DeviceStatus.HELD, DeviceStatus.DECLINED, DeviceStatus.WITHDRAWN]


def held_devices_of(partner: Organisation, status: str = "") -> QuerySet[Device]:
    """A partner's listed devices that do not count (held, declined or withdrawn) with when the
    question was raised and settled; nothing about the other claim but that it exists."""
    as_first = Conflict.objects.filter(first_device=OuterRef("pk")).order_by("-raised_at")
    queryset = (
        Device.objects.filter(
            registration__partner=partner,
            status__in=[status] if status in NOT_COUNTED else NOT_COUNTED,
        )
        .select_related("registration")
        .only("registration__reference", "registration__created_at", "position", "kind", "status")
        .annotate(
            raised_at=Coalesce("conflict__raised_at", Subquery(as_first.values("raised_at")[:1])),
            resolved_at=Coalesce(
                "conflict__resolved_at", Subquery(as_first.values("resolved_at")[:1])
            ),
        )
    )
    return queryset.order_by("-registration__created_at", "registration_id", "position")


def held_device_counts(partner: Organisation) -> dict[str, int]:
    counts = dict(
        Device.objects.filter(registration__partner=partner, status__in=NOT_COUNTED)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return {status: counts.get(status, 0) for status in NOT_COUNTED}


def uploads_of(partner: Organisation) -> QuerySet[Upload]:
    """A partner's bulk uploads, newest first (only its own: uploads hold its identifiers)."""
    return Upload.objects.filter(partner=partner).select_related("uploaded_by")
