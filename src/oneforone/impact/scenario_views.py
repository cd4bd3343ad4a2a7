"""The public scenario calculator page: a GET form, so that a result's address can be shared."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from oneforone.core.charts import PALETTE, Bar, horizontal_bars
from oneforone.core.ratelimit import rate_limited
from oneforone.impact import actions, queries, scenario_queries
from oneforone.impact import method as m
from oneforone.impact import scenario as s
from oneforone.impact.models import MethodologyVersion

MIX_PREFIX = "mix-"
MODES = {"R": gettext_lazy("By road"), "S": gettext_lazy("By sea")}
GRAMS_PER_KG = Decimal(1000)


@dataclass(frozen=True)
class Preset:
    label: Any
    params: dict[str, str]

    @property
    def query(self) -> str:
        return urlencode(self.params)


PRESETS = (
    Preset(
        gettext_lazy("Every resident of London hands in one phone (8,000,000 phones)"),
        {"population": "8000000", "participation": "1"},
    ),
    Preset(
        gettext_lazy("A city of 250,000 residents, four in ten take part"),
        {"population": "250000", "participation": "0.4"},
    ),
    Preset(gettext_lazy("One million phones"), {"phones": "1000000"}),
)


class ScenarioForm(forms.Form):
    """Every field is text, read by `scenario.number`, so that a mistake gets a message saying
    what to enter instead of a browser's generic complaint."""

    population = forms.CharField(
        label=gettext_lazy("Population"),
        required=False,
        help_text=gettext_lazy("Residents of the city or country, e.g. 250000."),
    )
    participation = forms.CharField(
        label=gettext_lazy("Phones handed in per resident"),
        required=False,
        help_text=gettext_lazy(
            "1 = every resident hands in one phone; 0.4 = four residents in ten do."
        ),
    )
    phones = forms.CharField(
        label=gettext_lazy("Or a number of phones"),
        required=False,
        help_text=gettext_lazy("When given, population and participation are not used."),
    )
    country = forms.ChoiceField(label=gettext_lazy("Collection country"), required=False)
    area = forms.ChoiceField(
        label=gettext_lazy("Living wage of"),
        required=False,
        choices=[("urban", gettext_lazy("towns")), ("rural", gettext_lazy("the countryside"))],
    )
    price = forms.CharField(
        label=gettext_lazy("Paid per phone (local currency)"),
        required=False,
        help_text=gettext_lazy("Empty: what the service has paid per phone in that country."),
    )
    version = forms.ChoiceField(label=gettext_lazy("Methodology version"), required=False)

    def __init__(self, data: QueryDict, versions: list[MethodologyVersion], **kw: Any) -> None:
        super().__init__(data, **kw)
        version_field = self.fields["version"]
        country_field = self.fields["country"]
        assert isinstance(version_field, forms.ChoiceField)
        assert isinstance(country_field, forms.ChoiceField)
        version_field.choices = [(str(v.number), f"{v.label}: {v.title}") for v in versions]
        country_field.choices = [(c.code, c.name) for c in scenario_queries.countries()]
        chosen = next((v for v in versions if str(v.number) == data.get("version")), None)
        self.method = actions.load_method(chosen or versions[0])
        self.kinds = s.phone_kinds(self.method)
        for kind in self.kinds:
            self.fields[MIX_PREFIX + kind.key] = forms.CharField(
                label=_("%(kind)s, %(grams)s g a phone (percent)")
                % {
                    "kind": kind.name,
                    "grams": format((kind.value * GRAMS_PER_KG).normalize(), "f"),
                },
                required=False,
            )

    def mix_fields(self) -> list[forms.BoundField]:
        return [self[MIX_PREFIX + kind.key] for kind in self.kinds]

    def calculate(self) -> scenario_queries.Calculation | None:
        if not self.is_valid():
            return None
        data = self.cleaned_data
        try:
            numbers = {
                "phones": s.number("phones", data["phones"], what=_("the number of phones")),
                "population": s.number("population", data["population"], what=_("the population")),
                "participation": s.number(
                    "participation",
                    data["participation"],
                    what=_("the phones per resident"),
                    example="0.4",
                ),
                "price": s.number(
                    "price", data["price"], what=_("the price per phone"), example="2.60"
                ),
            }
            mix = {
                kind.key: s.number(
                    "mix", data[MIX_PREFIX + kind.key], what=_("a share"), example="70"
                )
                for kind in self.kinds
            }
            return scenario_queries.calculate(
                version=int(data["version"]) if data["version"] else None,
                mix=mix,
                country=data["country"] or None,
                area=data["area"] or None,
                **numbers,
            )
        except s.ScenarioError as error:
            field = error.field if error.field in self.fields else None
            if error.field == "mix":
                field = MIX_PREFIX + self.kinds[0].key
            self.add_error(field, error.message)
            return None


@rate_limited("public", limit=120, window=dt.timedelta(minutes=1))
def calculator(request: HttpRequest) -> HttpResponse:
    versions = queries.methodology_versions()
    if not versions:
        raise Http404(_("No methodology version is published yet: the calculator has no factors."))
    asked = bool(set(request.GET) - {"language"})
    data = request.GET.copy()
    data.setdefault("country", scenario_queries.main_country())
    form = ScenarioForm(data, versions)
    calculation = form.calculate() if asked else None
    context: dict[str, Any] = {
        "form": form,
        "presets": PRESETS,
        "calculation": calculation,
        "asked": asked,
    }
    if calculation is not None:
        context.update(explained(calculation))
        context["api_query"] = api_query(calculation.result, calculation.version.number)
    return render(request, "impact/calculator.html", context, status=200)


def api_query(result: s.ScenarioResult, version: int) -> str:
    """The scenario as the API's query string."""
    scenario = result.scenario
    params: dict[str, str] = {"version": str(version), "country": scenario.country}
    if scenario.population is not None:
        params["population"] = str(scenario.population)
        params["participation"] = str(scenario.participation)
    else:
        params["phones"] = str(scenario.phones)
    params["area"] = scenario.area
    params["mix"] = ",".join(f"{key}:{share}" for key, share in scenario.mix.items())
    return urlencode(params)


def explained(calculation: scenario_queries.Calculation) -> dict[str, Any]:
    """What the page shows beside the figures: each step's factors (with their sources), the
    chart of metals recovered."""
    result = calculation.result
    factors = result.factors

    def factor(key: str, qualifier: str = "") -> m.FactorValue | None:
        return factors.get((key, qualifier)) or factors.get((key, ""))

    avoided = result.figures[m.AVOIDED_EMISSIONS]
    transport = result.figures[m.TRANSPORT_TKM]
    country = result.scenario.country
    return {
        "result": result,
        "metal_rows": [
            {
                "recovery": metal,
                "grade": factor("grade", metal.metal),
                "stages": [(factor(key, metal.metal), value) for key, value in metal.stages],
            }
            for metal in result.metals
        ],
        "avoided": avoided,
        "avoided_rows": [
            {
                **line,
                "recovered_kg": Decimal(line["recovered_g"]) / GRAMS_PER_KG,
                "primary": factor("ghg-primary", line["metal"]),
                "recycled": factor("ghg-recycled", line["metal"]),
            }
            for line in avoided.inputs.get("metals", [])
        ],
        "transport_rows": [
            {
                **leg,
                "mode_name": MODES.get(leg["mode"], leg["mode"]),
                "distance": factor("route-distance", f"{country}-{leg['mode']}"),
                "intensity": factors.get(("transport-intensity", leg["mode"])),
            }
            for leg in transport.inputs.get("records", [])[1:]
        ],
        "transport_tkm": transport.value,
        "transport_emissions": result.figures[m.TRANSPORT_EMISSIONS],
        "living_wage_months": result.value(m.LIVING_WAGE_MONTHS),
        "metal_chart": _metal_chart(result),
    }


def _metal_chart(result: s.ScenarioResult) -> Any:
    biggest = max((metal.recovered_g for metal in result.metals), default=Decimal(0))
    in_kg = biggest >= 1_000_000
    return horizontal_bars(
        [
            Bar(
                metal.metal,
                float(metal.recovered_g / GRAMS_PER_KG if in_kg else metal.recovered_g),
                PALETTE[i % len(PALETTE)],
            )
            for i, metal in enumerate(result.metals)
        ],
        title=_("Metals recovered, by metal"),
        desc=_("Recovered at the smelter from the scenario's phones, under methodology %(v)s.")
        % {"v": result.version_label},
        unit=" kg" if in_kg else " g",
        width=340,
        label_w=40,
    )
