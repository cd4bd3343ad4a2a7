"""The custody step forms: what each signer enters when taking custody of a consignment."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.core.validators import MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy

from oneforone.recycling.models import FacilityDecision
from oneforone.shipments.models import ConsignmentState, CustodyStep
from oneforone.shipments.movement_forms import ConsigneeReceiptForm

STATE_FILTER = [("", gettext_lazy("all states")), *ConsignmentState.choices]
R_CODES = [(f"R{n}", f"R{n}") for n in range(1, 14)]


class StateFilterForm(forms.Form):
    state = forms.ChoiceField(label=gettext_lazy("State"), choices=STATE_FILTER, required=False)


class DispatchForm(forms.Form):
    """The hub signs the consignment over; its lots, count and weight are sealed from then on."""

    container_number = forms.CharField(
        max_length=20,
        required=False,
        label=gettext_lazy("Container number"),
        help_text=gettext_lazy("if the lots travel in a container, e.g. MSKU1234565"),
    )
    packages = forms.IntegerField(
        min_value=1,
        required=False,
        label=gettext_lazy("Number of packages"),
        help_text=gettext_lazy("under a notification; the number of sealed lots if empty"),
    )
    confirm = forms.BooleanField(
        label=gettext_lazy(
            "I checked the seals of the lots listed above and hand them to the carrier."
        ),
        error_messages={"required": gettext_lazy("Tick the box to confirm you checked the seals.")},
    )

    def clean_container_number(self) -> str:
        return str(self.cleaned_data["container_number"]).strip().upper()


class PickupForm(forms.Form):
    """The carrier takes custody of the consignment as dispatched."""

    vehicle = forms.CharField(
        max_length=60,
        label=gettext_lazy("Vehicle or vessel"),
        help_text=gettext_lazy("truck plate number, or vessel name and voyage"),
    )
    confirm = forms.BooleanField(
        label=gettext_lazy("I took over the sealed lots listed above, seals intact."),
        error_messages={"required": gettext_lazy("Tick the box to confirm the seals are intact.")},
    )


class ReceptionForm(forms.Form):
    """The recycler counts and weighs what arrived."""

    counted_phones = forms.IntegerField(
        min_value=1,
        label=gettext_lazy("Phones counted"),
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": "1"}),
    )
    net_weight_kg = forms.DecimalField(
        max_digits=12,
        decimal_places=3,
        label=gettext_lazy("Net weight (kg)"),
        validators=[MinValueValidator(Decimal("0.001"))],
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "min": "0", "step": "0.001"}),
    )
    # Issue 6: the facility's decision (block 19 of the movement document).
    decision = forms.ChoiceField(
        choices=FacilityDecision.choices,
        initial=FacilityDecision.ACCEPTED,
        required=False,
        label=gettext_lazy("Decision"),
    )
    refused_phones = forms.IntegerField(
        min_value=0,
        required=False,
        label=gettext_lazy("Phones refused"),
        help_text=gettext_lazy("when partially refused"),
    )
    refused_weight_kg = forms.DecimalField(
        max_digits=12,
        decimal_places=3,
        min_value=0,
        required=False,
        label=gettext_lazy("Weight refused (kg)"),
        help_text=gettext_lazy("when partially refused"),
    )
    refusal_reason = forms.CharField(
        max_length=1000,
        required=False,
        label=gettext_lazy("Reason for the refusal"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_decision(self) -> str:
        return str(self.cleaned_data["decision"] or FacilityDecision.ACCEPTED)


class BatteryReceptionForm(forms.Form):
    """The recycler weighs a battery consignment and counts its packages (no phones)."""

    net_weight_kg = ReceptionForm.base_fields["net_weight_kg"]
    packages = forms.IntegerField(
        min_value=1,
        label=gettext_lazy("Packages received"),
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": "1"}),
    )
    decision = ReceptionForm.base_fields["decision"]
    refused_weight_kg = ReceptionForm.base_fields["refused_weight_kg"]
    refusal_reason = ReceptionForm.base_fields["refusal_reason"]

    def clean_decision(self) -> str:
        return str(self.cleaned_data["decision"] or FacilityDecision.ACCEPTED)


def reception_form(stream: str) -> type[forms.Form]:
    """The reception form of a consignment's stream: phones are counted, batteries are not."""
    return BatteryReceptionForm if stream == "batteries" else ReceptionForm


class TreatmentForm(forms.Form):
    """The recycler certifies that the received phones were treated."""

    completed_on = forms.DateField(
        label=gettext_lazy("Treatment completed on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    operation = forms.ChoiceField(
        choices=R_CODES,
        initial="R4",
        label=gettext_lazy("Recovery operation"),
        help_text=gettext_lazy("R4: recycling/reclamation of metals"),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["completed_on"].initial = timezone.localdate()

    def clean_completed_on(self) -> dt.date:
        completed_on: dt.date = self.cleaned_data["completed_on"]
        if completed_on > timezone.localdate():
            raise forms.ValidationError(
                gettext_lazy("The date is in the future; enter the day treatment ended.")
            )
        return completed_on


STEP_FORMS: dict[str, type[forms.Form]] = {
    CustodyStep.DISPATCH: DispatchForm,
    CustodyStep.PICKUP: PickupForm,
    CustodyStep.RECEIPT: ConsigneeReceiptForm,
    CustodyStep.RECEPTION: ReceptionForm,
    CustodyStep.TREATMENT: TreatmentForm,
}
