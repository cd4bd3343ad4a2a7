"""The webhook pages in Debian's chromium, on a phone and a desktop screen: a partner's
administrator adds an endpoint, copies the secret, sends a test event and reads the log."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from factories import make_world
from webhook_receiver import Receiver, serve

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parent.parent / ".screenshots"
SCREENS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from serve()


@pytest.fixture
def chromium() -> Iterator:  # type: ignore[type-arg]
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # ORM setup beside Playwright's event loop
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
        )
        yield browser
        browser.close()


def _fits(page) -> bool:  # type: ignore[no-untyped-def]
    page.wait_for_load_state()
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("screen", ["phone", "desktop"])
def test_an_administrator_adds_an_endpoint_and_sends_a_test_event(
    chromium, live_server, receiver: Receiver, screen: str
) -> None:  # type: ignore[no-untyped-def]
    world = make_world()
    context = chromium.new_context(viewport=SCREENS[screen], base_url=live_server.url)
    page = context.new_page()
    page.goto("/login/")
    page.fill("input[name=username]", world.partner_admin.username)
    page.fill("input[name=password]", "correct horse battery staple")
    page.click("button[type=submit]")

    page.goto("/partner/webhooks/")
    page.fill("input[name=url]", receiver.url())
    page.fill("input[name=description]", "ERP integration")
    page.check("input[value='registration.accepted']")
    page.check("input[value='certificate.issued']")
    page.click("text=Add endpoint")
    secret = page.locator("[data-testid=new-secret] .mono").first.inner_text()
    assert secret.startswith("whsec_")
    assert _fits(page)
    page.screenshot(path=str(SHOTS / f"webhooks-{screen}-created.png"), full_page=True)

    page.click(f"a:has-text('{receiver.url()}')")
    page.click("text=Send test event")
    page.wait_for_selector("text=Delivered")
    assert len(receiver.requests) == 1
    assert _fits(page)
    page.screenshot(path=str(SHOTS / f"webhooks-{screen}-delivery.png"), full_page=True)

    receiver.status = 503  # the receiver breaks; redelivering shows the failure in the log
    page.click("text=Redeliver")
    page.wait_for_selector("text=Failed: no more attempts")
    assert "HTTP 503" in page.content()
    assert len(receiver.requests) == 2
    assert _fits(page)
    page.screenshot(path=str(SHOTS / f"webhooks-{screen}-failed.png"), full_page=True)

    page.click(f"a:has-text('{receiver.url()}')")
    assert _fits(page)
    page.screenshot(path=str(SHOTS / f"webhooks-{screen}-endpoint.png"), full_page=True)
    context.close()
