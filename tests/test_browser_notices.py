"""The notification pages in Debian's chromium at a phone's width, on the demo data: Cameroon's
hub sees its draft held by the open change, records the authorities' answer on the notification,
and the dispatch gate of the draft opens. Screenshots land in .screenshots/ (git-ignored)."""

from __future__ import annotations

import pytest

from test_browser import CHROMIUM, PHONE, SHOTS, browser_page, demo_data, sign_in  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="no chromium"),
    pytest.mark.django_db(transaction=True),
]


def _fits(page) -> None:  # type: ignore[no-untyped-def]
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


def test_answering_a_change_opens_the_dispatch_gate_on_a_phone(browser_page, demo_data):  # noqa: F811
    from django.utils import timezone

    from oneforone.shipments.models import Consignment

    draft = Consignment.objects.filter(state="draft", origin_hub__country="CM").first()
    assert draft is not None
    assert draft.notification is not None
    number = draft.notification.number

    page = browser_page
    page.set_viewport_size(PHONE)
    sign_in(page, "hub-douala")

    page.goto(f"/shipments/{draft.reference}/")
    gate = page.locator("#dispatch-gate")
    assert "awaits the authorities" in gate.inner_text()
    _fits(page)
    page.screenshot(path=str(SHOTS / "dispatch-gate-blocked-phone.png"), full_page=True)

    page.goto("/shipments/notifications/?status=consented")
    page.click(f"text={number}")
    page.wait_for_url(f"**/shipments/notifications/{number}/")
    assert "awaiting answer" in page.locator("#changes").inner_text()
    assert page.locator("#consents li").count() == 3
    _fits(page)
    page.screenshot(path=str(SHOTS / "notification-phone.png"), full_page=True)

    page.click("#record-answer summary")
    page.select_option("#record-answer select[name=change]", index=1)
    page.select_option("#record-answer select[name=answer]", "accepted")
    page.fill("#record-answer input[name=answered_on]", str(timezone.localdate()))
    page.click("#record-answer button[type=submit]")
    page.wait_for_url(f"**/shipments/notifications/{number}/")
    assert "Change accepted" in page.content()
    draft.notification.refresh_from_db()
    assert draft.notification.total_quantity_kg == 30000

    page.goto(f"/shipments/{draft.reference}/")
    assert page.locator("#dispatch-gate .badge.err").count() == 0
    _fits(page)
