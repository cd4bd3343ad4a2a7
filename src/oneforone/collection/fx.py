"""Converting local currencies to EUR for reports, with the dated rate and its source named.

Reporting only: recorded amounts stay in the currency they were paid in and are never changed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils.formats import date_format, number_format
from django.utils.translation import gettext

from oneforone.collection.models import ExchangeRate
from oneforone.core.money import check_currency, quantize

REPORTING_CURRENCY = "EUR"


class NoRate(LookupError):
    """No exchange rate on or before the day; the message says which one to record."""


@dataclass(frozen=True)
class Converted:
    eur: Decimal
    rate: ExchangeRate | None  # None when the amount was in EUR already

    @property
    def basis(self) -> str:
        """Which rate was used, for a footnote next to the figure."""
        if self.rate is None:
            return gettext("in EUR already")
        return gettext("1 EUR = %(units)s %(currency)s on %(day)s (%(source)s)") % {
            "units": number_format(self.rate.units_per_eur.normalize()),
            "currency": self.rate.currency,
            "day": date_format(self.rate.rate_date, "d M Y"),
            "source": self.rate.source,
        }


def rate_on(currency: str, on: dt.date) -> ExchangeRate:
    """The latest rate on or before `on`: never a later one."""
    currency = check_currency(currency)
    rate = (
        ExchangeRate.objects.filter(currency=currency, rate_date__lte=on)
        .order_by("-rate_date")
        .first()
    )
    if rate is None:
        raise NoRate(
            gettext(
                "no %(currency)s exchange rate on or before %(day)s; record one on the "
                "exchange rates page"
            )
            % {"currency": currency, "day": date_format(on, "d M Y")}
        )
    return rate


def to_eur(amount: Decimal, currency: str, on: dt.date) -> Converted:
    """`amount` in EUR at the latest rate on or before `on`, rounded to the cent."""
    if isinstance(amount, float) or not isinstance(amount, Decimal | int):
        raise TypeError("money is never a float; pass a Decimal")
    currency = check_currency(currency)
    if currency == REPORTING_CURRENCY:
        return Converted(quantize(Decimal(amount), REPORTING_CURRENCY), None)
    rate = rate_on(currency, on)
    return Converted(quantize(Decimal(amount) / rate.units_per_eur, REPORTING_CURRENCY), rate)


class RateBook:
    """Rates of a few currencies loaded once, for pages that convert many amounts."""

    def __init__(self, currencies: set[str]) -> None:
        self._rates: dict[str, list[ExchangeRate]] = {c: [] for c in currencies}
        for rate in ExchangeRate.objects.filter(currency__in=currencies).order_by("rate_date"):
            self._rates[rate.currency].append(rate)

    def to_eur(self, amount: Decimal, currency: str, on: dt.date) -> Converted | None:
        """Like `to_eur`, but None where no rate is on or before the day."""
        if isinstance(amount, float):
            raise TypeError("money is never a float; pass a Decimal")
        if currency == REPORTING_CURRENCY:
            return Converted(quantize(amount, REPORTING_CURRENCY), None)
        earlier = [r for r in self._rates.get(currency, []) if r.rate_date <= on]
        if not earlier:
            return None
        rate = earlier[-1]
        return Converted(quantize(amount / rate.units_per_eur, REPORTING_CURRENCY), rate)
