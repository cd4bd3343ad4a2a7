"""Partner pages: each partner sees and changes only its own registrations, certificates, figures."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

import factories
from factories import World
from oneforone.partners.models import Registration
from oneforone.registry import actions as registry_actions
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
    assert pdf["X-Content-SHA256"] == certificate.document.sha256
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
