"""The recycler's forms are custody step forms; they live with the custody record."""

from __future__ import annotations

from oneforone.shipments.forms import ReceptionForm, TreatmentForm

__all__ = ["ReceptionForm", "TreatmentForm"]
