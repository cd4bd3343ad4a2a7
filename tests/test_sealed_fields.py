"""A field sealed by a signature cannot change after it by any path (action, page, API, admin,
SQL); only a revision request that every other signing party approves changes it."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from factories import (
    World,
    add_sea_carrier,
    make_member,
    make_notification,
    notified_consignment,
)
from oneforone.accounts import actions as account_actions
from oneforone.accounts.models import Role, User
from oneforone.accounts.permissions import NotAllowed
from oneforone.core.models import AuditEvent
from oneforone.shipments import actions as shipment_actions
from oneforone.shipments import movement_actions, revision_actions
from oneforone.shipments.custody import CustodyError
from oneforone.shipments.models import (
    CarrierLeg,
    Consignment,
    MovementDocument,
    RevisionRequest,
    RevisionStatus,
)


@dataclass
class Sealed:
    world: World
    consignment: Consignment
    document: MovementDocument
    leg: CarrierLeg
    line_user: User


@pytest.fixture
def sealed(world: World) -> Sealed:
    """A consignment under a notification, dispatched, picked up and handed over by sea."""
    notification = make_notification(world)
    _, line_user = add_sea_carrier(world, notification)
    consignment = shipment_actions.sign_dispatch(
        actor=world.hub_user,
        consignment=notified_consignment(world, notification),
        container_number="MSCU1234565",
        packages=2,
    )
    shipment_actions.sign_pickup(actor=world.carrier_user, consignment=consignment, vehicle="GR-1")
    movement_actions.sign_carrier_handover(
        actor=line_user,
        consignment=consignment,
        vehicle="MSC Aurora 612W",
        means_of_transport="S",
        transferred_on=timezone.localdate(),
    )
    return Sealed(
        world=world,
        consignment=Consignment.objects.get(pk=consignment.pk),
        document=MovementDocument.objects.get(consignment=consignment),
        leg=CarrierLeg.objects.get(consignment=consignment, sequence=1),
        line_user=line_user,
    )


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


# (table, column, a new value) for every sealed column a test changes by SQL.
SQL_CHANGES = [
    ("shipments_consignment", "container_number", "'MSKU0000000'"),
    ("shipments_consignment", "phones_dispatched", "1"),
    ("shipments_consignment", "net_weight_kg_dispatched", "1.5"),
    ("shipments_consignment", "reference", "'OTHER'"),
    ("shipments_consignment", "notification_id", "NULL"),
    ("shipments_consignment", "stream", "'batteries'"),
    ("shipments_movementdocument", "serial", "3"),
    ("shipments_movementdocument", "actual_quantity_kg", "1"),
    ("shipments_movementdocument", "actual_departure", "'2020-01-01'"),
    ("shipments_movementdocument", "packaging_type", "'1A'"),
    ("shipments_movementdocument", "packages", "9"),
    ("shipments_carrierleg", "vehicle", "'OTHER'"),
    ("shipments_carrierleg", "transferred_on", "'2020-01-01'"),
    ("shipments_carrierleg", "means_of_transport", "'A'"),
    ("shipments_carrierleg", "carrier_id", "carrier_id"),
]


def _row_id(sealed: Sealed, table: str) -> int:
    return {
        "shipments_consignment": sealed.consignment.pk,
        "shipments_movementdocument": sealed.document.pk,
        "shipments_carrierleg": sealed.leg.pk,
    }[table]


@pytest.mark.parametrize(("table", "column", "value"), SQL_CHANGES)
def test_a_raw_sql_update_of_a_sealed_column_is_refused_by_the_database(
    sealed: Sealed, table: str, column: str, value: str
) -> None:
    row = _row_id(sealed, table)
    if column == "carrier_id":
        value = str(sealed.world.recycler.pk)  # any other organisation
    with (
        pytest.raises(IntegrityError, match="sealed"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"UPDATE {table} SET {column} = {value} WHERE id = %s", [row])


def test_a_sanction_for_another_column_or_row_lets_nothing_through(sealed: Sealed) -> None:
    table, row = "shipments_movementdocument", sealed.document.pk
    for sanction in (f"{table}:{row}:packaging_type", f"{table}:{row + 1}:packages", "x"):
        with pytest.raises(IntegrityError, match="sealed"):
            _sanctioned_update(sanction, f"UPDATE {table} SET packages = 9 WHERE id = {row}")
    # Two columns at once are refused even with a sanction for one of them.
    with pytest.raises(IntegrityError, match="sealed"):
        _sanctioned_update(
            f"{table}:{row}:packages",
            f"UPDATE {table} SET packages = 9, packaging_type = '1A' WHERE id = {row}",
        )
    # The sanction itself lets exactly that column of that row through.
    _sanctioned_update(
        f"{table}:{row}:packages", f"UPDATE {table} SET packages = 9 WHERE id = {row}"
    )
    assert MovementDocument.objects.get(pk=row).packages == 9


def _sanctioned_update(sanction: str, statement: str) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('oneforone.sealed_revision', %s, true)", [sanction])
        cursor.execute(statement)


def test_movement_documents_and_legs_cannot_be_deleted(sealed: Sealed) -> None:
    for table, row in (
        ("shipments_movementdocument", sealed.document.pk),
        ("shipments_carrierleg", sealed.leg.pk),
    ):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE id = %s", [row])


# Actions, pages, API, admin -------------------------------------------------------------------


def test_the_signing_actions_refuse_to_sign_again(sealed: Sealed) -> None:
    world = sealed.world
    with pytest.raises(CustodyError, match="this step needs it to be draft"):
        shipment_actions.sign_dispatch(
            actor=world.hub_user, consignment=sealed.consignment, container_number="MSKU0000000"
        )
    with pytest.raises(CustodyError, match="this step needs it to be dispatched"):
        shipment_actions.sign_pickup(
            actor=world.carrier_user, consignment=sealed.consignment, vehicle="OTHER"
        )
    with pytest.raises(CustodyError, match="no further carrier is notified"):
        movement_actions.sign_carrier_handover(
            actor=sealed.line_user,
            consignment=sealed.consignment,
            vehicle="OTHER",
            means_of_transport="A",
            transferred_on=timezone.localdate(),
        )
    _assert_unchanged(sealed)


def _assert_unchanged(sealed: Sealed) -> None:
    consignment = Consignment.objects.get(pk=sealed.consignment.pk)
    document = MovementDocument.objects.get(pk=sealed.document.pk)
    leg = CarrierLeg.objects.get(pk=sealed.leg.pk)
    assert consignment.container_number == "MSCU1234565"
    assert (consignment.phones_dispatched, consignment.net_weight_kg_dispatched) == (
        sealed.consignment.phones_dispatched,
        sealed.consignment.net_weight_kg_dispatched,
    )
    assert (document.packages, document.packaging_type) == (2, "4")
    assert document.actual_departure == sealed.document.actual_departure
    assert (leg.vehicle, leg.means_of_transport) == ("GR-1", "R")


def test_the_pages_refuse_a_second_signature_with_a_message(sealed: Sealed) -> None:
    world, reference = sealed.world, sealed.consignment.reference
    hub = client_for(world.hub_user).post(
        reverse("shipments-dispatch", args=[reference]),
        {"container_number": "MSKU0000000", "packages": "7", "confirm": "on"},
    )
    carrier = client_for(world.carrier_user).post(
        reverse("shipments-pickup", args=[reference]), {"vehicle": "OTHER", "confirm": "on"}
    )
    line = client_for(sealed.line_user).post(
        reverse("shipments-handover", args=[reference]),
        {
            "vehicle": "OTHER",
            "means_of_transport": "A",
            "transferred_on": timezone.localdate().isoformat(),
            "confirm": "on",
        },
    )

    assert "Nothing was signed" in hub.content.decode()
    assert "this step needs it to be draft" in hub.content.decode()
    assert "this step needs it to be dispatched" in carrier.content.decode()
    assert "No further carrier is notified" in line.content.decode()
    _assert_unchanged(sealed)


def test_the_api_has_no_way_to_write_a_sealed_field(sealed: Sealed) -> None:
    world = sealed.world
    admin = make_member(world.carrier, role=Role.ADMIN)
    _, key = account_actions.create_api_key(actor=admin, organisation=world.carrier, name="t")
    url = f"/api/v1/shipments/consignments/{sealed.consignment.reference}"
    body = json.dumps({"container_number": "MSKU0000000", "packages": 9})
    client = Client(HTTP_X_API_KEY=key)

    read = client.get(url)
    assert read.status_code == 200
    assert read.json()["movement_document"]["number"] == "1/4"
    assert [leg["sequence"] for leg in read.json()["legs"]] == [1, 2]
    for method in (client.put, client.patch, client.post, client.delete):
        response = method(url, body, content_type="application/json")
        assert response.status_code == 405, (method, response.content)
    # The one write there is asks for a revision; it changes nothing by itself.
    asked = client.post(
        f"{url}/revisions",
        {"field": "movement_document:packages", "new_value": "9", "reason": "recounted"},
        content_type="application/json",
    )
    assert asked.status_code == 201, asked.content
    assert asked.json()["status"] == "pending"
    _assert_unchanged(sealed)


def test_a_partner_key_sees_no_shipment(sealed: Sealed) -> None:
    world = sealed.world
    _, key = account_actions.create_api_key(
        actor=world.partner_admin, organisation=world.partner, name="t"
    )
    response = Client(HTTP_X_API_KEY=key).get("/api/v1/shipments/consignments")
    assert response.status_code == 401


def test_the_admin_shows_sealed_data_read_only_and_refuses_a_save(sealed: Sealed) -> None:
    superuser = User.objects.create_superuser("root", "root@example.org", "pw")
    client = client_for(superuser)
    for model, row in (
        ("consignment", sealed.consignment.pk),
        ("movementdocument", sealed.document.pk),
        ("carrierleg", sealed.leg.pk),
    ):
        url = f"/admin/shipments/{model}/{row}/change/"
        page = client.get(url)
        assert page.status_code == 200
        html = page.content.decode()
        for name in ("container_number", "packages", "packaging_type", "vehicle"):
            assert f'name="{name}"' not in html
        saved = client.post(url, {"container_number": "X", "packages": "9", "vehicle": "X"})
        assert saved.status_code == 403
        deleted = client.post(f"/admin/shipments/{model}/{row}/delete/", {"post": "yes"})
        assert deleted.status_code == 403
    _assert_unchanged(sealed)


# The sanctioned path: revision requests ----------------------------------------------------------

REVISIONS = [
    ("consignment:container_number", None, "MSKU7654321", "container_number", "MSKU7654321"),
    ("movement_document:packages", None, "3", "packages", 3),
    ("movement_document:actual_departure", None, "2026-01-05", "actual_departure", None),
    ("leg:vehicle", 1, "GR-2 (replacement truck)", "vehicle", "GR-2 (replacement truck)"),
    ("leg:transferred_on", 2, "2026-01-06", "transferred_on", None),
]


def _target(sealed: Sealed, field: str, leg: int | None) -> object:
    target = field.split(":")[0]
    if target == "consignment":
        return Consignment.objects.get(pk=sealed.consignment.pk)
    if target == "movement_document":
        return MovementDocument.objects.get(pk=sealed.document.pk)
    return CarrierLeg.objects.get(consignment=sealed.consignment, sequence=leg)


def _everyone_else(sealed: Sealed) -> list[User]:
    world = sealed.world
    return [world.carrier_user, sealed.line_user, world.recycler_user]


@pytest.mark.parametrize(("field", "leg", "new", "attribute", "expected"), REVISIONS)
def test_an_approved_revision_changes_the_sealed_field_and_is_audited(
    sealed: Sealed, field: str, leg: int | None, new: str, attribute: str, expected: object
) -> None:
    world = sealed.world
    before = getattr(_target(sealed, field, leg), attribute)
    revision = revision_actions.request_revision(
        actor=world.hub_user,
        consignment=sealed.consignment,
        field=field,
        new_value=new,
        reason="typing error on the paper form",
        leg=leg,
    )
    *first, last = _everyone_else(sealed)
    for user in first:
        revision = revision_actions.answer_revision(actor=user, request=revision, vote="approve")
        assert revision.status == RevisionStatus.PENDING
        assert getattr(_target(sealed, field, leg), attribute) == before
    revision = revision_actions.answer_revision(actor=last, request=revision, vote="approve")

    after = getattr(_target(sealed, field, leg), attribute)
    wanted = expected if expected is not None else dt.date.fromisoformat(new)
    assert (revision.status, after) == (RevisionStatus.APPROVED, wanted)
    event = AuditEvent.objects.filter(code="shipments.revision.answered").latest("id")
    assert (event.data["applied"], event.data["new"]) == (True, revision.new_value)
    assert revision.closed_at is not None


def test_one_rejection_closes_the_request_and_leaves_the_field(sealed: Sealed) -> None:
    world = sealed.world
    revision = revision_actions.request_revision(
        actor=world.carrier_user,
        consignment=sealed.consignment,
        field="movement_document:packages",
        new_value="5",
        reason="recounted at the port",
    )
    revision_actions.answer_revision(actor=world.hub_user, request=revision, vote="approve")
    revision = revision_actions.answer_revision(
        actor=world.recycler_user, request=revision, vote="reject", note="we count 2"
    )

    assert revision.status == RevisionStatus.REJECTED
    with pytest.raises(CustodyError, match="already rejected"):
        revision_actions.answer_revision(actor=sealed.line_user, request=revision, vote="approve")
    _assert_unchanged(sealed)


def test_only_the_other_parties_answer_and_each_once(sealed: Sealed) -> None:
    world = sealed.world
    revision = revision_actions.request_revision(
        actor=world.hub_user,
        consignment=sealed.consignment,
        field="consignment:container_number",
        new_value="MSKU7654321",
        reason="typo",
    )
    with pytest.raises(NotAllowed):
        revision_actions.answer_revision(actor=world.hub_user, request=revision, vote="approve")
    with pytest.raises(NotAllowed):
        revision_actions.answer_revision(
            actor=world.partner_admin, request=revision, vote="approve"
        )
    revision_actions.answer_revision(actor=world.carrier_user, request=revision, vote="approve")
    with pytest.raises(NotAllowed):
        revision_actions.answer_revision(actor=world.carrier_user, request=revision, vote="approve")
    with pytest.raises(CustodyError, match="already waiting for answers"):
        revision_actions.request_revision(
            actor=world.recycler_user,
            consignment=sealed.consignment,
            field="consignment:container_number",
            new_value="MSKU1111111",
            reason="other",
        )
    with pytest.raises(NotAllowed):
        revision_actions.request_revision(
            actor=world.partner_admin,
            consignment=sealed.consignment,
            field="movement_document:packages",
            new_value="5",
            reason="x",
        )
    assert RevisionRequest.objects.count() == 1


def test_revision_requests_through_the_page(sealed: Sealed) -> None:
    world, reference = sealed.world, sealed.consignment.reference
    asked = client_for(world.hub_user).post(
        reverse("shipments-revision-request", args=[reference]),
        {
            "field": "movement_document:packages",
            "new_value": "3",
            "reason": "one more box was sealed",
        },
        follow=True,
    )
    assert "Revision requested: 2 → 3" in asked.content.decode()
    revision = RevisionRequest.objects.get()
    answer_url = reverse("shipments-revision-answer", args=[reference, revision.pk])
    for user in _everyone_else(sealed):
        page = client_for(user).get(reverse("shipments-detail", args=[reference]))
        assert answer_url in page.content.decode()
        done = client_for(user).post(answer_url, {"vote": "approve"}, follow=True)
    assert "Approved by every party: the change is applied." in done.content.decode()
    assert MovementDocument.objects.get(pk=sealed.document.pk).packages == 3
    refused = client_for(world.carrier_user).post(answer_url, {"vote": "reject"})
    assert "already approved and applied" in refused.content.decode()


def test_a_revision_needs_a_valid_new_value(sealed: Sealed) -> None:
    for field, value, message in (
        ("movement_document:packages", "zero", "whole number"),
        ("movement_document:actual_departure", "5 Jan", "YYYY-MM-DD"),
        ("consignment:reference", "X", "cannot be revised"),
        ("movement_document:packages", "2", "already 2"),
    ):
        with pytest.raises(CustodyError, match=message):
            revision_actions.request_revision(
                actor=sealed.world.hub_user,
                consignment=sealed.consignment,
                field=field,
                new_value=value,
                reason="x",
            )
    assert not RevisionRequest.objects.exists()
