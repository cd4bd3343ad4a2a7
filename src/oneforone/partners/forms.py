"""The operator's forms for device conflicts; the partner's registration filters."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db import models
from django.db.models import F, Q, QuerySet

from oneforone.partners.actions import Decision
from oneforone.partners.models import Channel, ConflictStatus, DeviceCategory, Registration
from oneforone.partners.queries import search


class ConflictFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "all"), *ConflictStatus.choices], required=False)


class ResolveConflictForm(forms.Form):
    decision = forms.ChoiceField(
        choices=Decision.choices,
        widget=forms.RadioSelect,
        label="Decision",
        error_messages={"required": "Choose a decision."},
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        label="Reason",
        help_text="recorded in the audit log with both partners' names; say what you checked",
        error_messages={"required": "Give the reason for the decision."},
    )


# The partner's registration list ------------------------------------------------------------------


class RegistrationState(models.TextChoices):
    OWED = "owed", "owed (nothing allocated yet)"
    PARTLY = "partly", "partly compensated"
    COMPENSATED = "compensated", "compensated"


class RegistrationFilterForm(forms.Form):
    """Search and filters of the registration list; every field is optional.

    Each field is applied by the `filter_<name>` method below (when the field has a value), so a
    new filter is one field and one method."""

    q = forms.CharField(required=False, max_length=100, label="Reference")
    category = forms.ChoiceField(required=False, label="Category")
    state = forms.ChoiceField(
        required=False, choices=[("", "any"), *RegistrationState.choices], label="State"
    )
    channel = forms.ChoiceField(
        required=False, choices=[("", "any"), *Channel.choices], label="Channel"
    )
    created_from = forms.DateField(
        required=False, label="Registered from", widget=forms.DateInput(attrs={"type": "date"})
    )
    created_to = forms.DateField(
        required=False, label="Registered to", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = dict(
            DeviceCategory.objects.order_by("code", "valid_from").values_list("code", "name")
        )
        category = self.fields["category"]
        assert isinstance(category, forms.ChoiceField)
        category.choices = [("", "any"), *sorted(names.items())]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("created_from"), cleaned.get("created_to")
        if start and end and start > end:
            self.add_error("created_to", "The end date is before the start date; swap them.")
        return cleaned

    def apply(self, queryset: QuerySet[Registration]) -> QuerySet[Registration]:
        """The registrations matching the valid filters (invalid ones are shown as errors)."""
        self.is_valid()
        for name, value in self.cleaned_data.items():
            if value not in (None, ""):
                queryset = getattr(self, f"filter_{name}")(queryset, value)
        return queryset

    @property
    def active(self) -> bool:
        return self.is_valid() and any(v not in (None, "") for v in self.cleaned_data.values())

    def filter_q(self, queryset: QuerySet[Registration], text: str) -> QuerySet[Registration]:
        return search(queryset, text)

    def filter_category(
        self, queryset: QuerySet[Registration], code: str
    ) -> QuerySet[Registration]:
        return queryset.filter(category__code=code)

    def filter_state(self, queryset: QuerySet[Registration], state: str) -> QuerySet[Registration]:
        return queryset.filter(compensation_state(state))

    def filter_channel(
        self, queryset: QuerySet[Registration], channel: str
    ) -> QuerySet[Registration]:
        return queryset.filter(channel=channel)

    def filter_created_from(
        self, queryset: QuerySet[Registration], day: dt.date
    ) -> QuerySet[Registration]:
        return queryset.filter(created_at__date__gte=day)

    def filter_created_to(
        self, queryset: QuerySet[Registration], day: dt.date
    ) -> QuerySet[Registration]:
        return queryset.filter(created_at__date__lte=day)


def compensation_state(state: str) -> Q:
    """A condition on `registrations_of` rows (annotated with units_allocated)."""
    return {
        RegistrationState.OWED: Q(units_allocated=0, units_owed__gt=0),
        RegistrationState.PARTLY: Q(units_allocated__gt=0, units_allocated__lt=F("units_owed")),
        RegistrationState.COMPENSATED: Q(units_allocated__gte=F("units_owed")),
    }[RegistrationState(state)]
