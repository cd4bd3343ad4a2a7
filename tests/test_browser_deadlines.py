"""The deadlines page in Debian's chromium at a phone's width: the demo's overdue items come first,
a filter narrows them, and the operator marks one met. Screenshots land in .screenshots/."""

from __future__ import annotations

import pytest

from test_browser import CHROMIUM, PHONE, SHOTS, browser_page, demo_data  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="no chromium"),
    pytest.mark.django_db(transaction=True),
]


def _login(page, username: str) -> None:  # type: ignore[no-untyped-def]
    from oneforone import demo

    page.context.clear_cookies()
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", demo.DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def _fits(page) -> None:  # type: ignore[no-untyped-def]
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


def test_the_operator_chases_and_marks_a_deadline_on_a_phone(browser_page, demo_data):  # noqa: F811
    from oneforone.shipments.deadline_models import DeadlineAct

    page = browser_page
    page.set_viewport_size(PHONE)
    _login(page, "operator")
    assert page.locator("a[href='/shipments/deadlines/']").count() >= 1  # the nav link
    page.goto("/shipments/deadlines/")
    page.wait_for_url("**/shipments/deadlines/")
    badges = page.locator("section.deadline .badge").all_inner_texts()
    assert badges, "the demo leaves open deadlines"
    assert badges[0] == "overdue"
    assert "due" not in badges[: badges.count("overdue")]
    _fits(page)
    page.screenshot(path=str(SHOTS / "deadlines-phone.png"), full_page=True)

    page.select_option("select[name=kind]", "receipt_confirmation")
    page.click("form[aria-label='Filter deadlines'] button")
    page.wait_for_url("**kind=receipt_confirmation**")
    rows = page.locator("section.deadline")
    assert rows.count() >= 1
    assert all("Confirmation of receipt" in text for text in rows.all_inner_texts())

    before = DeadlineAct.objects.count()
    first = rows.first
    first.locator("summary:has-text('Mark met')").click()
    first.locator("input[name=note]").fill("confirmed in DIWASS")
    first.locator("button:has-text('Record as done')").click()
    page.wait_for_selector("ul.messages li")
    assert "recorded as done on" in page.locator("ul.messages").inner_text()
    assert DeadlineAct.objects.count() == before + 1
    _fits(page)
