"""What the collection pages, the team and API keys, the rate limiter, the idempotency check and
the error pages say is in the reader's language: refusals, chart titles, flash messages, the 429
answer and the 404, 403 and 500 pages, in English, Dutch and French. English stays as it was."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone, translation
from django.views.defaults import server_error

from factories import World, make_member, record_intake, seal_lot
from oneforone.accounts import actions as account_actions
from oneforone.accounts.actions import ApiKeyRefused
from oneforone.accounts.models import Role
from oneforone.collection import actions, payment_actions, prices
from oneforone.collection.models import Country, PaymentMethod
from oneforone.core import idempotency, ratelimit

pytestmark = pytest.mark.django_db

APOSTROPHE = "\u2019"


def client_in(user, language: str) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    if user is not None:
        client.force_login(user)
    client.cookies["oneforone_language"] = language
    return client


def as_if_committed() -> None:
    """Run the checks a commit would (a lot's sums are checked at commit)."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def page_in(user, url: str, language: str) -> str:  # type: ignore[no-untyped-def]
    response = client_in(user, language).get(url)
    assert response.status_code == 200
    return response.content.decode()


# --- the collection pages ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "title", "basis"),
    [
        ("en", "Income paid per month, in EUR", "1 EUR = 16 GHS on "),
        ("nl", "Uitbetaald inkomen per maand, in EUR", "1 EUR = 16 GHS op "),
        ("fr", "Revenus versés par mois, en EUR", "1 EUR = 16 GHS le "),
    ],
)
def test_the_income_chart_and_its_rates_speak_the_reader_language(
    world: World, language: str, title: str, basis: str
) -> None:
    record_intake(
        world, phones=40, price="2.60", paid_with=PaymentMethod.CASH,
        collected_on=timezone.localdate(),
    )  # fmt: skip
    payment_actions.record_exchange_rate(
        actor=world.operator_user,
        currency="GHS",
        rate_date=timezone.localdate().replace(day=1) - dt.timedelta(days=1),
        units_per_eur=Decimal("16"),
        source="Bank of Ghana",
    )

    page = page_in(world.hub_user, reverse("collection-income"), language)

    assert title in page
    assert basis in page


@pytest.mark.parametrize(
    ("language", "title", "bar"),
    [
        ("en", "Phones collected in the last 12 months, per country", "(1 hub)"),
        ("nl", "Ingezamelde telefoons in de laatste 12 maanden, per land", "(1 hub)"),
        ("fr", "Téléphones collectés ces 12 derniers mois, par pays", "(1 centre)"),
    ],
)
def test_the_network_chart_speaks_the_reader_language(
    world: World, language: str, title: str, bar: str
) -> None:
    record_intake(world, phones=10)

    page = page_in(world.operator_user, reverse("collection-network"), language)

    assert title in page
    assert bar in page


@pytest.mark.parametrize(
    ("language", "title", "legend"),
    [
        ("en", "Active collectors trained", "not yet"),
        ("nl", "Actieve inzamelaars opgeleid", "nog niet"),
        ("fr", "Collecteurs actifs formés", "pas encore"),
    ],
)
def test_the_safe_work_charts_speak_the_reader_language(
    world: World, language: str, title: str, legend: str
) -> None:
    page = page_in(world.hub_user, reverse("collection-safe-work"), language)

    assert title in page
    assert legend in page


@pytest.mark.parametrize(
    ("language", "sealed", "reversed_"),
    [
        ("en", "Sealed with 60 phones, {kg} kg.", "1 reversing record took out 10 phones"),
        ("nl", "Verzegeld met 60 telefoons, {kg} kg.", "1 tegenboeking haalde er sindsdien 10"),
        ("fr", "Scellé avec 60 téléphones, {kg} kg.", "1 contre-passation a retiré depuis 10"),
    ],
)
def test_a_lot_reconciliation_is_explained_in_the_reader_language(
    world: World, language: str, sealed: str, reversed_: str
) -> None:
    intakes = [record_intake(world, phones=50), record_intake(world, phones=10)]
    lot = seal_lot(world, intakes)
    as_if_committed()
    actions.reverse_intake(actor=world.hub_user, intake=intakes[1], reason="counted twice")
    kg = str(lot.net_weight_kg) if language == "en" else str(lot.net_weight_kg).replace(".", ",")

    with translation.override(language):
        explanation = actions.lot_reconciliation(lot).explanation

    assert explanation.startswith(sealed.format(kg=kg))
    assert reversed_ in explanation


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "a phone is above the cap of"),
        ("nl", "per telefoon ligt boven het maximum van"),
        ("fr", "par téléphone dépasse le plafond de"),
    ],
)
def test_a_price_above_the_cap_is_refused_in_the_reader_language(
    world: World, language: str, expected: str
) -> None:
    payment_actions.set_price_cap(
        actor=world.operator_user,
        country=Country.objects.get(code=world.hub.country),
        valid_from=dt.date(2026, 1, 1),
        max_per_phone=Decimal("3.00"),
        second_hand_value=Decimal("150"),
        source="Accra market survey",
    )

    with translation.override(language):
        refusal = prices.outside_cap(world.hub, Decimal("3.50"), dt.date(2026, 3, 3))

    assert refusal is not None
    assert expected in refusal


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "No such hub for your organisation."),
        ("nl", "Uw organisatie heeft geen zulke hub."),
        ("fr", f"Votre organisation n{APOSTROPHE}a pas ce centre."),
    ],
)
def test_a_hub_that_is_not_there_is_said_on_the_404_page(
    world: World, language: str, expected: str
) -> None:
    response = client_in(world.hub_user, language).get(
        reverse("collection-intake"), {"hub": "NOPE"}
    )

    assert response.status_code == 404
    page = response.content.decode()
    assert f'<html lang="{language}">' in page
    assert expected in page


# --- the team and API keys -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "was revoked; create a new key instead"),
        ("nl", "werd ingetrokken; maak in de plaats een nieuwe sleutel"),
        ("fr", "a été révoquée ; créez plutôt une nouvelle clé"),
    ],
)
def test_rotating_a_revoked_key_is_refused_in_the_reader_language(
    world: World, language: str, expected: str
) -> None:
    key, _ = account_actions.create_api_key(
        actor=world.partner_admin, organisation=world.partner, name="shop"
    )
    account_actions.revoke_api_key(actor=world.partner_admin, key=key)

    with translation.override(language), pytest.raises(ApiKeyRefused) as refused:
        account_actions.rotate_api_key(actor=world.partner_admin, key=key)

    assert expected in str(refused.value)


@pytest.mark.parametrize(
    ("language", "reason", "heading"),
    [
        ("en", "Only an administrator changes the team.", "<h1>Not allowed</h1>"),
        ("nl", "Alleen een beheerder wijzigt het team.", "<h1>Niet toegestaan</h1>"),
        ("fr", f"Seul un administrateur modifie l{APOSTROPHE}équipe.", "<h1>Accès refusé</h1>"),
    ],
)
def test_a_member_who_may_not_change_the_team_is_told_why_in_the_site_frame(
    world: World, language: str, reason: str, heading: str
) -> None:
    member = make_member(world.partner, role=Role.MEMBER)

    response = client_in(member, language).post(reverse("team-invite"), {"email": "x@example.org"})

    assert response.status_code == 403
    page = response.content.decode()
    assert f'<html lang="{language}">' in page
    assert heading in page
    assert reason in page
    assert reverse("dashboard") in page  # a way back


# --- the rate limiter and the idempotency check --------------------------------------------------


@pytest.mark.parametrize(
    ("language", "title", "message"),
    [
        ("en", "Too many requests", "Too many requests: please try again in 45 seconds."),
        ("nl", "Te veel verzoeken", "Te veel verzoeken: probeer het opnieuw over 45 seconden."),
        ("fr", "Trop de requêtes", "Trop de requêtes : réessayez dans 45 secondes."),
    ],
)
def test_the_429_page_speaks_the_reader_language(language: str, title: str, message: str) -> None:
    with translation.override(language):
        response = ratelimit.too_many_requests(RequestFactory().get("/verify/"), 45)

    page = response.content.decode()
    assert response.status_code == 429
    assert f'<html lang="{language}">' in page
    assert f"<h1>{title}</h1>" in page
    assert message in page


def test_the_429_api_answer_keeps_its_code_in_every_language() -> None:
    with translation.override("nl"):
        response = ratelimit.too_many_requests(RequestFactory().get("/api/v1/impact"), 3 * 3600)

    body = json.loads(response.content)
    assert body["code"] == "rate_limited"
    assert body["message"] == "Te veel verzoeken: probeer het opnieuw over 3 uur."


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "Idempotency-Key must be 1 to 255 printable characters without spaces"),
        ("nl", "Idempotency-Key moet 1 tot 255 afdrukbare tekens zonder spaties zijn"),
        ("fr", "Idempotency-Key doit compter de 1 à 255 caractères imprimables sans espace"),
    ],
)
def test_an_invalid_idempotency_key_is_explained_in_the_reader_language(
    db: None, language: str, message: str
) -> None:
    @idempotency.idempotent(lambda request: "test")
    def view(request: HttpRequest) -> HttpResponse:
        return JsonResponse({}, status=201)

    with translation.override(language):
        refused = view(
            RequestFactory().post(
                "/x",
                data=b"{}",
                content_type="application/json",
                headers={idempotency.HEADER: "has spaces"},
            )
        )

    body = json.loads(refused.content)
    assert body["code"] == "invalid_idempotency_key"  # the same in every language
    assert body["message"].startswith(message)


# --- the error pages -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "heading", "search"),
    [
        ("en", "<h1>Page not found</h1>", "Verify"),
        ("nl", "<h1>Pagina niet gevonden</h1>", "Controleren"),
        ("fr", "<h1>Page introuvable</h1>", "Vérifier"),
    ],
)
def test_a_missing_page_answers_404_in_the_site_frame(
    db: None, settings, language: str, heading: str, search: str
) -> None:  # type: ignore[no-untyped-def]
    assert settings.DEBUG is False  # Django's own debug page otherwise

    response = client_in(None, language).get("/no/such/page/")

    assert response.status_code == 404
    page = response.content.decode()
    assert f'<html lang="{language}">' in page
    assert heading in page
    assert 'class="foot"' in page  # the site's frame, with its language buttons
    assert f'action="{reverse("verify-search")}"' in page
    assert search in page
    assert "Resolver404" not in page  # Django's own reason is not a sentence for people


@pytest.mark.parametrize(
    ("language", "heading"),
    [
        ("en", "<h1>Something went wrong</h1>"),
        ("nl", "<h1>Er ging iets mis</h1>"),
        ("fr", "<h1>Un problème est survenu</h1>"),
    ],
)
def test_the_500_page_needs_no_request_context(language: str, heading: str) -> None:
    with translation.override(language):
        response = server_error(RequestFactory().get("/"))

    page = response.content.decode()
    assert response.status_code == 500
    assert f'<html lang="{language}">' in page
    assert heading in page
    assert 'href="/"' in page


@pytest.mark.parametrize(
    ("language", "heading", "advice"),
    [
        ("en", "<h1>The form could not be sent</h1>", "Allow cookies for this site"),
        ("nl", "<h1>Het formulier kon niet worden verzonden</h1>", "Sta cookies"),
        ("fr", "<h1>Le formulaire n’a pas pu être envoyé</h1>", "Autorisez les cookies"),  # noqa: RUF001
    ],
)
def test_a_form_without_its_csrf_cookie_is_explained_in_the_site_frame(
    db: None, language: str, heading: str, advice: str
) -> None:
    browser = Client(enforce_csrf_checks=True, headers={"accept-language": language})

    refused = browser.post(
        reverse("login") + "?next=/dashboard/", {"username": "someone", "password": "x"}
    )

    assert refused.status_code == 403
    page = refused.content.decode()
    assert f'<html lang="{language}">' in page
    assert heading in page
    assert advice in page
    assert 'class="foot"' in page
    assert 'href="/login/?next=/dashboard/"' in page  # back to the form, next page kept
    assert "CSRF" not in page  # Django's reason is for the log, not for people


def test_a_stale_form_says_so_and_links_back_to_the_page_it_came_from(db: None) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.get(reverse("login"))  # the cookie is set; the token below is not from this page

    refused = browser.post(
        reverse("logout"),
        {"csrfmiddlewaretoken": "x" * 64},
        headers={"referer": "http://testserver/team/"},
    )

    assert refused.status_code == 403
    page = refused.content.decode()
    assert "The page the form came from is out of date" in page
    assert 'href="http://testserver/team/"' in page
    elsewhere = browser.post(
        reverse("logout"),
        {"csrfmiddlewaretoken": "x" * 64},
        headers={"referer": "https://evil.example/team/"},
    )
    assert "evil.example" not in elsewhere.content.decode()
