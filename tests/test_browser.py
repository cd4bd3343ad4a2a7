"""A person's walk through the platform in Debian's chromium, driven by Playwright.

Screenshots land in .screenshots/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parent.parent / ".screenshots"
PHONE = {"width": 390, "height": 844}


def sign_in(page, username: str, password: str = "") -> None:  # type: ignore[no-untyped-def]
    """Sign in through the login page (signing out whoever was in first); the demo users'
    password unless another is given. Returns once the login page has redirected away."""
    from oneforone import demo

    page.context.clear_cookies()
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password or demo.DEMO_PASSWORD)
    page.click("button[type=submit]")
    # "**/" would match the login page itself and return before the POST is answered; the next
    # navigation would then race the login (seen in CI as a CSRF refusal).
    page.wait_for_url(lambda url: "/login/" not in url)


def assert_fits(page) -> None:  # type: ignore[no-untyped-def]
    """Nothing on the page scrolls sideways at the viewport's width."""
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def browser_page(live_server) -> Iterator:  # type: ignore[no-untyped-def]
    # Playwright's sync API runs an event loop in this thread; the ORM calls in this test are
    # ordinary synchronous setup, so allow them.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        context = browser.new_context(viewport=PHONE, base_url=live_server.url)
        yield context.new_page()
        context.close()
        browser.close()


@pytest.fixture
def demo_data(live_server) -> str:  # type: ignore[no-untyped-def]
    from demo_snapshot import demo_data_set

    _restore_reference_data()
    return demo_data_set(base_url=live_server.url)


def _restore_reference_data() -> None:
    """Transactional tests empty every table, the migrations' reference data included."""
    import importlib

    from django.apps import apps

    from oneforone.collection.models import LivingWageBenchmark
    from oneforone.partners.models import DeviceCategory

    migrations = "oneforone.{}.migrations.{}"
    if not DeviceCategory.objects.exists():
        module = importlib.import_module(migrations.format("partners", "0002_device_categories"))
        module.add_categories(apps, None)
    if not LivingWageBenchmark.objects.exists():
        module = importlib.import_module(
            migrations.format("collection", "0004_living_wage_benchmarks")
        )
        module.add_benchmarks(apps, None)


def test_partner_uploads_a_csv_and_sees_it_on_the_dashboard(
    browser_page, demo_data, tmp_path, settings
):

    settings.MEDIA_ROOT = tmp_path / "media"
    page = browser_page
    sign_in(page, "brand")
    page.goto("/dashboard/")
    before = int(page.inner_text("[data-testid=devices-registered]").replace(",", ""))

    page.goto("/partner/upload/")
    page.screenshot(path=str(SHOTS / "upload-form-phone.png"), full_page=True)
    bad = tmp_path / "bad.csv"
    bad.write_text("reference,category,quantity\nBR-X-1,toaster,3\nBR-X-2,phone,many\n")
    page.set_input_files("input[name=file]", str(bad))
    page.check("input[value=all_or_nothing]")
    page.click("main button[type=submit]")
    page.wait_for_url("**/partner/uploads/*/")
    page.reload()  # the import ran in the background meanwhile (inline in tests)
    assert page.inner_text("[data-testid=upload-status]") == "rejected"
    errors = page.inner_text("[data-testid=upload-errors]")
    assert "line 2" in errors
    assert "toaster" in errors
    assert "line 3" in errors
    page.screenshot(path=str(SHOTS / "upload-errors-phone.png"), full_page=True)

    good = tmp_path / "good.csv"
    good.write_text("reference,category,quantity\nBR-BROWSER-1,phone,120\nBR-BROWSER-2,laptop,5\n")
    page.goto("/partner/upload/")
    page.set_input_files("input[name=file]", str(good))
    page.click("main button[type=submit]")
    page.wait_for_url("**/partner/uploads/*/")
    page.reload()
    assert page.inner_text("[data-testid=upload-status]") == "done"
    assert page.locator("[data-testid=report]").count() == 1
    page.screenshot(path=str(SHOTS / "upload-done-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(SHOTS / "upload-done-desktop.png"), full_page=True)
    page.goto("/partner/uploads/")
    page.screenshot(path=str(SHOTS / "uploads-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(SHOTS / "uploads-phone.png"), full_page=True)
    page.goto("/partner/registrations/")
    assert "BR-BROWSER-1" in page.inner_text("[data-testid=registrations]")
    page.screenshot(path=str(SHOTS / "registrations-phone.png"), full_page=True)

    page.goto("/dashboard/")
    after = int(page.inner_text("[data-testid=devices-registered]").replace(",", ""))
    assert after == before + 125
    assert page.locator(".chart svg").count() >= 2
    page.screenshot(path=str(SHOTS / "dashboard-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(SHOTS / "dashboard-desktop.png"), full_page=True)


def test_public_verification_page_shows_the_certificates_facts(browser_page, demo_data):
    from oneforone.registry.models import Certificate

    certificate = Certificate.objects.order_by("issued_at", "id").first()
    assert certificate is not None, "the demo data set issues certificates"
    page = browser_page
    page.goto(f"/verify/{certificate.code}")
    claim = page.inner_text("[data-testid=claim]")
    facts = page.inner_text("[data-testid=facts]")
    assert certificate.snapshot["partner"] in claim
    assert certificate.snapshot["unit_blocks"][0] in facts
    assert certificate.snapshot["consignments"][0] in facts
    assert page.locator(".qr svg").count() == 1
    page.screenshot(path=str(SHOTS / "verify-phone.png"), full_page=True)
    response = page.request.get(f"/verify/{certificate.code}.pdf")
    assert response.ok
    assert response.body().startswith(b"%PDF")


def test_a_buyer_finds_the_phone_that_compensated_their_device(browser_page, demo_data):
    from oneforone import demo

    page = browser_page
    page.goto("/")
    page.click("text=Find the recycled phone that compensated it")
    page.fill("#identifier", demo.DEMO_IMEI)
    page.click("[data-testid=device-form] button[type=submit]")
    answer = page.inner_text("[data-testid=device-answer]")
    assert "compensated" in answer
    assert "Scheldt" in answer or "Recycler" in answer
    assert page.locator(".qr svg").count() >= 1
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(SHOTS / "device-lookup-phone.png"), full_page=True)

    page.click("[data-testid=device-answer] dd.mono a")
    page.wait_for_url("**/registry/unit/**")
    history = page.inner_text("main")
    assert "issued" in history.lower()
    page.screenshot(path=str(SHOTS / "unit-history-phone.png"), full_page=True)
