"""The public pages pass axe-core (run in chromium) without a serious or critical violation, on a
desktop and a phone screen, in each language."""

from __future__ import annotations

from typing import Any

import pytest

from test_browser import CHROMIUM, PHONE, SHOTS, browser_page, demo_data  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

DESKTOP = {"width": 1280, "height": 900}
BLOCKING = {"serious", "critical"}


def public_pages(demo_data: str) -> dict[str, str]:  # noqa: F811
    from oneforone.registry.models import Certificate, IssuanceBatch

    certificate = Certificate.objects.order_by("pk").first()
    batch = IssuanceBatch.objects.order_by("pk").first()
    assert certificate is not None
    assert batch is not None
    return {
        "home": "/",
        "calculator": "/calculator/",
        "calculator-result": "/calculator/?population=8000000&participation=1",
        "calculator-error": "/calculator/?population=-5",
        "registry": "/registry/",
        "batch": f"/registry/batch/{batch.pk}",
        "unit": f"/registry/unit/{batch.block}",
        "certificate": f"/verify/{certificate.code}",
        "verify": "/verify/",
        "device": "/verify/device",
        "ledger": "/ledger/",
        "login": "/login/",
    }


def blocking_violations(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in BLOCKING
    ]


def test_public_pages_have_no_serious_accessibility_violation(
    browser_page: Any,  # noqa: F811
    demo_data: str,  # noqa: F811
) -> None:
    """Every public page on both screens in English, and on a phone in Dutch and French (one
    demo load: the translations change text, not structure)."""
    pages = public_pages(demo_data)
    found: dict[str, list[str]] = {}
    for language, screens in (
        ("en", (("desktop", DESKTOP), ("phone", PHONE))),
        ("nl", (("phone", PHONE),)),
        ("fr", (("phone", PHONE),)),
    ):
        browser_page.goto("/verify/")
        browser_page.click(f"footer button[value={language}]")
        assert browser_page.locator("html").get_attribute("lang") == language
        for name, path in pages.items():
            for screen, viewport in screens:
                browser_page.set_viewport_size(viewport)
                browser_page.goto(path)
                if violations := blocking_violations(browser_page):
                    found[f"{name} in {language} on a {screen}"] = violations
                    shot = SHOTS / f"a11y-{name}-{language}-{screen}.png"
                    browser_page.screenshot(path=shot, full_page=True)
    assert found == {}


def test_the_checker_catches_a_serious_violation(browser_page: Any) -> None:  # noqa: F811
    """Guard against a checker that silently checks nothing."""
    browser_page.set_content('<html lang="en"><body><main><img src="x.png"></main></body></html>')
    assert any(v.startswith("image-alt (critical)") for v in blocking_violations(browser_page))
