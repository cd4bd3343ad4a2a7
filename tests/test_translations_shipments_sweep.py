"""What the shipments and recycling code says to a person, outside the templates, follows the
reader's language: the flash after recording a notification document, the titles of those
documents, the code list's coming changes, the refusals of the recycler's actions and the code
lists, and the sentence that says what to do after a refusal. English stays as it was."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from factories import (
    World,
    dispatched_consignment,
    draft_consignment,
    in_transit_consignment,
    notification_blocks,
    received_consignment,
)
from oneforone.accounts.models import User
from oneforone.shipments import deadline_actions
from oneforone.shipments import notification_actions as notices
from oneforone.shipments.codes import CodeError, require_code
from oneforone.shipments.models import CodeList, Notification

pytestmark = pytest.mark.django_db


def client_in(user: User, language: str) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["oneforone_language"] = language
    return client


def page_in(user: User, url: str, language: str) -> str:
    response = client_in(user, language).get(url)
    assert response.status_code == 200
    return response.content.decode()


def new_notification(world: World) -> Notification:
    return notices.create_notification(actor=world.hub_user, blocks=notification_blocks(world))


@pytest.mark.parametrize(
    ("language", "flash"),
    [
        ("en", "Acknowledgement recorded."),
        ("nl", "Ontvangstbevestiging geregistreerd."),
        ("fr", "Accusé de réception enregistré."),
    ],
)
def test_recording_the_acknowledgement_is_confirmed_in_the_readers_language(
    world: World, language: str, flash: str
) -> None:
    notification = new_notification(world)

    response = client_in(world.hub_user, language).post(
        reverse("notifications-record", args=[notification.number, "acknowledge"]),
        {"acknowledged_on": timezone.localdate().isoformat()},
        follow=True,
    )

    assert response.status_code == 200
    assert flash in response.content.decode()


@pytest.mark.parametrize(
    ("language", "titles"),
    [
        ("en", ["Record the contract", "Release a guarantee", "Record the answer to a change"]),
        (
            "nl",
            [
                "Het contract registreren",
                "Een zekerheid vrijgeven",
                "Het antwoord op een wijziging registreren",
            ],
        ),
        (
            "fr",
            [
                "Enregistrer le contrat",
                "Libérer une garantie",
                "Enregistrer la réponse à une modification",
            ],
        ),
    ],
)
def test_the_notifier_sees_the_documents_to_record_under_titles_in_its_language(
    world: World, language: str, titles: list[str]
) -> None:
    notification = new_notification(world)

    page = page_in(
        world.hub_user, reverse("notifications-detail", args=[notification.number]), language
    )

    for title in titles:
        assert title in page


def test_a_consent_and_the_answer_to_a_change_are_confirmed_in_french(world: World) -> None:
    notification = new_notification(world)
    belgium = notification.route.get(country="BE")
    client = client_in(world.hub_user, "fr")
    today = timezone.localdate()

    consent = client.post(
        reverse("notifications-record", args=[notification.number, "consent"]),
        {
            "route_stop": belgium.pk,
            "decision": "conditions",
            "decided_on": today,
            "valid_from": today,
            "valid_to": today + dt.timedelta(days=364),
            "conditions": "Announce each shipment two working days ahead",
        },
        follow=True,
    )
    client.post(
        reverse("notifications-record", args=[notification.number, "change"]),
        {"kind": "quantity", "description": "More phones", "total_quantity_kg": "2000000"},
    )
    change = notification.change_requests.get()
    answer = client.post(
        reverse("notifications-record", args=[notification.number, "answer"]),
        {"change": change.pk, "answer": "accepted", "answered_on": today},
        follow=True,
    )

    assert "Consentement sous conditions de BE enregistré." in consent.content.decode()
    assert "Modification acceptée par les autorités." in answer.content.decode()


@pytest.mark.parametrize(
    ("language", "starts", "ends"),
    [
        (
            "en",
            "in force from 2026-12-09",
            "ends after 2026-12-08, replaced by 20 01 42* or 20 01 43*",
        ),
        (
            "nl",
            "van kracht vanaf 2026-12-09",
            "eindigt na 2026-12-08, vervangen door 20 01 42* or 20 01 43*",
        ),
        (
            "fr",
            "en vigueur à partir du 2026-12-09",
            "prend fin après le 2026-12-08, remplacé par 20 01 42* or 20 01 43*",
        ),
    ],
)
def test_the_code_lists_announce_coming_changes_in_the_readers_language(
    world: World, language: str, starts: str, ends: str
) -> None:
    """The dates stay ISO, as on the documents; the codes and their wording are quoted."""
    with time_machine.travel(dt.datetime(2026, 10, 1, 9, tzinfo=dt.UTC), tick=True):
        page = page_in(world.operator_user, reverse("shipments-codes"), language)

    assert starts in page
    assert ends in page


def test_the_code_list_filter_is_labelled_in_french(world: World) -> None:
    page = page_in(world.operator_user, reverse("shipments-codes"), "fr")

    assert "Valable le" in page
    assert "la date du document que vous remplissez" in page
    assert "toutes les listes" in page
    assert "seulement les codes utilisables à cette date" in page


@pytest.mark.parametrize(
    ("language", "refusal"),
    [
        (
            "en",
            "Give the reason for the refusal. Reload the page to see where the consignment stands.",
        ),
        (
            "nl",
            "Geef de reden van de weigering. Laad de pagina opnieuw om te zien waar de zending "
            "staat.",
        ),
        (
            "fr",
            "Indiquez le motif du refus. Rechargez la page pour voir où en est l\u2019envoi.",
        ),
    ],
)
def test_a_refusal_without_its_reason_is_refused_in_the_recyclers_language(
    world: World, language: str, refusal: str
) -> None:
    consignment = in_transit_consignment(world)

    response = client_in(world.recycler_user, language).post(
        reverse("recycling-reception", args=[consignment.reference]),
        {"counted_phones": "10", "net_weight_kg": "1", "decision": "refused"},
    )

    assert response.status_code == 200
    assert refusal in response.content.decode()
    assert not hasattr(consignment, "reception")


def test_treatment_completion_is_confirmed_in_dutch(world: World) -> None:
    consignment = received_consignment(world)
    today = timezone.localdate()

    response = client_in(world.recycler_user, "nl").post(
        reverse("recycling-treatment", args=[consignment.reference]),
        {"completed_on": today.isoformat(), "operation": "R4"},
        follow=True,
    )

    assert f"Voltooiing van de verwerking geregistreerd (R4, {today.isoformat()})." in (
        response.content.decode()
    )


@pytest.mark.parametrize(
    ("language", "refusal"),
    [
        ("en", "16 06 05 (EU List of Waste) was valid until 2026-12-08, not on 2027-01-04"),
        ("nl", "16 06 05 (EU-lijst van afvalstoffen) was geldig tot 2026-12-08"),
        ("fr", "16 06 05 (Liste européenne des déchets) était valable jusqu\u2019au 2026-12-08"),
    ],
)
def test_a_code_used_after_its_end_is_refused_in_the_readers_language(
    world: World, language: str, refusal: str
) -> None:
    with translation.override(language), pytest.raises(CodeError) as refused:
        require_code(CodeList.EWC, "16 06 05", on=dt.date(2027, 1, 4))

    assert str(refused.value).startswith(refusal)


@pytest.mark.parametrize(
    ("language", "received", "planned"),
    [
        ("en", "received 2026-12-08", "planned departure 2027-01-05"),
        ("nl", "ontvangen op 2026-12-08", "gepland vertrek op 2027-01-05"),
        ("fr", "reçu le 2026-12-08", "départ prévu le 2027-01-05"),
    ],
)
def test_the_deadlines_page_words_what_each_deadline_runs_from_in_the_readers_language(
    world: World, language: str, received: str, planned: str
) -> None:
    """Deadlines are computed once; their subject and anchor are worded for whoever reads them."""
    with time_machine.travel(dt.datetime(2026, 12, 8, 10, tzinfo=dt.UTC)):
        consignment = received_consignment(world)
        draft = draft_consignment(world)
        deadline_actions.plan_departure(
            actor=world.hub_user, consignment=draft, departure_on=dt.date(2027, 1, 5)
        )
    with time_machine.travel(dt.datetime(2026, 12, 14, 10, tzinfo=dt.UTC)):
        page = page_in(world.operator_user, reverse("shipments-deadlines"), language)

    assert received in page
    assert planned in page
    subject = {"en": "consignment", "nl": "zending", "fr": "envoi"}[language]
    assert f"{subject} {consignment.reference}" in page


@pytest.mark.parametrize(
    ("language", "labels"),
    [
        ("en", ["Container number:</span> MSCU1234565", "Origin hub:</span>"]),
        ("nl", ["Containernummer:</span> MSCU1234565", "Hub van herkomst:</span>"]),
        ("fr", ["Numéro de conteneur:</span> MSCU1234565", "Centre d\u2019origine:</span>"]),
    ],
)
def test_the_fields_a_signature_sealed_are_named_in_the_readers_language(
    world: World, language: str, labels: list[str]
) -> None:
    """The sealed values stay as signed; only their names are worded for the reader."""
    consignment = dispatched_consignment(world)

    page = page_in(
        world.hub_user, reverse("shipments-detail", args=[consignment.reference]), language
    )

    for label in labels:
        assert label in page
