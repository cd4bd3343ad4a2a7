"""The collectors and safe-work pages in Debian's chromium at a phone's width: every page fits
the screen, personal data shows only after the form is sent, and the operator's network view
renders. Screenshots land in .screenshots/ (git-ignored)."""

from __future__ import annotations

import pytest

from test_browser import CHROMIUM, PHONE, SHOTS, assert_fits, browser_page, demo_data, sign_in  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="no chromium"),
    pytest.mark.django_db(transaction=True),
]


def test_collectors_pages_on_a_phone(browser_page, demo_data):  # noqa: F811
    from oneforone.collection.models import Collector, PersonalDataAccess
    from oneforone.collection.people_actions import person_of

    page = browser_page
    page.set_viewport_size(PHONE)
    sign_in(page, "hub-accra")
    collector = Collector.objects.get(code="GH-ACC-003")
    name = person_of(collector).name  # type: ignore[union-attr]

    page.goto("/collection/collectors/")
    assert page.locator("text=GH-ACC-003").count() == 1
    assert_fits(page)
    page.screenshot(path=str(SHOTS / "collectors-phone.png"), full_page=True)

    page.click("text=GH-ACC-003")
    page.wait_for_url("**/collection/collectors/GH-ACC-003/")
    assert name not in page.content()
    assert_fits(page)
    page.fill("#personal-data input[name=reason]", "checking the wallet before payday")
    page.click("#personal-data button:has-text('Show personal data')")
    page.wait_for_selector("#personal-data dl.facts")
    assert name in page.content()
    assert_fits(page)
    page.screenshot(path=str(SHOTS / "collector-revealed-phone.png"), full_page=True)
    assert PersonalDataAccess.objects.filter(collector=collector, purpose="view").count() == 1

    page.goto("/collection/safe-work/")
    assert page.locator("svg").count() == 2
    assert_fits(page)
    page.screenshot(path=str(SHOTS / "safe-work-hub-phone.png"), full_page=True)

    sign_in(page, "operator")
    page.goto("/collection/safe-work/")
    assert page.locator("text=Recup Mobile Cameroun SARL").count() >= 1
    assert_fits(page)
    page.screenshot(path=str(SHOTS / "safe-work-operator-phone.png"), full_page=True)
    page.goto("/collection/collectors/GH-ACC-003/")
    assert page.locator("text=checking the wallet before payday").count() == 1
    assert_fits(page)
