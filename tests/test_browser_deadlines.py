"""The deadlines page in Debian's chromium at a phone's width: the demo's overdue items come first,
a filter narrows them, and the operator marks one met. Screenshots land in .screenshots/."""

from __future__ import annotations

import pytest

from test_browser import (  # noqa: F401
    CHROMIUM,
    PHONE,
    SHOTS,
    assert_fits,
    browser_page,
    demo_data,
    sign_in,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="no chromium"),
    pytest.mark.django_db(transaction=True),
]


def test_the_operator_chases_and_marks_a_deadline_on_a_phone(browser_page, demo_data):  # noqa: F811
    from oneforone.shipments.deadline_models import DeadlineAct

    page = browser_page
    page.set_viewport_size(PHONE)
    sign_in(page, "operator")
    assert page.locator("a[href='/shipments/deadlines/']").count() >= 1  # the nav link
    page.goto("/shipments/deadlines/")
    page.wait_for_url("**/shipments/deadlines/")
    badges = page.locator("section.deadline .badge").all_inner_texts()
    assert badges, "the demo leaves open deadlines"
    assert badges[0] == "overdue"
    assert "due" not in badges[: badges.count("overdue")]
    assert_fits(page)
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
    assert_fits(page)
