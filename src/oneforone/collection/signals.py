"""Fraud and plausibility signals: each detector raises a Flag with its evidence.

Called inside the actions that record intakes and seal lots (same transaction)."""

from __future__ import annotations

from oneforone.collection.models import Flag, Intake, Lot


def raise_for_intake(intake: Intake) -> list[Flag]:
    """The flags a newly recorded (or edited) intake raises."""
    return []


def raise_for_lot(lot: Lot) -> list[Flag]:
    """The flags a newly sealed lot raises."""
    return []
