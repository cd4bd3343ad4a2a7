"""Partner pages: each partner sees and changes only its own registrations, certificates, figures."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io

from django.test import Client
from django.urls import reverse
from django.utils import timezone

import factories
from factories import World
from oneforone.partners.models import Registration
from oneforone.registry import actions as registry_actions
from oneforone.registry import serials
from oneforone.registry.devices import units_of as device_units_of
from oneforone.registry.models import Certificate


def _client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def _compensated_registration(world: World, *, partner=None, actor=None) -> Registration:  # type: ignore[no-untyped-def]
    registration = factories.register(world, quantity=5, partner=partner, actor=actor)
    factories.issue(world, 5)
    registry_actions.allocate(actor=world.operator_user)
    return registration


def test_a_partner_never_reads_another_partners_registration_or_dashboard(world: World) -> None:
    other_partner, other_admin = factories.make_partner()
    mine = _compensated_registration(world)
    theirs = _compensated_registration(world, partner=other_partner, actor=other_admin)
    client = _client_for(world.partner_admin)

    listing = client.get(reverse("partner-registrations")).content.decode()
    assert mine.reference in listing
    assert theirs.reference not in listing
    assert client.get(reverse("partner-registration", args=[mine.pk])).status_code == 200
    assert client.get(reverse("partner-registration", args=[theirs.pk])).status_code == 404

    dashboard = client.get(reverse("dashboard"))
    assert dashboard.context["partner"] == world.partner
    assert dashboard.context["totals"].devices_registered == 5
    assert dashboard.context["totals"].devices_compensated == 5


def test_partner_pages_are_closed_to_other_kinds_of_organisation(world: World) -> None:
    client = _client_for(world.hub_user)
    assert client.get(reverse("partner-registrations")).status_code == 403
    assert client.get(reverse("partner-upload")).status_code == 403
    anonymous = Client().get(reverse("partner-registrations"))
    assert anonymous.status_code == 302
    assert reverse("login") in anonymous["Location"]


def test_a_bad_csv_upload_lists_its_lines_and_records_nothing(
    world: World, django_capture_on_commit_callbacks, settings, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    client = _client_for(world.partner_admin)
    csv = b"reference,category,quantity\nA-1,phone,3\nA-2,toaster,2\nA-3,phone,-1\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("partner-upload"), {"file": _upload(csv), "mode": "all_or_nothing"}
        )
    response = client.get(response["Location"])
    errors = [str(e) for e in response.context["errors"]]
    assert any(e.startswith("line 3") and "toaster" in e for e in errors)
    assert any(e.startswith("line 4") and "quantity" in e for e in errors)
    assert "nothing was recorded" in response.content.decode()
    assert not Registration.objects.filter(partner=world.partner).exists()


def test_a_good_csv_upload_registers_every_line(
    world: World, django_capture_on_commit_callbacks, settings, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    client = _client_for(world.partner_admin)
    csv = b"\xef\xbb\xbfReference,Category,Quantity\r\nB-1,phone,3\r\nB-2,laptop,2\r\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("partner-upload"), {"file": _upload(csv), "mode": "all_or_nothing"}
        )
    assert response.status_code == 302
    registrations = Registration.objects.filter(partner=world.partner).order_by("reference")
    assert [(r.reference, r.units_owed) for r in registrations] == [("B-1", 3), ("B-2", 6)]


def test_the_public_verification_page_and_pdf_show_the_certificate(world: World) -> None:
    registration = _compensated_registration(world)
    certificate = Certificate.objects.get(registration=registration)
    page = Client().get(reverse("verify", args=[certificate.code]))
    assert page.status_code == 200
    body = page.content.decode()
    assert world.partner.name in body
    assert certificate.snapshot["unit_blocks"][0] in body
    pdf = Client().get(reverse("verify-pdf", args=[certificate.code]))
    assert pdf.content.startswith(b"%PDF")
    assert pdf["X-Content-SHA256"] == hashlib.sha256(pdf.content).hexdigest()
    sealed = Client().get(reverse("verify-pdf", args=[certificate.code]), {"copy": "sealed"})
    assert sealed["X-Content-SHA256"] == certificate.document.sha256
    assert sealed.content == bytes(certificate.document.pdf)
    assert Client().get(reverse("verify", args=["C-AAAAAAAAAA"])).status_code == 404


def test_an_api_key_is_shown_once_and_stored_hashed(world: World) -> None:
    client = _client_for(world.partner_admin)
    response = client.post(reverse("partner-api-keys"), {"name": "webshop"})
    raw = response.context["new_key"]
    assert raw.startswith("o4o_")
    key = world.partner.api_keys.get()
    assert raw not in key.secret_hash
    assert raw not in client.get(reverse("partner-api-keys")).content.decode()


def test_operator_allocates_from_the_allocation_page(world: World) -> None:
    registration = factories.register(world, quantity=3)
    factories.issue(world, 3)
    client = _client_for(world.operator_user)
    assert client.get(reverse("operator-registry-allocation")).status_code == 200
    client.post(reverse("operator-registry-allocation-run"))
    assert Certificate.objects.filter(registration=registration).exists()
    assert (
        _client_for(world.partner_admin)
        .post(reverse("operator-registry-allocation-run"))
        .status_code
        == 403
    )


def _upload(content: bytes):  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("registrations.csv", content, content_type="text/csv")


# The partner portal: registrations, units, certificates, held devices -----------------------------


def _register_by(world: World, *, channel: str, reference: str, category: str = "phone") -> None:
    from oneforone.partners import actions as partner_actions
    from oneforone.partners.schemas import RegistrationRow

    partner_actions.register_devices(
        actor=world.partner_admin,
        partner=world.partner,
        rows=[(1, RegistrationRow(reference=reference, category=category, quantity=2))],
        channel=channel,
    )


def _references(response) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(r.reference for r in response.context["page"])


def test_registrations_are_searched_and_filtered_by_category_state_channel_and_date(
    world: World,
) -> None:
    compensated = _compensated_registration(world)  # 5 phones, all allocated
    partly = factories.register(world, quantity=4, reference="PART-1")
    factories.issue(world, 2)
    registry_actions.allocate(actor=world.operator_user)
    owed = factories.register(world, quantity=3, category="laptop", reference="OWED-1")
    _register_by(world, channel="csv", reference="CSV-1", category="tablet")
    other_partner, other_admin = factories.make_partner()
    factories.register(
        world, quantity=2, reference="OWED-2", partner=other_partner, actor=other_admin
    )
    client = _client_for(world.partner_admin)
    url = reverse("partner-registrations")
    today = timezone.localdate()

    everything = client.get(url)
    assert _references(everything) == sorted([compensated.reference, "PART-1", "OWED-1", "CSV-1"])
    assert "4 registrations." in everything.content.decode()
    assert _references(client.get(url, {"q": "owed"})) == ["OWED-1"]
    assert _references(client.get(url, {"category": "laptop"})) == ["OWED-1"]
    assert _references(client.get(url, {"state": "compensated"})) == [compensated.reference]
    assert _references(client.get(url, {"state": "partly"})) == [partly.reference]
    assert _references(client.get(url, {"state": "owed"})) == ["CSV-1", owed.reference]
    assert _references(client.get(url, {"channel": "csv"})) == ["CSV-1"]
    assert _references(client.get(url, {"channel": "csv", "category": "phone"})) == []
    assert len(_references(client.get(url, {"created_from": today, "created_to": today}))) == 4
    tomorrow = today + dt.timedelta(days=1)
    assert _references(client.get(url, {"created_from": tomorrow})) == []
    assert _references(client.get(url, {"created_to": today - dt.timedelta(days=1)})) == []

    backwards = client.get(url, {"created_from": tomorrow, "created_to": today})
    assert "The end date is before the start date" in backwards.content.decode()


def test_pagination_keeps_the_filters(world: World) -> None:
    from oneforone.partners import actions as partner_actions
    from oneforone.partners.schemas import RegistrationRow

    partner_actions.register_devices(
        actor=world.partner_admin,
        partner=world.partner,
        rows=[
            (n, RegistrationRow(reference=f"P-{n:03d}", category="phone", quantity=1))
            for n in range(1, 61)
        ],
        channel="csv",
    )
    client = _client_for(world.partner_admin)
    first = client.get(reverse("partner-registrations"), {"channel": "csv", "q": "P-"})
    body = first.content.decode()
    assert "60 registrations match these filters" in body
    assert "?channel=csv&amp;q=P-&amp;page=2" in body
    second = client.get(reverse("partner-registrations"), {"channel": "csv", "q": "P-", "page": 2})
    assert len(second.context["page"]) == 10


def test_the_filtered_list_downloads_as_a_streamed_csv(world: World) -> None:
    compensated = _compensated_registration(world)
    factories.register(world, quantity=3, reference="WAITING-1")
    other_partner, other_admin = factories.make_partner()
    factories.register(
        world, quantity=2, reference="THEIRS-1", partner=other_partner, actor=other_admin
    )
    client = _client_for(world.partner_admin)

    response = client.get(reverse("partner-registrations-csv"), {"state": "compensated"})
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    certificate = Certificate.objects.get(registration=compensated)
    assert rows == [
        {
            "reference": compensated.reference,
            "programme": "general",
            "category": "phone",
            "quantity": "5",
            "devices_excluded": "0",
            "units_owed": "5",
            "units_allocated": "5",
            "state": "compensated",
            "channel": "api",
            "registered_at": compensated.created_at.isoformat(),
            "certificate": certificate.code,
        }
    ]
    everything = b"".join(client.get(reverse("partner-registrations-csv")).streaming_content)
    assert b"WAITING-1" in everything
    assert b"THEIRS-1" not in everything


def test_the_detail_shows_units_with_their_origin_and_which_unit_compensates_each_device(
    world: World,
) -> None:
    other_partner, other_admin = factories.make_partner()
    factories.register(
        world, imeis=[factories.imei(2)], partner=other_partner, actor=other_admin
    )  # claimed first elsewhere
    registration = factories.register(
        world, imeis=[factories.imei(1), factories.imei(2), factories.imei(3)]
    )
    batch = factories.issue(world, 3)  # one for the earlier claim, two for this registration
    registry_actions.allocate(actor=world.operator_user)
    certificate = Certificate.objects.get(registration=registration)
    client = _client_for(world.partner_admin)

    page = client.get(reverse("partner-registration", args=[registration.pk]))
    body = page.content.decode()
    [allocation] = page.context["allocations"]
    assert allocation.batch == batch
    assert allocation.block in body
    assert serials.country_name(batch.origin_country) in body
    assert batch.consignment.reference in body
    assert batch.consignment.recycler.name in body
    assert reverse("verify-pdf", args=[certificate.code]) in body
    assert reverse("verify", args=[certificate.code]) in body
    # The same unit the public device lookup names, for each counted device; none for the held one.
    rows = {row["position"]: row for row in page.context["device_rows"]}
    for position in (1, 3):
        device = registration.devices.get(position=position)
        assert [u.serial for u in rows[position]["units"]] == [
            u.serial for u in device_units_of(device)
        ]
        assert rows[position]["units"][0].serial in body
    assert rows[2]["units"] == ()
    assert rows[2]["label"] == "already compensated"
    assert other_partner.name not in body


def test_the_certificates_page_lists_every_version_with_its_state(world: World) -> None:
    registration = factories.register(world, quantity=6, reference="CERT-1")
    batch = factories.issue(world, 10)
    registry_actions.allocate(actor=world.operator_user)
    version_1 = Certificate.objects.get(registration=registration)
    registry_actions.cancel_units(
        actor=world.operator_user,
        batch=batch,
        first=batch.units.lower + 2,
        last=batch.units.lower + 3,
        reason="count_corrected",
        explanation="two phones were counted twice",
    )
    version_2 = Certificate.objects.get(registration=registration, version=2)
    other_partner, other_admin = factories.make_partner()
    theirs = _compensated_registration(world, partner=other_partner, actor=other_admin)
    client = _client_for(world.partner_admin)

    page = client.get(reverse("partner-certificates"))
    states = {c.code: state for c, state in page.context["rows"]}
    assert states == {version_1.code: "superseded", version_2.code: "current"}
    body = page.content.decode()
    assert reverse("verify-pdf", args=[version_2.code]) in body
    assert Certificate.objects.get(registration=theirs).code not in body
    found = client.get(reverse("partner-certificates"), {"q": version_1.code.lower()})
    assert [c.code for c, _ in found.context["rows"]] == [version_1.code]
    assert len(client.get(reverse("partner-certificates"), {"q": "cert-1"}).context["rows"]) == 2

    detail = client.get(reverse("partner-registration", args=[registration.pk])).content.decode()
    assert version_1.code in detail
    assert version_2.code in detail


def test_a_withdrawn_certificate_without_a_successor_reads_withdrawn(world: World) -> None:
    registration = factories.register(world, quantity=6)
    batch = factories.issue(world, 6)
    registry_actions.allocate(actor=world.operator_user)
    registry_actions.cancel_units(
        actor=world.operator_user,
        batch=batch,
        first=batch.units.lower,
        last=batch.units.lower,
        reason="count_corrected",
        explanation="one phone was counted twice",
    )
    page = _client_for(world.partner_admin).get(reverse("partner-certificates"))
    [(certificate, state)] = page.context["rows"]
    assert (certificate.registration_id, state) == (registration.pk, "withdrawn")


def test_the_conflicts_page_lists_held_devices_without_naming_the_other_claim(
    world: World,
) -> None:
    first_partner, first_admin = factories.make_partner()
    earlier = factories.register(
        world,
        imeis=[factories.imei(7)],
        partner=first_partner,
        actor=first_admin,
        reference="EARLIER-CLAIM",
    )
    mine = factories.register(world, imeis=[factories.imei(6), factories.imei(7)], reference="MINE")
    client = _client_for(world.partner_admin)

    page = client.get(reverse("partner-conflicts"))
    [row] = page.context["rows"]
    assert (row["device"].registration_id, row["position"]) == (mine.pk, 2)
    assert row["label"] == "already compensated"
    assert row["device"].raised_at is not None
    assert row["device"].resolved_at is None
    body = page.content.decode()
    assert "The operator is reviewing it." in body
    assert first_partner.name not in body
    assert earlier.reference not in body
    assert client.get(reverse("partner-conflicts"), {"status": "withdrawn"}).context["rows"] == []
    # The earlier claimant's own device counts: nothing to show on its page.
    assert _client_for(first_admin).get(reverse("partner-conflicts")).context["rows"] == []


def test_every_portal_page_renders_for_a_viewer_who_cannot_change_anything(world: World) -> None:
    from oneforone.accounts.models import Role

    registration = _compensated_registration(world)
    viewer = factories.make_member(world.partner, role=Role.VIEWER)
    client = _client_for(viewer)
    for name, args in [
        ("partner-registrations", []),
        ("partner-registrations-csv", []),
        ("partner-registration", [registration.pk]),
        ("partner-certificates", []),
        ("partner-conflicts", []),
        ("team", []),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 200, name
    assert client.post(reverse("partner-upload"), {}).status_code == 403
    assert client.post(reverse("team-invite"), {"email": "x@example.org"}).status_code == 403
    for name in ("partner-certificates", "partner-conflicts", "partner-registrations-csv"):
        assert _client_for(world.hub_user).get(reverse(name)).status_code == 403


def test_an_exported_reference_never_runs_as_a_spreadsheet_formula(world: World) -> None:
    factories.register(world, quantity=1, reference="=HYPERLINK(1)")
    response = _client_for(world.partner_admin).get(reverse("partner-registrations-csv"))
    [row] = csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode()))
    assert row["reference"] == "'=HYPERLINK(1)"


def test_the_detail_page_reads_units_of_a_page_of_devices_in_a_fixed_number_of_queries(
    world: World,
) -> None:
    few = factories.register(world, imeis=[factories.imei(n) for n in range(1, 3)])
    many = factories.register(world, imeis=[factories.imei(n) for n in range(10, 130)])
    factories.issue(world, 122)
    registry_actions.allocate(actor=world.operator_user)
    client = _client_for(world.partner_admin)

    def queries(registration: Registration) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            page = client.get(reverse("partner-registration", args=[registration.pk]))
        assert all(row["units"] for row in page.context["device_rows"])
        return len(captured)

    assert queries(many) == queries(few)
    second_page = client.get(reverse("partner-registration", args=[many.pk]), {"devices": 2})
    rows = second_page.context["device_rows"]
    assert rows[0]["position"] == 101
    device = many.devices.get(position=101)
    assert rows[0]["units"][0].serial == device_units_of(device)[0].serial
