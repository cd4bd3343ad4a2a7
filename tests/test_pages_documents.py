"""The document pages: code lists with the valid-on filter and coming changes, PDFs, the export
and the attachments page, through Django's test client."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json

import time_machine
from django.test import Client

from factories import (
    World,
    draft_consignment,
    make_hub,
    make_member,
    make_notification,
    make_organisation,
    movement_document_row,
    treated_consignment,
)
from oneforone.accounts.models import OrganisationKind, Role
from oneforone.shipments.models import Attachment

PDF_BYTES = b"%PDF-1.4\n% signed\n" + b"1" * 64


def signed_in(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def test_the_code_lists_show_what_a_document_of_a_date_may_use(world: World) -> None:
    client = signed_in(world.hub_user)

    before = client.get("/shipments/codes/", {"on": "2026-12-08", "code_list": "ewc"})
    after = client.get(
        "/shipments/codes/", {"on": "2026-12-09", "code_list": "ewc", "usable_only": "on"}
    )

    assert before.status_code == 200
    rows = {
        row.entry.code: row.usable
        for _, _, list_rows in before.context["lists"]
        for row in list_rows
    }
    assert rows["16 06 05"] is True
    assert rows["20 01 33*"] is True
    usable = {row.entry.code for _, _, list_rows in after.context["lists"] for row in list_rows}
    assert "16 06 05" not in usable
    assert "16 06 01*" in usable
    assert "replaced by 16 06 07* for lithium-based batteries" in before.content.decode()


def test_the_battery_codes_are_highlighted_in_the_90_days_before_they_change(world: World) -> None:
    client = signed_in(world.operator_user)
    with time_machine.travel(dt.datetime(2026, 10, 1, 9, tzinfo=dt.UTC), tick=True):
        soon = client.get("/shipments/codes/")
    with time_machine.travel(dt.datetime(2026, 8, 1, 9, tzinfo=dt.UTC), tick=True):
        far = client.get("/shipments/codes/")

    changing = {row.entry.code: row.changes_soon for row in soon.context["changes"]}
    assert changing["16 06 05"].startswith("ends after 2026-12-08, replaced by 16 06 07*")
    assert changing["20 01 33*"] == "ends after 2026-12-08, replaced by 20 01 42* or 20 01 43*"
    assert any(text == "in force from 2026-12-09" for text in changing.values())
    assert 'id="changes"' in soon.content.decode()
    assert far.context["changes"] == []
    assert 'id="changes"' not in far.content.decode()


def test_a_wrong_date_in_the_filter_says_so(world: World) -> None:
    response = signed_in(world.carrier_user).get("/shipments/codes/", {"on": "9 December"})
    assert response.status_code == 200
    assert "Enter a valid date" in response.content.decode()


def test_partners_see_no_code_lists_and_no_documents(world: World) -> None:
    notification = make_notification(world)
    client = signed_in(world.partner_admin)
    for url in (
        "/shipments/codes/",
        f"/shipments/notifications/{notification.number}/pdf/",
        f"/shipments/notifications/{notification.number}/export.json",
        f"/shipments/notifications/{notification.number}/attachments/",
    ):
        assert client.get(url).status_code == 403, url


def test_another_hub_cannot_see_the_notification(world: World) -> None:
    notification = make_notification(world)
    other = make_organisation(OrganisationKind.COLLECTION_PARTNER, country="NG")
    make_hub(other)
    client = signed_in(make_member(other))
    for url in (
        f"/shipments/notifications/{notification.number}/pdf/",
        f"/shipments/notifications/{notification.number}/export.json",
        f"/shipments/notifications/{notification.number}/attachments/",
    ):
        assert client.get(url).status_code == 404, url


def test_the_pdfs_and_the_export_are_served_to_the_parties(world: World) -> None:
    # The treated consignment's own notification and the movement document made at dispatch.
    document = movement_document_row(treated_consignment(world), make_notification(world))
    notification = document.notification
    for user in (world.hub_user, world.carrier_user, world.recycler_user, world.operator_user):
        client = signed_in(user)
        pdf = client.get(f"/shipments/notifications/{notification.number}/pdf/")
        movement = client.get(f"/shipments/{document.consignment.reference}/movement-document.pdf")
        export = client.get(f"/shipments/notifications/{notification.number}/export.json")
        assert pdf["Content-Type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")
        assert movement["Content-Type"] == "application/pdf"
        assert json.loads(export.content)["notification"]["block_3_notification"]["number"] == (
            notification.number
        )


def test_a_consignment_without_movement_document_has_no_pdf(world: World) -> None:
    consignment = draft_consignment(world)  # not dispatched: no movement document yet
    response = signed_in(world.hub_user).get(
        f"/shipments/{consignment.reference}/movement-document.pdf"
    )
    assert response.status_code == 404


def test_the_attachments_page_uploads_and_shows_the_sha256(world: World) -> None:
    # The treated consignment's own notification and the movement document made at dispatch.
    document = movement_document_row(treated_consignment(world), make_notification(world))
    notification = document.notification
    client = signed_in(world.recycler_user)
    url = f"/shipments/notifications/{notification.number}/attachments/"
    scan = io.BytesIO(PDF_BYTES)
    scan.name = "signed-md-1.pdf"

    response = client.post(
        url, {"title": "Signed movement document", "movement_document": document.pk, "file": scan}
    )

    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert attachment.movement_document == document
    page = client.get(url).content.decode()
    assert hashlib.sha256(PDF_BYTES).hexdigest() in page
    assert "signed-md-1.pdf" in page
    assert f"/shipments/{document.consignment.reference}/movement-document.pdf" in page


def test_a_refused_upload_says_what_to_do(world: World) -> None:
    notification = make_notification(world)
    client = signed_in(world.hub_user)
    text = io.BytesIO(b"not a scan")
    text.name = "notes.pdf"
    response = client.post(
        f"/shipments/notifications/{notification.number}/attachments/",
        {"title": "notes", "file": text},
    )
    assert response.status_code == 400
    assert "Attach a PDF, PNG or JPEG file" in response.content.decode()
    assert not Attachment.objects.exists()


def test_a_read_only_member_sees_the_documents_but_cannot_attach(world: World) -> None:
    notification = make_notification(world)
    viewer = make_member(world.collection_partner, role=Role.VIEWER)
    client = signed_in(viewer)
    url = f"/shipments/notifications/{notification.number}/attachments/"
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["attachment_form"] is None
    assert client.post(url, {"title": "x"}).status_code == 403
