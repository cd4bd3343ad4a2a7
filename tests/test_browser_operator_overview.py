"""The operator's overview in Debian's chromium, on a desktop and at a phone's width (375 px):
the demo's figures, charts and tables fit, the estimate states its method, and a throughput row
leads to the intakes behind it. Screenshots land in .screenshots/."""

from __future__ import annotations

import pytest

from test_browser import CHROMIUM, SHOTS, assert_fits, browser_page, demo_data, sign_in  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="no chromium"),
    pytest.mark.django_db(transaction=True),
]

PHONE_375 = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}


def test_the_operator_reads_the_whole_service_on_a_desktop_and_a_phone(browser_page, demo_data):  # noqa: F811
    page = browser_page
    page.set_viewport_size(DESKTOP)
    sign_in(page, "operator")
    assert page.locator("a[href='/operator/overview/']").count() >= 1  # the nav link
    page.goto("/operator/overview/")
    for part in ("backlog", "backlog-chart", "estimate", "compliance", "living-wages"):
        assert page.locator(f"[data-testid={part}]").count() == 1, part
    assert "Method:" in page.locator("[data-testid=estimate]").inner_text()
    assert page.locator("svg[role=img] > title").count() >= 2  # charts carry their titles
    assert "no benchmark" in page.locator("[data-testid=living-wages]").inner_text()
    assert_fits(page)
    page.screenshot(path=str(SHOTS / "operator-overview-desktop.png"), full_page=True)

    page.set_viewport_size(PHONE_375)
    page.goto("/operator/overview/?by=month")
    assert_fits(page)
    page.screenshot(path=str(SHOTS / "operator-overview-phone.png"), full_page=True)

    first_hub = page.locator("[data-testid=hubs] td.num a").first
    phones = first_hub.inner_text()
    first_hub.click()
    page.wait_for_url("**/operator/overview/intakes/**")
    assert phones in page.locator("[data-testid=count]").inner_text()
    assert_fits(page)
    page.screenshot(path=str(SHOTS / "operator-overview-intakes-phone.png"), full_page=True)
