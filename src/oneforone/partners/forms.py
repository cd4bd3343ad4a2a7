"""Forms of the partner portal and of the operator's conflict queue."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from oneforone.partners.actions import Decision, ProgrammeTerms
from oneforone.partners.models import ActivationMode, ConflictStatus


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


class ProgrammeForm(forms.Form):
    """A new programme's terms; the action checks them again (tender fields, currency)."""

    code = forms.SlugField(
        max_length=40, help_text="short name for CSV files and the API, e.g. retail-2027"
    )
    name = forms.CharField(max_length=150)
    activation_mode = forms.ChoiceField(choices=ActivationMode.choices)
    price_per_unit = forms.DecimalField(min_value=Decimal(0), max_digits=12, decimal_places=4)
    currency = forms.CharField(max_length=3, initial="EUR", help_text="ISO 4217, e.g. EUR")
    starts_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="leave empty for an open-ended programme",
    )
    claim_wording = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="the claim you may publish, as agreed with the operator",
    )
    contracting_authority = forms.CharField(max_length=200, required=False)
    tender_reference = forms.CharField(max_length=100, required=False)
    quota = forms.IntegerField(
        min_value=1, required=False, help_text="devices the tender covers at most"
    )
    is_default = forms.BooleanField(
        required=False, label="Default programme for registrations that name none"
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
    name = forms.CharField(max_length=150)
    ends_on = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="leave empty for an open-ended programme",
    )
    claim_wording = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
