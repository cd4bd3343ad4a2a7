"""Forms of the money pages: they parse and explain; the payment actions decide."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone

from oneforone.accounts.models import Organisation, OrganisationKind
from oneforone.collection.models import Country, PaymentKind, PaymentMethod, PriceCap
from oneforone.collection.payment_actions import FEE_KINDS

MONEY_INPUT = {"inputmode": "decimal", "autocomplete": "off"}


def _money_field(label: str, help_text: str = "", places: int = 4) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        min_value=Decimal(0),
        max_digits=12,
        decimal_places=places,
        help_text=help_text,
        widget=forms.TextInput(attrs=MONEY_INPUT),
    )


class PaymentMethodForm(forms.Form):
    method = forms.ChoiceField(
        label="Paid with",
        choices=[(PaymentMethod.CASH, "Cash"), (PaymentMethod.MOBILE_MONEY, "Mobile money")],
        initial=PaymentMethod.CASH,
    )
    reference = forms.CharField(
        label="Mobile-money reference",
        required=False,
        max_length=100,
        help_text="From the confirmation message; not needed for cash.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("method") != PaymentMethod.CASH and not data.get("reference", "").strip():
            self.add_error(
                "reference", "Enter the transaction reference from the confirmation message."
            )
        return data


class ReverseForm(forms.Form):
    reason = forms.CharField(
        label="Why is it reversed?",
        max_length=300,
        error_messages={"required": "Say why; the reason stays in the ledger."},
    )


def _months_back(count: int) -> list[tuple[str, str]]:
    month = timezone.localdate().replace(day=1)
    choices = []
    for _ in range(count):
        month = (month - dt.timedelta(days=1)).replace(day=1)
        choices.append((month.isoformat(), f"{month:%B %Y}"))
    return choices


class HandlingFeeForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label="Collection partner",
        queryset=Organisation.objects.filter(kind=OrganisationKind.COLLECTION_PARTNER),
    )
    kind = forms.ChoiceField(
        label="Fee", choices=[(k.value, k.label) for k in PaymentKind if k in FEE_KINDS]
    )
    period = forms.TypedChoiceField(label="Month", coerce=dt.date.fromisoformat, choices=())
    method = forms.ChoiceField(
        label="Paid with",
        choices=PaymentMethod.choices,
        initial=PaymentMethod.BANK_TRANSFER,
    )
    reference = forms.CharField(label="Transfer reference", required=False, max_length=100)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["period"].choices = _months_back(12)  # type: ignore[attr-defined]


class FeeRateForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label="Collection partner",
        queryset=Organisation.objects.filter(kind=OrganisationKind.COLLECTION_PARTNER),
    )
    kind = forms.ChoiceField(
        label="Fee", choices=[(k.value, k.label) for k in PaymentKind if k in FEE_KINDS]
    )
    per_phone = _money_field("Per phone collected")
    currency = forms.CharField(label="Currency", max_length=3, help_text="ISO code, e.g. GHS")
    valid_from = forms.DateField(
        label="From", widget=forms.DateInput(attrs={"type": "date"}), initial=timezone.localdate
    )


class PriceCapForm(forms.Form):
    country = forms.ModelChoiceField(label="Country", queryset=Country.objects.all())
    valid_from = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    valid_until = forms.DateField(
        label="Until (last day)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Leave empty for an open end.",
    )
    max_per_phone = _money_field("Cap per phone", "The most a hub may pay for one phone.")
    min_per_phone = _money_field(
        "Fair-pay floor per phone", "The least a collector is paid for one phone."
    )
    second_hand_value = _money_field(
        "Second-hand value of a working basic phone", "The cap must stay below it."
    )
    source = forms.CharField(
        label="Source of the second-hand value",
        max_length=300,
        help_text="e.g. a market survey with its place and date.",
    )


class EndCapForm(forms.Form):
    cap = forms.ModelChoiceField(queryset=PriceCap.objects.all(), widget=forms.HiddenInput)
    last_day = forms.DateField(label="Last day", widget=forms.DateInput(attrs={"type": "date"}))


class ExchangeRateForm(forms.Form):
    currency = forms.CharField(label="Currency", max_length=3, help_text="ISO code, e.g. NGN")
    rate_date = forms.DateField(
        label="Date", widget=forms.DateInput(attrs={"type": "date"}), initial=timezone.localdate
    )
    units_per_eur = _money_field("Units per EUR", "How many units one euro buys.", places=6)
    source = forms.CharField(
        label="Source", max_length=300, help_text="e.g. ECB reference rate, Bank of Ghana."
    )
