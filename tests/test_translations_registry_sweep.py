"""The registry, reporting, impact and partner actions speak the reader's language: the public
device lookup's errors, the partner's badge (its flash messages, and the badge image in the
language its address asks for), the ledger page's explanation of the hashes, the methodology
refusals and the service's own reason for closing a conflict. English stays as it was."""

from __future__ import annotations

from html import unescape

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from factories import World, imei, issue, make_partner, register
from oneforone.accounts import actions as account_actions
from oneforone.accounts.models import ApiKeyScope
from oneforone.impact import actions as impact_actions
from oneforone.impact import queries as impact_queries
from oneforone.impact.models import MethodologyVersion
from oneforone.partners import actions as partner_actions
from oneforone.partners.models import Conflict
from oneforone.registry import actions as registry_actions
from oneforone.registry import public_queries
from oneforone.registry.models import Allocation, Certificate

pytestmark = pytest.mark.django_db


def client_in(language: str, user=None) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    if user is not None:
        client.force_login(user)
    client.cookies["oneforone_language"] = language
    return client


def page_in(user, url: str, language: str) -> str:  # type: ignore[no-untyped-def]
    response = client_in(language, user).get(url)
    assert response.status_code == 200
    return unescape(response.content.decode())


def wrong_check_digit() -> str:
    return imei(5)[:-1] + str((int(imei(5)[-1]) + 1) % 10)


# --- the public device lookup ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "kind", "identifier", "error"),
    [
        (
            "en",
            "imei",
            wrong_check_digit(),
            "That is not a valid IMEI: the check digit (the last digit) does not match",
        ),
        (
            "fr",
            "imei",
            wrong_check_digit(),
            "Ce n'est pas un IMEI valide : le chiffre de contrôle (le dernier) ne correspond pas",
        ),
        (
            "nl",
            "serial",
            "AB",
            "Dat is geen geldig serienummer: 2 tekens; een serienummer heeft er 4 tot 40.",
        ),
        (
            "en",
            "auto",
            "AB",
            "That is not a valid IMEI or serial number: 2 characters; a serial number has 4 to 40.",
        ),
        (
            "fr",
            "telephone",
            "AB",
            "Ce n'est pas un IMEI ou numéro de série valide : précisez s'il s'agit d'un IMEI ou "
            "d'un numéro de série.",
        ),
    ],
)
def test_the_device_lookup_says_what_is_wrong_in_the_visitors_language(
    world: World, language: str, kind: str, identifier: str, error: str
) -> None:
    response = client_in(language).post(
        reverse("verify-device"), {"identifier": identifier, "kind": kind}
    )

    assert response.status_code == 400
    page = unescape(response.content.decode())
    assert error in page
    assert "?." not in page  # "a typing error?" ends the sentence


def test_the_device_api_says_what_is_wrong_in_the_language_asked(world: World) -> None:
    def message(**headers: str) -> str:
        response = Client().post(
            "/api/v1/verify/device",
            {"imei": wrong_check_digit()},
            content_type="application/json",
            **headers,
        )
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_identifier"
        return response.json()["message"]

    assert message().startswith("not a valid IMEI: the check digit")
    assert message(HTTP_ACCEPT_LANGUAGE="fr").startswith("pas un IMEI valide : le chiffre")


# --- the partner's badge ---------------------------------------------------------------------


def publish_badge(world: World, language: str, published: str = "1") -> str:
    client = client_in(language, world.partner_admin)
    response = client.post(reverse("partner-badge-setting"), {"published": published}, follow=True)
    assert response.status_code == 200
    return unescape(response.content.decode())


@pytest.mark.parametrize(
    ("language", "public", "hidden"),
    [
        (
            "en",
            "Your badge is public: embed it with the snippet below.",
            "Your badge is no longer public: its address answers 'not found'.",
        ),
        (
            "nl",
            "Uw badge is openbaar: sluit hem in met het fragment hieronder.",
            "Uw badge is niet langer openbaar: zijn adres antwoordt 'niet gevonden'.",
        ),
    ],
)
def test_publishing_the_badge_is_confirmed_in_the_members_language(
    world: World, language: str, public: str, hidden: str
) -> None:
    assert public in publish_badge(world, language)
    assert hidden in publish_badge(world, language, published="0")


def test_the_badge_speaks_the_language_its_address_asks_for(world: World) -> None:
    issue(world, 1234)
    register(world, quantity=1234)
    registry_actions.allocate(actor=world.operator_user)
    publish_badge(world, "en")
    url = reverse("partner-badge", args=[world.partner.slug])

    english = Client().get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    french = Client().get(url + "?lang=fr").content.decode()
    dutch = Client().get(url + "?lang=nl").content.decode()
    unknown = Client().get(url + "?lang=xx").content.decode()

    # Not the browser's language: the site embedding it chose, in the address it copied.
    assert "<title>devices compensated: 1,234</title>" in english
    assert "Devices compensated one for one" in english
    assert unknown == english
    assert "<title>appareils compensés : 1\xa0234</title>" in french
    assert "Appareils compensés un pour un" in french
    assert "<title>gecompenseerde toestellen: 1.234</title>" in dutch


def test_the_snippet_embeds_the_badge_in_the_language_it_was_copied_in(world: World) -> None:
    publish_badge(world, "en")
    badge = reverse("partner-badge", args=[world.partner.slug])

    english = page_in(world.partner_admin, reverse("dashboard"), "en")
    french = page_in(world.partner_admin, reverse("dashboard"), "fr")

    assert f'{badge}" alt="{world.partner.name}: devices compensated, one for one"' in english
    assert "?lang=" not in english
    assert f'{badge}?lang=fr" alt="{world.partner.name} : appareils compensés, un pour un"' in (
        french
    )


# --- the ledger page and the methodology ------------------------------------------------------


def test_the_ledger_page_explains_the_hashes_in_the_readers_language(world: World) -> None:
    french = page_in(None, reverse("ledger-roots"), "fr")
    english = page_in(None, reverse("ledger-roots"), "en")
    json = client_in("fr").get(reverse("ledger-roots-json")).json()

    assert "Le hachage de chaque écriture du registre est le SHA-256 (hex)" in french
    assert public_queries.METHOD in english
    assert json["method"] == public_queries.METHOD, "the JSON document stays in English"


def test_a_methodology_refusal_is_in_the_operators_language(world: World) -> None:
    def refusal() -> str:
        with pytest.raises(impact_actions.MethodologyError) as raised:
            impact_actions.draft_version(
                actor=world.operator_user, label="2026.9", title="Next", change_notes=" "
            )
        return str(raised.value)

    assert refusal() == "say what changes in this version (change notes)"
    with translation.override("fr"):
        assert refusal() == "dites ce qui change dans cette version (notes de modification)"
    with translation.override("nl"):
        assert refusal() == "zeg wat er in deze versie verandert (wijzigingsnotities)"


def test_a_missing_methodology_version_is_named_in_the_readers_language(world: World) -> None:
    with translation.override("fr"), pytest.raises(MethodologyVersion.DoesNotExist) as raised:
        impact_queries.resolve_version(99)
    assert str(raised.value) == "aucune version 99 de la méthodologie n'est publiée"

    _, key = account_actions.create_api_key(
        actor=world.partner_admin,
        organisation=world.partner,
        name="impact",
        scope=ApiKeyScope.READ,
    )
    url = "/api/v1/impact/versions/99"
    missing = Client().get(url, headers={"X-API-Key": key, "Accept-Language": "nl"})
    english = Client().get(url, headers={"X-API-Key": key})
    assert missing.status_code == 404
    assert missing.json()["message"] == (
        "geen gepubliceerde versie 99 van de methodologie: zie /api/v1/impact/versions"
    )
    assert english.json()["message"] == (
        "no published methodology version 99: see /api/v1/impact/versions"
    )


# --- a conflict closed by the service ---------------------------------------------------------


def test_the_services_reason_for_closing_a_conflict_is_shown_translated(world: World) -> None:
    other, other_admin = make_partner()
    register(world, imeis=[imei(1)], reference="FIRST")
    second = register(world, imeis=[imei(1)], reference="SECOND", partner=other, actor=other_admin)
    partner_actions.cancel_registration(
        actor=other_admin, registration=second, reason="order returned"
    )
    conflict = Conflict.objects.get()
    url = reverse("operator-conflict", args=[conflict.pk])

    assert conflict.reason == "the registration holding this claim was cancelled by the partner"
    assert conflict.reason in page_in(world.operator_user, url, "en")
    assert "l'enregistrement portant cette revendication a été annulé par le partenaire" in (
        page_in(world.operator_user, url, "fr")
    )


# --- a certificate withdrawn by the service -----------------------------------------------------


def test_the_services_reason_for_withdrawing_a_certificate_is_shown_translated(
    world: World,
) -> None:
    issue(world, 2)
    first = register(world, imeis=[imei(1), imei(2)])
    registry_actions.allocate(actor=world.operator_user)
    other, other_admin = make_partner()
    register(world, imeis=[imei(2)], partner=other, actor=other_admin)
    partner_actions.resolve_conflict(
        actor=world.operator_user,
        conflict=Conflict.objects.get(),
        decision="transfer",
        reason="resold device",
    )
    old = Certificate.objects.filter(registration=first).earliest("version")
    url = reverse("verify", args=[old.code])

    # Stored (and hashed into the ledger) in English, worded for each reader.
    assert old.withdrawal.reason == (
        "the registration changed: a device claim was withdrawn after the operator reviewed a "
        "double claim"
    )
    assert old.withdrawal.reason in page_in(None, url, "en")
    assert (
        "l'enregistrement a changé : une revendication d'appareil a été retirée après l'examen "
        "d'une double revendication par l'opérateur" in page_in(None, url, "fr")
    )
    dutch = page_in(None, reverse("registry-unit", args=[unit_of(old)]), "nl")
    assert (
        "een claim op een toestel is ingetrokken nadat de operator een dubbele claim beoordeelde"
        in dutch
    )


def unit_of(certificate: Certificate) -> str:
    allocation = Allocation.objects.filter(registration=certificate.registration).earliest("pk")
    return allocation.batch.block_of(allocation.units.lower, allocation.units.lower + 1)
