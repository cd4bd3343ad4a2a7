"""The partner portal in Debian's chromium at a phone's and a desktop's width: every page fits
the screen, the phone menu opens, and the filters, detail and team pages work.

Screenshots land in .screenshots/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import pytest

from test_browser import CHROMIUM, PHONE, SHOTS, browser_page, demo_data, sign_in  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="no chromium"),
    pytest.mark.django_db(transaction=True),
]
DESKTOP = {"width": 1280, "height": 900}


def _fits(page) -> None:  # type: ignore[no-untyped-def]
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


def test_the_partner_portal_on_a_phone_and_a_desktop(browser_page, demo_data):  # noqa: F811
    from oneforone import demo
    from oneforone.accounts.models import User
    from oneforone.partners import actions as partner_actions
    from oneforone.partners.models import Registration
    from oneforone.partners.schemas import DeviceId, RegistrationRow

    brand = User.objects.get(username="brand")
    partner_actions.register_devices(  # a device compensated already: held for the operator
        actor=brand,
        partner=brand.memberships.get().organisation,
        rows=[
            (
                1,
                RegistrationRow(
                    reference="BROWSER-AGAIN",
                    category="phone",
                    devices=[DeviceId(imei=demo.DEMO_IMEI)],
                ),
            )
        ],
        channel="api",
    )
    page = browser_page
    sign_in(page, "brand")

    # On a phone the main menu is one button that opens the list of pages.
    page.goto("/partner/registrations/")
    assert page.locator(".nav-wide").is_hidden()
    page.click(".nav-narrow summary")
    page.screenshot(path=str(SHOTS / "portal-menu-phone.png"), full_page=True)
    page.click(".nav-narrow >> text=Certificates")
    page.wait_for_url("**/partner/certificates/")
    _fits(page)

    listed = Registration.objects.filter(devices__isnull=False, partner__slug__isnull=False)
    registration = listed.filter(partner__memberships__user__username="brand").first()
    assert registration is not None, "the demo brand lists devices"
    pages = {
        "registrations": "/partner/registrations/",
        "registrations-filtered": "/partner/registrations/?state=compensated&category=phone",
        "registration": f"/partner/registrations/{registration.pk}/",
        "certificates": "/partner/certificates/",
        "conflicts": "/partner/conflicts/",
        "team": "/team/",
    }
    for viewport, suffix in ((PHONE, "phone"), (DESKTOP, "desktop")):
        page.set_viewport_size(viewport)
        for name, url in pages.items():
            response = page.goto(url)
            assert response is not None
            assert response.ok, url
            _fits(page)
            page.screenshot(path=str(SHOTS / f"portal-{name}-{suffix}.png"), full_page=True)

    # Filters submit as a GET form and the count follows them.
    page.goto("/partner/registrations/")
    page.select_option("select[name=state]", "owed")
    page.click("[data-testid=filters] button[type=submit]")
    page.wait_for_url("**state=owed**")
    assert "match these filters" in page.inner_text("[data-testid=count]")
    assert page.locator(".nav-wide").is_visible()

    page.goto("/partner/conflicts/")
    assert "BROWSER-AGAIN" in page.inner_text("[data-testid=held-devices]")


def test_an_invited_person_accepts_on_a_phone(browser_page, demo_data):  # noqa: F811
    from oneforone.accounts import actions
    from oneforone.accounts.models import Membership, User

    brand = User.objects.get(username="brand")
    _, token = actions.invite_member(
        actor=brand,
        organisation=brand.memberships.get().organisation,
        email="phone@example.org",
        role="viewer",
    )
    page = browser_page
    page.goto(f"/invitations/{token}/")
    _fits(page)
    page.fill("input[name=username]", "phone-person")
    page.fill("input[name=password]", "a long enough passphrase 42")
    page.fill("input[name=password_again]", "a long enough passphrase 43")
    page.click("[data-testid=accept] button[type=submit]")
    assert "The two passwords differ" in page.inner_text("main")
    _fits(page)
    page.screenshot(path=str(SHOTS / "portal-invitation-phone.png"), full_page=True)
    page.fill("input[name=password]", "a long enough passphrase 42")
    page.fill("input[name=password_again]", "a long enough passphrase 42")
    page.click("[data-testid=accept] button[type=submit]")
    page.wait_for_url("**/dashboard/")
    assert Membership.objects.get(user__username="phone-person").role == "viewer"
