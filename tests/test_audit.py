"""The audit log: one event per action, hash-chained, and the database refuses to change it."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from factories import (
    World,
    bootstrap_actor,
    consented_notification,
    make_member,
    make_organisation,
    next_number,
    register,
)
from oneforone.accounts import actions as account_actions
from oneforone.accounts.models import OrganisationKind
from oneforone.accounts.permissions import NotAllowed
from oneforone.collection import actions as collection_actions
from oneforone.core import audit
from oneforone.core.models import AuditEvent
from oneforone.recycling import actions as recycling_actions
from oneforone.registry import actions as registry_actions
from oneforone.shipments import actions as shipment_actions


def new_events(action: Callable[[], Any]) -> tuple[Any, list[str]]:
    """Run an action; return its result and the codes of the audit events it wrote."""
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    result = action()
    codes = list(
        AuditEvent.objects.filter(id__gt=last).order_by("id").values_list("code", flat=True)
    )
    return result, codes


def test_every_action_writes_one_audit_event(world: World) -> None:
    actor = bootstrap_actor()
    today = timezone.localdate()
    n = next_number()

    org, codes = new_events(
        lambda: account_actions.create_organisation(
            actor=actor, name=f"Brand {n}", slug=f"brand-{n}", kind="partner", country="DE"
        )
    )
    assert codes == ["accounts.organisation.created"]
    admin, codes = new_events(lambda: make_member(org, role="admin"))
    assert codes == ["accounts.membership.created"]
    (key, _raw), codes = new_events(
        lambda: account_actions.create_api_key(actor=admin, organisation=org, name="ERP")
    )
    assert codes == ["accounts.api_key.created"]
    _, codes = new_events(lambda: account_actions.revoke_api_key(actor=admin, key=key))
    assert codes == ["accounts.api_key.revoked"]
    _, codes = new_events(lambda: register(world, quantity=3))
    assert codes == ["partners.registrations.created"]

    intake, codes = new_events(
        lambda: collection_actions.record_intake(
            actor=world.hub_user,
            hub=world.hub,
            collector=world.collector,
            collected_on=today,
            phones=3,
            net_weight_kg=Decimal("0.165"),
            batteries_removed=3,
            price_per_phone=Decimal(1),
            currency="GHS",
        )
    )
    assert codes == ["collection.intake.recorded"]
    lot, codes = new_events(
        lambda: collection_actions.seal_lot(
            actor=world.hub_user, hub=world.hub, seal_number="S-1", intakes=[intake]
        )
    )
    assert codes == ["collection.lot.sealed"]
    notification = consented_notification(world)  # the dispatch gate needs one
    consignment, codes = new_events(
        lambda: shipment_actions.create_consignment(
            actor=world.hub_user,
            reference="C-1",
            hub=world.hub,
            lots=[lot],
            carrier=world.carrier,
            recycler=world.recycler,
            notification=notification,
        )
    )
    assert codes == ["shipments.consignment.created"]
    _, codes = new_events(
        lambda: shipment_actions.sign_dispatch(actor=world.hub_user, consignment=consignment)
    )
    assert codes == ["shipments.consignment.dispatched"]
    _, codes = new_events(
        lambda: shipment_actions.sign_pickup(
            actor=world.carrier_user, consignment=consignment, vehicle="truck"
        )
    )
    assert codes == ["shipments.consignment.picked_up"]
    _, codes = new_events(
        lambda: recycling_actions.record_reception(
            actor=world.recycler_user,
            consignment=consignment,
            counted_phones=3,
            net_weight_kg=Decimal("0.165"),
        )
    )
    assert codes == ["recycling.reception.recorded"]
    # Treatment completion and the issuance it triggers: one event for each.
    _, codes = new_events(
        lambda: recycling_actions.complete_treatment(
            actor=world.recycler_user, consignment=consignment, completed_on=today
        )
    )
    assert codes == ["recycling.treatment.completed", "registry.batch.issued"]
    result, codes = new_events(lambda: registry_actions.allocate(actor=world.operator_user))
    assert codes == ["registry.allocation.created"]

    assert audit.verify_chain() is None
    event = AuditEvent.objects.get(code="registry.allocation.created")
    assert event.actor == world.operator_user
    assert event.data["units"] == 3
    assert event.data["certificates"] == [c.code for c in result.certificates]


def test_a_refused_action_writes_no_event(world: World) -> None:
    events = AuditEvent.objects.count()
    with pytest.raises(NotAllowed):
        account_actions.create_api_key(
            actor=world.hub_user, organisation=world.partner, name="not mine"
        )
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db(transaction=True)
def test_audit_record_refuses_to_run_outside_a_transaction() -> None:
    actor = bootstrap_actor()
    with pytest.raises(RuntimeError, match="inside the action's transaction"):
        audit.record(actor=actor, code="tests.audit.outside")
    assert not AuditEvent.objects.exists()


def test_the_chain_links_each_event_to_the_one_before(world: World) -> None:
    events = list(AuditEvent.objects.order_by("id"))

    assert len(events) > 5
    assert events[0].previous_hash == audit.GENESIS_HASH
    for before, after in itertools.pairwise(events):
        assert after.previous_hash == before.hash
        assert audit.compute_hash(after) == after.hash
    assert audit.verify_chain() is None
    assert audit.verify_chain(batch_size=2) is None


def test_database_refuses_to_update_or_delete_an_audit_event(world: World) -> None:
    event = AuditEvent.objects.order_by("id").first()
    assert event is not None
    with connection.cursor() as cursor:
        for sql in [
            "UPDATE core_auditevent SET data = '{}' WHERE id = %s",
            "DELETE FROM core_auditevent WHERE id = %s",
        ]:
            with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
                cursor.execute(sql, [event.pk])
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(code="tests.audit.rewritten")
    assert AuditEvent.objects.get(pk=event.pk).hash == event.hash


def _edit_behind_the_triggers_back(sql: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred checks pending
        cursor.execute("ALTER TABLE core_auditevent DISABLE TRIGGER ALL")
        try:
            cursor.execute(sql, params)
        finally:
            cursor.execute("ALTER TABLE core_auditevent ENABLE TRIGGER ALL")


def test_verification_names_an_event_whose_content_was_edited(world: World) -> None:
    events = list(AuditEvent.objects.order_by("id").values_list("id", flat=True))
    edited = events[len(events) // 2]

    _edit_behind_the_triggers_back(
        "UPDATE core_auditevent SET data = '{\"forged\": true}' WHERE id = %s", [edited]
    )

    broken = audit.verify_chain()
    assert broken == audit.ChainBreak(edited, "content does not match its hash")


def test_verification_names_the_event_after_a_deleted_one(world: World) -> None:
    events = list(AuditEvent.objects.order_by("id").values_list("id", flat=True))
    deleted, following = events[2], events[3]

    _edit_behind_the_triggers_back("DELETE FROM core_auditevent WHERE id = %s", [deleted])

    broken = audit.verify_chain()
    assert broken == audit.ChainBreak(following, "previous_hash does not match the entry before it")


def test_an_edit_rehashed_in_place_still_breaks_the_chain(world: World) -> None:
    events = list(AuditEvent.objects.order_by("id"))
    target, following = events[1], events[2]
    target.data = {"forged": True}
    forged_hash = audit.compute_hash(target)

    _edit_behind_the_triggers_back(
        "UPDATE core_auditevent SET data = '{\"forged\": true}', hash = %s WHERE id = %s",
        [forged_hash, target.pk],
    )

    assert audit.verify_chain() == audit.ChainBreak(
        following.pk, "previous_hash does not match the entry before it"
    )


def test_audit_codes_are_namespaced(world: World) -> None:
    org = make_organisation(OrganisationKind.AUDITOR)
    with pytest.raises(IntegrityError), transaction.atomic():
        audit.record(actor=bootstrap_actor(), code="NotNamespaced", organisation=org)
