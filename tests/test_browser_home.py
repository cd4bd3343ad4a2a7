"""The public home page and the scenario calculator in Debian's chromium, on a desktop (1280 px)
and a phone (375 px) screen. Screenshots land in .screenshots/ (git-ignored)."""

from __future__ import annotations

from typing import Any

import pytest

from test_browser import CHROMIUM, SHOTS, browser_page, demo_data  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="no chromium"),
    pytest.mark.django_db(transaction=True),
]

SCREENS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 812}}


@pytest.fixture(autouse=True)
def _cold_cache() -> None:
    from django.core.cache import cache

    cache.clear()


def fits(page: Any) -> None:
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


def test_the_home_page_shows_live_totals_and_leads_to_the_calculator(
    browser_page: Any,  # noqa: F811
    demo_data: str,  # noqa: F811
) -> None:
    from oneforone.impact.queries import Scope, impact_figures

    issued = impact_figures(Scope(issued=True)).units
    page = browser_page
    for screen, size in SCREENS.items():
        page.set_viewport_size(size)
        page.goto("/")
        assert page.inner_text("[data-testid=counter]") == f"{issued:,}"
        assert page.inner_text("[data-testid=total-tonnes]").endswith(" t")
        assert int(page.inner_text("[data-testid=total-countries]")) >= 1
        milestones = page.inner_text("[data-testid=milestones]")
        assert "reached on" in milestones or "Next:" in milestones
        fits(page)
        page.screenshot(path=str(SHOTS / f"home-{screen}.png"), full_page=True)

        page.fill("#home-population", "8000000")
        page.fill("#home-participation", "1")
        page.click("[data-testid=home-calculator] button[type=submit]")
        page.wait_for_url("**/calculator/?population=8000000&participation=1")
        headline = page.inner_text("[data-testid=scenario-headline]")
        assert "8,000,000 phones at 55 g a phone give 440 tonnes" in headline
        fits(page)
        page.screenshot(path=str(SHOTS / f"calculator-london-{screen}.png"), full_page=True)


def test_a_visitor_fills_the_calculator_and_corrects_a_mistake(
    browser_page: Any,  # noqa: F811
    live_server: Any,
) -> None:
    page = browser_page
    for screen, size in SCREENS.items():
        page.set_viewport_size(size)
        page.goto("/calculator/")
        fits(page)
        page.screenshot(path=str(SHOTS / f"calculator-form-{screen}.png"), full_page=True)

        page.fill("#id_population", "-5")
        page.click("[data-testid=scenario-form] button[type=submit]")
        page.wait_for_load_state()
        assert "Enter the population of at least 1." in page.inner_text(
            "[data-testid=scenario-form]"
        )
        assert page.locator("#id_population[aria-invalid=true]").count() == 1
        fits(page)
        page.screenshot(path=str(SHOTS / f"calculator-error-{screen}.png"), full_page=True)

        page.fill("#id_population", "250000")
        page.fill("#id_participation", "0.4")
        page.fill("#id_price", "2.60")
        page.click("[data-testid=scenario-form] button[type=submit]")
        page.wait_for_url("**/calculator/?*population=250000*")
        headline = page.inner_text("[data-testid=scenario-headline]")
        assert "100,000 phones at 55 g a phone give 5.5 tonnes" in headline
        steps = page.inner_text("[data-testid=scenario-result]")
        assert "= 72.04 living-wage months" in steps
        assert page.locator(".chart svg").count() == 1
        fits(page)
        page.screenshot(path=str(SHOTS / f"calculator-result-{screen}.png"), full_page=True)

        page.click("text=Every resident of London hands in one phone")
        assert "give 440 tonnes" in page.inner_text("[data-testid=scenario-headline]")
