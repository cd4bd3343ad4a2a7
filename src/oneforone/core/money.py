"""Exact money: Decimal amounts with an ISO 4217 currency and one rounding rule."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from babel.numbers import format_currency, get_currency_precision, is_currency
from django.utils.translation import get_language

BABEL_LOCALES = frozenset({"en", "nl", "fr"})


class CurrencyError(ValueError):
    pass


def check_currency(code: str) -> str:
    code = code.strip().upper()
    if not is_currency(code):
        raise CurrencyError(f"{code!r} is not an ISO 4217 currency code")
    return code


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round to the currency's minor unit, banker's rounding; the only rounding helper."""
    if isinstance(amount, float):
        raise TypeError("money is never a float; pass a Decimal or a string")
    exponent = Decimal(1).scaleb(-get_currency_precision(check_currency(currency)))
    return Decimal(amount).quantize(exponent, rounding=ROUND_HALF_EVEN)


def active_locale() -> str:
    """The babel locale of the active Django language (en, nl or fr); English outside a request."""
    language = (get_language() or "en").split("-")[0].lower()
    return language if language in BABEL_LOCALES else "en"


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "currency", check_currency(self.currency))
        object.__setattr__(self, "amount", quantize(self.amount, self.currency))

    def __str__(self) -> str:
        """The amount as people read it in the active language: € 1.234,56 in Dutch, 1 234,56 € in
        French (a plain `amount currency` is the machine form: use the fields for stored values)."""
        return format_currency(self.amount, self.currency, locale=active_locale())
