"""Collection, shipments and recycling speak the visitor's language: page headings, money, country
names and the errors actions raise, in English, Dutch and French."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from factories import World, draft_consignment, record_intake
from oneforone.collection.models import PaymentMethod
from oneforone.collection.payment_actions import PaymentError, pay_collector
from oneforone.core.money import Money
from oneforone.registry.serials import country_name

pytestmark = pytest.mark.django_db

NARROW_NBSP = "\u202f"
NBSP = "\xa0"


def page_in(user, url: str, language: str) -> str:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    client.cookies["oneforone_language"] = language
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    ("language", "headings"),
    [
        ("en", ["<h2>Today's intake</h2>", "<h2>Collectors</h2>"]),
        ("nl", ["<h2>Inname van vandaag</h2>", "<h2>Inzamelaars</h2>"]),
        ("fr", ["<h2>Collecte du jour</h2>", "<h2>Collecteurs</h2>"]),
    ],
)
def test_a_hub_page_speaks_the_chosen_language(
    world: World, language: str, headings: list[str]
) -> None:
    page = page_in(world.hub_user, reverse("collection-hub", args=[world.hub.code]), language)

    assert f'<html lang="{language}">' in page
    for heading in headings:
        assert heading in page


@pytest.mark.parametrize(
    ("language", "heading", "status"),
    [
        ("en", "<h1>Consignments</h1>", "1 lot · "),
        ("nl", "<h1>Zendingen</h1>", "1 partij · "),
        ("fr", "<h1>Envois</h1>", "non expédié"),
    ],
)
def test_the_consignments_page_speaks_the_chosen_language(
    world: World, language: str, heading: str, status: str
) -> None:
    draft_consignment(world)

    page = page_in(world.hub_user, reverse("shipments-list"), language)

    assert heading in page
    assert status in page


def test_the_browser_language_chooses_the_hub_page_language(world: World) -> None:
    client = Client()
    client.force_login(world.hub_user)

    page = client.get(
        reverse("collection-intake"), headers={"accept-language": "nl-BE,nl;q=0.9"}
    ).content.decode()

    assert "Een aankoop registreren</h2>" in page


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "€1,234.56"),
        ("nl", f"€{NBSP}1.234,56"),
        ("fr", f"1{NARROW_NBSP}234,56{NBSP}€"),
    ],
)
def test_money_is_written_the_way_the_language_writes_it(language: str, expected: str) -> None:
    with translation.override(language):
        assert str(Money(Decimal("1234.56"), "EUR")) == expected


def test_money_outside_a_language_is_english() -> None:
    with translation.override(None):
        assert str(Money(Decimal("1500"), "XAF")) == "FCFA1,500"


@pytest.mark.parametrize(
    ("language", "netherlands", "germany"),
    [
        ("en", "Netherlands", "Germany"),
        ("nl", "Nederland", "Duitsland"),
        ("fr", "Pays-Bas", "Allemagne"),
    ],
)
def test_a_country_is_named_in_the_active_language(
    language: str, netherlands: str, germany: str
) -> None:
    with translation.override(language):
        assert (country_name("NL"), country_name("DE")) == (netherlands, germany)


def test_an_unknown_country_code_stays_a_code_in_every_language() -> None:
    with translation.override("fr"):
        assert country_name("QZ") == "QZ"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            "the intake of 10 phones from {code} on 3 March 2026 is paid already; nothing is owed",
        ),
        ("nl", "de inname van 10 telefoons van {code} op 3 maart 2026 is al betaald"),
        ("fr", "la collecte de 10 téléphones de {code} le 3 mars 2026 est déjà payée"),
    ],
)
def test_an_action_refuses_in_the_active_language(
    world: World, language: str, expected: str
) -> None:
    intake = record_intake(
        world, phones=10, collected_on=dt.date(2026, 3, 3), paid_with=PaymentMethod.CASH
    )

    with translation.override(language), pytest.raises(PaymentError) as refused:
        pay_collector(actor=world.hub_user, intake=intake, method=PaymentMethod.CASH)

    assert expected.format(code=world.collector.code) in str(refused.value)
