"""The recycler's forms are custody step forms; they live with the custody record."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy

from oneforone.recycling.models import AssayMetal
from oneforone.shipments.forms import (
    BatteryReceptionForm,
    ReceptionForm,
    TreatmentForm,
    reception_form,
)

__all__ = ["AssayForm", "BatteryReceptionForm", "ReceptionForm", "TreatmentForm", "reception_form"]


class AssayForm(forms.Form):
    metal = forms.ChoiceField(label=gettext_lazy("Metal"), choices=AssayMetal.choices)
    grade_g_per_t = forms.DecimalField(
        label=gettext_lazy("Grade (g per tonne)"),
        min_value=Decimal(0),
        max_digits=14,
        decimal_places=4,
    )
    sample_mass_kg = forms.DecimalField(
        label=gettext_lazy("Sample mass (kg)"),
        min_value=Decimal("0.001"),
        max_digits=12,
        decimal_places=3,
    )
    laboratory = forms.CharField(label=gettext_lazy("Laboratory"), max_length=200)
    assayed_on = forms.DateField(
        label=gettext_lazy("Assayed on"), widget=forms.DateInput(attrs={"type": "date"})
    )
