"""Impact figures as people read them: one card per figure, in a unit that suits its size.

The cards are built from `queries.impact_figures` alone, so a certificate, the partner
dashboard, its PDF report and its exports show the same numbers for the same scope. A card keeps
the exact value and unit that `impact_figures` gave next to the rounded one it shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from oneforone.core.charts import Bar, horizontal_bars
from oneforone.impact import method as m
from oneforone.impact.models import MethodologyVersion, VersionStatus
from oneforone.impact.queries import ImpactFigures, Scope, impact_figures
from oneforone.registry.models import Certificate

METAL_NAMES: dict[str, Promise] = {
    "Au": _("Gold"),
    "Ag": _("Silver"),
    "Cu": _("Copper"),
    "Pd": _("Palladium"),
    "Pt": _("Platinum"),
    "Co": _("Cobalt"),
}
NOT_RECOVERED_NAMES: dict[str, Promise] = {
    "plastics": _("Plastics"),
    "lithium": _("Lithium"),
    "rare_earths": _("Rare earths"),
}
CHAIN_LABELS: dict[str, Promise] = {
    "content_g": _("in the phones"),
    "collected_g": _("collected"),
    "preprocessed_g": _("after pre-processing"),
    "recovered_g": _("recovered"),
}
# A bigger unit once a value reaches 1,000 of the stored one; grams also go down to milligrams.
LARGER = {"g": "kg", "kg": "t", "kg CO2e": "t CO2e"}
THOUSAND = Decimal(1000)


def scaled(value: Decimal, unit: str) -> tuple[Decimal, str]:
    """The value in the unit people would write it in, rounded to three significant digits or
    whole numbers: 1234.5 g -> 1.23 kg, 0.0123 g -> 12.3 mg."""
    if unit in LARGER and abs(value) >= THOUSAND:
        return scaled(value / THOUSAND, LARGER[unit])
    if unit == "g" and value and abs(value) < 1:
        value, unit = value * THOUSAND, "mg"
    size = abs(value)
    places = 2 if size < 10 else 1 if size < 100 else 0
    return value.quantize(Decimal(1).scaleb(-places)), unit


@dataclass(frozen=True)
class Card:
    key: str  # the figure's key, for its drill-down
    label: str | Promise
    value: Decimal | None  # exactly as `impact_figures` gives it, in `unit`
    unit: str
    note: str
    units_counted: int

    @property
    def shown(self) -> tuple[Decimal, str] | None:
        return None if self.value is None else scaled(self.value, self.unit)

    @property
    def shown_value(self) -> Decimal | None:
        shown = self.shown
        return None if shown is None else shown[0]

    @property
    def shown_unit(self) -> str:
        shown = self.shown
        return self.unit if shown is None else shown[1]

    @property
    def places(self) -> int:
        shown = self.shown_value
        return 0 if shown is None else max(0, -int(shown.as_tuple().exponent))

    @property
    def text(self) -> str:
        """The shown value and unit as the active language writes them, e.g. "1,234.5 kg"."""
        shown = self.shown
        if shown is None:
            return "-"
        grouped = number_format(shown[0], self.places, use_l10n=True, force_grouping=True)
        return f"{grouped} {shown[1]}"

    @property
    def number_format(self) -> str:
        """The `floatformat` argument that shows `shown_value` with grouping per language."""
        return f"{self.places}g"


@dataclass(frozen=True)
class MetalCard:
    metal: str
    name: str | Promise
    recovered: Card
    chain: list[tuple[Promise, Card]]

    @property
    def recovered_share(self) -> Decimal | None:
        """Recovered as a percentage of the content of the phones."""
        content = self.chain[0][1].value if self.chain else None
        if not content or self.recovered.value is None:
            return None
        return (self.recovered.value * 100 / content).quantize(Decimal("0.1"))


@dataclass
class ImpactCards:
    version: MethodologyVersion
    units: int  # units in the scope
    units_computed: int  # of which the batch has figures under the version
    mass: Card | None = None
    metals: list[MetalCard] = field(default_factory=list)
    avoided: Card | None = None
    transport: Card | None = None
    transport_tkm: Card | None = None
    living_wages: Card | None = None
    not_recovered: list[Card] = field(default_factory=list)

    @property
    def units_waiting(self) -> int:
        """Units whose batch has no figures under the version yet."""
        return self.units - self.units_computed

    def cards(self) -> list[Card]:
        """Every figure with a value (each metal with its whole recovery chain), in the order
        reports list them; the living-wage months are reported with their income lines."""
        listed = [self.mass, *(card for metal in self.metals for _stage, card in metal.chain)]
        listed += [self.avoided, self.transport, self.transport_tkm]
        return [card for card in listed if card is not None]

    def chart(self) -> str:
        """The share of each metal's content that is recovered, one bar per metal."""
        bars = [
            Bar(f"{metal.name} ({metal.metal})", float(metal.recovered_share))
            for metal in self.metals
            if metal.recovered_share is not None
        ]
        return horizontal_bars(
            bars,
            unit="%",
            width=380,
            label_w=120,
            title=str(_("Share of each metal in the phones that is recovered")),
            desc=", ".join(f"{bar.label}: {bar.value:.1f}%" for bar in bars),
        )


LABELS: dict[str, Promise] = {
    m.EWASTE_MASS: _("E-waste diverted"),
    m.AVOIDED_EMISSIONS: _("Emissions avoided"),
    m.TRANSPORT_EMISSIONS: _("Transport emissions"),
    m.TRANSPORT_TKM: _("Transport"),
    m.LIVING_WAGE_MONTHS: _("Living-wage months"),
}


def label_of(key: str) -> str | Promise:
    """A figure's name for people: every key `impact_figures` can return has one."""
    if key in LABELS:
        return LABELS[key]
    if key.startswith("not_recovered_"):
        material = key.removeprefix("not_recovered_")
        return NOT_RECOVERED_NAMES.get(material, material.replace("_", " ").capitalize())
    if key.startswith("metal_"):
        symbol, _sep, stage = key.removeprefix("metal_").partition("_")
        metal = symbol.capitalize()
        if stage not in CHAIN_LABELS:
            return key
        return f"{METAL_NAMES.get(metal, metal)} ({metal}) {CHAIN_LABELS.get(stage, stage)}"
    return key


def cards_of(figures: ImpactFigures) -> ImpactCards:
    """The scope's figures grouped as the cards show them."""

    def card(key: str, label: str | Promise | None = None) -> Card | None:
        figure = figures.figures.get(key)
        if figure is None:
            return None
        return Card(
            key, label or label_of(key), figure.value, figure.unit, figure.note,
            figure.units_counted,
        )  # fmt: skip

    result = ImpactCards(figures.version, figures.units, figures.units_computed)
    result.mass = card(m.EWASTE_MASS)
    result.avoided = card(m.AVOIDED_EMISSIONS)
    result.transport = card(m.TRANSPORT_EMISSIONS)
    result.transport_tkm = card(m.TRANSPORT_TKM)
    result.living_wages = card(m.LIVING_WAGE_MONTHS)
    metals = sorted(
        {key.split("_")[1] for key in figures.figures if key.startswith("metal_")},
        key=lambda symbol: (
            list(METAL_NAMES).index(symbol.capitalize())
            if symbol.capitalize() in METAL_NAMES
            else len(METAL_NAMES)
        ),
    )
    for symbol in metals:
        metal = symbol.capitalize()
        name = METAL_NAMES.get(metal, metal)
        recovered = card(m.metal_key(metal, "recovered_g"), f"{name} ({metal})")
        if recovered is None:
            continue
        chain = [
            (CHAIN_LABELS[stage], found)
            for stage in m.CHAIN
            if (found := card(m.metal_key(metal, stage))) is not None
        ]
        result.metals.append(MetalCard(metal, name, recovered, chain))
    result.not_recovered = [
        found
        for key in sorted(figures.figures)
        if key.startswith("not_recovered_") and (found := card(key)) is not None
    ]
    return result


def published_version(number: str | None) -> MethodologyVersion | None:
    """The published version of that number, else the latest published one (None: none yet).
    A draft is never chosen: its figures are not public."""
    published = MethodologyVersion.objects.filter(status=VersionStatus.PUBLISHED)
    chosen = published.filter(number=number).first() if number and number.isdigit() else None
    return chosen or published.order_by("-number").first()


def certificate_cards(certificate: Certificate, number: str | None = None) -> ImpactCards | None:
    """A certificate's figures: the units it covered when it was issued (also once withdrawn),
    under the chosen published version."""
    version = published_version(number)
    if version is None:
        return None
    return cards_of(impact_figures(Scope(certificate=certificate), version))
