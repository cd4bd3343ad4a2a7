"""The partner dashboard in Debian's chromium at a phone's and a desktop's width: the charts fit
the screen, the period filter goes into the URL, a card opens its drill-down, and the badge is
published from the dashboard. Screenshots land in .screenshots/ for a person to look at."""

from __future__ import annotations

import pytest

from test_browser import CHROMIUM, PHONE, SHOTS, assert_fits, browser_page, demo_data, sign_in  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="no chromium"),
    pytest.mark.django_db(transaction=True),
]
DESKTOP = {"width": 1280, "height": 900}
NARROW = {"width": 375, "height": 812}


def test_the_partner_dashboard_on_a_phone_and_a_desktop(browser_page, demo_data):  # noqa: F811
    page = browser_page
    sign_in(page, "brand")

    for viewport, suffix in ((NARROW, "phone"), (DESKTOP, "desktop")):
        page.set_viewport_size(viewport)
        page.goto("/dashboard/")
        assert page.locator(".chart svg").count() == 4, "three charts and the metals'"
        assert page.locator("[data-testid=methodology-cards] .card").count() >= 4
        assert "not part of your scope 1-3 inventory" in page.inner_text(
            "[data-testid=methodology-figures]"
        )
        assert int(page.inner_text("[data-testid=devices-compensated]").replace(",", "")) > 0
        page.screenshot(path=str(SHOTS / f"partner-dashboard-{suffix}.png"), full_page=True)
        wide = page.evaluate(
            "[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right"
            " > document.documentElement.clientWidth).map(e => e.tagName + '.' + e.className"
            " + '#' + (e.dataset.testid || '')).slice(0, 5)"
        )
        assert not wide, wide
        assert_fits(page)
        if suffix == "phone":
            parts = ("period-filters", "figures", "methodology-figures", "chart-history")
            for part in (*parts, "chart-pipeline"):
                page.locator(f"[data-testid={part}]").screenshot(
                    path=str(SHOTS / f"partner-dashboard-{part}-phone.png")
                )

    page.set_viewport_size(NARROW)
    page.select_option("select[name=period]", "year")
    page.click("[data-testid=period-filters] button[type=submit]")
    page.wait_for_url("**period=year**")
    assert "January" in page.inner_text("[data-testid=period]")

    # A metal's card opens its drill-down: the recovery chain, batch by batch, with sources.
    page.click("[data-testid=figure-metal_au_recovered_g] a.drill")
    page.wait_for_url("**/dashboard/impact/figures/metal_au_recovered_g/**")
    assert "period=year" in page.url
    assert page.locator("[data-testid=factors]").count() > 0
    assert_fits(page)
    page.screenshot(path=str(SHOTS / "partner-impact-figure-phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(SHOTS / "partner-impact-figure-desktop.png"), full_page=True)
    page.set_viewport_size(NARROW)
    page.go_back()

    page.click("[data-testid=card-wages]")
    page.wait_for_url("**/dashboard/impact/income/**")
    assert "period=year" in page.url
    assert_fits(page)
    page.screenshot(path=str(SHOTS / "partner-impact-income-phone.png"), full_page=True)
    page.go_back()
    page.click("[data-testid=card-weight]")
    page.wait_for_url("**/dashboard/impact/allocations/**")
    assert page.locator("[data-testid=allocations] tr").count() > 1
    page.screenshot(path=str(SHOTS / "partner-impact-allocations-phone.png"), full_page=True)

    # The demo brand publishes its badge: the snippet is there to copy, the badge answers.
    page.goto("/dashboard/")
    snippet = page.input_value("[data-testid=badge-snippet]")
    assert "/badge/lumen-mobile.svg" in snippet
    assert_fits(page)
    page.locator("#badge").screenshot(path=str(SHOTS / "partner-badge-phone.png"))
    badge = page.request.get("/badge/lumen-mobile.svg")
    assert badge.ok
    assert "devices compensated" in badge.text()
    page.click("#badge button[type=submit]")  # stop publishing
    page.wait_for_url("**/dashboard/**")
    assert page.locator("[data-testid=badge-snippet]").count() == 0
    assert page.request.get("/badge/lumen-mobile.svg").status == 404
