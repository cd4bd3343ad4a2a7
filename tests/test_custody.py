"""Custody by signature: each step is signed by the party taking custody, in order, and sealed."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from factories import (
    World,
    dispatched_consignment,
    draft_consignment,
    in_transit_consignment,
    make_member,
    make_organisation,
    received_consignment,
    treated_consignment,
)
from oneforone.accounts.models import OrganisationKind, Role
from oneforone.accounts.permissions import NotAllowed
from oneforone.recycling import actions as recycling_actions
from oneforone.recycling.models import Reception
from oneforone.shipments import actions as shipment_actions
from oneforone.shipments.custody import CustodyError, signature_hash, verify_signatures
from oneforone.shipments.models import Consignment, ConsignmentState, CustodySignature


def dispatch(actor, consignment: Consignment) -> Consignment:
    return shipment_actions.sign_dispatch(actor=actor, consignment=consignment)


def pickup(actor, consignment: Consignment) -> Consignment:
    return shipment_actions.sign_pickup(actor=actor, consignment=consignment, vehicle="truck GR-1")


def receive(actor, consignment: Consignment, counted: int = 100, kg: str = "5.5") -> Reception:
    return recycling_actions.record_reception(
        actor=actor, consignment=consignment, counted_phones=counted, net_weight_kg=Decimal(kg)
    )


def treat(actor, consignment: Consignment) -> object:
    return recycling_actions.complete_treatment(
        actor=actor, consignment=consignment, completed_on=timezone.localdate()
    )


def state_of(consignment: Consignment) -> str:
    return Consignment.objects.values_list("state", flat=True).get(pk=consignment.pk)


# The walk ------------------------------------------------------------------------------------


def test_a_consignment_walks_from_hub_to_recycler_one_signature_per_step(world: World) -> None:
    consignment = treated_consignment(world)

    assert consignment.state == ConsignmentState.TREATED
    signatures = list(consignment.signatures.order_by("id"))
    assert [(s.step, s.organisation_id) for s in signatures] == [
        ("dispatch", world.collection_partner.pk),
        ("pickup", world.carrier.pk),
        # The recycler is also the consignee: its reception signs the consignee's receipt too.
        ("receipt", world.recycler.pk),
        ("reception", world.recycler.pk),
        ("treatment", world.recycler.pk),
    ]
    assert [s.signed_by_id for s in signatures] == [
        world.hub_user.pk,
        world.carrier_user.pk,
        world.recycler_user.pk,
        world.recycler_user.pk,
        world.recycler_user.pk,
    ]


def test_dispatch_seals_the_lots_count_and_weight(world: World) -> None:
    consignment = dispatched_consignment(world, intakes=(60, 40))

    assert consignment.phones_dispatched == 100
    assert consignment.net_weight_kg_dispatched == Decimal("5.500")
    sealed = consignment.signatures.get(step="dispatch").sealed_fields
    assert sealed["phones"] == 100
    assert sealed["net_weight_kg"] == "5.500"
    assert sealed["lots"] == list(consignment.lots.values_list("seal_number", flat=True))


# Only the party taking custody signs -----------------------------------------------------------


def test_only_a_member_of_the_hub_signs_the_dispatch(world: World) -> None:
    consignment = draft_consignment(world)
    for outsider in (world.carrier_user, world.recycler_user, world.partner_admin):
        with pytest.raises(NotAllowed):
            dispatch(outsider, consignment)
    assert state_of(consignment) == ConsignmentState.DRAFT
    assert not CustodySignature.objects.filter(consignment=consignment).exists()


def test_only_a_member_of_the_carrier_signs_the_pickup(world: World) -> None:
    consignment = dispatched_consignment(world)
    other_carrier = make_organisation(OrganisationKind.CARRIER)
    for outsider in (world.hub_user, world.recycler_user, make_member(other_carrier)):
        with pytest.raises(NotAllowed):
            pickup(outsider, consignment)
    assert state_of(consignment) == ConsignmentState.DISPATCHED


def test_only_a_member_of_the_recycler_records_the_reception(world: World) -> None:
    consignment = in_transit_consignment(world)
    for outsider in (world.hub_user, world.carrier_user, world.operator_user):
        with pytest.raises(NotAllowed):
            receive(outsider, consignment)
    assert state_of(consignment) == ConsignmentState.IN_TRANSIT
    assert not Reception.objects.exists()


def test_only_a_member_of_the_recycler_completes_the_treatment(world: World) -> None:
    consignment = received_consignment(world)
    for outsider in (world.hub_user, world.carrier_user, world.operator_user):
        with pytest.raises(NotAllowed):
            treat(outsider, consignment)
    assert state_of(consignment) == ConsignmentState.RECEIVED


def test_a_read_only_member_cannot_sign(world: World) -> None:
    consignment = dispatched_consignment(world)
    viewer = make_member(world.carrier, role=Role.VIEWER)
    with pytest.raises(NotAllowed, match="may only read"):
        pickup(viewer, consignment)


# In order, once --------------------------------------------------------------------------------


def test_steps_out_of_order_are_refused(world: World) -> None:
    draft = draft_consignment(world)
    with pytest.raises(CustodyError, match=r"being packed.*needs it to be dispatched"):
        pickup(world.carrier_user, draft)
    with pytest.raises(CustodyError, match="needs it to be in transit"):
        receive(world.recycler_user, draft)
    with pytest.raises(CustodyError, match="needs it to be received"):
        treat(world.recycler_user, draft)

    dispatched = dispatched_consignment(world)
    with pytest.raises(CustodyError):
        dispatch(world.hub_user, dispatched)
    with pytest.raises(CustodyError):
        receive(world.recycler_user, dispatched)

    in_transit = in_transit_consignment(world)
    with pytest.raises(CustodyError):
        treat(world.recycler_user, in_transit)
    with pytest.raises(CustodyError):
        pickup(world.carrier_user, in_transit)

    assert state_of(draft) == ConsignmentState.DRAFT
    assert state_of(dispatched) == ConsignmentState.DISPATCHED
    assert state_of(in_transit) == ConsignmentState.IN_TRANSIT


def test_a_treated_consignment_cannot_be_received_or_treated_again(world: World) -> None:
    consignment = treated_consignment(world)
    with pytest.raises(CustodyError):
        receive(world.recycler_user, consignment)
    with pytest.raises(CustodyError):
        treat(world.recycler_user, consignment)


def test_a_lot_travels_in_one_consignment_only(world: World) -> None:
    consignment = draft_consignment(world)
    with pytest.raises(CustodyError, match="not in a consignment yet"):
        shipment_actions.create_consignment(
            actor=world.hub_user,
            reference="CONS-AGAIN",
            hub=world.hub,
            lots=list(consignment.lots.all()),
            carrier=world.carrier,
            recycler=world.recycler,
        )


def test_a_consignment_goes_to_a_carrier_and_a_recycler(world: World) -> None:
    consignment = draft_consignment(world)
    lots = list(consignment.lots.all())
    consignment_count = Consignment.objects.count()
    with pytest.raises(CustodyError, match="carrier and a recycler"):
        shipment_actions.create_consignment(
            actor=world.hub_user,
            reference="CONS-WRONG",
            hub=world.hub,
            lots=lots,
            carrier=world.recycler,
            recycler=world.carrier,
        )
    assert Consignment.objects.count() == consignment_count


def test_treatment_cannot_be_dated_in_the_future(world: World) -> None:
    consignment = received_consignment(world)
    with pytest.raises(CustodyError, match="future"):
        recycling_actions.complete_treatment(
            actor=world.recycler_user,
            consignment=consignment,
            completed_on=timezone.localdate() + dt.timedelta(days=1),
        )
    assert state_of(consignment) == ConsignmentState.RECEIVED


# The database seals what was signed ------------------------------------------------------------


def test_database_refuses_to_change_a_dispatched_consignments_sealed_fields(world: World) -> None:
    consignment = dispatched_consignment(world)
    with connection.cursor() as cursor:
        for column, value in [
            ("phones_dispatched", 1000),
            ("net_weight_kg_dispatched", Decimal("99.000")),
            ("container_number", "OTHER0000001"),
            ("recycler_id", world.carrier.pk),
        ]:
            with pytest.raises(IntegrityError, match="sealed fields"), transaction.atomic():
                cursor.execute(
                    f"UPDATE shipments_consignment SET {column} = %s WHERE id = %s",
                    [value, consignment.pk],
                )
    consignment.refresh_from_db()
    assert consignment.phones_dispatched == 100


def test_database_refuses_a_state_jump(world: World) -> None:
    draft = draft_consignment(world)
    dispatched = dispatched_consignment(world)
    treated = treated_consignment(world)
    with connection.cursor() as cursor:
        for consignment, state in [
            (dispatched, "received"),
            (dispatched, "treated"),
            (dispatched, "draft"),
            (treated, "in_transit"),
        ]:
            with pytest.raises(IntegrityError, match="cannot go from"), transaction.atomic():
                cursor.execute(
                    "UPDATE shipments_consignment SET state = %s WHERE id = %s",
                    [state, consignment.pk],
                )
        # Even the next state needs the signature of its step.
        with pytest.raises(IntegrityError, match="only with the signature"), transaction.atomic():
            cursor.execute(
                "UPDATE shipments_consignment SET state = 'in_transit' WHERE id = %s",
                [dispatched.pk],
            )
        with pytest.raises(IntegrityError, match="only with the signature"), transaction.atomic():
            cursor.execute(
                "UPDATE shipments_consignment SET state = 'dispatched', phones_dispatched = 5, "
                "net_weight_kg_dispatched = 1 WHERE id = %s",
                [draft.pk],
            )


def test_database_refuses_to_delete_a_dispatched_consignment(world: World) -> None:
    consignment = dispatched_consignment(world)
    with (
        pytest.raises(IntegrityError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM shipments_consignment WHERE id = %s", [consignment.pk])


def test_signatures_cannot_be_edited_or_deleted(world: World) -> None:
    consignment = dispatched_consignment(world)
    signature = consignment.signatures.get()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        CustodySignature.objects.filter(pk=signature.pk).update(sealed_fields={"phones": 1})
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        CustodySignature.objects.filter(pk=signature.pk).delete()


# The signature chain ---------------------------------------------------------------------------


def test_the_signature_chain_verifies(world: World) -> None:
    consignment = treated_consignment(world)

    assert verify_signatures(consignment) == []
    signatures = list(consignment.signatures.order_by("id"))
    assert signatures[0].previous_hash == "0" * 64
    for before, after in itertools.pairwise(signatures):
        assert after.previous_hash == before.hash


def test_a_tampered_signature_does_not_match_its_hash(world: World) -> None:
    consignment = treated_consignment(world)
    signature = consignment.signatures.get(step="reception")

    signature.sealed_fields = {**signature.sealed_fields, "counted_phones": 1000}
    assert signature_hash(signature) != signature.hash


def test_verification_names_a_signature_edited_behind_the_triggers_back(world: World) -> None:
    consignment = treated_consignment(world)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred checks pending
        cursor.execute("ALTER TABLE shipments_custodysignature DISABLE TRIGGER ALL")
        cursor.execute(
            "UPDATE shipments_custodysignature SET sealed_fields = "
            "jsonb_set(sealed_fields, '{counted_phones}', '1000') "
            "WHERE consignment_id = %s AND step = 'reception'",
            [consignment.pk],
        )
        cursor.execute("ALTER TABLE shipments_custodysignature ENABLE TRIGGER ALL")

    assert verify_signatures(consignment) == ["reception signature does not match its hash"]


# Reconciliation at reception -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("counted", "kg", "flagged"),
    [
        (100, "5.5", []),
        (99, "5.5", []),  # within the 1% tolerance
        (101, "5.5", []),
        (98, "5.5", ["count differs from dispatch by -2 phones"]),
        (110, "5.5", ["count differs from dispatch by +10 phones"]),
        (100, "1.0", ["10 g per phone is outside"]),
        (100, "20.0", ["200 g per phone is outside"]),
        (90, "20.0", ["count differs", "222 g per phone"]),
    ],
)
def test_reception_flags_a_count_or_weight_out_of_tolerance(
    world: World, counted: int, kg: str, flagged: list[str]
) -> None:
    consignment = in_transit_consignment(world, intakes=(60, 40))

    reception = receive(world.recycler_user, consignment, counted=counted, kg=kg)

    assert len(reception.flag_texts) == len(flagged)
    for flag, expected in zip(reception.flag_texts, flagged, strict=True):
        assert expected in flag
    assert reception.is_flagged == bool(flagged)
    assert state_of(consignment) == ConsignmentState.RECEIVED


def test_receptions_cannot_be_edited(world: World) -> None:
    consignment = received_consignment(world)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        Reception.objects.filter(consignment=consignment).update(counted_phones=1)
