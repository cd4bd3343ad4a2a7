"""The scenario calculator reproduces the service's headline figure (8,000,000 phones at 55 g a
phone are 440 tonnes) and, for a worked example, every figure a person computes by hand from the
factors of methodology 2026.1: the module, the page and the API give the same numbers."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from html import unescape
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from factories import World, issue
from oneforone.impact import actions
from oneforone.impact import method as m
from oneforone.impact.scenario import ScenarioError
from oneforone.impact.scenario_queries import Calculation, calculate

Capture = Callable[..., Any]
PRECISION = Decimal("0.0000000001")  # the method's 10 decimal places


@pytest.fixture(autouse=True)
def _no_cached_pages() -> None:
    cache.clear()


def scenario(**given: Any) -> Calculation:
    inputs: dict[str, Any] = {
        "version": None,
        "phones": None,
        "population": None,
        "participation": None,
        "mix": {},
        "country": "GH",
        "area": None,
        "price": None,
    }
    for name, value in given.items():
        inputs[name] = Decimal(value) if name in NUMBERS and value is not None else value
    return calculate(**inputs)


NUMBERS = {"phones", "population", "participation", "price"}


def page_text(client: Client, **query: str) -> str:
    response = client.get(reverse("calculator"), query)
    assert response.status_code == 200
    text = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", unescape(text))


def api(client: Client, **query: str) -> Any:
    return client.get("/api/v1/impact/scenario", query)


# --- the headline figure ------------------------------------------------------------------------


def test_eight_million_phones_at_55_g_are_440_tonnes(db: None, client: Client) -> None:
    # 8,000,000 phones x 0.055 kg a phone (factor phone-mass of 2026.1) = 440,000 kg = 440 t
    result = scenario(phones=8_000_000).result
    assert result.mass_kg == Decimal(440_000)
    assert result.tonnes == Decimal(440)
    assert [k.kg_per_phone for k in result.kinds] == [Decimal("0.055")]

    london = scenario(population=8_000_000, participation="1").result
    assert (london.phones, london.tonnes) == (8_000_000, Decimal(440))

    text = page_text(client, population="8000000", participation="1")
    assert "8,000,000 phones at 55 g a phone give 440 tonnes of e-waste" in text
    assert "8,000,000 residents × 1 phones per resident = 8,000,000 phones" in text
    assert "8,000,000 phones × 0.055 kg a phone = 440,000 kg" in text

    answer = api(client, phones="8000000").json()
    assert Decimal(answer["tonnes"]) == Decimal(440)
    assert answer["version_label"] == "2026.1"


def test_the_london_preset_is_on_the_page_and_gives_the_headline(db: None, client: Client) -> None:
    body = client.get(reverse("calculator")).content.decode()
    assert "Every resident of London hands in one phone (8,000,000 phones)" in body
    preset = re.search(r'href="\?([^"]*population=8000000[^"]*)"', body)
    assert preset is not None
    text = page_text(client, **dict(p.split("=") for p in unescape(preset.group(1)).split("&")))
    assert "give 440 tonnes" in text


# --- the worked example, by hand ----------------------------------------------------------------

# A city of 250,000 residents, 40 % take part, phones collected in urban Ghana and paid GHS 2.60
# each. The factors of 2026.1, typed from impact/seed.py and the living-wage benchmark:
PHONE_KG = Decimal("0.055")  # phone-mass
GRADE = {
    "Au": Decimal("84.85"),
    "Ag": Decimal("448.48"),
    "Pd": Decimal(150),
    "Cu": Decimal("76363.64"),
}
COLLECTION_YIELD = Decimal(1)
PRE_PROCESSING_YIELD = Decimal(1)
SMELTER_YIELD = Decimal("0.95")  # Au, Ag, Pd and Cu alike
GHG_PRIMARY_AU = Decimal(12500)  # kg CO2e per kg (Nuss & Eckelman 2014)
GHG_RECYCLED_AU = Decimal(1000)  # kg CO2e per kg (Fritz et al. 2020)
ROAD_KM_GH = Decimal(40)  # route-distance GH-R
SEA_KM_GH = Decimal(7800)  # route-distance GH-S
SEA_INTENSITY = Decimal("0.00894")  # kg CO2e per t-km (GLEC v3.1); no road intensity in 2026.1
LIVING_WAGE_GH_URBAN = Decimal(3609)  # GHS a month, 2024 (Global Living Wage Coalition)

PHONES = 100_000  # 250,000 x 0.4
TONNES = Decimal("5.5")  # 100,000 x 0.055 kg = 5,500 kg
CONTENT_G = {
    "Au": Decimal("466.675"),  # 84.85 g/t x 5.5 t
    "Ag": Decimal("2466.64"),  # 448.48 x 5.5
    "Pd": Decimal("825"),  # 150 x 5.5
    "Cu": Decimal("420000.02"),  # 76,363.64 x 5.5
}
RECOVERED_G = {
    "Au": Decimal("443.34125"),  # 466.675 x 1 x 1 x 0.95
    "Ag": Decimal("2343.308"),  # 2,466.64 x 0.95
    "Pd": Decimal("783.75"),  # 825 x 0.95
    "Cu": Decimal("399000.019"),  # 420,000.02 x 0.95
}
AVOIDED_KG = Decimal("5098.424375")  # only gold has both factors: 0.44334125 kg x (12,500 - 1,000)
TKM = Decimal(43120)  # road 5.5 t x 40 km = 220, sea 5.5 t x 7,800 km = 42,900
TRANSPORT_KG = Decimal("383.526")  # sea only: 42,900 t-km x 0.00894
INCOME_GHS = Decimal(260000)  # 100,000 phones x GHS 2.60
LIVING_WAGE_MONTHS = (Decimal(260000) / Decimal(3609)).quantize(PRECISION)  # = 72.0421169299


def test_the_worked_example_by_hand(db: None, client: Client) -> None:
    # Each hand figure is the product of the factors above.
    assert Decimal(250_000) * Decimal("0.4") == PHONES
    assert PHONES * PHONE_KG / 1000 == TONNES
    for metal, grade in GRADE.items():
        assert grade * TONNES == CONTENT_G[metal]
        recovered = CONTENT_G[metal] * COLLECTION_YIELD * PRE_PROCESSING_YIELD * SMELTER_YIELD
        assert recovered == RECOVERED_G[metal]
    assert RECOVERED_G["Au"] / 1000 * (GHG_PRIMARY_AU - GHG_RECYCLED_AU) == AVOIDED_KG
    assert TONNES * ROAD_KM_GH + TONNES * SEA_KM_GH == TKM
    assert TONNES * SEA_KM_GH * SEA_INTENSITY == TRANSPORT_KG
    assert PHONES * Decimal("2.60") == INCOME_GHS

    calculation = scenario(population=250_000, participation="0.4", price="2.60")
    result = calculation.result
    assert result.phones == PHONES
    assert result.tonnes == TONNES
    assert {x.metal: x.content_g for x in result.metals} == CONTENT_G
    assert {x.metal: x.recovered_g for x in result.metals} == RECOVERED_G
    assert {x.metal: x.lost_g for x in result.metals} == {
        metal: CONTENT_G[metal] - RECOVERED_G[metal] for metal in GRADE
    }
    assert result.value(m.AVOIDED_EMISSIONS) == AVOIDED_KG
    assert result.value(m.TRANSPORT_TKM) == TKM
    assert result.value(m.TRANSPORT_EMISSIONS) == TRANSPORT_KG
    assert result.income == INCOME_GHS
    assert result.value(m.LIVING_WAGE_MONTHS) == LIVING_WAGE_MONTHS
    assert result.benchmark is not None
    assert result.benchmark.monthly_amount == LIVING_WAGE_GH_URBAN
    assert "Co" not in {x.metal for x in result.metals}  # no cobalt grade in 2026.1
    assert "plastics are burned in the smelter for energy" in result.not_recovered
    assert {(f.key, f.qualifier) for f in result.factors.values()} >= {
        ("phone-mass", ""),
        ("grade", "Au"),
        ("smelter-yield", "Au"),
        ("ghg-primary", "Au"),
        ("ghg-recycled", "Au"),
        ("route-distance", "GH-S"),
        ("transport-intensity", "S"),
    }

    query = {"population": "250000", "participation": "0.4", "price": "2.60", "country": "GH"}
    answer = api(client, **query).json()
    figures = {f["key"]: f for f in answer["figures"]}
    assert answer["phones"] == PHONES
    assert Decimal(answer["tonnes"]) == TONNES
    for metal in GRADE:
        assert Decimal(figures[m.metal_key(metal, "content_g")]["value"]) == CONTENT_G[metal]
        assert Decimal(figures[m.metal_key(metal, "recovered_g")]["value"]) == RECOVERED_G[metal]
    assert Decimal(figures[m.AVOIDED_EMISSIONS]["value"]) == AVOIDED_KG
    assert Decimal(figures[m.TRANSPORT_TKM]["value"]) == TKM
    assert Decimal(figures[m.TRANSPORT_EMISSIONS]["value"]) == TRANSPORT_KG
    assert Decimal(figures[m.LIVING_WAGE_MONTHS]["value"]) == LIVING_WAGE_MONTHS
    assert figures[m.EWASTE_MASS]["factors"] == ["phone-mass"]
    assert {f["version"] for f in answer["figures"]} == {"2026.1"}
    assert isinstance(figures[m.EWASTE_MASS]["value"], str)  # Decimal values travel as strings
    sources = {(f["key"], f["qualifier"]): f["source"] for f in answer["factors"]}
    assert sources[("ghg-recycled", "Au")].startswith("Fritz et al. 2020")
    assert answer["living_wage"]["benchmark_source"].startswith("Global Living Wage Coalition")

    text = page_text(client, **query)
    assert "100,000 phones at 55 g a phone give 5.5 tonnes" in text
    assert "250,000 residents × 0.4 phones per resident = 100,000 phones" in text
    assert "84.85 g/t × 5.5 t = 466.68 g" in text  # shown to 2 places
    assert "= 443.34 g" in text
    assert "0.4433 kg Au × (12,500 − 1,000) kg CO2e per kg = 5,098.42 kg CO2e" in text  # noqa: RUF001 - the minus sign the page shows
    assert "5.5 t × 7,800 km = 42,900 t-km × 0.00894 kg CO2e/t-km = 383.53 kg CO2e" in text
    assert "100,000 phones × GHS 2.6 = GHS 260,000 paid into the collection network" in text
    assert "GHS 260,000 ÷ GHS 3,609 a month (Global Living Wage Coalition" in text
    assert "= 72.04 living-wage months" in text
    assert "Fritz et al. 2020" in text  # every factor with its source


def test_the_price_defaults_to_what_the_service_paid_per_phone_there(world: World) -> None:
    issue(world, 100)  # one intake of 100 phones at GHS 0.50 in urban Ghana
    calculation = scenario(phones=1000)
    assert calculation.price_source == "recorded"
    assert calculation.result.scenario.price_per_phone == Decimal("0.50")
    # 1,000 phones x GHS 0.50 = GHS 500; / GHS 3,609 a month
    expected = (Decimal(500) / Decimal(3609)).quantize(PRECISION)
    assert calculation.result.value(m.LIVING_WAGE_MONTHS) == expected


def test_without_a_price_or_a_benchmark_the_months_are_not_guessed(
    db: None, client: Client
) -> None:
    unpriced = scenario(phones=1000)
    assert unpriced.price_source == "none"
    assert unpriced.result.value(m.LIVING_WAGE_MONTHS) is None
    assert "enter the price paid per phone above" in page_text(client, phones="1000", country="GH")

    nigeria = scenario(phones=1000, country="NG", price="300")
    assert nigeria.result.value(m.LIVING_WAGE_MONTHS) is None
    assert nigeria.result.figures[m.LIVING_WAGE_MONTHS].note.startswith("no benchmark for NG")
    assert "no living-wage benchmark for Nigeria" in page_text(
        client, phones="1000", country="NG", price="300"
    )


def test_a_phone_mix_weighs_each_kind_with_its_own_mass(db: None, client: Client) -> None:
    mixed = scenario(
        phones=1001, mix={"phone-mass": Decimal(50), "phone-mass-un-average": Decimal(50)}
    )
    kinds = {k.key: k for k in mixed.result.kinds}
    # 1,001 phones half and half: the leftover phone goes to the first kind by name.
    assert (kinds["phone-mass"].phones, kinds["phone-mass-un-average"].phones) == (501, 500)
    # 501 x 0.055 kg + 500 x 0.09 kg = 27.555 + 45 = 72.555 kg
    assert mixed.result.mass_kg == Decimal("72.555")
    answer = api(client, phones="1001", mix="phone-mass:50,phone-mass-un-average:50").json()
    assert Decimal(answer["tonnes"]) == Decimal("0.072555")
    text = page_text(
        client, phones="1001", **{"mix-phone-mass": "50", "mix-phone-mass-un-average": "50"}
    )
    assert "1,001 phones of the mix below give 0.073 tonnes" in text


# --- versions -----------------------------------------------------------------------------------


def test_the_figures_follow_the_version_chosen(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    draft = actions.draft_version(
        actor=world.operator_user,
        label="2026.2",
        title="Heavier phones",
        change_notes="The collected stream weighs 60 g a phone.",
    )
    actions.set_factor(
        actor=world.operator_user,
        version=draft,
        key="phone-mass",
        value=Decimal("0.060"),
        unit="kg/phone",
        source="a weighing campaign",
        source_year=2026,
        confidence="measured",
    )
    with django_capture_on_commit_callbacks(execute=True):
        actions.publish_version(actor=world.operator_user, version=draft)

    assert scenario(phones=8_000_000).result.tonnes == Decimal(480)  # the latest: 8 M x 60 g
    first = scenario(phones=8_000_000, version=1)
    assert (first.version.label, first.result.tonnes) == ("2026.1", Decimal(440))

    assert api(client, phones="8000000", version="1").json()["tonnes"].startswith("440")
    latest = api(client, phones="8000000").json()
    assert (latest["version_label"], Decimal(latest["tonnes"])) == ("2026.2", Decimal(480))
    assert {f["version"] for f in latest["figures"]} == {"2026.2"}
    assert "8,000,000 phones at 55 g a phone give 440 tonnes" in page_text(
        client, phones="8000000", version="1"
    )
    assert "computed under methodology 2026.2" in page_text(client, phones="8000000")

    missing = api(client, phones="10", version="9")
    assert missing.status_code == 404
    assert "no published methodology version 9" in missing.json()["message"]


# --- bad input ----------------------------------------------------------------------------------

BAD = [
    ({"population": "-5"}, "population", "Enter the population of at least 1."),
    ({"population": "lots"}, "population", "Enter the population as a number, e.g. 250000."),
    ({"population": "1000", "participation": "6"}, "participation", "at most 5"),
    ({"population": "1000", "participation": "0"}, "participation", "more than 0"),
    ({"phones": "10000000001"}, "phones", "Enter the number of phones of at most 10,000,000,000."),
    ({"phones": "1.5"}, "phones", "Enter the number of phones as a whole number."),
    ({"phones": "10", "price": "-1"}, "price", "Enter the price paid per phone: 0 or more"),
    ({}, "population", "Enter a population (with a participation rate) or a number of phones."),
]


@pytest.mark.parametrize(("query", "field", "message"), BAD)
def test_bad_input_says_what_to_enter(
    db: None, client: Client, query: dict[str, str], field: str, message: str
) -> None:
    page = page_text(client, country="GH", **query)
    assert message in page
    assert "Correct the fields marked above" in page
    if any(not NUMBER.match(text) for text in query.values()):
        return  # the API's typed parameters refuse text before the calculator reads it

    with pytest.raises(ScenarioError) as raised:
        scenario(**{name: Decimal(text) for name, text in query.items()})
    assert raised.value.field == field
    assert message in raised.value.message

    answer = api(client, **query)
    assert answer.status_code == 422
    body = answer.json()
    if query.get("phones") == "1.5":  # the API's phones are typed whole numbers
        assert (body["code"], body["errors"][0]["field"]) == ("validation_error", "phones")
        return
    assert body["code"] == "invalid_scenario"
    assert message in body["message"]
    assert body["errors"][0]["field"] == field


NUMBER = re.compile(r"^-?[0-9.]+$")


def test_a_mix_that_does_not_add_up_is_refused(db: None, client: Client) -> None:
    message = "Enter the phone mix as percentages of 0 or more that add up to 100."
    answer = api(client, phones="10", mix="phone-mass:60,phone-mass-un-average:30")
    assert answer.status_code == 422
    assert answer.json()["errors"][0] == {
        "code": "invalid_scenario",
        "message": message,
        "field": "mix",
        "line": None,
    }
    assert message in page_text(client, phones="10", **{"mix-phone-mass": "90"})
    unknown = api(client, phones="10", mix="brick:100")
    assert "Unknown phone kind brick" in unknown.json()["message"]


@pytest.mark.parametrize("mix", ["phone-mass", "phone-mass:all", "phone-mass:50,:"])
def test_a_mix_not_written_as_pairs_is_refused_with_the_field_named(
    db: None, client: Client, mix: str
) -> None:
    refused = api(client, phones="10", mix=mix)
    assert refused.status_code == 422
    assert refused.json()["code"] == "validation_error"
    assert refused.json()["errors"][0]["field"] == "mix"


def test_a_share_that_is_no_number_is_refused_in_the_callers_language(
    db: None, client: Client
) -> None:
    english = api(client, phones="10", mix="phone-mass:1.2.3")
    assert english.status_code == 422
    assert english.json()["message"] == ("write the mix as kind:percent pairs, e.g. phone-mass:100")
    assert english.json()["errors"][0]["field"] == "mix"
    french = client.get(
        "/api/v1/impact/scenario",
        {"phones": "10", "mix": "phone-mass:1.2.3"},
        headers={"accept-language": "fr"},
    )
    assert french.status_code == 422
    assert french.json()["message"] == (
        "écrivez la répartition en paires type:pourcentage, p. ex. phone-mass:100"
    )


def test_the_page_links_its_factors_to_the_methodology(db: None, client: Client) -> None:
    body = client.get(reverse("calculator"), {"phones": "1000"}).content.decode()
    assert f'href="{reverse("methodology-version", args=[1])}#factor-phone-mass"' in body
    assert "#factor-ghg-primary-Au" in body
    version_page = client.get(reverse("methodology-version", args=[1])).content.decode()
    assert 'id="factor-phone-mass"' in version_page
    assert 'id="factor-ghg-primary-Au"' in version_page
    assert "<svg" in body  # the metals chart
    shared = re.search(r'href="/api/v1/impact/scenario\?([^"]+)"', body)
    assert shared is not None
    assert (
        client.get("/api/v1/impact/scenario?" + unescape(shared.group(1))).json()["phones"] == 1000
    )
