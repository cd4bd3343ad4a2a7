from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy

from oneforone.shipments.deadline_models import DeadlineKind


class DeadlineFilterForm(forms.Form):
    STATUSES = [
        ("", gettext_lazy("open (overdue and due)")),
        ("overdue", gettext_lazy("overdue")),
        ("due", gettext_lazy("due")),
        ("met", gettext_lazy("met")),
        ("all", gettext_lazy("all")),
    ]
    kind = forms.ChoiceField(
        choices=[("", gettext_lazy("every kind")), *DeadlineKind.choices], required=False
    )
    country = forms.RegexField(regex=r"^[A-Za-z]{2}$", required=False, max_length=2)
    status = forms.ChoiceField(choices=STATUSES, required=False)
    notification = forms.CharField(required=False, max_length=40)


class DeadlineMetForm(forms.Form):
    kind = forms.ChoiceField(choices=DeadlineKind.choices, widget=forms.HiddenInput)
    subject_key = forms.CharField(max_length=80, widget=forms.HiddenInput)
    done_on = forms.DateField(
        label=gettext_lazy("Done on"),
        widget=forms.DateInput(attrs={"type": "date"}),
        initial=timezone.localdate,
    )
    note = forms.CharField(
        max_length=300,
        required=False,
        help_text=gettext_lazy("e.g. reference of the e-mail or DIWASS entry"),
    )


class PlanDepartureForm(forms.Form):
    reference = forms.CharField(max_length=40, widget=forms.HiddenInput)
    departure_on = forms.DateField(
        label=gettext_lazy("Planned departure"), widget=forms.DateInput(attrs={"type": "date"})
    )
