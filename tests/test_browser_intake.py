"""A hub operator records a purchase on a phone in Debian's chromium: the form takes the phone's
location, a photo and IMEIs, the record opens with its evidence and is corrected, and the intake
and lots pages fit a 390-pixel screen.

Screenshots land in .screenshots/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from test_browser import CHROMIUM, SHOTS, browser_page, demo_data, sign_in  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no chromium"),
    pytest.mark.django_db(transaction=True),
]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x03" * 200


def _fits(page) -> None:  # type: ignore[no-untyped-def]
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


def test_a_hub_operator_records_and_corrects_a_purchase_on_a_phone(
    browser_page,  # noqa: F811
    demo_data,  # noqa: F811
    live_server,
    tmp_path,
    settings,
):
    from oneforone.collection.models import Intake, Payment

    settings.MEDIA_ROOT = str(tmp_path / "media")
    page = browser_page
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation({"latitude": 5.56811, "longitude": -0.21207, "accuracy": 12})
    sign_in(page, "hub-accra")

    page.goto("/collection/intake/?hub=gh-accra")
    page.wait_for_function("document.querySelector('input[name=latitude]').value !== ''")
    assert "within 12 m" in page.inner_text("[data-gps-status]")
    _fits(page)
    page.screenshot(path=str(SHOTS / "intake-form-phone.png"), full_page=True)
    # The script's status follows the page's language (the /jsi18n/ catalogue).
    for language, taken in (("nl", "tot op 12 m"), ("en", "within 12 m")):
        page.context.add_cookies(
            [{"name": "oneforone_language", "value": language, "url": live_server.url}]
        )
        page.reload()
        page.wait_for_function("document.querySelector('input[name=latitude]').value !== ''")
        assert taken in page.inner_text("[data-gps-status]")
        if language == "nl":
            page.screenshot(path=str(SHOTS / "intake-form-phone-nl.png"), full_page=True)
    page.select_option("select[name=collector]", "GH-ACC-003")
    # Yesterday morning: a purchase at 09:15 today would be in the future before 09:15.
    page.fill("input[name=collected_on]", (timezone.localdate() - dt.timedelta(days=1)).isoformat())
    page.fill("input[name=collected_time]", "09:15")
    page.fill("input[name=phones]", "37")
    page.fill("input[name=net_weight_kg]", "2.035")
    page.select_option("select[name=condition]", "board_missing")
    page.fill("input[name=batteries_removed]", "9")
    page.fill("input[name=battery_weight_kg]", "0.405")
    page.fill("input[name=price_per_phone]", "2.60")
    page.select_option("select[name=paid_with]", "mobile_money")
    page.click("main button[type=submit]")
    # mobile money without its reference: told what to do, nothing written
    assert "copy it from the confirmation SMS" in page.inner_text("main")
    page.fill("input[name=payment_reference]", "MM-5550142")
    page.fill("textarea[name=imeis]", "356938035643809")
    photo = tmp_path / "scale.png"
    photo.write_bytes(PNG)
    page.set_input_files("input[name=photos]", str(photo))
    page.click("main button[type=submit]")
    page.wait_for_url("**/collection/intake/?hub=gh-accra")
    assert "Recorded 37 phones from GH-ACC-003" in page.inner_text("main")

    intake = Intake.objects.get(phones=37, collector__code="GH-ACC-003", note="")
    assert (intake.latitude, intake.longitude, intake.gps_accuracy_m) == (
        Decimal("5.568110"),
        Decimal("-0.212070"),
        12,
    )
    assert Payment.objects.get(intake=intake).reference == "MM-5550142"

    page.click(f"a[href='/collection/intakes/{intake.client_uuid}/']")
    page.wait_for_url(f"**/collection/intakes/{intake.client_uuid}/")
    assert "356938035643809" in page.inner_text("main")
    assert page.locator(".intake-photos img").count() == 1
    _fits(page)
    page.screenshot(path=str(SHOTS / "intake-detail-phone.png"), full_page=True)
    page.fill("#correct input[name=reason]", "miscounted: 36 phones")
    page.fill("#correct input[name=phones]", "36")
    page.fill("#correct input[name=net_weight_kg]", "1.980")
    page.click("#correct button[type=submit]")
    page.wait_for_selector("text=Corrected")
    assert Intake.objects.filter(reverses=intake).exists()
    _fits(page)

    # Offline, a record is kept on the phone and sent, once, when the connection is back.
    page.goto("/collection/intake/?hub=gh-accra")
    page.context.set_offline(True)
    page.select_option("select[name=collector]", "GH-ACC-005")
    page.fill("input[name=phones]", "11")
    page.fill("input[name=net_weight_kg]", "0.605")
    page.fill("input[name=price_per_phone]", "2.60")
    page.select_option("select[name=paid_with]", "cash")
    page.click("main button[type=submit]")
    assert "1 record kept on this phone" in page.inner_text("[data-queue-status]")
    assert page.input_value("input[name=phones]") == ""
    assert not Intake.objects.filter(phones=11, collector__code="GH-ACC-005").exists()
    page.context.set_offline(False)
    page.wait_for_function("document.querySelector('[data-queue-status]').hidden")
    kept = Intake.objects.get(phones=11, collector__code="GH-ACC-005")
    assert Payment.objects.get(intake=kept).method == "cash"

    page.goto("/collection/lots/?hub=gh-accra")
    assert page.locator("#seal-batteries").count() == 1
    _fits(page)
    page.screenshot(path=str(SHOTS / "lots-phone.png"), full_page=True)
