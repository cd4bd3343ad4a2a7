"""The operator's forms for device conflicts."""

from __future__ import annotations

from django import forms

from oneforone.partners.actions import Decision
from oneforone.partners.models import ConflictStatus


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
