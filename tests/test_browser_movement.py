"""A sea consignment's handover and the facility's decision in chromium at a phone's width."""

from __future__ import annotations

import pytest

from test_browser import CHROMIUM, PHONE, SHOTS, assert_fits, browser_page, sign_in  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="no chromium"),
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "correct horse battery staple"


def _login(page, username: str) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, username, PASSWORD)


def test_handover_then_receipt_and_a_partial_refusal_on_a_phone(browser_page) -> None:  # noqa: F811
    from factories import add_sea_carrier, make_notification, make_world, notified_consignment
    from oneforone.recycling.models import Reception
    from oneforone.shipments import actions
    from oneforone.shipments.models import CarrierLeg

    world = make_world()
    notification = make_notification(world)
    _, line_user = add_sea_carrier(world, notification)
    consignment = actions.sign_dispatch(
        actor=world.hub_user, consignment=notified_consignment(world, notification), packages=2
    )
    actions.sign_pickup(actor=world.carrier_user, consignment=consignment, vehicle="GR-1234-24")
    detail = f"/shipments/{consignment.reference}/"

    page = browser_page
    page.set_viewport_size(PHONE)
    _login(page, line_user.username)
    page.goto(detail)
    assert page.locator("text=1/4").count() >= 1
    assert_fits(page)
    page.fill("#handover input[name=vehicle]", "MSC Aurora 612W")
    page.select_option("#handover select[name=means_of_transport]", "S")
    page.check("#handover input[name=confirm]")
    page.click("#handover button:has-text('Sign handover')")
    page.wait_for_selector("text=Handover signed: leg 2")
    assert_fits(page)
    page.screenshot(path=str(SHOTS / "movement-handover-phone.png"), full_page=True)
    assert CarrierLeg.objects.filter(consignment=consignment, sequence=2).exists()

    _login(page, world.recycler_user.username)
    page.goto(detail)
    # The recycler is the consignee: one step, its reception, which signs the receipt too.
    assert page.locator("text=Sign consignee receipt").count() == 0
    page.fill("#sign input[name=counted_phones]", "100")
    page.fill("#sign input[name=net_weight_kg]", "5.5")
    page.select_option("#sign select[name=decision]", "partially_refused")
    page.fill("#sign input[name=refused_phones]", "8")
    page.fill("#sign input[name=refused_weight_kg]", "0.4")
    page.fill("#sign textarea[name=refusal_reason]", "8 phones still hold batteries")
    assert_fits(page)
    page.click("#sign button:has-text('Record reception')")
    page.wait_for_selector("text=Reception recorded")
    assert page.locator("text=8 phones still hold batteries").count() >= 1
    assert_fits(page)
    page.screenshot(path=str(SHOTS / "movement-decision-phone.png"), full_page=True)
    reception = Reception.objects.get(consignment=consignment)
    assert (reception.decision, reception.refused_phones) == ("partially_refused", 8)
