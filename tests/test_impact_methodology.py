"""Impact figures per issuance batch under a versioned methodology, and their sums per scope."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone

from factories import World, make_collector, make_hub, make_partner, register, treated_consignment
from oneforone.accounts import actions as account_actions
from oneforone.accounts.models import ApiKeyScope
from oneforone.impact import actions, queries
from oneforone.impact import method as m
from oneforone.impact.models import Computation, Factor, Figure, MethodologyVersion
from oneforone.impact.queries import Scope, impact_figures
from oneforone.recycling.assay_actions import AssayError, record_assay
from oneforone.registry import actions as registry_actions
from oneforone.registry.models import Allocation, Certificate, IssuanceBatch

Capture = Callable[..., Any]
V1 = 1


def issue(world: World, capture: Capture, intakes: tuple[int, ...], **kwargs: Any) -> IssuanceBatch:
    """A treated consignment; its figures are computed once the treatment commits."""
    with capture(execute=True):
        consignment = treated_consignment(world, intakes=intakes, **kwargs)
    return IssuanceBatch.objects.get(consignment=consignment)


def figure(batch: IssuanceBatch, key: str, version: int = V1) -> Figure:
    computation = Computation.objects.filter(batch=batch, version__number=version).latest("id")
    return computation.figures.get(key=key)


def second_version(world: World, capture: Capture) -> MethodologyVersion:
    """Version 2: literature grades per tonne (Valero Navazo 2014) instead of the stream's."""
    draft = actions.draft_version(
        actor=world.operator_user,
        label="2026.2",
        title="Literature grades",
        change_notes="Gold grade from Valero Navazo 2014 (347 g/t); copper 128 kg/t.",
    )
    for metal, value in (("Au", "347"), ("Cu", "128000")):
        actions.set_factor(
            actor=world.operator_user,
            version=draft,
            key="grade",
            qualifier=metal,
            value=Decimal(value),
            unit="g/t",
            source="Valero Navazo 2014, Int J LCA",
            source_year=2014,
            confidence="verified",
        )
    with capture(execute=True):
        return actions.publish_version(actor=world.operator_user, version=draft)


def certify(world: World, quantity: int) -> Certificate:
    registration = register(world, quantity=quantity)
    result = registry_actions.allocate(actor=world.operator_user)
    [certificate] = [c for c in result.certificates if c.registration_id == registration.pk]
    return certificate


# --- the seeded version -------------------------------------------------------------------------


def test_version_2026_1_is_seeded_published_with_domain_factors_and_sources(db: None) -> None:
    version = MethodologyVersion.objects.get(number=1)
    assert (version.label, version.status) == ("2026.1", "published")
    gold = Factor.objects.get(version=version, key="ghg-primary", qualifier="Au")
    assert (gold.value, gold.unit, gold.source_year) == (Decimal(12500), "kg CO2e/kg", 2014)
    assert gold.source.startswith("Nuss & Eckelman 2014")
    sea = Factor.objects.get(version=version, key="route-distance", qualifier="GH-S")
    assert sea.confidence == "low"
    assert {r.key for r in version.rules.all()} >= {"mass", "grade", "not-recovered"}


# --- a published version is frozen --------------------------------------------------------------


def test_a_published_version_cannot_be_edited_through_the_action(world: World) -> None:
    version = MethodologyVersion.objects.get(number=1)
    with pytest.raises(actions.MethodologyError, match="published and frozen"):
        actions.set_factor(
            actor=world.operator_user,
            version=version,
            key="grade",
            qualifier="Au",
            value=Decimal(1),
            unit="g/t",
            source="x 2026",
            source_year=2026,
            confidence="estimate",
        )
    with pytest.raises(actions.MethodologyError, match="published already"):
        actions.publish_version(actor=world.operator_user, version=version)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE impact_factor SET value = 1 WHERE version_id = %s",
        "DELETE FROM impact_factor WHERE version_id = %s",
        "UPDATE impact_rule SET statement = 'changed' WHERE version_id = %s",
        "DELETE FROM impact_rule WHERE version_id = %s",
        "INSERT INTO impact_factor (version_id, key, qualifier, name, value, unit, source,"
        " confidence, note) VALUES (%s, 'new', '', 'new', 1, 'g', 'a source', 'estimate', '')",
        "UPDATE impact_methodologyversion SET title = 'changed' WHERE id = %s",
        "UPDATE impact_methodologyversion SET status = 'draft', published_at = NULL WHERE id = %s",
        "DELETE FROM impact_methodologyversion WHERE id = %s",
    ],
)
def test_the_database_refuses_any_change_to_a_published_version(db: None, sql: str) -> None:
    version = MethodologyVersion.objects.get(number=1)
    with (
        pytest.raises(DatabaseError, match="published"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [version.pk])


def test_stored_figures_are_append_only(
    world: World, django_capture_on_commit_callbacks: Capture
) -> None:
    batch = issue(world, django_capture_on_commit_callbacks, (30,))
    for sql in ("UPDATE impact_figure SET value = 0", "DELETE FROM impact_computation"):
        with (
            pytest.raises(DatabaseError, match=r"append-only|refuse"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    assert figure(batch, m.EWASTE_MASS).value is not None


def test_figures_are_never_stored_under_a_draft(world: World) -> None:
    draft = actions.draft_version(
        actor=world.operator_user, label="2026.9", title="Draft", change_notes="a test draft"
    )
    assert draft.factors.count() == MethodologyVersion.objects.get(number=1).factors.count()
    with (
        pytest.raises(DatabaseError, match="published"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO impact_computation (batch_id, version_id, reason, computed_at,"
            " computed_by_id) VALUES (1, %s, 'x', now(), %s)",
            [draft.pk, world.operator_user.pk],
        )


# --- measured data beats defaults ---------------------------------------------------------------


def test_measured_weight_beats_the_default_mass(
    world: World, django_capture_on_commit_callbacks: Capture
) -> None:
    batch = issue(world, django_capture_on_commit_callbacks, (100,), weight=Decimal("6.400"))
    mass = figure(batch, m.EWASTE_MASS)
    assert mass.value == Decimal("6.4")  # weighed, not 100 x 0.055 kg
    assert mass.inputs["source"] == "reception-net-weight"
    assert mass.inputs["records"][0]["net_weight_kg"] == "6.400"

    method = actions.load_method(MethodologyVersion.objects.get(number=1))
    unweighed = m.BatchInputs(batch_id=None, phones=100, origin_country="GH", consignment="X")
    [default] = [f for f in m.compute(unweighed, method) if f.key == m.EWASTE_MASS]
    assert default.value == Decimal("5.5")
    assert default.inputs["factors"][0]["key"] == "phone-mass"


def test_lot_assays_beat_literature_grades(
    world: World, django_capture_on_commit_callbacks: Capture
) -> None:
    batch = issue(world, django_capture_on_commit_callbacks, (100,), weight=Decimal("5.000"))
    # Default: the version's grade per tonne x 5 kg.
    assert figure(batch, "metal_au_content_g").value == Decimal("84.85") * 5 / 1000
    with django_capture_on_commit_callbacks(execute=True):
        for grade, sample in (("300", "2.000"), ("200", "1.000")):
            record_assay(
                actor=world.recycler_user,
                consignment=batch.consignment,
                metal="Au",
                grade_g_per_t=Decimal(grade),
                sample_mass_kg=Decimal(sample),
                laboratory="Lab Antwerp",
                assayed_on=timezone.localdate(),
            )
    content = figure(batch, "metal_au_content_g")
    # The sample-weighted mean (300 x 2 + 200 x 1) / 3 g/t, over 5 kg.
    expected = Decimal(800) / 3 * 5 / 1000
    assert content.value == expected.quantize(m.PRECISION)
    assert content.inputs["grade_source"] == "lot-assay"
    assert len(content.inputs["records"]) == 2
    recovered = figure(batch, "metal_au_recovered_g")
    assert recovered.value == (expected * Decimal("0.95")).quantize(m.PRECISION)
    # Silver has no assay: it keeps the version's grade.
    assert figure(batch, "metal_ag_content_g").inputs["grade_source"] == "grade"
    # Earlier computations stay: the assays append one, which saw both of them.
    assert list(Computation.objects.filter(batch=batch).values_list("reason", flat=True)) == [
        "issuance",
        "assay",
    ]


def test_only_the_recycler_records_an_assay_with_a_clear_error(
    world: World, django_capture_on_commit_callbacks: Capture
) -> None:
    batch = issue(world, django_capture_on_commit_callbacks, (20,))
    arguments: dict[str, Any] = {
        "consignment": batch.consignment,
        "metal": "Au",
        "grade_g_per_t": Decimal(100),
        "sample_mass_kg": Decimal(1),
        "laboratory": "Lab",
        "assayed_on": timezone.localdate(),
    }
    with pytest.raises(Exception, match="does not act for"):
        record_assay(actor=world.hub_user, **arguments)
    with pytest.raises(AssayError, match="unknown metal"):
        record_assay(actor=world.recycler_user, **{**arguments, "metal": "Zn"})
    with pytest.raises(AssayError, match="mass of the assayed sample"):
        record_assay(actor=world.recycler_user, **{**arguments, "sample_mass_kg": Decimal(0)})


# --- the figures of a batch ---------------------------------------------------------------------


def test_a_batch_gets_every_figure_with_its_inputs_at_issuance(
    world: World, django_capture_on_commit_callbacks: Capture
) -> None:
    batch = issue(world, django_capture_on_commit_callbacks, (100,), weight=Decimal("5.500"))
    keys = set(Computation.objects.get(batch=batch).figures.values_list("key", flat=True))
    assert {
        m.EWASTE_MASS,
        "metal_au_recovered_g",
        "metal_pd_recovered_g",
        m.AVOIDED_EMISSIONS,
        m.TRANSPORT_EMISSIONS,
        m.LIVING_WAGE_MONTHS,
        "not_recovered_plastics",
        "not_recovered_lithium",
        "not_recovered_rare_earths",
    } <= keys
    assert "metal_co_content_g" not in keys  # no cobalt grade in 2026.1
    avoided = figure(batch, m.AVOIDED_EMISSIONS)
    recovered_au = figure(batch, "metal_au_recovered_g").value
    assert recovered_au is not None
    assert avoided.value == (recovered_au / 1000 * (12500 - 1000)).quantize(m.PRECISION)
    assert "never netted" in avoided.note
    transport = figure(batch, m.TRANSPORT_EMISSIONS)
    [leg] = [r for r in transport.inputs["records"] if r["type"] == "carrier_leg"]
    assert (leg["mode"], leg["distance_source"]) == ("S", "route default (low confidence)")
    assert transport.value == (Decimal("5.5") / 1000 * 7800 * Decimal("0.00894")).quantize(
        m.PRECISION
    )


def test_a_measured_leg_distance_beats_the_route_default() -> None:
    method = m.Method(
        "t",
        [
            m.FactorValue("route-distance", "GH-S", Decimal(7800), "km", "s", 2026, "low", id=1),
            m.FactorValue("transport-intensity", "S", Decimal("0.01"), "kg", "s", 2024, "v", id=2),
            m.FactorValue("phone-mass", "", Decimal("0.05"), "kg", "s", 2024, "v", id=3),
        ],
        {"transport-emissions": {"intensity": "transport-intensity"}},
    )
    batch = m.BatchInputs(
        batch_id=None,
        phones=10,
        origin_country="GH",
        consignment="X",
        net_weight_kg=Decimal(1000),
        legs=[m.LegInput(id=1, sequence=1, mode="S", distance_km=Decimal(5000))],
    )
    tkm = next(f for f in m.compute(batch, method) if f.key == m.TRANSPORT_TKM)
    assert tkm.value == Decimal(5000)


def test_no_benchmark_gives_no_benchmark_not_zero(
    world: World, django_capture_on_commit_callbacks: Capture
) -> None:
    # Ghana has an urban benchmark only: a rural hub's income has none.
    world.hub = make_hub(world.collection_partner, area="rural")
    world.collector = make_collector(world.hub)
    batch = issue(world, django_capture_on_commit_callbacks, (40,))
    months = figure(batch, m.LIVING_WAGE_MONTHS)
    assert months.value is None
    assert months.note.startswith("no benchmark for GH rural")
    certificate = certify(world, 40)
    summed = impact_figures(Scope(certificate=certificate)).figures[m.LIVING_WAGE_MONTHS]
    assert (summed.value, summed.units_counted) == (None, 0)


def test_an_urban_ghana_batch_counts_living_wage_months(
    world: World, django_capture_on_commit_callbacks: Capture
) -> None:
    batch = issue(world, django_capture_on_commit_callbacks, (100,))  # 100 x GHS 0.50
    months = figure(batch, m.LIVING_WAGE_MONTHS)
    assert months.value == (Decimal(50) / Decimal(3609)).quantize(m.PRECISION)
    assert months.inputs["records"][0]["benchmark"]["source"].startswith("Global Living Wage")


# --- sums per scope, for every version ----------------------------------------------------------


def test_each_certificate_figure_is_the_sum_over_its_units_for_every_version(
    world: World, django_capture_on_commit_callbacks: Capture
) -> None:
    first = issue(world, django_capture_on_commit_callbacks, (60,), weight=Decimal("3.100"))
    second = issue(world, django_capture_on_commit_callbacks, (50,), weight=Decimal("2.900"))
    certify(world, 30)
    certificate = certify(world, 50)  # 30 units of the first batch, 20 of the second
    second_version(world, django_capture_on_commit_callbacks)

    allocations = list(Allocation.objects.filter(registration=certificate.registration))
    assert {a.batch_id for a in allocations} == {first.pk, second.pk}
    for version in (1, 2):
        summed = impact_figures(Scope(certificate=certificate), version)
        assert summed.units == summed.units_computed == 50
        for key, shown in summed.figures.items():
            by_hand = [
                figure(a.batch, key, version).value * a.quantity / a.batch.quantity  # type: ignore[operator]
                for a in allocations
                if figure(a.batch, key, version).value is not None
            ]
            expected = sum(by_hand, Decimal(0)).quantize(queries.SHOWN_PLACES) if by_hand else None
            assert shown.value == expected, (version, key)
    gold = [
        impact_figures(Scope(certificate=certificate), v).value("metal_au_content_g")
        for v in (1, 2)
    ]
    assert gold[0] is not None
    assert gold[1] is not None
    assert gold[1] > 4 * gold[0]  # literature grades are about four times the stream's


def test_publishing_a_new_version_changes_no_published_figure(
    world: World, django_capture_on_commit_callbacks: Capture
) -> None:
    issue(world, django_capture_on_commit_callbacks, (60,))
    certificate = certify(world, 40)
    before_rows = sorted(Figure.objects.values_list("id", "key", "value"))
    before = impact_figures(Scope(certificate=certificate), 1)

    version = second_version(world, django_capture_on_commit_callbacks)

    assert sorted(Figure.objects.filter(computation__version__number=1).values_list(
        "id", "key", "value")) == before_rows  # fmt: skip
    assert impact_figures(Scope(certificate=certificate), 1) == before
    # The default is now the latest published version.
    assert impact_figures(Scope(certificate=certificate)).version == version


def test_the_scopes_partner_origin_and_period_share_one_query(
    world: World, django_capture_on_commit_callbacks: Capture
) -> None:
    issue(world, django_capture_on_commit_callbacks, (60,))
    certify(world, 25)
    certify(world, 10)
    today = timezone.localdate()
    partner = impact_figures(Scope(partner=world.partner))
    assert partner.units == 35
    assert impact_figures(Scope(origin_country="GH")).units == 35
    assert impact_figures(Scope(origin_country="NG")).units == 0
    assert impact_figures(Scope(allocated_from=today + dt.timedelta(days=1))).units == 0
    allocation = Allocation.objects.order_by("id").first()
    assert allocation is not None
    assert impact_figures(Scope(allocation=allocation)).units == allocation.quantity


def test_the_drill_down_names_batches_records_and_factor_sources(
    world: World, django_capture_on_commit_callbacks: Capture
) -> None:
    issue(world, django_capture_on_commit_callbacks, (60,))
    certificate = certify(world, 30)
    drill = queries.drill_down(Scope(certificate=certificate), "metal_au_content_g")
    [share] = drill.batches
    assert (share.units, share.batch_units) == (30, 60)
    assert drill.value == impact_figures(Scope(certificate=certificate)).value("metal_au_content_g")
    [grade] = share.factors
    assert grade.source.startswith("operator figures 2024")
    emissions = queries.drill_down(Scope(certificate=certificate), m.TRANSPORT_EMISSIONS)
    assert {r["type"] for r in emissions.batches[0].records} == {"consignment", "carrier_leg"}


def test_compute_impact_command_fills_missing_batches_with_progress(
    world: World, django_capture_on_commit_callbacks: Capture, capsys: pytest.CaptureFixture[str]
) -> None:
    treated_consignment(world, intakes=(20,))  # its on-commit computation never ran
    batch = IssuanceBatch.objects.get()
    call_command("compute_impact", "--version", "1")
    out = capsys.readouterr().out
    assert "2026.1" in out
    assert "1/1 batches" in out
    assert Computation.objects.filter(batch=batch, reason="command").count() == 1
    call_command("compute_impact", "--version", "1")
    assert Computation.objects.filter(batch=batch).count() == 1


# --- API ----------------------------------------------------------------------------------------


def key_of(world: World, partner: Any = None, admin: Any = None) -> str:
    _, raw = account_actions.create_api_key(
        actor=admin or world.partner_admin,
        organisation=partner or world.partner,
        name="impact",
        scope=ApiKeyScope.READ,
    )
    return raw


def test_a_partner_cannot_read_another_partners_figures(
    world: World, django_capture_on_commit_callbacks: Capture, client: Client
) -> None:
    issue(world, django_capture_on_commit_callbacks, (60,))
    other, other_admin = make_partner()
    theirs = register(world, quantity=20, partner=other, actor=other_admin)
    registry_actions.allocate(actor=world.operator_user)
    their_certificate = Certificate.objects.get(registration=theirs)
    mine = certify(world, 15)
    key = key_of(world)

    own = client.get("/api/v1/impact/figures", headers={"X-API-Key": key})
    assert own.status_code == 200, own.content
    assert own.json()["units"] == 15
    assert own.json()["version_label"] == "2026.1"
    for url in ("/api/v1/impact/figures", "/api/v1/impact/figures/ewaste_mass_kg"):
        refused = client.get(
            url, {"certificate": their_certificate.code}, headers={"X-API-Key": key}
        )
        assert refused.status_code == 404
        assert refused.json()["message"] == (
            f"no certificate {their_certificate.code} among your certificates"
        )
    dutch = client.get(
        "/api/v1/impact/figures",
        {"certificate": their_certificate.code},
        headers={"X-API-Key": key, "Accept-Language": "nl"},
    )
    assert dutch.json()["message"] == (
        f"geen certificaat {their_certificate.code} onder uw certificaten"
    )
    assert dutch.json()["code"] == "not_found"
    unknown = client.get("/api/v1/impact/figures/plutonium_g", headers={"X-API-Key": key})
    assert unknown.status_code == 404
    assert unknown.json()["message"] == (
        "no figure “plutonium_g” in your scope: see /api/v1/impact/figures"
    )
    drill = client.get(
        "/api/v1/impact/figures/ewaste_mass_kg",
        {"certificate": mine.code},
        headers={"X-API-Key": key},
    )
    assert drill.status_code == 200
    assert drill.json()["batches"][0]["units"] == 15
    versions = client.get("/api/v1/impact/versions", headers={"X-API-Key": key}).json()
    assert versions[0]["label"] == "2026.1"
    assert any(f["source"].startswith("GLEC") for f in versions[0]["factors"])


def test_the_methodology_pages_are_public(client: Client, db: None) -> None:
    listing = client.get("/methodology/")
    assert listing.status_code == 200
    assert b"2026.1" in listing.content
    detail = client.get("/methodology/1/")
    assert detail.status_code == 200
    assert b"Nuss &amp; Eckelman 2014" in detail.content
    assert b"<div>40 km</div>" in detail.content  # a route default, not 4E+1
    assert client.get("/methodology/99/").status_code == 404


# --- the generated methodology document ---------------------------------------------------------


def test_docs_methodology_md_is_the_generated_document(db: None) -> None:
    """CI's check: run `oneforone methodology-doc` after changing a version or the generator."""
    call_command("methodology_doc", "--check")


def test_a_scopes_sum_and_drill_down_take_a_fixed_number_of_queries(
    world: World,
    django_capture_on_commit_callbacks: Capture,
    django_assert_num_queries: Callable[..., Any],
) -> None:
    for phones in (20, 30, 40):
        issue(world, django_capture_on_commit_callbacks, (phones,))
    certify(world, 85)  # units of all three batches
    scope = Scope(partner=world.partner)
    with django_assert_num_queries(3):  # the version, the unit counts, the figures
        figures = impact_figures(scope)
    assert figures.units == figures.units_computed == 85
    with django_assert_num_queries(4):  # the version, the rows, their batches, the factors
        drill = queries.drill_down(scope, "metal_au_recovered_g")
    assert len(drill.batches) == 3
    assert drill.value == figures.value("metal_au_recovered_g")


def test_the_recycler_records_an_assay_on_its_page(
    world: World, django_capture_on_commit_callbacks: Capture, client: Client
) -> None:
    batch = issue(world, django_capture_on_commit_callbacks, (50,), weight=Decimal("2.750"))
    url = f"/recycling/{batch.consignment.reference}/assays/"
    client.force_login(world.hub_user)
    assert client.get(url).status_code == 403
    client.force_login(world.recycler_user)
    detail = client.get(f"/shipments/{batch.consignment.reference}/")
    assert url.encode() in detail.content
    assert b"No assay yet" in client.get(url).content
    form = {
        "metal": "Au",
        "grade_g_per_t": "120",
        "sample_mass_kg": "1.5",
        "laboratory": "Lab Antwerp",
        "assayed_on": str(timezone.localdate() + dt.timedelta(days=1)),
    }
    refused = client.post(url, form)
    assert b"cannot be dated in the future" in refused.content
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(url, {**form, "assayed_on": str(timezone.localdate())}, follow=True)
    assert b"Assay recorded: Au 120" in done.content
    assert figure(batch, "metal_au_content_g").value == Decimal("0.33")  # 120 g/t x 2.75 kg


def test_the_services_figures_count_every_issued_unit_not_cancelled(
    world: World, django_capture_on_commit_callbacks: Capture
) -> None:
    first = issue(world, django_capture_on_commit_callbacks, (60,), weight=Decimal("3.000"))
    issue(world, django_capture_on_commit_callbacks, (40,), weight=Decimal("2.000"))
    certify(world, 10)
    service = impact_figures(Scope(issued=True))
    assert service.units == 100
    assert service.value(m.EWASTE_MASS) == Decimal("5.000000")
    registry_actions.cancel_units(
        actor=world.operator_user,
        batch=first,
        first=first.units.lower + 50,
        last=first.units.lower + 59,
        reason="count_corrected",
        explanation="ten phones counted twice",
    )
    assert impact_figures(Scope(issued=True)).value(m.EWASTE_MASS) == Decimal("4.500000")
    with pytest.raises(ValueError, match="service's"):
        impact_figures(Scope(issued=True, partner=world.partner))


def test_operator_staff_publish_a_draft_from_the_admin(
    world: World, django_capture_on_commit_callbacks: Capture, client: Client
) -> None:
    draft = actions.draft_version(
        actor=world.operator_user, label="2026.3", title="Draft", change_notes="admin test"
    )
    user = world.operator_user
    user.is_staff = user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    client.force_login(user)
    url = "/admin/impact/methodologyversion/"
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            url, {"action": "publish", "_selected_action": [draft.pk]}, follow=True
        )
    assert b"2026.3 published" in answer.content
    draft.refresh_from_db()
    assert draft.is_published
    assert draft.published_by == user
    again = client.post(url, {"action": "publish", "_selected_action": [draft.pk]}, follow=True)
    assert b"published already" in again.content
