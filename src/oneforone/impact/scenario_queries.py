"""What the scenario calculator reads from the database: the methodology version, the countries,
the living-wage benchmark and the price the service has paid per phone in a country."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from oneforone.collection import money_queries
from oneforone.collection.models import Area, Country
from oneforone.impact import actions, queries
from oneforone.impact import method as m
from oneforone.impact import scenario as s
from oneforone.impact.models import MethodologyVersion
from oneforone.registry.models import BatchIncome

FALLBACK_COUNTRY = "GH"  # the first country the service collected in


@dataclass(frozen=True)
class RecordedPrice:
    """Income paid into the collection network per phone of the issued batches of a country."""

    amount: Decimal
    phones: int
    currency: str

    @property
    def per_phone(self) -> Decimal:
        return (self.amount / self.phones).quantize(Decimal("0.0001"))


@dataclass
class Calculation:
    version: MethodologyVersion
    result: s.ScenarioResult
    country_name: str
    price_source: str  # "entered", "recorded" or "none"
    recorded: RecordedPrice | None


def version_of(number: int | None) -> MethodologyVersion:
    try:
        return queries.resolve_version(number)
    except MethodologyVersion.DoesNotExist:
        raise s.ScenarioError(
            "version",
            _("There is no published methodology version %(number)s: choose one listed.")
            % {"number": number},
        ) from None


def countries() -> list[Country]:
    return list(Country.objects.order_by("name"))


def main_country() -> str:
    """The country most of the issued phones came from (Ghana before any is issued)."""
    origins = queries.origins()
    return origins[0][0] if origins else FALLBACK_COUNTRY


def recorded_price(country: str, currency: str) -> RecordedPrice | None:
    row = BatchIncome.objects.filter(country=country, currency=currency).aggregate(
        amount=Sum("amount"), phones=Sum("phones")
    )
    if not row["phones"]:
        return None
    return RecordedPrice(row["amount"], row["phones"], currency)


def benchmark(country: str, area: str, year: int) -> m.BenchmarkInput | None:
    """The living wage of the place in that year, else the latest earlier one."""
    return actions.benchmark_input(money_queries.Benchmarks().for_year(country, area, year))


def calculate(
    *,
    version: int | None,
    phones: Decimal | None,
    population: Decimal | None,
    participation: Decimal | None,
    mix: Mapping[str, Decimal | None],
    country: str | None,
    area: str | None,
    price: Decimal | None,
) -> Calculation:
    """The scenario under a published version (default the latest); `s.ScenarioError` names the
    input to correct."""
    found = version_of(version)
    method = actions.load_method(found)
    code = country or main_country()
    place = Country.objects.filter(code=code).first()
    if place is None:
        raise s.ScenarioError("country", _("Choose one of the countries the service collects in."))
    if area not in (None, "", *Area.values):
        raise s.ScenarioError("area", _("Choose urban or rural."))
    scenario = s.build(
        phones=phones,
        population=population,
        participation=participation,
        mix=mix,
        kinds=s.phone_kinds(method),
        country=code,
        area=area or Area.URBAN,
        price_per_phone=price,
    )
    recorded = recorded_price(code, place.currency)
    source = "entered"
    if price is None:
        source = "none" if recorded is None else "recorded"
        if recorded is not None:
            scenario = dataclasses.replace(scenario, price_per_phone=recorded.per_phone)
    year = timezone.localdate().year
    result = s.compute(
        scenario,
        method,
        currency=place.currency,
        benchmark=benchmark(code, scenario.area, year),
        year=year,
    )
    return Calculation(found, result, place.name, source, recorded)
