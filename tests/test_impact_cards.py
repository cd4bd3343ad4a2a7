"""The methodology's impact figures where partners and the public read them: the partner
dashboard's cards and their drill-downs, the impact report, the exports, the certificate page and
the certificate PDF all show what `impact_figures` gives for the same scope, under every published
version."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from factories import World, make_partner
from oneforone.impact import actions
from oneforone.impact import method as m
from oneforone.impact.cards import Card, cards_of, scaled
from oneforone.impact.models import MethodologyVersion
from oneforone.impact.queries import ImpactFigures, Scope, impact_figures
from oneforone.registry import actions as registry_actions
from oneforone.registry.models import Certificate
from test_impact_methodology import certify, issue, second_version

Capture = Callable[..., Any]
FIGURE = re.compile(r'data-testid="figure-([a-z0-9_]+)" data-value="([^"]*)"')


def _client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _period(**extra: str) -> dict[str, str]:
    """Every month up to this one: the whole history of the test's allocations."""
    return {"from": "2020-01", "to": f"{timezone.localdate():%Y-%m}", **extra}


def _shown(card: Card) -> str:
    """How a card writes its value in English: three significant digits in a unit that suits
    the size (worked out by hand in `test_values_are_shown_in_a_unit_that_suits_their_size`)."""
    value, unit = scaled(card.value, card.unit)  # type: ignore[arg-type]
    places = max(0, -int(value.as_tuple().exponent))
    return f"{value:,.{places}f} {unit}"


def _headline_cards(figures: ImpactFigures) -> list[Card]:
    """The figures every view shows: mass, each metal recovered, avoided and transport emissions."""
    cards = cards_of(figures)
    listed = [cards.mass, *(metal.recovered for metal in cards.metals)]
    listed += [cards.avoided, cards.transport]
    return [card for card in listed if card is not None and card.value is not None]


def _words_of(page: str) -> str:
    """The page's text without its tags, as a reader sees it."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page))


def _figures_on(page: str) -> dict[str, str]:
    return dict(FIGURE.findall(page))


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.fixture
def certified(world: World, django_capture_on_commit_callbacks: Capture) -> Certificate:
    """Two batches with figures (60 and 50 phones); a first registration of 30 units and a
    certified one of 50 drawing on both batches; and a second published version."""
    issue(world, django_capture_on_commit_callbacks, (60,), weight=Decimal("3.100"))
    issue(world, django_capture_on_commit_callbacks, (50,), weight=Decimal("2.900"))
    certify(world, 30)
    certificate = certify(world, 50)
    second_version(world, django_capture_on_commit_callbacks)
    return certificate


def test_the_dashboard_report_exports_certificate_page_and_pdf_agree_for_every_version(
    world: World, certified: Certificate
) -> None:
    client = _client_for(world.partner_admin)
    for number in (1, 2):
        partner = impact_figures(Scope(partner=world.partner), number)
        certificate = impact_figures(Scope(certificate=certified), number)
        assert partner.units == 80
        assert certificate.units == certificate.units_computed == 50
        version = MethodologyVersion.objects.get(number=number)

        # The dashboard: one card per headline figure, exact value in data-value.
        dashboard = client.get(reverse("dashboard"), _period(version=str(number)))
        page = dashboard.content.decode()
        shown = _figures_on(page)
        words = _words_of(page)
        for card in _headline_cards(partner):
            assert shown[card.key] == str(card.value), (number, card.key)
            assert _shown(card) in words, (number, card.key)
        assert {k for k in shown if k.startswith("metal_")} == {
            m.metal_key(metal, "recovered_g") for metal in ("Au", "Ag", "Pd", "Cu", "Co")
        } & set(partner.figures)
        for key in [k for k in partner.figures if k.startswith("not_recovered_")]:
            assert f'data-testid="figure-{key}"' in page, "not-recovered lines are listed"
        assert reverse("methodology-version", args=[number]) in page
        assert "not part of your scope 1-3 inventory" in page
        assert f'value="{number}" selected' in page, "the version chosen stays chosen"

        # The exports: the exact values, each naming its version.
        document = json.loads(
            client.get(reverse("partner-export-json"), _period(version=str(number))).content
        )
        exported = {
            row["figure"]: row["value"]
            for row in document["impact"]
            if row["methodology"] == version.label
        }
        for key, figure in partner.figures.items():
            if key == m.LIVING_WAGE_MONTHS:
                continue  # reported with its income lines in the living-wage dataset
            expected = "" if figure.value is None else str(figure.value)
            assert exported[key] == expected, (number, key)
        lines = client.get(
            reverse("partner-export-csv", args=["impact"]), _period(version=str(number))
        )
        rows = csv.DictReader(io.StringIO(b"".join(lines.streaming_content).decode()))  # type: ignore[attr-defined]
        from_csv = {r["figure"]: r["value"] for r in rows if r["methodology"] == version.label}
        assert from_csv == exported
        book = load_workbook(
            io.BytesIO(
                client.get(reverse("partner-export-xlsx"), _period(version=str(number))).content
            )
        )
        sheet = {
            row[0]: row[2]
            for row in book["impact"].iter_rows(min_row=2, values_only=True)
            if row[8] == version.label
        }
        for card in _headline_cards(partner):
            assert sheet[card.key] == pytest.approx(float(card.value))  # type: ignore[arg-type]

        # The impact report (PDF) writes the same rounded figures as the cards.
        report = _pdf_text(
            client.get(reverse("partner-report-pdf"), _period(version=str(number))).content
        )
        assert f"methodology {version.label}" in report
        for card in _headline_cards(partner):
            assert _shown(card) in report, (number, card.key)

        # The certificate page and PDF: the certificate's own units.
        verify = Client().get(reverse("verify", args=[certified.code]), {"version": number})
        on_certificate = _figures_on(verify.content.decode())
        for card in _headline_cards(certificate):
            assert on_certificate[card.key] == str(card.value), (number, card.key)
            assert _shown(card) in _words_of(verify.content.decode()), (number, card.key)
        assert reverse("methodology-version", args=[number]) in verify.content.decode()
        pdf = Client().get(reverse("verify-pdf", args=[certified.code]), {"version": number})
        text = _pdf_text(pdf.content)
        assert f"methodology version {version.label}" in text
        for card in _headline_cards(certificate):
            assert _shown(card) in text, (number, card.key)


def test_values_are_shown_in_a_unit_that_suits_their_size() -> None:
    assert scaled(Decimal("1234.5"), "g") == (Decimal("1.23"), "kg")
    assert scaled(Decimal("0.0123"), "g") == (Decimal("12.3"), "mg")
    assert scaled(Decimal("45.678"), "g") == (Decimal("45.7"), "g")
    assert scaled(Decimal("2500000"), "g") == (Decimal("2.50"), "t")
    assert scaled(Decimal("1530"), "kg CO2e") == (Decimal("1.53"), "t CO2e")
    assert scaled(Decimal("123.456"), "t-km") == (Decimal("123"), "t-km")


def test_a_figures_drill_down_lists_batches_records_and_factor_sources(
    world: World, certified: Certificate
) -> None:
    client = _client_for(world.partner_admin)
    gold = m.metal_key("Au", "recovered_g")
    response = client.get(reverse("partner-impact-figure", args=[gold]), _period())
    assert response.status_code == 200
    expected = impact_figures(Scope(partner=world.partner)).value(gold)
    assert response.context["figure"].value == expected
    steps = [step.drill.key for step in response.context["steps"]]
    assert steps == [m.metal_key("Au", stage) for stage in m.CHAIN], "the whole recovery chain"
    page = response.content.decode()
    batches = response.context["figure"].batches
    assert sorted(b.units for b in batches) == [20, 60], (
        "each batch with the partner's units (30 + 50)"
    )
    for share in batches:
        assert share.block in page
    assert "Valero Navazo 2014" in page, "the grade's source under version 2 is named"
    first = client.get(reverse("partner-impact-figure", args=[gold]), _period(version="1"))
    assert "operator figures 2024" in first.content.decode(), "version 1's grade and source"
    mass = client.get(reverse("partner-impact-figure", args=[m.EWASTE_MASS]), _period())
    assert "net_weight_kg" in mass.content.decode(), "the reception weight is a record"
    legs = client.get(reverse("partner-impact-figure", args=[m.TRANSPORT_EMISSIONS]), _period())
    assert "carrier_leg" in legs.content.decode()
    # The dashboard links each card to its drill-down, keeping the filters.
    dashboard = client.get(reverse("dashboard"), _period()).content.decode()
    assert reverse("partner-impact-figure", args=[gold]) + "?from=2020-01" in dashboard
    assert client.get(reverse("partner-impact-figure", args=["secrets"])).status_code == 404
    assert client.get(reverse("partner-impact-figure", args=["metal_au_x"])).status_code == 404


def test_a_partner_sees_only_its_own_batches_and_never_a_draft_version(
    world: World, certified: Certificate
) -> None:
    _other, other_admin = make_partner()
    gold = m.metal_key("Au", "recovered_g")
    theirs = _client_for(other_admin).get(reverse("partner-impact-figure", args=[gold]), _period())
    assert theirs.status_code == 200
    assert theirs.context["figure"].batches == []
    for block in certified.snapshot["unit_blocks"]:
        assert block not in theirs.content.decode()
    assert (
        _client_for(world.hub_user).get(reverse("partner-impact-figure", args=[gold])).status_code
        == 403
    )
    assert Client().get(reverse("partner-impact-figure", args=[gold])).status_code == 302

    draft = actions.draft_version(
        actor=world.operator_user, label="2026.9", title="Not yet", change_notes="a draft"
    )
    client = _client_for(world.partner_admin)
    dashboard = client.get(reverse("dashboard"), _period(version=str(draft.number)))
    assert dashboard.context["filters"].version.number == 2, "the latest published instead"
    assert "no published methodology version" in dashboard.content.decode()
    assert "2026.9" not in dashboard.content.decode()
    drill = client.get(
        reverse("partner-impact-figure", args=[gold]), _period(version=str(draft.number))
    )
    assert drill.context["version"].number == 2
    verify = Client().get(reverse("verify", args=[certified.code]), {"version": draft.number})
    assert verify.context["methodology"].version.number == 2


def test_a_withdrawn_certificate_keeps_the_figures_of_the_units_it_covered(
    world: World, certified: Certificate
) -> None:
    before = impact_figures(Scope(certificate=certified))
    allocation = certified.registration.allocations.order_by("id").first()
    assert allocation is not None
    first = allocation.units.lower
    registry_actions.cancel_units(
        actor=world.operator_user,
        batch=allocation.batch,
        first=first,
        last=first,
        reason="count_corrected",
        explanation="the recycler recounted",
    )
    page = Client().get(reverse("verify", args=[certified.code]))
    body = page.content.decode()
    assert 'data-testid="impact-withdrawn"' in body
    shown = _figures_on(body)
    for card in _headline_cards(before):
        assert shown[card.key] == str(card.value)
    text = _pdf_text(Client().get(reverse("verify-pdf", args=[certified.code])).content)
    assert "Withdrawn on" in text


def test_the_certificate_pdf_is_written_in_the_readers_language(
    world: World, certified: Certificate
) -> None:
    french = Client(headers={"accept-language": "fr"}).get(
        reverse("verify-pdf", args=[certified.code])
    )
    text = _pdf_text(french.content)
    assert "Certificat" in text
    assert "a enregistré 50 appareils" in text
    assert "<" not in text, "no markup of the page's sentences in the PDF"
    assert "émis" in text or "délivré" in text, "accented letters are drawn, not replaced"
    assert "?" not in text.replace("?version", "")
    dutch = _pdf_text(
        Client(headers={"accept-language": "nl"})
        .get(reverse("verify-pdf", args=[certified.code]))
        .content
    )
    assert "Certificaat" in dutch or "certificaat" in dutch
    report = _client_for(world.partner_admin).get(
        reverse("partner-report-pdf"), _period(), headers={"accept-language": "fr"}
    )
    assert "Rapport d'impact" in _pdf_text(report.content)
    # The copy sealed at issue is rendered once, in the service's language, whoever asks first.
    sealed = Client(headers={"accept-language": "fr"}).get(
        reverse("verify-pdf", args=[certified.code]), {"copy": "sealed"}
    )
    assert "One-for-one compensation certificate" in _pdf_text(sealed.content)


def test_the_dashboards_query_count_does_not_grow_with_batches(
    world: World, django_capture_on_commit_callbacks: Capture
) -> None:
    client = _client_for(world.partner_admin)
    issue(world, django_capture_on_commit_callbacks, (20,))
    certify(world, 20)
    client.get(reverse("dashboard"), _period())  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("dashboard"), _period()).status_code == 200
    for phones in (10, 12, 14):
        issue(world, django_capture_on_commit_callbacks, (phones,))
        certify(world, phones)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("dashboard"), _period())
    assert response.context["methodology"].units == 56
    assert len(many) == len(few)
    gold = m.metal_key("Au", "recovered_g")
    with CaptureQueriesContext(connection) as drill:
        client.get(reverse("partner-impact-figure", args=[gold]), _period())
    with CaptureQueriesContext(connection) as certificate_page:
        Client().get(reverse("verify", args=[Certificate.objects.order_by("id").first().code]))  # type: ignore[union-attr]
    assert len(drill) < 40
    assert len(certificate_page) < 30
