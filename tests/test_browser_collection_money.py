"""The money pages in Debian's chromium at a phone's width, on the demo data: a hub pays its
collectors on payday, the partner reads its income and living wages, the operator reads every
partner (Nigeria: no benchmark) and the caps. Every page fits a 390 px screen.

Screenshots land in .screenshots/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import pytest

from test_browser import CHROMIUM, SHOTS, assert_fits, browser_page, demo_data, sign_in  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="no chromium"),
    pytest.mark.django_db(transaction=True),
]


def test_payday_income_and_caps_on_a_phone(browser_page, demo_data):  # noqa: F811
    from decimal import Decimal

    from oneforone.accounts.models import User
    from oneforone.collection.actions import record_intake
    from oneforone.collection.models import Hub, Payment

    hub = Hub.objects.get(code="gh-accra")
    record_intake(  # bought this morning, not yet paid
        actor=User.objects.get(username="hub-accra"),
        hub=hub,
        collector=hub.collectors.order_by("code").first(),
        phones=120,
        net_weight_kg=Decimal("6.6"),
        price_per_phone=Decimal("2.60"),
        currency="GHS",
    )
    from oneforone.collection.money_queries import due_by_collector
    from oneforone.core.money import Money

    due = Money(sum((d.amount for d in due_by_collector(hub)), Decimal(0)), "GHS")
    assert due.amount >= Decimal("312.00")
    page = browser_page
    sign_in(page, "hub-accra")

    page.goto("/collection/payments/")
    assert page.inner_text("[data-testid=total-due]") == str(due)
    assert_fits(page)
    page.screenshot(path=str(SHOTS / "money-payments-phone.png"), full_page=True)
    page.select_option("select[name=method]", "mobile_money")
    page.click("#pay button[type=submit]:not([name])")
    assert "Enter the transaction reference" in page.inner_text("#pay")
    page.fill("input[name=reference]", "MP-BROWSER-1")
    page.click("#pay button[type=submit]:not([name])")
    page.wait_for_selector("[data-testid=nothing-due]")
    assert Payment.objects.filter(reference="MP-BROWSER-1").exists()

    page.goto("/collection/income/")
    assert "Global Living Wage Coalition" in page.inner_text("[data-testid=living-wage-months]")
    assert "reconciles" in page.inner_text("[data-testid=reconciliation]")
    assert page.locator(".chart svg").count() >= 1
    assert_fits(page)
    page.screenshot(path=str(SHOTS / "money-income-phone.png"), full_page=True)

    sign_in(page, "operator")
    page.goto("/collection/income/")
    assert "no benchmark" in page.inner_text("[data-testid=living-wage-months]")
    assert_fits(page)
    page.screenshot(path=str(SHOTS / "money-income-operator-phone.png"), full_page=True)
    for url, name in (
        ("/collection/price-caps/", "money-caps"),
        ("/collection/fee-rates/", "money-fees"),
        ("/collection/exchange-rates/", "money-rates"),
    ):
        page.goto(url)
        assert_fits(page)
        page.screenshot(path=str(SHOTS / f"{name}-phone.png"), full_page=True)
    assert "BEAC fixed parity" in page.inner_text("main")
