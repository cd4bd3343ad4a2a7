"""Rows of the payment ledger that other actions write inside their own transaction."""

from __future__ import annotations

import datetime as dt

from oneforone.accounts.models import User
from oneforone.collection.models import Intake, Payment, PaymentKind, PaymentMethod


def purchase_payment(
    *,
    intake: Intake,
    method: PaymentMethod,
    reference: str,
    paid_by: User,
    paid_at: dt.datetime,
    recorded_at: dt.datetime,
) -> Payment:
    """Pay a collector the whole amount of an intake (cash on the spot, or mobile money)."""
    return Payment.objects.create(
        kind=PaymentKind.PURCHASE,
        payer=intake.hub.organisation,
        collector=intake.collector,
        hub=intake.hub,
        intake=intake,
        amount=intake.phones * intake.price_per_phone,
        currency=intake.currency,
        method=method,
        reference=reference.strip(),
        paid_at=paid_at,
        paid_by=paid_by,
        recorded_at=recorded_at,
    )
