"""Forms of the money pages: they parse and explain; the payment actions decide."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy

from oneforone.accounts.models import Organisation, OrganisationKind
from oneforone.collection.models import Country, PaymentKind, PaymentMethod, PriceCap
from oneforone.collection.payment_actions import FEE_KINDS

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

MONEY_INPUT = {"inputmode": "decimal", "autocomplete": "off"}


def _money_field(
    label: StrOrPromise, help_text: StrOrPromise = "", places: int = 4
) -> forms.DecimalField:
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
        label=gettext_lazy("Paid with"),
        choices=[
            (PaymentMethod.CASH, gettext_lazy("Cash")),
            (PaymentMethod.MOBILE_MONEY, gettext_lazy("Mobile money")),
        ],
        initial=PaymentMethod.CASH,
    )
    reference = forms.CharField(
        label=gettext_lazy("Mobile-money reference"),
        required=False,
        max_length=100,
        help_text=gettext_lazy("From the confirmation message; not needed for cash."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("method") != PaymentMethod.CASH and not data.get("reference", "").strip():
            self.add_error(
                "reference",
                gettext_lazy("Enter the transaction reference from the confirmation message."),
            )
        return data


class ReverseForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why is it reversed?"),
        max_length=300,
        error_messages={"required": gettext_lazy("Say why; the reason stays in the ledger.")},
    )


def _months_back(count: int) -> list[tuple[str, str]]:
    month = timezone.localdate().replace(day=1)
    choices = []
    for _ in range(count):
        month = (month - dt.timedelta(days=1)).replace(day=1)
        choices.append((month.isoformat(), date_format(month, "F Y")))
    return choices


class HandlingFeeForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=gettext_lazy("Collection partner"),
        queryset=Organisation.objects.filter(kind=OrganisationKind.COLLECTION_PARTNER),
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Fee"),
        choices=[(k.value, k.label) for k in PaymentKind if k in FEE_KINDS],
    )
    period = forms.TypedChoiceField(
        label=gettext_lazy("Month"), coerce=dt.date.fromisoformat, choices=()
    )
    method = forms.ChoiceField(
        label=gettext_lazy("Paid with"),
        choices=PaymentMethod.choices,
        initial=PaymentMethod.BANK_TRANSFER,
    )
    reference = forms.CharField(
        label=gettext_lazy("Transfer reference"), required=False, max_length=100
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["period"].choices = _months_back(12)  # type: ignore[attr-defined]


class FeeRateForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=gettext_lazy("Collection partner"),
        queryset=Organisation.objects.filter(kind=OrganisationKind.COLLECTION_PARTNER),
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Fee"),
        choices=[(k.value, k.label) for k in PaymentKind if k in FEE_KINDS],
    )
    per_phone = _money_field(gettext_lazy("Per phone collected"))
    currency = forms.CharField(
        label=gettext_lazy("Currency"), max_length=3, help_text=gettext_lazy("ISO code, e.g. GHS")
    )
    valid_from = forms.DateField(
        label=gettext_lazy("From"),
        widget=forms.DateInput(attrs={"type": "date"}),
        initial=timezone.localdate,
    )


class PriceCapForm(forms.Form):
    country = forms.ModelChoiceField(label=gettext_lazy("Country"), queryset=Country.objects.all())
    valid_from = forms.DateField(
        label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    valid_until = forms.DateField(
        label=gettext_lazy("Until (last day)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Leave empty for an open end."),
    )
    max_per_phone = _money_field(
        gettext_lazy("Cap per phone"), gettext_lazy("The most a hub may pay for one phone.")
    )
    min_per_phone = _money_field(
        gettext_lazy("Fair-pay floor per phone"),
        gettext_lazy("The least a collector is paid for one phone."),
    )
    second_hand_value = _money_field(
        gettext_lazy("Second-hand value of a working basic phone"),
        gettext_lazy("The cap must stay below it."),
    )
    source = forms.CharField(
        label=gettext_lazy("Source of the second-hand value"),
        max_length=300,
        help_text=gettext_lazy("e.g. a market survey with its place and date."),
    )


class EndCapForm(forms.Form):
    cap = forms.ModelChoiceField(
        label=gettext_lazy("Cap"), queryset=PriceCap.objects.all(), widget=forms.HiddenInput
    )
    last_day = forms.DateField(
        label=gettext_lazy("Last day"), widget=forms.DateInput(attrs={"type": "date"})
    )


class ExchangeRateForm(forms.Form):
    currency = forms.CharField(
        label=gettext_lazy("Currency"), max_length=3, help_text=gettext_lazy("ISO code, e.g. NGN")
    )
    rate_date = forms.DateField(
        label=gettext_lazy("Date"),
        widget=forms.DateInput(attrs={"type": "date"}),
        initial=timezone.localdate,
    )
    units_per_eur = _money_field(
        gettext_lazy("Units per EUR"), gettext_lazy("How many units one euro buys."), places=6
    )
    source = forms.CharField(
        label=gettext_lazy("Source"),
        max_length=300,
        help_text=gettext_lazy("e.g. ECB reference rate, Bank of Ghana."),
    )
