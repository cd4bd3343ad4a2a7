"""Rows of the payment ledger that other actions write inside their own transaction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Sum

from oneforone.accounts.models import User
from oneforone.collection.models import Intake, Payment, PaymentKind, PaymentMethod


def paid_for(intake: Intake) -> Decimal:
    """What the ledger holds for an intake so far, reversals included."""
    total = Payment.objects.filter(intake=intake).aggregate(total=Sum("amount"))["total"]
    return total or Decimal(0)


def outstanding(intake: Intake) -> Decimal:
    """What an intake is still owed: its amount less what was paid for it. A reversed intake, or
    a reversing record, is owed nothing more."""
    if intake.reverses_id is not None or Intake.objects.filter(reverses=intake).exists():
        return Decimal(0)
    return Decimal(intake.phones) * intake.price_per_phone - paid_for(intake)


def purchase_payment(
    *,
    intake: Intake,
    method: PaymentMethod,
    reference: str,
    paid_by: User,
    paid_at: dt.datetime,
    recorded_at: dt.datetime,
    amount: Decimal | None = None,
) -> Payment:
    """Pay a collector for an intake: its whole amount (cash on the spot, or mobile money), or
    `amount`, e.g. what is still owed on payday."""
    if isinstance(amount, float):
        raise TypeError("money is never a float; pass a Decimal")
    return Payment.objects.create(
        kind=PaymentKind.PURCHASE,
        payer=intake.hub.organisation,
        collector=intake.collector,
        hub=intake.hub,
        intake=intake,
        amount=intake.phones * intake.price_per_phone if amount is None else amount,
        currency=intake.currency,
        method=method,
        reference=reference.strip(),
        paid_at=paid_at,
        paid_by=paid_by,
        recorded_at=recorded_at,
    )
