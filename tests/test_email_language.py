"""E-mails are written in their reader's language: an invitation in the language of the page it
was sent from, a webhook alarm in each administrator's own language (remembered when they sign
in through a page)."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

import factories
from factories import World
from oneforone.accounts import actions as account_actions
from oneforone.accounts.models import Invitation, Role, User
from oneforone.core.models import AuditEvent
from oneforone.webhooks import actions as webhook_actions
from oneforone.webhooks.models import SUBSCRIBABLE

PASSWORD = "correct horse battery staple"


def _signed_in(user: User, language: str) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


@pytest.mark.parametrize(
    ("language", "subject", "sentence"),
    [
        ("nl", "Word lid van", "Aanvaard de uitnodiging hier (de link werkt één keer"),
        ("fr", "Rejoignez", "Acceptez l'invitation ici (le lien ne fonctionne qu'une fois"),
    ],
)
def test_an_invitation_is_written_in_the_language_of_the_inviting_page(
    world: World,
    django_capture_on_commit_callbacks: Any,
    language: str,
    subject: str,
    sentence: str,
) -> None:
    client = _signed_in(world.partner_admin, language)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("team-invite"), {"email": "ama@example.org", "role": Role.MEMBER}
        )

    assert response.status_code == 302
    [message] = mail.outbox
    assert message.subject == f"{subject} {world.partner.name} " + (
        "op oneforone" if language == "nl" else "sur oneforone"
    )
    assert sentence in message.body
    assert "Accept the invitation" not in message.body
    assert Invitation.objects.get().language == language


def test_an_invitation_sent_without_a_page_is_in_the_default_language(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        account_actions.invite_member(
            actor=world.partner_admin,
            organisation=world.partner,
            email="kofi@example.org",
            role=Role.VIEWER,
        )

    [message] = mail.outbox
    assert message.subject == f"Join {world.partner.name} on oneforone"
    assert " as viewer (read only)." in message.body


def _disable_an_endpoint(world: World) -> None:
    endpoint, _ = webhook_actions.create_endpoint(
        actor=world.partner_admin,
        organisation=world.partner,
        url="https://hooks.example.org/oneforone",
        events=[SUBSCRIBABLE[0]],
    )
    webhook_actions.disable_failing_endpoint(
        endpoint=endpoint, last_error="HTTP 500", now=timezone.now()
    )


def test_a_disabled_endpoint_alarms_each_administrator_in_their_language(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    world.partner_admin.email = "admin@partner.example"
    world.partner_admin.language = "fr"
    world.partner_admin.save()
    second = factories.make_member(world.partner, role=Role.ADMIN)
    second.email = "second@partner.example"
    second.language = "nl"
    second.save()

    with django_capture_on_commit_callbacks(execute=True):
        _disable_an_endpoint(world)

    by_reader = {tuple(m.to): m for m in mail.outbox}
    assert sorted(by_reader) == [("admin@partner.example",), ("second@partner.example",)]
    french = by_reader[("admin@partner.example",)]
    dutch = by_reader[("second@partner.example",)]
    assert french.subject.startswith("oneforone : point de terminaison de webhook désactivé")
    assert "Dernier échec : HTTP 500" in french.body
    assert dutch.subject.startswith("oneforone: webhook-endpoint uitgeschakeld")
    assert "Laatste fout: HTTP 500" in dutch.body


def test_signing_in_through_the_page_remembers_the_language_for_later_emails(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    user = world.partner_admin
    user.set_password(PASSWORD)
    user.email = "admin@partner.example"
    user.save()
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "nl"

    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.language == "nl"
    assert AuditEvent.objects.filter(code="accounts.user.language_changed").count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        _disable_an_endpoint(world)
    [message] = mail.outbox
    assert message.subject.startswith("oneforone: webhook-endpoint uitgeschakeld")


def test_signing_in_again_in_the_same_language_records_nothing(world: World) -> None:
    user = world.partner_admin
    user.set_password(PASSWORD)
    user.save()
    for _ in range(2):
        client = Client()
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
        client.post(reverse("login"), {"username": user.username, "password": PASSWORD})

    assert AuditEvent.objects.filter(code="accounts.user.language_changed").count() == 1


def test_a_new_member_reads_their_emails_in_the_language_they_accepted_in(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _, token = account_actions.invite_member(
            actor=world.partner_admin,
            organisation=world.partner,
            email="ama@example.org",
            role=Role.MEMBER,
            language="nl",
        )
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"

    response = client.post(
        reverse("accept-invitation", args=[token]),
        {"username": "ama", "password": PASSWORD, "password_again": PASSWORD},
    )

    assert response.status_code == 302, response.content.decode()
    assert User.objects.get(username="ama").language == "fr"
