"""The ESRS E5 sheet and evidence-pack page in Debian's chromium, at a phone's and a desktop's
width, on the demo data: the brand's product models are listed with their packs, nothing scrolls
sideways, and a pack downloads. Screenshots land in .screenshots/ for a person to look at."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from test_browser import CHROMIUM, SHOTS, assert_fits, browser_page, demo_data, sign_in  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="no chromium"),
    pytest.mark.django_db(transaction=True),
]
DESKTOP = {"width": 1280, "height": 900}
NARROW = {"width": 375, "height": 812}


def test_the_evidence_page_on_a_phone_and_a_desktop(browser_page, demo_data):  # noqa: F811
    page = browser_page
    sign_in(page, "brand")

    page.goto("/dashboard/?period=all")
    page.click("[data-testid=evidence-link] a")
    page.wait_for_url("**/dashboard/evidence/**")
    assert "period=all" in page.url
    for viewport, suffix in ((NARROW, "phone"), (DESKTOP, "desktop")):
        page.set_viewport_size(viewport)
        page.reload()
        models = [
            text.removesuffix(" (ZIP)")
            for text in page.locator("[data-testid=pack-link]").all_inner_texts()
        ]
        assert "X2 Pro" in models
        assert "Flip 3" in models
        page.screenshot(path=str(SHOTS / f"partner-evidence-{suffix}.png"), full_page=True)
        assert_fits(page)

    href = page.locator("[data-testid=pack-link]").first.get_attribute("href")
    assert href is not None
    response = page.request.get(href)
    assert response.ok
    archive = zipfile.ZipFile(io.BytesIO(response.body()))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["product_model"] == models[0]
    assert page.request.get(
        page.locator("[data-testid=esrs] a").first.get_attribute("href") or ""
    ).ok

    page.context.add_cookies(
        [{"name": "oneforone_language", "value": "nl", "url": page.url.split("/dashboard")[0]}]
    )
    page.set_viewport_size(NARROW)
    page.reload()
    assert "Bewijsdossiers per productmodel" in page.inner_text("main")
    page.screenshot(path=str(SHOTS / "partner-evidence-phone-nl.png"), full_page=True)
