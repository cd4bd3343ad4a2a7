"""The partner's ESRS E5 sheet (disclosure requirement E5-2, voluntary metrics of an action, not
E5-5) and its evidence packs per product model for an "e-waste compensated" certification."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

import factories
from factories import World, imei
from oneforone.impact import method
from oneforone.impact import queries as impact_queries
from oneforone.partners.models import Registration
from oneforone.registry import actions as registry_actions
from oneforone.registry import serials
from oneforone.registry.models import Allocation, Certificate
from oneforone.reporting import esrs, queries
from oneforone.reporting.filters import parse

Capture = Callable[..., Any]


def _client_for(user: Any, language: str = "en") -> Client:
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def _issue(world: World, capture: Capture, phones: int) -> None:
    """A treated batch of `phones` units; its impact figures are computed once it commits."""
    with capture(execute=True):
        factories.issue(world, phones)


def _imeis(first: int, count: int) -> list[str]:
    return [imei(n) for n in range(first, first + count)]


# --- the ESRS E5 sheet --------------------------------------------------------------------------


def test_the_sheets_figures_equal_impact_figures_for_the_same_scope(
    world: World, django_capture_on_commit_callbacks: Capture
) -> None:
    _issue(world, django_capture_on_commit_callbacks, 40)
    factories.register(world, quantity=25)
    factories.register(world, quantity=30)  # 15 of these wait: owed at the end
    registry_actions.allocate(actor=world.operator_user)
    scope = parse({}, world.partner).scope
    sheet = esrs.build(scope)

    this_month = dt.date.today().replace(day=1)
    figures = impact_queries.impact_figures(
        impact_queries.Scope(
            partner=world.partner,
            allocated_from=scope.first,
            allocated_until=queries.add_months(this_month, 1) - dt.timedelta(days=1),
        )
    )
    assert figures.units == 40
    impact_keys = [m.key for m in sheet.metrics if m.key in figures.figures]
    assert method.EWASTE_MASS in impact_keys
    assert method.AVOIDED_EMISSIONS in impact_keys
    assert method.LIVING_WAGE_MONTHS in impact_keys
    metals = [k for k in impact_keys if k.startswith("metal_")]
    assert metals
    assert all(k.endswith("_recovered_g") for k in metals)
    for key in impact_keys:
        assert sheet.metric(key).value == figures.value(key), key
    assert sheet.metric(method.EWASTE_MASS).value > 0  # type: ignore[operator]
    registry = queries.impact(scope)
    assert sheet.metric("devices_registered").value == registry.devices_registered == 55
    assert sheet.metric("devices_compensated").value == registry.devices_compensated == 40
    assert sheet.metric("devices_owed").value == registry.devices_owed == 15
    assert sheet.metric("units_allocated").value == registry.units_allocated == 40
    weighed = sheet.metric(method.EWASTE_MASS).basis
    assert weighed.startswith("measured"), "the factory's batches are weighed at reception"


def test_the_sheet_is_laid_out_for_e5_2_and_says_it_is_not_e5_5(
    world: World, django_capture_on_commit_callbacks: Capture
) -> None:
    _issue(world, django_capture_on_commit_callbacks, 10)
    factories.register(world, quantity=10)
    registry_actions.allocate(actor=world.operator_user)
    client = _client_for(world.partner_admin)

    response = client.get(reverse("partner-esrs-xlsx"))
    assert response.status_code == 200
    assert "esrs-e5-2" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["E5-2", "Notes"]
    cells = [str(c) for row in book["E5-2"].iter_rows(values_only=True) for c in row if c]
    header = {
        row[0]: row[1] for row in book["E5-2"].iter_rows(values_only=True) if row[0] and row[1]
    }
    assert header["Disclosure requirement"] == (
        "E5-2 Actions and resources related to resource use and circular economy"
    )
    assert header["Reported as"].startswith("Voluntary metrics of an action. Not E5-5")
    assert not any(c.startswith("E5-5") for c in cells), "nothing is disclosed under E5-5"
    notes = [row[0] for row in book["Notes"].iter_rows(values_only=True)]
    assert any(str(n).startswith("Not E5-5") for n in notes)
    assert any("never netted" in str(n) for n in notes)
    assert header["Methodology link"].startswith(settings.PUBLIC_BASE_URL.rstrip("/"))

    lines = list(csv.reader(io.StringIO(client.get(reverse("partner-esrs-csv")).content.decode())))
    assert lines[0] == ["section", "item", "value", "unit", "basis", "source"]
    metrics = {line[1]: line for line in lines if line[0] == "voluntary metric (E5-2)"}
    assert metrics["Devices compensated in the period"][2] == "10"
    assert metrics["E-waste diverted from dumpsites (mass)"][3] == "kg"


def test_the_sheet_follows_the_language_of_the_request(
    world: World, django_capture_on_commit_callbacks: Capture
) -> None:
    _issue(world, django_capture_on_commit_callbacks, 5)
    factories.register(world, quantity=5)
    registry_actions.allocate(actor=world.operator_user)
    for language, requirement in (
        ("nl", "Informatieverschaffingsvereiste"),
        ("fr", "Exigence de publication"),
    ):
        response = _client_for(world.partner_admin, language).get(reverse("partner-esrs-csv"))
        text = response.content.decode()
        assert requirement in text, language
        assert "E5-2" in text
        assert "E5-5" in text


# --- evidence packs per product model -------------------------------------------------------


def _two_models(world: World, capture: Capture) -> tuple[Registration, Registration]:
    """X2 Pro: 3 listed devices, compensated; Flip 3: 4 listed devices, waiting."""
    _issue(world, capture, 3)
    compensated = factories.register(world, imeis=_imeis(100, 3), product_model="X2 Pro")
    registry_actions.allocate(actor=world.operator_user)
    waiting = factories.register(world, imeis=_imeis(200, 4), product_model="Flip 3")
    return compensated, waiting


def _pack(client: Client, model: str) -> zipfile.ZipFile:
    response = client.get(reverse("partner-evidence-pack", args=[model]))
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.content))


def _rows(archive: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(archive.read(name).decode())))


def test_the_page_lists_the_partners_models_with_their_packs(
    world: World, django_capture_on_commit_callbacks: Capture
) -> None:
    _two_models(world, django_capture_on_commit_callbacks)
    factories.register(world, quantity=2)  # no model given: not listed
    page = _client_for(world.partner_admin).get(reverse("partner-evidence"))
    html = page.content.decode()
    assert page.status_code == 200
    assert reverse("partner-evidence-pack", args=["X2 Pro"]) in html
    assert reverse("partner-evidence-pack", args=["Flip 3"]) in html
    assert reverse("partner-esrs-xlsx") in html
    dashboard = _client_for(world.partner_admin).get(reverse("dashboard")).content.decode()
    assert reverse("partner-evidence") in dashboard


def test_the_packs_manifest_hashes_every_file_of_the_pack(
    world: World, django_capture_on_commit_callbacks: Capture
) -> None:
    _two_models(world, django_capture_on_commit_callbacks)
    archive = _pack(_client_for(world.partner_admin), "X2 Pro")
    manifest = json.loads(archive.read("manifest.json"))
    listed = {f["name"] for f in manifest["files"]}
    assert listed == set(archive.namelist()) - {"manifest.json"}
    assert listed == {
        "summary.pdf",
        "registrations.csv",
        "devices.csv",
        "certificates.csv",
        "units.csv",
    }
    for entry in manifest["files"]:
        data = archive.read(entry["name"])
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert len(data) == entry["bytes"]
    assert manifest["product_model"] == "X2 Pro"
    assert manifest["algorithm"] == "SHA-256"


def test_the_summary_names_the_model_its_certificates_and_their_verification(
    world: World, django_capture_on_commit_callbacks: Capture
) -> None:
    compensated, _ = _two_models(world, django_capture_on_commit_callbacks)
    certificate = Certificate.objects.get(registration=compensated)
    archive = _pack(_client_for(world.partner_admin), "X2 Pro")
    text = " ".join(
        p.extract_text() for p in PdfReader(io.BytesIO(archive.read("summary.pdf"))).pages
    )
    text = " ".join(text.split())
    assert "E-waste compensated: X2 Pro" in text
    assert certificate.code in text
    assert "Of the 3 X2 Pro devices registered in the period, 3 are compensated" in text
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    assert base + reverse("verify", args=[certificate.code]) in text
    assert "Methodology 2026.1 (version 1)" in text
    batch = compensated.allocations.get().batch_id
    assert base + reverse("registry-batch", args=[batch]) in text
    [line] = _rows(archive, "certificates.csv")
    assert line["code"] == certificate.code
    assert line["verification_url"] == (
        settings.PUBLIC_BASE_URL.rstrip("/") + reverse("verify", args=[certificate.code])
    )
    assert line["ledger_entry_hash"], "the certificate's issuance entry in the unit ledger"
    figures = impact_queries.impact_figures(impact_queries.Scope(certificate=certificate))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["methodology"]["number"] == figures.version.number
    [unit] = _rows(archive, "units.csv")
    allocation = Allocation.objects.get(registration=compensated)
    assert unit["unit_block"] == allocation.block
    assert unit["batch_url"].endswith(reverse("registry-batch", args=[allocation.batch_id]))


def test_the_packs_figures_are_its_certificates_figures(
    world: World, django_capture_on_commit_callbacks: Capture
) -> None:
    _issue(world, django_capture_on_commit_callbacks, 9)
    first = factories.register(world, quantity=4, product_model="A15")
    second = factories.register(world, quantity=5, product_model="A15")
    registry_actions.allocate(actor=world.operator_user)
    from oneforone.reporting import evidence

    found = evidence.gather(parse({}, world.partner).scope, "A15")
    assert found is not None
    assert found.figures is not None
    by_certificate = [
        impact_queries.impact_figures(impact_queries.Scope(certificate=c))
        for c in Certificate.objects.filter(registration__in=[first, second])
    ]
    assert found.figures.units == sum(f.units for f in by_certificate) == 9
    for key in (method.EWASTE_MASS, method.AVOIDED_EMISSIONS):
        summed = sum((f.value(key) or Decimal(0) for f in by_certificate), start=Decimal(0))
        assert abs(found.figures.value(key) - summed) < Decimal("0.00001"), key  # type: ignore[operator]


def test_the_csvs_match_the_models_registrations_and_devices(
    world: World, django_capture_on_commit_callbacks: Capture
) -> None:
    compensated, waiting = _two_models(world, django_capture_on_commit_callbacks)
    certificate = Certificate.objects.get(registration=compensated)
    client = _client_for(world.partner_admin)

    archive = _pack(client, "X2 Pro")
    [registration] = _rows(archive, "registrations.csv")
    assert registration["reference"] == compensated.reference
    assert registration["product_model"] == "X2 Pro"
    assert registration["devices"] == registration["devices_compensated"] == "3"
    assert registration["certificate"] == certificate.code
    devices = _rows(archive, "devices.csv")
    assert [d["position"] for d in devices] == ["1", "2", "3"]
    assert {d["certificate"] for d in devices} == {certificate.code}
    allocation = Allocation.objects.get(registration=compensated)
    batch = allocation.batch
    assert [d["units"] for d in devices] == [
        serials.format_serial(batch.origin_country, batch.vintage_year, n)
        for n in range(allocation.units.lower, allocation.units.upper)
    ]

    waiting_archive = _pack(client, "Flip 3")
    devices = _rows(waiting_archive, "devices.csv")
    assert len(devices) == waiting.quantity == 4
    assert {d["units"] for d in devices} == {""}, "no unit yet: nothing claimed"
    assert _rows(waiting_archive, "certificates.csv") == []


def test_another_partners_model_is_not_found(
    world: World, django_capture_on_commit_callbacks: Capture
) -> None:
    _two_models(world, django_capture_on_commit_callbacks)
    other, other_admin = factories.make_partner()
    factories.register(world, partner=other, actor=other_admin, quantity=2, product_model="Z9")
    mine = _client_for(world.partner_admin)
    assert mine.get(reverse("partner-evidence-pack", args=["Z9"])).status_code == 404
    theirs = _client_for(other_admin)
    assert theirs.get(reverse("partner-evidence-pack", args=["X2 Pro"])).status_code == 404
    page = theirs.get(reverse("partner-evidence")).content.decode()
    assert "X2 Pro" not in page
    assert "Z9" in page


def test_a_pack_takes_the_same_queries_for_few_or_many_devices(
    world: World, django_capture_on_commit_callbacks: Capture
) -> None:
    _issue(world, django_capture_on_commit_callbacks, 3 + 60 + 12)
    factories.register(world, imeis=_imeis(300, 3), product_model="Small")
    factories.register(world, imeis=_imeis(400, 60), product_model="Large")
    for n in range(3):  # three certified registrations of one model
        factories.register(world, imeis=_imeis(500 + 4 * n, 4), product_model="Several")
    registry_actions.allocate(actor=world.operator_user)
    client = _client_for(world.partner_admin)
    counts = {}
    for model in ("Small", "Large", "Several"):
        with CaptureQueriesContext(connection) as queries_run:
            archive = _pack(client, model)
        counts[model] = len(queries_run)
        assert len(_rows(archive, "devices.csv")) == {"Small": 3, "Large": 60, "Several": 12}[model]
    assert counts["Small"] == counts["Large"] == counts["Several"], counts


# --- where the product model comes from ------------------------------------------------------


def test_the_api_and_an_uploaded_file_record_the_product_model(world: World) -> None:
    from oneforone.accounts import actions as account_actions
    from oneforone.partners import upload_actions

    _, key = account_actions.create_api_key(
        actor=world.partner_admin, organisation=world.partner, name="models"
    )

    def register_by_api(reference: str, product_model: str) -> Any:
        body = {"reference": reference, "category": "phone", "quantity": 2}
        return Client().post(
            "/api/v1/registrations",
            data=json.dumps({**body, "product_model": product_model}),
            content_type="application/json",
            HTTP_X_API_KEY=key,
        )

    response = register_by_api("API-1", "X2 Pro")
    assert response.status_code == 201, response.content
    assert response.json()["product_model"] == "X2 Pro"
    assert Registration.objects.get(reference="API-1").product_model == "X2 Pro"

    upload = upload_actions.create_upload(
        actor=world.partner_admin,
        partner=world.partner,
        file=io.BytesIO(
            b"reference,category,product_model,imei\n"
            + f"UP-1,phone,Flip 3,{imei(700)}\nUP-1,phone,Flip 3,{imei(701)}\n".encode()
            + b"UP-2,phone,,"
            + imei(702).encode()
            + b"\n"
        ),
        name="devices.csv",
        mode="all_or_nothing",
    )
    upload_actions.run_upload(upload.pk)
    models = dict(
        Registration.objects.filter(reference__startswith="UP-").values_list(
            "reference", "product_model"
        )
    )
    assert models == {"UP-1": "Flip 3", "UP-2": ""}

    refused = register_by_api("API-2", "A/B")
    assert refused.status_code == 422, "a '/' would make the model's evidence address ambiguous"
