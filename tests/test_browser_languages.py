"""Translated pages in Debian's chromium at a phone's width (375 px), in French, the longest of
the three languages: nothing scrolls sideways and the page speaks French. Screenshots land in
.screenshots/."""

from __future__ import annotations

import pytest

from test_browser import CHROMIUM, SHOTS, assert_fits, browser_page, demo_data, sign_in  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="no chromium"),
    pytest.mark.django_db(transaction=True),
]

PHONE_375 = {"width": 375, "height": 812}


def _login_in(page, username: str, language: str) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, username)
    origin = "/".join(page.url.split("/")[:3])  # the cookie is for every path of the site
    page.context.add_cookies([{"name": "oneforone_language", "value": language, "url": origin}])


PAGES = [
    ("operator", "/operator/registry/", "Attribution", "fr-allocation"),
    ("operator", "/operator/registry/reservations/", "Réservations", "fr-reservations"),
    ("operator", "/operator/overview/", "L'ensemble du service", "fr-overview"),
    ("brand", "/partner/registrations/", "Enregistrements", "fr-registrations"),
    ("brand", "/team/", "Équipe de", "fr-team"),
    ("brand", "/partner/webhooks/", "Webhooks", "fr-webhooks"),
]


def test_french_pages_fit_a_phone(browser_page, demo_data) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    page = browser_page
    page.set_viewport_size(PHONE_375)
    page.goto("/")
    signed_in = ""
    for username, path, heading, shot in PAGES:
        if username != signed_in:
            _login_in(page, username, "fr")
            signed_in = username
        page.goto(path)

        assert page.locator("html").get_attribute("lang") == "fr", path
        assert heading in page.locator("h1").first.inner_text(), path
        assert_fits(page)
        page.screenshot(path=str(SHOTS / f"{shot}-phone.png"), full_page=True)
