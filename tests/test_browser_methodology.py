"""The public methodology pages in Debian's chromium, on a phone and on a desktop.
Screenshots land in .screenshots/ (git-ignored)."""

from __future__ import annotations

import pytest

from test_browser import CHROMIUM, SHOTS, browser_page  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="no chromium"),
    pytest.mark.django_db(transaction=True),
]


def _fits(page) -> None:  # type: ignore[no-untyped-def]
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


@pytest.mark.parametrize(("name", "size"), [("phone", (375, 812)), ("desktop", (1280, 900))])
def test_anyone_reads_a_versions_factors_and_sources(browser_page, name, size):  # noqa: F811
    page = browser_page
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.goto("/methodology/")
    _fits(page)
    page.screenshot(path=str(SHOTS / f"methodology-{name}.png"), full_page=True)
    page.click("text=2026.1")
    page.wait_for_url("**/methodology/1/")
    text = page.inner_text("main") if page.locator("main").count() else page.inner_text("body")
    assert "Nuss & Eckelman 2014" in text
    assert "GLEC Framework v3.1" in text
    assert "Low (a rough default" in text
    _fits(page)
    page.screenshot(path=str(SHOTS / f"methodology-version-{name}.png"), full_page=True)
