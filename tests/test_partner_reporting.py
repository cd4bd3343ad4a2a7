"""The partner's reporting: a dashboard of its own registrations, compensation and impact over a
period, drill-downs to the records behind each figure, exports (CSV, XLSX, JSON), a PDF impact
report and a public badge it chooses to publish. A partner never sees another partner's data."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

import factories
from factories import World
from oneforone.accounts.models import Role
from oneforone.accounts.permissions import NotAllowed
from oneforone.impact import queries as impact_queries
from oneforone.partners.models import Registration
from oneforone.registry import actions as registry_actions
from oneforone.reporting import actions, queries
from oneforone.reporting.filters import parse

PERIOD = {"from": "2026-01", "to": "2026-04"}


def _client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def _at(year: int, month: int):  # type: ignore[no-untyped-def]
    return time_machine.travel(dt.datetime(year, month, 10, 12, tzinfo=dt.UTC), tick=True)


def _history(world: World, *, partner=None, actor=None, prefix: str = "R") -> list[Registration]:  # type: ignore[no-untyped-def]
    """Registered 5 in Jan, 3 in Feb; 6 phones treated and allocated in Mar (Jan's 5, 1 of Feb's)."""
    with _at(2026, 1):
        first = factories.register(
            world, quantity=5, partner=partner, actor=actor, reference=f"{prefix}-JAN"
        )
    with _at(2026, 2):
        second = factories.register(
            world, quantity=3, partner=partner, actor=actor, reference=f"{prefix}-FEB"
        )
    with _at(2026, 3):
        factories.issue(world, 6)
        registry_actions.allocate(actor=world.operator_user)
    return [first, second]


def test_the_months_show_registered_compensated_and_owed_with_running_totals(world: World) -> None:
    _history(world)
    scope = parse(PERIOD, world.partner).scope
    months = queries.monthly(scope)
    assert [m.month.month for m in months] == [1, 2, 3, 4]
    assert [m.registered for m in months] == [5, 3, 0, 0]
    assert [m.compensated for m in months] == [0, 0, 6, 0]
    assert [m.owed for m in months] == [5, 8, 2, 2]
    later = queries.monthly(parse({"from": "2026-03", "to": "2026-04"}, world.partner).scope)
    assert [m.owed for m in later] == [2, 2], "the running totals start before the period"


def test_the_all_time_figures_equal_the_impact_queries(world: World) -> None:
    _history(world)
    scope = parse({"from": "2025-12", "to": "2026-04"}, world.partner).scope
    figures = queries.impact(scope)
    totals = impact_queries.registry_totals(world.partner)
    assert figures.devices_registered == totals.devices_registered == 8
    assert figures.devices_compensated == totals.devices_compensated == 6
    assert figures.devices_owed == totals.devices_owed == 2
    assert figures.weight_kg == impact_queries.weight_diverted_kg(world.partner)
    assert figures.living_wages.months == impact_queries.living_wages(world.partner).months


def test_the_period_and_programme_filters_select_the_records(world: World) -> None:
    _history(world)
    february = parse({"from": "2026-02", "to": "2026-02"}, world.partner).scope
    figures = queries.impact(february)
    assert (figures.devices_registered, figures.devices_compensated) == (3, 0)
    assert [r.reference for r in queries.registrations(february)] == ["R-FEB"]
    other = factories.make_programme(world.partner, code="tender")
    chosen = parse({**PERIOD, "programme": "tender"}, world.partner)
    assert chosen.scope.programme == other
    assert queries.impact(chosen.scope).devices_registered == 0
    assert not queries.registrations(chosen.scope).exists()


def test_bad_filters_say_what_to_write_and_fall_back_to_the_last_12_months(world: World) -> None:
    chosen = parse({"from": "March", "programme": "nope"}, world.partner)
    assert any("YYYY-MM" in e for e in chosen.errors)
    assert any("no programme 'nope'" in e for e in chosen.errors)
    assert chosen.scope.preset == "12m"
    assert len(chosen.scope.months) == 12
    swapped = parse({"from": "2026-05", "to": "2026-01"}, world.partner)
    assert any("swap" in e for e in swapped.errors)
    assert parse({"period": "year"}, world.partner).scope.first.month == 1


def test_the_dashboard_shows_the_periods_figures_charts_and_drill_down_links(world: World) -> None:
    _history(world)
    response = _client_for(world.partner_admin).get(reverse("dashboard"), PERIOD)
    assert response.status_code == 200
    page = response.content.decode()
    assert response.context["impact"].devices_compensated == 6
    assert response.context["totals"].devices_registered == 8
    for chart in ("chart-history", "chart-origins", "chart-pipeline"):
        assert f'data-testid="{chart}"' in page
    assert page.count("<desc>") >= 3
    assert "<title>Devices registered, compensated" in page
    assert "Month the units were issued" in page
    assert "Devices (to date)" in page
    assert reverse("partner-impact-allocations") + "?from=2026-01&amp;to=2026-04" in page
    assert reverse("partner-impact-income") in page


def test_the_dashboards_query_count_does_not_grow_with_months_or_registrations(
    world: World,
) -> None:
    client = _client_for(world.partner_admin)
    _history(world)
    client.get(reverse("dashboard"), PERIOD)  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("dashboard"), PERIOD).status_code == 200
    with _at(2026, 4):
        for n in range(6):
            factories.register(world, quantity=2 + n)
    with CaptureQueriesContext(connection) as many:
        assert (
            client.get(reverse("dashboard"), {"from": "2024-01", "to": "2026-06"}).status_code
            == 200
        )
    assert len(many) == len(few)
    assert len(few) <= 30


def test_the_drill_downs_list_the_records_behind_the_figures(world: World) -> None:
    _history(world)
    client = _client_for(world.partner_admin)
    allocations = client.get(reverse("partner-impact-allocations"), PERIOD)
    rows = list(allocations.context["page"])
    assert sum(a.quantity for a in rows) == 6
    weight = allocations.context["impact"].weight_kg
    assert weight > 0
    assert sum(a.kg for a in rows).quantize(weight) == weight, "each row carries its kg share"
    page = allocations.content.decode()
    assert "R-JAN" in page
    assert "R-FEB" in page
    assert "phones counted" in page
    income = client.get(reverse("partner-impact-income"), PERIOD)
    assert income.status_code == 200
    assert (
        income.context["living_wages"].months
        == queries.impact(parse(PERIOD, world.partner).scope).living_wages.months
    )


def test_a_partner_never_sees_another_partners_data(world: World) -> None:
    other, other_admin = factories.make_partner()
    _history(world)
    _history(world, partner=other, actor=other_admin, prefix="THEIRS")
    client = _client_for(world.partner_admin)
    dashboard = client.get(reverse("dashboard"), PERIOD)
    assert dashboard.context["impact"].devices_registered == 8
    pages = [
        dashboard,
        client.get(reverse("partner-impact-allocations"), PERIOD),
        client.get(reverse("partner-impact-income"), PERIOD),
        client.get(reverse("partner-export-json"), PERIOD),
        client.get(reverse("partner-export-csv", args=["registrations"]), PERIOD),
        client.get(reverse("partner-export-csv", args=["certificates"]), PERIOD),
    ]
    for response in pages:
        body = response.content if not response.streaming else b"".join(response.streaming_content)  # type: ignore[attr-defined]
        assert response.status_code == 200
        assert b"THEIRS" not in body
    workbook = load_workbook(io.BytesIO(client.get(reverse("partner-export-xlsx"), PERIOD).content))
    cells = [str(c) for row in workbook["registrations"].iter_rows(values_only=True) for c in row]
    assert "R-JAN" in cells
    assert not any("THEIRS" in c for c in cells)
    pdf = PdfReader(io.BytesIO(client.get(reverse("partner-report-pdf"), PERIOD).content))
    text = "".join(p.extract_text() for p in pdf.pages)
    assert world.partner.name in text
    assert other.name not in text
    # Another partner's programme code is not one of mine: ignored, said so.
    their_code = Registration.objects.filter(partner=other).first().programme.code  # type: ignore[union-attr]
    mine = Registration.objects.filter(partner=world.partner).first().programme.code  # type: ignore[union-attr]
    if their_code != mine:
        response = client.get(reverse("dashboard"), {**PERIOD, "programme": their_code})
        assert response.context["scope"].programme is None


def test_the_exports_carry_the_dashboards_figures(world: World) -> None:
    _history(world)
    client = _client_for(world.partner_admin)
    impact = client.get(reverse("dashboard"), PERIOD).context["impact"]
    response = client.get(reverse("partner-export-csv", args=["registrations"]), PERIOD)
    assert response.streaming
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))  # type: ignore[attr-defined]
    assert sum(int(r["devices"]) for r in rows) == impact.devices_registered
    assert sum(int(r["devices_compensated"]) for r in rows) == impact.devices_compensated
    figures_csv = client.get(reverse("partner-export-csv", args=["impact"]), PERIOD)
    figures = {
        r["figure"]: r["value"]
        for r in csv.DictReader(io.StringIO(b"".join(figures_csv.streaming_content).decode()))  # type: ignore[attr-defined]
    }
    assert int(figures["devices_compensated"]) == impact.devices_compensated
    assert int(figures["devices_owed"]) == impact.devices_owed
    assert figures["weight_kg"] == str(impact.weight_kg)
    document = json.loads(client.get(reverse("partner-export-json"), PERIOD).content)
    assert document["period"] == {"from": "2026-01", "to": "2026-04"}
    by_key = {f["figure"]: f["value"] for f in document["impact"]}
    assert by_key["devices_registered"] == impact.devices_registered
    assert {r["reference"] for r in document["registrations"]} == {"R-JAN", "R-FEB"}
    book = load_workbook(io.BytesIO(client.get(reverse("partner-export-xlsx"), PERIOD).content))
    assert book.sheetnames == ["registrations", "certificates", "impact", "living-wages"]
    impact_sheet = {row[0]: row[2] for row in book["impact"].iter_rows(min_row=2, values_only=True)}
    assert impact_sheet["devices_compensated"] == impact.devices_compensated
    certificates = list(book["certificates"].iter_rows(min_row=2, values_only=True))
    assert len(certificates) == 1, "January's registration is fully compensated and certified"
    assert client.get(reverse("partner-export-csv", args=["secrets"])).status_code == 404


def test_the_pdf_report_holds_the_figures_their_sources_and_the_charts(world: World) -> None:
    _history(world)
    client = _client_for(world.partner_admin)
    response = client.get(reverse("partner-report-pdf"), PERIOD)
    assert response["Content-Type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "Impact report" in text
    assert "January 2026 to April 2026" in text
    assert "Devices compensated" in text
    assert "6 devices" in text
    assert "Net weight measured by the recycler" in text, "each figure names its source"
    assert "Month the units were issued" in text, "the charts are drawn with their axis labels"
    assert "Owed" in text
    assert "In transit" in text


def test_the_exports_and_report_are_closed_to_other_kinds_of_organisation(world: World) -> None:
    client = _client_for(world.hub_user)
    for name in ("partner-export-xlsx", "partner-export-json", "partner-report-pdf"):
        assert client.get(reverse(name)).status_code == 403
    assert Client().get(reverse("partner-report-pdf")).status_code == 302


def test_the_operator_dashboard_still_shows_the_whole_service(world: World) -> None:
    response = _client_for(world.operator_user).get(reverse("dashboard"))
    assert response.status_code == 200
    assert response.context["partner"] is None
    assert "The whole service" in response.content.decode()


def test_the_badge_is_not_found_until_the_partner_publishes_it(world: World) -> None:
    _history(world)
    url = reverse("partner-badge", args=[world.partner.slug])
    assert Client().get(url).status_code == 404
    assert Client().get(reverse("partner-badge", args=["no-such-partner"])).status_code == 404
    client = _client_for(world.partner_admin)
    client.post(reverse("partner-badge-setting"), {"published": "1"})
    response = Client().get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Cache-Control"] == "public, max-age=300"
    body = response.content.decode()
    assert "devices compensated: 6" in body
    assert world.partner.name not in body, "only the count is published"
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert url in dashboard
    assert 'data-testid="badge-snippet"' in dashboard
    client.post(reverse("partner-badge-setting"), {"published": "0"})
    assert Client().get(url).status_code == 404


def test_only_a_partners_administrator_publishes_its_badge(world: World) -> None:
    member = factories.make_member(world.partner, role=Role.MEMBER)
    with pytest.raises(NotAllowed):
        actions.set_badge_published(actor=member, partner=world.partner, published=True)
    assert (
        _client_for(member).post(reverse("partner-badge-setting"), {"published": "1"}).status_code
        == 403
    )
    _other, other_admin = factories.make_partner()
    with pytest.raises(NotAllowed):
        actions.set_badge_published(actor=other_admin, partner=world.partner, published=True)
    assert Client().get(reverse("partner-badge", args=[world.partner.slug])).status_code == 404


def test_the_programme_rows_add_up_to_the_dashboards_figures(world: World) -> None:
    from oneforone.partners import actions as partner_actions
    from oneforone.partners.models import Channel
    from oneforone.partners.schemas import RegistrationRow

    _history(world)
    factories.make_programme(world.partner, code="tender")
    with _at(2026, 4):
        partner_actions.register_devices(
            actor=world.partner_admin,
            partner=world.partner,
            rows=[
                (
                    1,
                    RegistrationRow(
                        reference="T-1", category="phone", quantity=4, programme="tender"
                    ),
                )
            ],
            channel=Channel.API,
        )
    client = _client_for(world.partner_admin)
    response = client.get(reverse("dashboard"), PERIOD)
    rows = {row.programme.code: row for row in response.context["report"].programmes}
    impact = response.context["impact"]
    assert rows["tender"].registered == 4
    assert rows["tender"].owed == 4
    assert sum(r.registered for r in rows.values()) == impact.devices_registered == 12
    assert sum(r.compensated for r in rows.values()) == impact.devices_compensated == 6
    assert sum(r.owed for r in rows.values()) == impact.devices_owed == 6
    assert 'data-testid="by-programme"' in response.content.decode()
    tender = client.get(reverse("dashboard"), {**PERIOD, "programme": "tender"})
    assert tender.context["impact"].devices_registered == 4
    assert [r.programme.code for r in tender.context["report"].programmes] == ["tender"]
    text = "".join(
        p.extract_text()
        for p in PdfReader(
            io.BytesIO(client.get(reverse("partner-report-pdf"), PERIOD).content)
        ).pages
    )
    assert "By programme" in text
    assert "tender" in text
