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
        label=gettext_lazy("Kind"),
        choices=[("", gettext_lazy("every kind")), *DeadlineKind.choices],
        required=False,
    )
    country = forms.RegexField(
        label=gettext_lazy("Country"), regex=r"^[A-Za-z]{2}$", required=False, max_length=2
    )
    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=STATUSES, required=False)
    notification = forms.CharField(
        label=gettext_lazy("Notification"), required=False, max_length=40
    )


class DeadlineMetForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"), choices=DeadlineKind.choices, widget=forms.HiddenInput
    )
    subject_key = forms.CharField(
        label=gettext_lazy("Subject key"), max_length=80, widget=forms.HiddenInput
    )
    done_on = forms.DateField(
        label=gettext_lazy("Done on"),
        widget=forms.DateInput(attrs={"type": "date"}),
        initial=timezone.localdate,
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        max_length=300,
        required=False,
        help_text=gettext_lazy("e.g. reference of the e-mail or DIWASS entry"),
    )


class PlanDepartureForm(forms.Form):
    reference = forms.CharField(
        label=gettext_lazy("Reference"), max_length=40, widget=forms.HiddenInput
    )
    departure_on = forms.DateField(
        label=gettext_lazy("Planned departure"), widget=forms.DateInput(attrs={"type": "date"})
    )
