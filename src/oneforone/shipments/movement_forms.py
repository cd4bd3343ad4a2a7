"""Forms of the movement part: carrier handover, consignee receipt, revision requests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.core.validators import MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy

from oneforone.shipments.codes import codes_valid_on
from oneforone.shipments.models import CodeList
from oneforone.shipments.revision_actions import FIELD_CHOICES

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _not_future(day: dt.date) -> dt.date:
    if day > timezone.localdate():
        raise forms.ValidationError(
            gettext_lazy("The date is in the future; enter the day it happened.")
        )
    return day


class HandoverForm(forms.Form):
    """The next carrier takes over the consignment from the previous one."""

    vehicle = forms.CharField(
        max_length=60,
        label=gettext_lazy("Vehicle or vessel"),
        help_text=gettext_lazy("plate number, or vessel and voyage"),
    )
    means_of_transport = forms.ChoiceField(
        choices=lambda: [
            (c.code, f"{c.code}: {c.label}")
            for c in codes_valid_on(CodeList.TRANSPORT, timezone.localdate())
        ],
        initial="S",
        label=gettext_lazy("Means of transport"),
    )
    transferred_on = forms.DateField(label=gettext_lazy("Date of transfer"), widget=DATE_INPUT)
    confirm = forms.BooleanField(
        label=gettext_lazy("I took over the sealed lots, seals intact."),
        error_messages={"required": gettext_lazy("Tick the box to confirm the seals are intact.")},
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["transferred_on"].initial = timezone.localdate()

    def clean_transferred_on(self) -> dt.date:
        return _not_future(self.cleaned_data["transferred_on"])


class ConsigneeReceiptForm(forms.Form):
    """The consignee signs that the shipment arrived."""

    received_on = forms.DateField(label=gettext_lazy("Received on"), widget=DATE_INPUT)
    quantity_kg = forms.DecimalField(
        max_digits=14,
        decimal_places=3,
        label=gettext_lazy("Quantity received (kg)"),
        validators=[MinValueValidator(Decimal("0.001"))],
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "min": "0", "step": "0.001"}),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["received_on"].initial = timezone.localdate()

    def clean_received_on(self) -> dt.date:
        return _not_future(self.cleaned_data["received_on"])


class RevisionRequestForm(forms.Form):
    """Ask the other parties to approve a change to a sealed field."""

    field = forms.ChoiceField(choices=FIELD_CHOICES, label=gettext_lazy("Field"))
    leg = forms.IntegerField(
        min_value=1,
        required=False,
        label=gettext_lazy("Carrier leg"),
        help_text=gettext_lazy("for a leg's field; 1 if empty"),
    )
    new_value = forms.CharField(
        max_length=200,
        label=gettext_lazy("New value"),
        help_text=gettext_lazy("dates as YYYY-MM-DD"),
    )
    reason = forms.CharField(
        max_length=1000, label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 2})
    )


class RevisionAnswerForm(forms.Form):
    vote = forms.ChoiceField(
        label=gettext_lazy("Vote"), choices=[("approve", "Approve"), ("reject", "Reject")]
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=500, required=False)
