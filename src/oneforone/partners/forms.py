"""Forms of the partner portal and of the operator's conflict queue."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.db import models
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from oneforone.accounts.models import Organisation
from oneforone.partners.actions import Decision, ProgrammeTerms
from oneforone.partners.models import (
    ActivationMode,
    Channel,
    ConflictStatus,
    DeviceCategory,
    Registration,
)
from oneforone.partners.queries import programmes_of, search


class ConflictFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", _("all")), *ConflictStatus.choices], required=False)


class ResolveConflictForm(forms.Form):
    decision = forms.ChoiceField(
        choices=Decision.choices,
        widget=forms.RadioSelect,
        label=_("Decision"),
        error_messages={"required": _("Choose a decision.")},
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        label=_("Reason"),
        help_text=_("recorded in the audit log with both partners' names; say what you checked"),
        error_messages={"required": _("Give the reason for the decision.")},
    )


class ProgrammeForm(forms.Form):
    """A new programme's terms; the action checks them again (tender fields, currency)."""

    code = forms.SlugField(
        max_length=40,
        label=_("Code"),
        help_text=_("short name for CSV files and the API, e.g. retail-2027"),
    )
    name = forms.CharField(max_length=150, label=_("Name"))
    activation_mode = forms.ChoiceField(
        choices=ActivationMode.choices,
        label=_("Activation mode"),
        help_text=_(
            "consumer products: sold to consumers; B2B service: sold or leased to "
            "businesses; public tender: bought under a public contract; internal: your own fleet"
        ),
    )
    price_per_unit = forms.DecimalField(
        min_value=Decimal(0), max_digits=12, decimal_places=4, label=_("Price per unit")
    )
    currency = forms.CharField(
        max_length=3, initial="EUR", label=_("Currency"), help_text=_("ISO 4217, e.g. EUR")
    )
    starts_on = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}), label=_("Starts on")
    )
    ends_on = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        label=_("Ends on"),
        help_text=_("leave empty for an open-ended programme"),
    )
    claim_wording = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label=_("Claim wording"),
        help_text=_("the claim you may publish, as agreed with the operator"),
    )
    contracting_authority = forms.CharField(
        max_length=200, required=False, label=_("Contracting authority")
    )
    tender_reference = forms.CharField(max_length=100, required=False, label=_("Tender reference"))
    quota = forms.IntegerField(
        min_value=1,
        required=False,
        label=_("Quota"),
        help_text=_("devices the tender covers at most"),
    )
    is_default = forms.BooleanField(
        required=False, label=_("Default programme for registrations that name none")
    )

    def terms(self) -> ProgrammeTerms:
        data = self.cleaned_data
        return ProgrammeTerms(
            code=data["code"].lower(),
            name=data["name"],
            activation_mode=data["activation_mode"],
            price_per_unit=data["price_per_unit"],
            currency=data["currency"].upper(),
            starts_on=data["starts_on"],
            ends_on=data["ends_on"],
            claim_wording=data["claim_wording"],
            contracting_authority=data["contracting_authority"],
            tender_reference=data["tender_reference"],
            quota=data["quota"],
        )


class ProgrammeChangeForm(forms.Form):
    name = forms.CharField(max_length=150, label=_("Name"))
    ends_on = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        label=_("Ends on"),
        help_text=_("leave empty for an open-ended programme"),
    )
    claim_wording = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), label=_("Claim wording")
    )


# The partner's registration list ------------------------------------------------------------------


class RegistrationState(models.TextChoices):
    OWED = "owed", _("owed (nothing allocated yet)")
    PARTLY = "partly", _("partly compensated")
    COMPENSATED = "compensated", _("compensated")
    CANCELLED = "cancelled", _("cancelled")


class RegistrationFilterForm(forms.Form):
    """Search and filters of the registration list; every field is optional.

    Each field is applied by the `filter_<name>` method below (when the field has a value), so a
    new filter is one field and one method."""

    q = forms.CharField(required=False, max_length=100, label=_("Reference"))
    programme = forms.ChoiceField(required=False, label=_("Programme"))
    category = forms.ChoiceField(required=False, label=_("Category"))
    state = forms.ChoiceField(
        required=False, choices=[("", _("any")), *RegistrationState.choices], label=_("State")
    )
    channel = forms.ChoiceField(
        required=False, choices=[("", _("any")), *Channel.choices], label=_("Channel")
    )
    created_from = forms.DateField(
        required=False, label=_("Registered from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    created_to = forms.DateField(
        required=False, label=_("Registered to"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, partner: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        programme = self.fields["programme"]
        assert isinstance(programme, forms.ChoiceField)
        programme.choices = [
            ("", _("any")),
            *programmes_of(partner).values_list("code", "name"),
        ]
        names = dict(
            DeviceCategory.objects.order_by("code", "valid_from").values_list("code", "name")
        )
        category = self.fields["category"]
        assert isinstance(category, forms.ChoiceField)
        category.choices = [("", _("any")), *sorted(names.items())]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("created_from"), cleaned.get("created_to")
        if start and end and start > end:
            self.add_error("created_to", _("The end date is before the start date; swap them."))
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

    def filter_programme(
        self, queryset: QuerySet[Registration], code: str
    ) -> QuerySet[Registration]:
        return queryset.filter(programme__code=code)

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
        RegistrationState.COMPENSATED: Q(
            cancelled_at__isnull=True, units_allocated__gte=F("units_owed")
        ),
        RegistrationState.CANCELLED: Q(cancelled_at__isnull=False),
    }[RegistrationState(state)]


class CancelRegistrationForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        label=_("Reason"),
        help_text=_("e.g. the order was returned; it stays in the history"),
    )
