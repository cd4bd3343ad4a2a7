"""Forms of the collectors and safe-work pages; each says what to enter and why."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from oneforone.collection.models import (
    Collector,
    EquipmentItem,
    Hub,
    Incident,
    IncidentKind,
    TrainingTopic,
)
from oneforone.collection.people_queries import CURRENT_CONDUCT_VERSION

DATE = forms.DateInput(attrs={"type": "date"})


def _today() -> dt.date:
    return timezone.localdate()


class RegisterCollectorForm(forms.Form):
    hub = forms.ModelChoiceField(
        label=gettext_lazy("Hub"), queryset=Hub.objects.none(), empty_label=None
    )
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=200,
        help_text=gettext_lazy("As the collector gives it."),
    )
    phone = forms.CharField(
        label=gettext_lazy("Phone"),
        max_length=40,
        help_text=gettext_lazy("With the country code, e.g. +233 20 000 0000."),
    )
    mobile_money = forms.CharField(
        max_length=60,
        required=False,
        label=gettext_lazy("Mobile-money account"),
        help_text=gettext_lazy("Leave empty if the collector is paid in cash."),
    )
    consent_version = forms.CharField(
        max_length=20,
        label=gettext_lazy("Consent text version"),
        help_text=gettext_lazy("Printed at the foot of the form."),
    )
    consent_given_on = forms.DateField(
        widget=DATE, initial=_today, label=gettext_lazy("Consent given on")
    )

    def __init__(self, *args: Any, hubs: QuerySet[Hub], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["hub"].queryset = hubs  # type: ignore[attr-defined]
        if hubs.count() == 1:
            self.fields["hub"].widget = forms.HiddenInput()
            self.fields["hub"].initial = hubs.first()


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=300,
        required=False,
        help_text=gettext_lazy(
            "Why you need it; kept in the access log. Do not write the person's name."
        ),
    )


class EraseForm(ReasonForm):
    confirm_code = forms.CharField(
        max_length=30,
        label=gettext_lazy("Type the collector's code to confirm"),
    )

    def __init__(self, *args: Any, collector: Collector, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.collector = collector

    def clean_confirm_code(self) -> str:
        code: str = self.cleaned_data["confirm_code"].strip()
        if code.upper() != self.collector.code.upper():
            raise forms.ValidationError(
                gettext("Type %(code)s exactly to confirm; nothing was erased.")
                % {"code": self.collector.code}
            )
        return code


class TrainingForm(forms.Form):
    topic = forms.ChoiceField(label=gettext_lazy("Topic"), choices=TrainingTopic.choices)
    trained_on = forms.DateField(label=gettext_lazy("Trained on"), widget=DATE, initial=_today)
    trainer = forms.CharField(
        label=gettext_lazy("Trainer"),
        max_length=200,
        help_text=gettext_lazy("Who gave the training."),
    )


class EquipmentForm(forms.Form):
    item = forms.ChoiceField(label=gettext_lazy("Item"), choices=EquipmentItem.choices)
    quantity = forms.IntegerField(
        label=gettext_lazy("Quantity"), min_value=1, max_value=50, initial=1
    )
    issued_on = forms.DateField(label=gettext_lazy("Issued on"), widget=DATE, initial=_today)


class ConductForm(forms.Form):
    version = forms.CharField(
        label=gettext_lazy("Version"), max_length=20, initial=CURRENT_CONDUCT_VERSION
    )
    acknowledged_on = forms.DateField(
        label=gettext_lazy("Acknowledged on"), widget=DATE, initial=_today
    )


class IncidentForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=IncidentKind.choices)
    occurred_on = forms.DateField(label=gettext_lazy("Occurred on"), widget=DATE, initial=_today)
    description = forms.CharField(
        label=gettext_lazy("Description"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=gettext_lazy("What happened and what was done at once."),
    )


class FollowUpForm(forms.Form):
    incident = forms.ModelChoiceField(
        label=gettext_lazy("Incident"), queryset=Incident.objects.none(), widget=forms.HiddenInput
    )
    note = forms.CharField(
        label=gettext_lazy("Note"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )
    closes = forms.BooleanField(required=False, label=gettext_lazy("This closes the incident"))

    def __init__(self, *args: Any, incidents: QuerySet[Incident], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["incident"].queryset = incidents  # type: ignore[attr-defined]


class IdentityForm(ReasonForm):
    """A correction of the person's data; a new consent only when the collector gave one."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=40)
    mobile_money = forms.CharField(
        max_length=60, required=False, label=gettext_lazy("Mobile-money account")
    )
    consent_version = forms.CharField(
        max_length=20,
        required=False,
        label=gettext_lazy("New consent text version"),
        help_text=gettext_lazy(
            "Only if the collector agreed to a new version today; else leave empty."
        ),
    )
    consent_given_on = forms.DateField(
        widget=DATE, required=False, label=gettext_lazy("New consent given on")
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("consent_version") and not data.get("consent_given_on"):
            self.add_error("consent_given_on", gettext_lazy("Give the date of the new consent."))
        return data


class HubIncidentForm(IncidentForm):
    """An incident at a hub that concerns no single collector (a fire in the store, a break-in)."""

    hub = forms.ModelChoiceField(
        label=gettext_lazy("Hub"), queryset=Hub.objects.none(), empty_label=None
    )

    field_order = ["hub", "kind", "occurred_on", "description"]

    def __init__(self, *args: Any, hubs: QuerySet[Hub], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["hub"].queryset = hubs  # type: ignore[attr-defined]
