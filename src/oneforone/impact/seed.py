"""The factors and rules of methodology version 1 ("2026.1"), from DOMAIN.md section 4.

Loaded by the data migration (with the migration's historical models) and by the tests after a
flush (with the real ones). A published version is frozen by the database: a change is a new
version, drafted and published through `impact.actions`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

# (key, qualifier, name, value, unit, source, source year, confidence, note)
FactorRow = tuple[str, str, str, str, str, str, int | None, str, str]

_OPERATOR_2024 = "operator figures 2024 (one-for-one service, collected African phone stream)"
_STREAM_2024 = (
    "operator figures 2024: 7 kg Au, 37 kg Ag, 6,300 kg Cu in 1.5 M phones (82.5 t at 55 g a phone)"
)
_NUSS = "Nuss & Eckelman 2014, PLoS ONE 9(7) e101298 (transcribed; check the original table)"
_ROUTE = (
    "oneforone route default: port-to-port sailing distance to Antwerp, rounded to 100 km; "
    "replace with the carrier's measured distance"
)
_ROAD = "oneforone route default: hub to port of loading by road, rounded; measured beats it"

FACTORS_2026_1: list[FactorRow] = [
    (
        "phone-mass",
        "",
        "Mass of a collected phone without battery (default)",
        "0.055",
        "kg/phone",
        f"{_OPERATOR_2024}: 53-57 g a phone, mid-point",
        2024,
        "verified",
        "used only where the recycler's weighed net mass is missing",
    ),
    (
        "phone-mass-un-average",
        "",
        "UN average mobile phone (UNU-KEY 0306), for comparison",
        "0.09",
        "kg/phone",
        "Statistics Netherlands e-waste tables (2006-2012)",
        2012,
        "verified",
        "not used in the computation: the collected stream is lighter (no batteries)",
    ),
    (
        "grade",
        "Au",
        "Gold grade of the collected stream",
        "84.85",
        "g/t",
        _STREAM_2024,
        2024,
        "estimate",
        "7,000 g / 82.5 t; literature grades (347 g/t) are about 4x higher",
    ),
    (
        "grade",
        "Ag",
        "Silver grade of the collected stream",
        "448.48",
        "g/t",
        _STREAM_2024,
        2024,
        "estimate",
        "37,000 g / 82.5 t",
    ),
    (
        "grade",
        "Cu",
        "Copper grade of the collected stream",
        "76363.64",
        "g/t",
        _STREAM_2024,
        2024,
        "estimate",
        "6,300,000 g / 82.5 t",
    ),
    (
        "grade",
        "Pd",
        "Palladium grade per tonne of phones (literature)",
        "150",
        "g/t",
        "Valero Navazo 2014, Int J LCA",
        2014,
        "verified",
        "no stream figure for palladium; literature grades overstate the collected stream",
    ),
    (
        "collection-yield",
        "",
        "Share of the counted phones that reaches treatment",
        "1",
        "fraction",
        "the recycler's counted reception is what is treated (one unit per counted phone)",
        2026,
        "measured",
        "refused phones are neither counted into the batch nor weighed into it",
    ),
    (
        "pre-processing-yield",
        "",
        "Share of each metal kept by pre-processing",
        "1",
        "fraction",
        "operator practice: phones without batteries go whole into the integrated smelter",
        2026,
        "estimate",
        "no shredding or sorting step loses metal before the smelter",
    ),
    (
        "smelter-yield",
        "Au",
        "Gold recovered at an integrated smelter",
        "0.95",
        "fraction",
        "Umicore statements: more than 95% of precious metals recovered",
        None,
        "verified",
        "",
    ),
    (
        "smelter-yield",
        "Ag",
        "Silver recovered at an integrated smelter",
        "0.95",
        "fraction",
        "Umicore statements: more than 95% of precious metals recovered",
        None,
        "verified",
        "",
    ),
    (
        "smelter-yield",
        "Pd",
        "Palladium recovered at an integrated smelter",
        "0.95",
        "fraction",
        "Umicore statements: more than 95% of precious metals recovered",
        None,
        "verified",
        "",
    ),
    (
        "smelter-yield",
        "Cu",
        "Copper recovered at an integrated smelter",
        "0.95",
        "fraction",
        "assumed equal to the precious-metal yield (Umicore statements); to be confirmed",
        None,
        "estimate",
        "",
    ),
    (
        "ghg-primary",
        "Au",
        "Primary production GHG, gold",
        "12500",
        "kg CO2e/kg",
        _NUSS,
        2014,
        "verified",
        "",
    ),
    (
        "ghg-primary",
        "Pd",
        "Primary production GHG, palladium",
        "3880",
        "kg CO2e/kg",
        _NUSS,
        2014,
        "verified",
        "",
    ),
    (
        "ghg-primary",
        "Ag",
        "Primary production GHG, silver",
        "196",
        "kg CO2e/kg",
        _NUSS,
        2014,
        "verified",
        "",
    ),
    (
        "ghg-primary",
        "Cu",
        "Primary production GHG, copper",
        "2.8",
        "kg CO2e/kg",
        _NUSS,
        2014,
        "verified",
        "",
    ),
    (
        "ghg-primary",
        "Co",
        "Primary production GHG, cobalt",
        "8.3",
        "kg CO2e/kg",
        _NUSS,
        2014,
        "verified",
        "no grade for cobalt in this version: not computed",
    ),
    (
        "ghg-recycled",
        "Au",
        "GHG of gold from e-scrap recycling",
        "1000",
        "kg CO2e/kg",
        "Fritz et al. 2020 (about 1 t CO2e per kg Au, against about 16 t mined)",
        2020,
        "verified",
        "",
    ),
    (
        "transport-intensity",
        "S",
        "Container shipping, well-to-wheel",
        "0.00894",
        "kg CO2e/t-km",
        "GLEC Framework v3.1 default (0.0894 kg per TEU-km at 10 t/TEU)",
        2024,
        "verified",
        "",
    ),
    (
        "route-distance",
        "GH-S",
        "Sea leg Tema - Antwerp (default)",
        "7800",
        "km",
        _ROUTE,
        2026,
        "low",
        "",
    ),
    (
        "route-distance",
        "NG-S",
        "Sea leg Lagos (Apapa) - Antwerp (default)",
        "8200",
        "km",
        _ROUTE,
        2026,
        "low",
        "",
    ),
    (
        "route-distance",
        "CM-S",
        "Sea leg Douala - Antwerp (default)",
        "8900",
        "km",
        _ROUTE,
        2026,
        "low",
        "",
    ),
    (
        "route-distance",
        "GH-R",
        "Road leg in Ghana, hub to Tema (default)",
        "40",
        "km",
        _ROAD,
        2026,
        "low",
        "",
    ),
    (
        "route-distance",
        "NG-R",
        "Road leg in Nigeria, hub to Apapa (default)",
        "40",
        "km",
        _ROAD,
        2026,
        "low",
        "",
    ),
    (
        "route-distance",
        "CM-R",
        "Road leg in Cameroon, hub to Douala (default)",
        "40",
        "km",
        _ROAD,
        2026,
        "low",
        "",
    ),
]

METALS = ["Au", "Ag", "Pd", "Cu", "Co"]

# (key, statement, parameters)
RULES_2026_1: list[tuple[str, str, dict[str, Any]]] = [
    (
        "mass",
        "Measured mass beats the default: the recycler's weighed net mass at reception; "
        "only where none is recorded, counted phones x the default mass per phone.",
        {"order": ["reception-net-weight", "phones-x-default"], "default": "phone-mass"},
    ),
    (
        "grade",
        "Lot assays beat literature grades: a metal's content is the consignment's assayed "
        "grade (the mean of its assays weighted by sample mass) where assayed, else the version's "
        "grade; grades apply per tonne of e-waste, never per phone.",
        {"order": ["lot-assay", "grade"], "basis": "per-tonne", "assay-mean": "sample-mass"},
    ),
    ("metals", "Metals are computed where the version has a grade for them.", {"metals": METALS}),
    (
        "recovery-chain",
        "Recovery is shown as a chain per metal: content x collection yield x "
        "pre-processing yield x smelter yield.",
        {"stages": ["collection-yield", "pre-processing-yield", "smelter-yield"]},
    ),
    (
        "avoided-emissions",
        "Avoided emissions = recovered mass x (primary production GHG - "
        "recycling GHG), for metals with both factors. They are reported apart from a partner's "
        "scope 1-3 inventory and never netted against it (WBCSD avoided-emissions guidance).",
        {"primary": "ghg-primary", "recycled": "ghg-recycled"},
    ),
    (
        "transport-emissions",
        "Transport emissions = net mass shipped (t) x leg distance (km) x "
        "the mode's intensity, per carrier leg; a leg's measured distance beats the route default "
        "(origin country and mode), which has a low confidence. Reported as emitted, not netted.",
        {"order": ["measured-distance", "route-distance"], "intensity": "transport-intensity"},
    ),
    (
        "not-recovered",
        "What is not recovered as material.",
        {
            "materials": [
                {"key": "plastics", "statement": "plastics are burned in the smelter for energy"},
                {
                    "key": "lithium",
                    "statement": "lithium is not recovered (batteries travel apart)",
                },
                {
                    "key": "rare-earths",
                    "statement": "rare earths (magnets, speakers) are not recovered",
                },
            ]
        },
    ),
    (
        "living-wage",
        "Living-wage months = income paid to collectors for the batch's phones / "
        "the monthly living wage of the hub's country, area and year (else the latest earlier "
        "year); where no benchmark exists the figure is 'no benchmark', never zero.",
        {"benchmarks": "collection.LivingWageBenchmark"},
    ),
]


def load_version(
    version_model: Any,
    factor_model: Any,
    rule_model: Any,
    *,
    number: int,
    label: str,
    title: str,
    change_notes: str,
    factors: list[FactorRow],
    rules: list[tuple[str, str, dict[str, Any]]],
    created_at: Any,
    publish: bool,
) -> Any:
    """Write a version with its factors and rules, then publish it (the trigger freezes it)."""
    version = version_model.objects.create(
        number=number, label=label, title=title, change_notes=change_notes, created_at=created_at
    )
    factor_model.objects.bulk_create(
        factor_model(
            version=version,
            key=key,
            qualifier=qualifier,
            name=name,
            value=Decimal(value),
            unit=unit,
            source=source,
            source_year=year,
            confidence=confidence,
            note=note,
        )
        for key, qualifier, name, value, unit, source, year, confidence, note in factors
    )
    rule_model.objects.bulk_create(
        rule_model(version=version, key=key, position=i, statement=statement, parameters=params)
        for i, (key, statement, params) in enumerate(rules, start=1)
    )
    if publish:
        version.status = "published"
        version.published_at = created_at
        version.save(update_fields=["status", "published_at"])
    return version


def load_2026_1(version_model: Any, factor_model: Any, rule_model: Any, created_at: Any) -> Any:
    return load_version(
        version_model,
        factor_model,
        rule_model,
        number=1,
        label="2026.1",
        title="Collected African phone stream, integrated smelter in Belgium",
        change_notes="First version: the factors and sources of DOMAIN.md section 4.",
        factors=FACTORS_2026_1,
        rules=RULES_2026_1,
        created_at=created_at,
        publish=True,
    )
