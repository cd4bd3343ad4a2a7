"""The code lists and the documents of a notification in Debian's chromium, on a phone's and a
desktop's width: the coming battery-code change is highlighted, the valid-on filter works, and
the notification's PDF link opens a PDF."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine

from factories import make_notification, make_world, movement_document_row, treated_consignment
from test_browser import sign_in

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parent.parent / ".screenshots"
SCREENS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]


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
def test_the_code_lists_and_the_notification_pdf(chromium, live_server, screen: str) -> None:  # type: ignore[no-untyped-def]
    world = make_world()
    notification = make_notification(world)
    movement_document_row(treated_consignment(world), notification)
    context = chromium.new_context(viewport=SCREENS[screen], base_url=live_server.url)
    page = context.new_page()
    sign_in(page, world.hub_user.username, "correct horse battery staple")

    # The server's clock a few weeks before the battery codes change on 2026-12-09.
    with time_machine.travel(dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC), tick=True):
        page.goto("/shipments/codes/")
        changes = page.locator("#changes")
        assert changes.is_visible()
        assert "16 06 05" in changes.inner_text()
        assert "replaced by 16 06 07*" in changes.inner_text()
        wide = page.evaluate(
            "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right"
            " > window.innerWidth + 1).slice(0, 5).map(e => e.tagName + '.' + e.className + ' '"
            " + e.outerHTML.slice(0, 120))"
        )
        assert _fits(page), f"the code lists are wider than the screen: {wide}"
        page.screenshot(path=str(SHOTS / f"documents-codes-{screen}.png"), full_page=False)

        page.fill("input[name=on]", "2026-12-09")
        page.select_option("select[name=code_list]", "ewc")
        page.check("input[name=usable_only]")
        page.click("#valid-on button[type=submit]")
        page.wait_for_load_state()
        table = page.locator("#list-ewc + .table-wrap").inner_text()
        assert "16 06 01*" in table
        assert "16 06 05\t" not in table
        assert "usable 2026-12-09" in table

    page.goto(f"/shipments/notifications/{notification.number}/attachments/")
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right"
        " > window.innerWidth + 1).slice(0, 3).map(e => e.outerHTML.slice(0, 120))"
    )
    assert _fits(page), f"the documents page is wider than the screen: {wide}"
    link = page.get_by_role("link", name="Notification document (PDF)")
    response = page.request.get(link.get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")
    page.screenshot(path=str(SHOTS / f"documents-attachments-{screen}.png"), full_page=True)
    context.close()
