"""The scenario calculator: what if a city's residents handed in their old phones?

Pure arithmetic: a scenario (phones, or a population and a participation rate; a mix of phone
kinds; the collection country and the price paid per phone) is computed by `impact.method.compute`,
the code that computes every issuance batch's stored figures, under one methodology version. The
scenario is treated as a batch with no weighed mass, so its mass is counted phones x the default
mass per phone of each kind; transport takes the version's route defaults (road to the port, sea
to Antwerp) and living-wage months the benchmark of the country. Nothing here reads the database:
`impact.scenario_queries` loads the method, the benchmark and the recorded price.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _

from oneforone.impact import method as m

MAX_POPULATION = 2_000_000_000  # more than any country but two
MAX_PARTICIPATION = Decimal(5)  # phones per resident: a household drawer holds a few, not dozens
MAX_PHONES = 10_000_000_000  # more phones than the world has in use
MAX_PRICE = Decimal(1_000_000)  # per phone, in the country's currency
PHONE_KIND_UNIT = "kg/phone"  # a version's factors in this unit are the kinds of phone to mix
DEFAULT_KIND = "phone-mass"
HUNDRED = Decimal(100)
LEGS = ("R", "S")  # by road to the port of loading, then by sea to the smelter


class ScenarioError(ValueError):
    """The scenario cannot be computed; `field` names the input, the message what to enter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Scenario:
    phones: int
    mix: dict[str, Decimal]  # phone kind (a factor key) -> share in percent, summing to 100
    country: str
    area: str = "urban"
    population: int | None = None
    participation: Decimal | None = None  # phones handed in per resident
    price_per_phone: Decimal | None = None  # in the country's currency; None: not known


@dataclass(frozen=True)
class PhoneKind:
    key: str
    name: str
    share: Decimal  # percent
    phones: int
    kg_per_phone: Decimal
    mass_kg: Decimal
    factor: m.FactorValue

    @property
    def grams_per_phone(self) -> Decimal:
        return self.kg_per_phone * m.GRAMS_PER_KG


@dataclass(frozen=True)
class MetalRecovery:
    metal: str
    grade_g_per_t: Decimal
    grade_source: str
    content_g: Decimal
    collected_g: Decimal
    preprocessed_g: Decimal
    recovered_g: Decimal
    stages: list[tuple[str, Decimal]]  # (stage factor key, value) in the chain's order

    @property
    def tonnes(self) -> Decimal:
        return self.content_g / self.grade_g_per_t if self.grade_g_per_t else Decimal(0)

    @property
    def lost_g(self) -> Decimal:
        """What the chain does not recover of the metal."""
        return self.content_g - self.recovered_g


@dataclass
class ScenarioResult:
    scenario: Scenario
    version_label: str
    currency: str
    kinds: list[PhoneKind]
    figures: dict[str, m.FigureValue]  # summed over the kinds, by key
    metals: list[MetalRecovery]
    factors: dict[tuple[str, str], m.FactorValue]  # every factor a figure used
    benchmark: m.BenchmarkInput | None
    not_recovered: list[str] = field(default_factory=list)

    @property
    def phones(self) -> int:
        return self.scenario.phones

    def value(self, key: str) -> Decimal | None:
        figure = self.figures.get(key)
        return None if figure is None else figure.value

    @property
    def mass_kg(self) -> Decimal:
        mass = self.value(m.EWASTE_MASS)
        assert mass is not None
        return mass

    @property
    def tonnes(self) -> Decimal:
        return self.mass_kg / m.KG_PER_TONNE

    @property
    def income(self) -> Decimal | None:
        price = self.scenario.price_per_phone
        return None if price is None else price * self.phones


# --- reading the inputs -------------------------------------------------------------------------


def phone_kinds(method: m.Method) -> list[m.FactorValue]:
    """The kinds of phone a version lets a scenario mix: its factors in kg per phone."""
    kinds = [f for f in method.factors.values() if f.unit == PHONE_KIND_UNIT and not f.qualifier]
    return sorted(kinds, key=lambda f: (f.key != DEFAULT_KIND, f.key))


def number(field: str, text: str | None, *, what: str, example: str = "250000") -> Decimal | None:
    """A decimal number typed by a person (a comma as decimal mark, spaces between thousands)."""
    if text is None or not str(text).strip():
        return None
    cleaned = str(text).strip().replace("\u00a0", "").replace(" ", "").replace("_", "")
    if "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ScenarioError(
            field,
            _("Enter %(what)s as a number, e.g. %(example)s.") % {"what": what, "example": example},
        ) from None
    if not value.is_finite():
        raise ScenarioError(
            field,
            _("Enter %(what)s as a number, e.g. %(example)s.") % {"what": what, "example": example},
        )
    return value


def whole(field: str, value: Decimal | None, *, what: str, most: int) -> int | None:
    if value is None:
        return None
    if value != value.to_integral_value():
        raise ScenarioError(field, _("Enter %(what)s as a whole number.") % {"what": what})
    if value < 1:
        raise ScenarioError(field, _("Enter %(what)s of at least 1.") % {"what": what})
    if value > most:
        raise ScenarioError(
            field,
            _("Enter %(what)s of at most %(most)s.") % {"what": what, "most": f"{most:,}"},
        )
    return int(value)


def build(
    *,
    phones: Decimal | None,
    population: Decimal | None,
    participation: Decimal | None,
    mix: Mapping[str, Decimal | None],
    kinds: Sequence[m.FactorValue],
    country: str,
    area: str = "urban",
    price_per_phone: Decimal | None = None,
) -> Scenario:
    """A checked scenario: phones given, or population x participation; a mix summing to 100 %."""
    direct = whole("phones", phones, what=_("the number of phones"), most=MAX_PHONES)
    residents = whole("population", population, what=_("the population"), most=MAX_POPULATION)
    if participation is not None and not Decimal(0) < participation <= MAX_PARTICIPATION:
        raise ScenarioError(
            "participation",
            _(
                "Enter the phones handed in per resident: more than 0 and at most %(most)s "
                "(1 means every resident hands in one phone, 0.4 means four in ten do)."
            )
            % {"most": MAX_PARTICIPATION},
        )
    if direct is not None:
        count = direct
    elif residents is None:
        raise ScenarioError(
            "population", _("Enter a population (with a participation rate) or a number of phones.")
        )
    else:
        rate = Decimal(1) if participation is None else participation
        count = int((residents * rate).to_integral_value(ROUND_HALF_UP))
        if count < 1:
            raise ScenarioError(
                "participation",
                _("At this participation nobody hands in a phone: enter a higher rate."),
            )
    if price_per_phone is not None and not Decimal(0) <= price_per_phone <= MAX_PRICE:
        raise ScenarioError(
            "price",
            _("Enter the price paid per phone: 0 or more, at most %(most)s.")
            % {"most": f"{MAX_PRICE:,}"},
        )
    return Scenario(
        phones=count,
        mix=_mix(mix, kinds),
        country=country,
        area=area,
        population=residents if direct is None else None,
        participation=(participation or Decimal(1)) if direct is None else None,
        price_per_phone=price_per_phone,
    )


def _mix(mix: Mapping[str, Decimal | None], kinds: Sequence[m.FactorValue]) -> dict[str, Decimal]:
    known = {k.key for k in kinds}
    unknown = sorted(set(mix) - known)
    if unknown:
        raise ScenarioError(
            "mix",
            _("Unknown phone kind %(kind)s: use %(known)s.")
            % {"kind": unknown[0], "known": ", ".join(sorted(known))},
        )
    shares = {key: share for key, share in mix.items() if share}
    if not shares:
        return {DEFAULT_KIND: HUNDRED} if DEFAULT_KIND in known else {kinds[0].key: HUNDRED}
    if any(share < 0 for share in shares.values()) or sum(shares.values()) != HUNDRED:
        raise ScenarioError(
            "mix", _("Enter the phone mix as percentages of 0 or more that add up to 100.")
        )
    return shares


# --- the computation ----------------------------------------------------------------------------


def split_phones(phones: int, mix: Mapping[str, Decimal]) -> dict[str, int]:
    """Whole phones per kind, adding up to `phones`: the largest remainders get the leftovers."""
    exact = {key: phones * share / HUNDRED for key, share in mix.items()}
    counts = {key: int(value) for key, value in exact.items()}
    leftover = phones - sum(counts.values())
    for key in sorted(exact, key=lambda k: (counts[k] - exact[k], k))[:leftover]:
        counts[key] += 1
    return counts


def compute(
    scenario: Scenario,
    method: m.Method,
    *,
    currency: str,
    benchmark: m.BenchmarkInput | None,
    year: int,
) -> ScenarioResult:
    """Every figure of the scenario under the method. The mass is `method.compute`'s for each
    phone kind (counted phones x that kind's default mass per phone); every other figure is one
    `method.compute` of the whole scenario with that mass, as for a batch with a weighed mass."""
    factors = {(f.key, f.qualifier): f for f in method.factors.values()}
    kinds: list[PhoneKind] = []
    masses: list[m.FigureValue] = []
    for key, count in split_phones(scenario.phones, scenario.mix).items():
        factor = method.factor(key)
        if factor is None or count == 0:
            continue
        kind_method = m.Method(
            method.label,
            method.factors.values(),
            {**method.rules, "mass": {**method.rule("mass"), "default": key}},
        )
        mass = m.compute(_batch(scenario, count, currency, benchmark, year), kind_method)[0]
        assert mass.value is not None
        masses.append(mass)
        kinds.append(
            PhoneKind(key, factor.name, scenario.mix[key], count, factor.value, mass.value, factor)
        )
    total = sum((kind.mass_kg for kind in kinds), start=Decimal(0))
    whole = m.compute(
        _batch(scenario, scenario.phones, currency, benchmark, year, mass_kg=total), method
    )
    figures = {f.key: f for f in [_combined(masses), *whole[1:]]}
    used = {
        (f["key"], f["qualifier"])
        for fig in figures.values()
        for f in fig.inputs.get("factors", [])
    }
    return ScenarioResult(
        scenario=scenario,
        version_label=method.label,
        currency=currency,
        kinds=kinds,
        figures=figures,
        metals=_metals(method, figures),
        factors={k: factors[k] for k in sorted(used) if k in factors},
        benchmark=benchmark,
        not_recovered=[f.note for key, f in figures.items() if key.startswith("not_recovered_")],
    )


def _combined(masses: list[m.FigureValue]) -> m.FigureValue:
    """The mass figure of one kind as it is; of several kinds, their sum with every input."""
    if len(masses) == 1:
        return masses[0]
    return m.FigureValue(
        m.EWASTE_MASS,
        sum((f.value or Decimal(0) for f in masses), start=Decimal(0)),
        "kg",
        "counted phones x the default mass per phone, for each kind of phone",
        {
            "source": "phones-x-default",
            "records": [r for f in masses for r in f.inputs["records"]],
            "factors": [used for f in masses for used in f.inputs["factors"]],
        },
    )


def _batch(
    scenario: Scenario,
    phones: int,
    currency: str,
    benchmark: m.BenchmarkInput | None,
    year: int,
    *,
    mass_kg: Decimal | None = None,
) -> m.BatchInputs:
    incomes = []
    if scenario.price_per_phone is not None:
        incomes.append(
            m.IncomeInput(
                id=None,
                country=scenario.country,
                area=scenario.area,
                year=benchmark.year if benchmark else year,
                currency=currency,
                amount=scenario.price_per_phone * phones,
                benchmark=benchmark,
            )
        )
    return m.BatchInputs(
        batch_id=None,
        phones=phones,
        origin_country=scenario.country,
        consignment="scenario",
        net_weight_kg=mass_kg,
        shipped_weight_kg=mass_kg,
        legs=[m.LegInput(id=None, sequence=i, mode=mode) for i, mode in enumerate(LEGS, 1)],
        incomes=incomes,
    )


def _metals(method: m.Method, figures: dict[str, m.FigureValue]) -> list[MetalRecovery]:
    stages = method.rule("recovery-chain").get("stages", [])
    metals = []
    for metal in method.metals:
        content = figures.get(m.metal_key(metal, m.CHAIN[0]))
        if content is None or content.value is None:
            continue
        chain = [figures[m.metal_key(metal, stage)].value or Decimal(0) for stage in m.CHAIN[1:]]
        stage_values = []
        for stage in stages:
            factor = method.factor(stage, metal)
            stage_values.append((stage, factor.value if factor else Decimal(0)))
        metals.append(
            MetalRecovery(
                metal=metal,
                grade_g_per_t=Decimal(content.inputs["grade_g_per_t"]),
                grade_source=content.inputs["grade_source"],
                content_g=content.value,
                collected_g=chain[0],
                preprocessed_g=chain[1],
                recovered_g=chain[2],
                stages=stage_values,
            )
        )
    return metals
