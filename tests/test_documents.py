"""Shipment documents: the PDFs by the forms' numbered blocks, the EU export and its schema,
attachments under their SHA-256, and retention (no deletion before completion + the period)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from pydantic import ValidationError
from pypdf import PdfReader

from factories import (
    World,
    make_notification,
    make_partner,
    movement_document_row,
    treated_consignment,
)
from oneforone.accounts.models import User
from oneforone.accounts.permissions import NotAllowed
from oneforone.core.models import AuditEvent
from oneforone.shipments import diwass
from oneforone.shipments.document_actions import (
    DocumentError,
    attach_document,
    delete_expired_documents,
)
from oneforone.shipments.document_pdf import movement_document_pdf, notification_pdf
from oneforone.shipments.models import (
    Attachment,
    Consent,
    Consignment,
    Decision,
    MovementDocument,
    Notification,
)

SCHEMA = Path(__file__).resolve().parent.parent / "docs" / "shipments-export.schema.json"
PDF_BYTES = b"%PDF-1.4\n% a signed scan\n" + b"0" * 200
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x01" * 100


def pdf_blocks(data: bytes) -> dict[str, str]:
    """The PDF's text cut at each numbered block heading ("8. Carriers" starts block 8)."""
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    parts = re.split(r"^(\d+(?:-\d+)?)\. ", text, flags=re.MULTILINE)
    return {parts[i]: " ".join(parts[i + 1].split()) for i in range(1, len(parts) - 1, 2)}


def consent(notification: Notification, actor: User, **overrides: object) -> Consent:
    today = timezone.localdate()
    fields: dict[str, object] = {
        "notification": notification,
        "route_stop": notification.route.get(country="BE"),
        "decision": Decision.CONDITIONS,
        "conditions": "Batteries removed before shipment",
        "decided_on": today - dt.timedelta(days=70),
        "valid_from": today - dt.timedelta(days=70),
        "valid_to": today + dt.timedelta(days=295),
        "reference": "OVAM-2026-0042",
        "recorded_by": actor,
        "recorded_at": timezone.now(),
    }
    fields.update(overrides)
    return Consent.objects.create(**fields)


def shipped(world: World) -> MovementDocument:
    """A treated consignment under a notification, with its movement document."""
    notification = make_notification(world)
    consignment = treated_consignment(world)
    return movement_document_row(consignment, notification)


def upload(data: bytes, name: str = "scan.pdf") -> io.BytesIO:
    file = io.BytesIO(data)
    file.name = name
    return file


# --- PDFs ----------------------------------------------------------------------------------------


def test_the_notification_pdf_has_every_block_with_its_content(world: World) -> None:
    notification = make_notification(world)
    notification.route.filter(country="BE").update(customs_office="BE101000 Antwerpen")
    consent(notification, world.operator_user)

    blocks = pdf_blocks(notification_pdf(notification))

    expected = {
        "1": [world.collection_partner.name, "GH"],
        "2": [world.recycler.name, "BE"],
        "3": [notification.number, "multiple", "recovery"],
        "4": ["Shipments 4"],
        "5": ["20.000"],
        "6": [f"{notification.first_departure}", f"{notification.last_departure}"],
        "7": ["4 -"],
        "8": [world.carrier.name, "S -"],
        "9": ["purchase of discarded phones"],
        "10": ["Smelter-refinery, Hoboken"],
        "11": ["R4"],
        "12": ["Discarded mobile phones, batteries removed"],
        "13": ["2 -"],
        "14": ["A1181", "16 02 13*", "8549.21", "Y49", "H11", "H13"],
        "15": ["GH", "Environmental Protection Agency, Ghana", "Port of Tema", "NL", "Rotterdam"],
        "16": ["BE101000 Antwerpen"],
        "17": [f"{notification.notified_on}"],
        "18": ["Attachments 0"],
        "19-21": ["OVAM (Flanders)", "conditions", "OVAM-2026-0042", "Batteries removed"],
    }
    assert list(blocks) == list(expected)
    for number, needles in expected.items():
        for needle in needles:
            assert needle in blocks[number], f"block {number} lacks {needle!r}: {blocks[number]}"


def test_the_movement_document_pdf_has_every_block_from_custody(world: World) -> None:
    document = shipped(world)
    consignment = document.consignment

    blocks = pdf_blocks(movement_document_pdf(document))

    expected = {
        "1": [document.notification.number],
        "2": [f"{document.serial}/{document.notification.intended_shipments}"],
        "3": [world.collection_partner.name],
        "4": [world.recycler.name],
        "5": [str((document.actual_quantity_kg / 1000).quantize(Decimal("0.001")))],
        "6": [f"{document.actual_departure}"],
        "7": [f"Packages {document.packages}"],
        "8": [world.carrier.name, "MV Example", "S -", world.carrier_user.username],
        "9": ["purchase of discarded phones"],
        "10": ["Hoboken"],
        "11": ["R4"],
        "12": ["Discarded mobile phones"],
        "13": ["2 -"],
        "14": ["A1181", "16 02 13*", "8549.21"],
        "15": [world.hub_user.username],
        "16": [consignment.reference, "MSCU1234565"],
        "17": ["Received on"],
        "18": ["accepted"],
        "19": ["R4", f"{consignment.treatment.completed_on}"],
    }
    assert list(blocks) == list(expected)
    for number, needles in expected.items():
        for needle in needles:
            assert needle in blocks[number], f"block {number} lacks {needle!r}: {blocks[number]}"


def test_a_code_not_valid_on_the_document_date_is_marked_in_the_pdf(world: World) -> None:
    notification = make_notification(world, ewc_code="16 06 05", notified_on=dt.date(2026, 12, 10))

    blocks = pdf_blocks(notification_pdf(notification))

    assert "16 06 05 - Other batteries" in blocks["14"]
    assert "NOT valid" in blocks["14"]


# --- The EU export -------------------------------------------------------------------------------


def test_the_export_is_grouped_by_block_in_iso_forms(world: World) -> None:
    document = shipped(world)
    notification = document.notification
    consent(notification, world.operator_user)

    exported = diwass.export_json(notification)

    diwass.ShipmentsExport.model_validate(exported)
    blocks = exported["notification"]
    assert blocks["block_3_notification"]["number"] == notification.number
    assert blocks["block_5_intended_quantity"] == {
        "tonnes": str((notification.total_quantity_kg / 1000).quantize(Decimal("0.001")))
    }
    assert blocks["block_6_intended_period"]["first_departure"] == str(notification.first_departure)
    assert [s["country"] for s in blocks["block_15_states_concerned"]] == [
        stop.country for stop in notification.route.order_by("sequence")
    ]
    identification = blocks["block_14_identification"]
    assert identification["eu_list_of_waste"]["code"] == "16 02 13*"
    assert identification["eu_list_of_waste"]["valid_on_document_date"] is True
    assert [c["code"] for c in identification["h_codes"]] == list(notification.h_codes)
    assert notification.h_codes
    be_decisions = [d["decision"] for d in blocks["blocks_19_21_decisions"] if d["country"] == "BE"]
    assert be_decisions[-1] == "conditions"  # the consent recorded last, with its conditions
    [movement] = exported["movement_documents"]
    assert movement["block_2_serial"] == {
        "serial": document.serial,
        "total": notification.intended_shipments,
    }
    assert re.fullmatch(r"\d+\.\d{3}", movement["block_5_actual_quantity"]["tonnes"])
    assert movement["block_8_carriers"][0]["vehicle_or_vessel"] == "MV Example"
    assert movement["block_8_carriers"][0]["means_of_transport"]["code"] == "S"
    assert movement["block_16_additional"]["container_number"] == "MSCU1234565"
    assert movement["block_19_recovery_completed"]["operation"] == "R4"


def test_the_committed_schema_is_the_export_models_schema() -> None:
    assert json.loads(SCHEMA.read_text()) == diwass.json_schema()


def test_the_export_model_refuses_what_the_schema_forbids(world: World) -> None:
    exported = diwass.export_json(make_notification(world))
    for path, wrong in (
        (("block_5_intended_quantity", "tonnes"), "20"),
        (("block_1_notifier", "country"), "Ghana"),
        (("block_6_intended_period", "first_departure"), "1 March 2026"),
    ):
        broken = json.loads(json.dumps(exported))
        broken["notification"][path[0]][path[1]] = wrong
        with pytest.raises(ValidationError):
            diwass.ShipmentsExport.model_validate(broken)


# --- Attachments ---------------------------------------------------------------------------------


def test_an_attachment_is_kept_under_the_sha256_of_its_bytes(world: World) -> None:
    document = shipped(world)

    attachment = attach_document(
        actor=world.hub_user,
        notification=document.notification,
        movement_document=document,
        title="Signed movement document 1/4",
        file=upload(PDF_BYTES, "md-1.pdf"),
    )

    assert attachment.sha256 == hashlib.sha256(PDF_BYTES).hexdigest()
    assert attachment.content_type == "application/pdf"
    assert (attachment.size, attachment.filename) == (len(PDF_BYTES), "md-1.pdf")
    event = AuditEvent.objects.get(code="shipments.attachment.added")
    assert event.data["sha256"] == attachment.sha256


def test_an_attachment_must_be_a_pdf_png_or_jpeg_within_the_size_limit(
    world: World, settings: pytest.FixtureRequest
) -> None:
    notification = make_notification(world)
    with pytest.raises(DocumentError, match="PDF, PNG or JPEG"):
        attach_document(
            actor=world.hub_user,
            notification=notification,
            title="notes",
            file=upload(b"just text", "notes.pdf"),
        )
    settings.ONEFORONE_ATTACHMENT_MAX_BYTES = 50  # type: ignore[attr-defined]
    with pytest.raises(DocumentError, match="larger than 50 bytes"):
        attach_document(
            actor=world.hub_user, notification=notification, title="scan", file=upload(PNG_BYTES)
        )
    assert not Attachment.objects.exists()


def test_only_a_party_attaches_and_only_to_its_own_documents(world: World) -> None:
    document = shipped(world)
    other = make_notification(world)
    _, outsider = make_partner()
    with pytest.raises(NotAllowed):
        attach_document(
            actor=outsider, notification=other, title="scan", file=upload(PNG_BYTES, "a.png")
        )
    with pytest.raises(DocumentError, match="belongs to another notification"):
        attach_document(
            actor=world.hub_user,
            notification=other,
            movement_document=document,
            title="scan",
            file=upload(PNG_BYTES, "a.png"),
        )


def test_an_attachment_row_is_never_updated(world: World) -> None:
    attachment = attach_document(
        actor=world.operator_user,
        notification=make_notification(world),
        title="scan",
        file=upload(PNG_BYTES, "a.png"),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Attachment.objects.filter(pk=attachment.pk).update(title="another title")
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE shipments_attachment SET content = %s WHERE id = %s",
            [b"%PDF-other", attachment.pk],
        )


def test_a_download_whose_bytes_no_longer_match_is_refused(
    world: World, client: pytest.FixtureRequest
) -> None:
    notification = make_notification(world)
    attachment = attach_document(
        actor=world.hub_user, notification=notification, title="scan", file=upload(PNG_BYTES)
    )
    client.force_login(world.hub_user)  # type: ignore[attr-defined]
    url = f"/shipments/notifications/{notification.number}/attachments/{attachment.pk}/"
    response = client.get(url)  # type: ignore[attr-defined]
    assert response.status_code == 200
    assert response.content == PNG_BYTES
    assert response["X-Content-SHA256"] == attachment.sha256

    with connection.cursor() as cursor:  # what only someone bypassing the trigger could do
        cursor.execute("SET LOCAL session_replication_role = replica")  # triggers off
        cursor.execute(
            "UPDATE shipments_attachment SET content = %s WHERE id = %s",
            [PNG_BYTES + b"x", attachment.pk],
        )
        cursor.execute("SET LOCAL session_replication_role = origin")
    response = client.get(url)  # type: ignore[attr-defined]
    assert response.status_code == 409
    assert "no longer matches" in response.content.decode()


# --- Retention -----------------------------------------------------------------------------------

LONG_AGO = dt.datetime(2019, 3, 4, 10, tzinfo=dt.UTC)


def kept_documents(world: World) -> Attachment:
    """A notification, its movement document and a scan, all completed today."""
    document = shipped(world)
    return attach_document(
        actor=world.hub_user,
        notification=document.notification,
        movement_document=document,
        title="signed",
        file=upload(PDF_BYTES),
    )


def test_documents_cannot_be_deleted_before_retention_by_orm_or_sql(world: World) -> None:
    attachment = kept_documents(world)
    document = attachment.movement_document
    assert document is not None
    with pytest.raises(IntegrityError, match="kept until"), transaction.atomic():
        attachment.delete()
    for table, pk, refusal in (
        ("shipments_attachment", attachment.pk, "kept until"),
        # Signed custody is permanent: the movement document is append-only, never deleted.
        ("shipments_movementdocument", document.pk, "append-only: DELETE refused"),
        ("shipments_notification", attachment.notification_id, "kept until"),
    ):
        with (
            pytest.raises(IntegrityError, match=refusal),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(f"DELETE FROM {table} WHERE id = %s", [pk])
    with pytest.raises(IntegrityError, match="sealed fields cannot change"), transaction.atomic():
        Consignment.objects.filter(pk=document.consignment_id).update(notification=None)
    assert Attachment.objects.filter(pk=attachment.pk).exists()


def test_documents_of_untreated_shipments_are_kept(world: World) -> None:
    from factories import dispatched_consignment

    # A consignment dispatched (not treated) under its own notification.
    notification = dispatched_consignment(world).notification
    assert notification is not None
    attachment = attach_document(
        actor=world.hub_user, notification=notification, title="scan", file=upload(PNG_BYTES)
    )
    with pytest.raises(IntegrityError, match="not all treated"), transaction.atomic():
        attachment.delete()


def test_the_back_office_cannot_delete_an_attachment_early(world: World, client) -> None:  # type: ignore[no-untyped-def]
    attachment = kept_documents(world)
    admin = User.objects.create_superuser("root-docs", "root@example.org", "pw")
    client.force_login(admin)
    with pytest.raises(IntegrityError, match="kept until"):
        client.post(f"/admin/shipments/attachment/{attachment.pk}/delete/", {"post": "yes"})
    assert Attachment.objects.filter(pk=attachment.pk).exists()


def never_moved_documents(world: World) -> Attachment:
    """A notification under which nothing was dispatched, with a scan (complete at its last
    departure). Written as rows: HS 8549.21 is valid only from 2022, and the database counts
    retention up to its own date, so a past notification cannot go through the actions."""
    notification = make_notification(world)
    return attach_document(
        actor=world.hub_user, notification=notification, title="scan", file=upload(PNG_BYTES)
    )


def test_the_retention_run_deletes_only_what_is_past_retention(world: World) -> None:
    with time_machine.travel(LONG_AGO, tick=True):
        old = never_moved_documents(world)
    recent = kept_documents(world)

    deleted = delete_expired_documents(actor=world.operator_user, today=timezone.localdate())

    assert deleted.attachments == [old.sha256]
    assert deleted.notifications == [old.notification.number]
    assert not Notification.objects.filter(pk=old.notification_id).exists()
    assert Attachment.objects.filter(pk=recent.pk).exists()
    # Signed custody is permanent: the dispatched consignment keeps its notification and document.
    document = recent.movement_document
    assert document is not None
    assert MovementDocument.objects.filter(pk=document.pk).exists()
    assert Consignment.objects.get(pk=document.consignment_id).notification_id == (
        recent.notification_id
    )
    event = AuditEvent.objects.get(code="shipments.documents.retention_deleted")
    assert event.data["notifications"] == [old.notification.number]


def test_a_longer_configured_period_keeps_documents_longer(
    world: World, settings: pytest.FixtureRequest
) -> None:
    with time_machine.travel(LONG_AGO, tick=True):
        old = never_moved_documents(world)
    settings.ONEFORONE_DOCUMENT_RETENTION_YEARS = 10  # type: ignore[attr-defined]

    deleted = delete_expired_documents(actor=world.operator_user, today=timezone.localdate())

    assert deleted.total == 0
    with pytest.raises(IntegrityError, match="kept 10 years"), transaction.atomic():
        old.delete()  # the action told this connection the configured period


def test_a_shorter_configured_period_never_goes_below_five_years(
    world: World, settings: pytest.FixtureRequest
) -> None:
    with time_machine.travel(timezone.now() - dt.timedelta(days=4 * 366), tick=True):
        kept_documents(world)
    settings.ONEFORONE_DOCUMENT_RETENTION_YEARS = 2  # type: ignore[attr-defined]
    assert (
        delete_expired_documents(actor=world.operator_user, today=timezone.localdate()).total == 0
    )


def test_only_the_operator_runs_retention_and_not_in_the_future(world: World) -> None:
    with pytest.raises(NotAllowed):
        delete_expired_documents(actor=world.hub_user, today=timezone.localdate())
    with pytest.raises(DocumentError, match="today"):
        delete_expired_documents(
            actor=world.operator_user, today=timezone.localdate() + dt.timedelta(days=1)
        )


def test_the_retention_command_deletes_expired_documents(world: World) -> None:
    with time_machine.travel(LONG_AGO, tick=True):
        old = never_moved_documents(world)
    out = io.StringIO()
    call_command("delete_expired_documents", "--actor", world.operator_user.username, stdout=out)
    assert not Attachment.objects.filter(pk=old.pk).exists()
    assert "1 notification(s)" in out.getvalue()
