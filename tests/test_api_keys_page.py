"""The partner portal's API keys page: create (shown once, with a scope), rotate with an
overlap, revoke; administrators only may change; readable on a phone."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from factories import World, make_member
from oneforone.accounts.models import ApiKey, ApiKeyScope, Role
from oneforone.accounts.queries import api_key_for

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parent.parent / ".screenshots"
PASSWORD = "correct horse battery staple"


def signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_an_administrator_creates_a_key_with_a_scope_shown_once(world: World) -> None:
    client = signed_in(world.partner_admin)

    response = client.post(reverse("partner-api-keys"), {"name": "webshop", "scope": "read"})

    raw = response.context["new_key"]
    assert response["Cache-Control"] == "no-store"
    key = ApiKey.objects.get()
    assert (key.name, key.scope) == ("webshop", ApiKeyScope.READ)
    assert api_key_for(raw) == key
    listing = client.get(reverse("partner-api-keys")).content.decode()
    assert raw not in listing
    assert key.display_prefix in listing
    assert "Read only" in listing


def test_rotating_keeps_the_old_key_for_the_chosen_overlap(world: World) -> None:
    client = signed_in(world.partner_admin)
    client.post(reverse("partner-api-keys"), {"name": "erp", "scope": "write"})
    old = ApiKey.objects.get()

    response = client.post(reverse("partner-api-keys"), {"rotate": old.pk, "overlap": "1h"})

    new = ApiKey.objects.get(rotated_from=old)
    assert api_key_for(response.context["new_key"]) == new
    assert new.scope == ApiKeyScope.WRITE
    old.refresh_from_db()
    assert old.expires_at is not None
    remaining = old.expires_at - timezone.now()
    assert 0 < remaining.total_seconds() <= 3600
    assert "old key works for 1 hour" in response.content.decode()


def test_revoking_stops_a_key(world: World) -> None:
    client = signed_in(world.partner_admin)
    raw = client.post(reverse("partner-api-keys"), {"name": "erp"}).context["new_key"]
    key = ApiKey.objects.get()

    client.post(reverse("partner-api-keys"), {"revoke": key.pk})

    assert api_key_for(raw) is None
    assert "revoked" in client.get(reverse("partner-api-keys")).content.decode()


def test_only_administrators_change_keys_and_only_their_own_partners(world: World) -> None:
    admin = signed_in(world.partner_admin)
    admin.post(reverse("partner-api-keys"), {"name": "erp"})
    key = ApiKey.objects.get()
    member = signed_in(make_member(world.partner, role=Role.MEMBER))

    page = member.get(reverse("partner-api-keys")).content.decode()
    assert "Only an administrator" in page
    assert 'name="revoke"' not in page
    member.post(reverse("partner-api-keys"), {"revoke": key.pk})
    member.post(reverse("partner-api-keys"), {"name": "sneaky"})
    key.refresh_from_db()
    assert key.revoked_at is None
    assert ApiKey.objects.count() == 1

    viewer = signed_in(make_member(world.partner, role=Role.VIEWER))
    assert viewer.post(reverse("partner-api-keys"), {"name": "x"}).status_code == 403

    from factories import make_partner

    _, other_admin = make_partner()
    other = signed_in(other_admin)
    assert other.post(reverse("partner-api-keys"), {"revoke": key.pk}).status_code == 404
    assert key.display_prefix not in other.get(reverse("partner-api-keys")).content.decode()


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
@pytest.mark.django_db(transaction=True)
def test_the_page_reads_on_a_phone_and_a_desktop(live_server, world: World) -> None:  # type: ignore[no-untyped-def]
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for name, viewport in [
            ("phone", {"width": 390, "height": 844}),
            ("desktop", {"width": 1280, "height": 800}),
        ]:
            context = browser.new_context(viewport=viewport, base_url=live_server.url)
            page = context.new_page()
            page.goto("/login/")
            page.fill("input[name=username]", world.partner_admin.username)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.goto(reverse("partner-api-keys"))
            page.fill("input[name=name]", f"webshop {name}")
            page.check("input[name=scope][value=write]")
            page.click("[data-testid=create-key] button[type=submit]")
            shown = page.inner_text("[data-testid=new-key]")
            assert "o4o_" in shown
            page.click("button[name=rotate] >> nth=0")
            assert "rotated" in page.inner_text("main")
            page.screenshot(path=str(SHOTS / f"api-keys-{name}.png"), full_page=True)
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
            context.close()
        browser.close()
