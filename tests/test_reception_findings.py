"""Reconciliation findings at reception are stored as codes with their figures and worded when
shown, in the reader's language; findings stored as sentences before that are shown unchanged."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import translation

from factories import World, in_transit_consignment
from oneforone.recycling import actions as recycling_actions
from oneforone.recycling.reconciliation import (
    battery_reception_flags,
    describe_flag,
    reception_flags,
)
from test_translations_collection import page_in

NBSP = "\u00a0"
APOSTROPHE = "\u2019"


def test_a_phone_reception_out_of_count_and_weight_stores_codes_and_figures() -> None:
    flags = reception_flags(dispatched_phones=100, counted_phones=90, net_weight_kg=Decimal("20"))

    assert flags == [
        {"code": "count_differs", "counted": 90, "dispatched": 100, "tolerance": "0.01"},
        {
            "code": "grams_per_phone",
            "net_weight_kg": "20",
            "counted": 90,
            "low": "40",
            "high": "120",
        },
    ]


def test_a_battery_reception_stores_the_weights_and_packages() -> None:
    flags = battery_reception_flags(
        dispatched_kg=Decimal("1.800"),
        net_weight_kg=Decimal("1.500"),
        dispatched_packages=2,
        packages=3,
    )

    assert flags == [
        {
            "code": "weight_differs",
            "received_kg": "1.500",
            "dispatched_kg": "1.800",
            "tolerance": "0.01",
        },
        {"code": "packages_differ", "received": 3, "dispatched": 2},
    ]


PHONES = reception_flags(dispatched_phones=2000, counted_phones=1880, net_weight_kg=Decimal("20"))
BATTERIES = battery_reception_flags(
    dispatched_kg=Decimal("1800.000"),
    net_weight_kg=Decimal("1500.250"),
    dispatched_packages=2,
    packages=1,
)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            [
                "count differs from dispatch by -120 phones (-6.0%; tolerance ±1.0%)",
                "11 g per phone is outside the expected 40-120 g for this stream",
                "weight differs from dispatch by -299.750 kg (-16.7%; tolerance ±1.0%)",
                "1 package received, 2 dispatched",
            ],
        ),
        (
            "nl",
            [
                "aantal wijkt af van de verzending met -120 telefoons (-6,0%; tolerantie ±1,0%)",
                "11 g per telefoon valt buiten de verwachte 40-120 g voor deze stroom",
                "gewicht wijkt af van de verzending met -299,750 kg (-16,7%; tolerantie ±1,0%)",
                "1 collo ontvangen, 2 verzonden",
            ],
        ),
        (
            "fr",
            [
                f"le nombre diffère de l{APOSTROPHE}expédition de -120 téléphones (-6,0{NBSP}% ; "
                f"tolérance ±1,0{NBSP}%)",
                "11 g par téléphone est hors de la plage attendue de 40 à 120 g pour ce flux",
                f"le poids diffère de l{APOSTROPHE}expédition de -299,750 kg (-16,7{NBSP}% ; "
                f"tolérance ±1,0{NBSP}%)",
                "colis reçus : 1 ; expédiés : 2",
            ],
        ),
    ],
)
def test_findings_are_worded_in_the_readers_language(language: str, expected: list[str]) -> None:
    with translation.override(language):
        assert [describe_flag(flag) for flag in [*PHONES, *BATTERIES]] == expected


def test_a_finding_stored_as_a_sentence_before_codes_is_shown_as_written() -> None:
    legacy = "count differs from dispatch by -2 phones (-2.0%; tolerance ±1.0%)"

    with translation.override("fr"):
        assert describe_flag(legacy) == legacy


def test_the_consignment_page_words_the_findings_in_the_readers_language(world: World) -> None:
    consignment = in_transit_consignment(world, intakes=(60, 40))
    recycling_actions.record_reception(
        actor=world.recycler_user,
        consignment=consignment,
        counted_phones=90,
        net_weight_kg=Decimal("5"),
    )
    url = reverse("shipments-detail", args=[consignment.reference])

    french = page_in(world.recycler_user, url, "fr")
    dutch = page_in(world.operator_user, url, "nl")

    assert (
        f"de l{APOSTROPHE}expédition de -10 téléphones (-10,0{NBSP}% ; tolérance ±1,0{NBSP}%)"
        in french
    )
    assert "aantal wijkt af van de verzending met -10 telefoons (-10,0%; tolerantie ±1,0%)" in dutch
    assert "56 g" not in french  # 5 kg for 90 phones is 56 g a phone: within 40-120 g


def test_a_reception_stored_with_sentences_still_shows_them(world: World) -> None:
    consignment = in_transit_consignment(world, intakes=(60, 40))
    reception = recycling_actions.record_reception(
        actor=world.recycler_user,
        consignment=consignment,
        counted_phones=100,
        net_weight_kg=Decimal("5.5"),
    )
    legacy = "count differs from dispatch by +10 phones (+10.0%; tolerance ±1.0%)"
    with connection.cursor() as cursor:  # as a reception recorded before findings had codes
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred checks pending
        cursor.execute("ALTER TABLE recycling_reception DISABLE TRIGGER ALL")
        cursor.execute(
            "UPDATE recycling_reception SET flags = %s::jsonb WHERE id = %s",
            [json.dumps([legacy]), reception.pk],
        )
        cursor.execute("ALTER TABLE recycling_reception ENABLE TRIGGER ALL")

    page = page_in(
        world.recycler_user, reverse("shipments-detail", args=[consignment.reference]), "nl"
    )

    assert legacy in page
