"""The recycler's forms are custody step forms; they live with the custody record."""

from __future__ import annotations

from oneforone.shipments.forms import (
    BatteryReceptionForm,
    ReceptionForm,
    TreatmentForm,
    reception_form,
)

__all__ = ["BatteryReceptionForm", "ReceptionForm", "TreatmentForm", "reception_form"]
