"""Money is exact: Decimal with an ISO 4217 currency, rounded by one helper, never a float."""

from __future__ import annotations

from decimal import Decimal

import pytest

from oneforone.core.money import CurrencyError, Money, check_currency, quantize


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("1234.5", "JPY", "1234"),  # no minor unit; half to even
        ("1235.5", "JPY", "1236"),
        ("10.005", "EUR", "10.00"),
        ("10.015", "EUR", "10.02"),
        ("10.0151", "EUR", "10.02"),
        ("0.125", "USD", "0.12"),
        ("7.3333", "GHS", "7.33"),
        ("1500.6", "XAF", "1501"),  # CFA franc: no minor unit
        ("12.3456", "KWD", "12.346"),  # three decimals
        ("-2.675", "EUR", "-2.68"),
        ("3", "EUR", "3.00"),
    ],
)
def test_quantize_rounds_to_the_currencys_minor_unit(
    amount: str, currency: str, expected: str
) -> None:
    result = quantize(Decimal(amount), currency)
    assert result == Decimal(expected)
    assert str(result) == expected  # the exponent too: JPY has no decimals, KWD three


def test_quantize_accepts_a_lower_case_currency_and_an_integer() -> None:
    assert str(quantize(5, "eur")) == "5.00"  # type: ignore[arg-type]


def test_a_float_is_refused() -> None:
    with pytest.raises(TypeError, match="never a float"):
        quantize(0.1, "EUR")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="never a float"):
        Money(0.1, "EUR")  # type: ignore[arg-type]


@pytest.mark.parametrize("code", ["XYZ", "EURO", "", "€", "12"])
def test_an_unknown_currency_is_refused(code: str) -> None:
    with pytest.raises(CurrencyError, match="not an ISO 4217 currency code"):
        check_currency(code)
    with pytest.raises(CurrencyError):
        quantize(Decimal(1), code)
    with pytest.raises(CurrencyError):
        Money(Decimal(1), code)


def test_check_currency_normalises_the_code() -> None:
    assert check_currency(" ghs ") == "GHS"


def test_money_is_rounded_and_normalised_on_creation() -> None:
    money = Money(Decimal("19.999"), "eur")
    assert money == Money(Decimal("20.00"), "EUR")
    assert money.amount == Decimal("20.00")
    assert str(money) == "€20.00"
    assert str(Money(Decimal("1234.5"), "JPY")) == "¥1,234"


def test_money_is_immutable() -> None:
    money = Money(Decimal(1), "EUR")
    with pytest.raises(AttributeError):
        money.amount = Decimal(2)  # type: ignore[misc]
