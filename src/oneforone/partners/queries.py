from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from oneforone.accounts.models import Organisation
from oneforone.partners.models import DeviceCategory, Registration


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
