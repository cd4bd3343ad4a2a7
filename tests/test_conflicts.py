"""Double claims: one device, one claim (DESIGN invariant 3). A second claim of an identifier is a
visible conflict that the operator resolves; PostgreSQL decides who claimed first, also under
concurrent registrations."""

from __future__ import annotations

import random
import threading
from collections import Counter
from typing import Any

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.test import Client
from django.urls import reverse

from factories import (
    World,
    ensure_categories,
    imei,
    make_member,
    make_partner,
    make_world,
    register,
)
from oneforone.accounts.models import Organisation, Role, User
from oneforone.accounts.permissions import NotAllowed
from oneforone.core.models import AuditEvent
from oneforone.partners.actions import ConflictRefused, resolve_conflict
from oneforone.partners.identifiers import identifier_hash
from oneforone.partners.models import Conflict, Device, Registration
from oneforone.partners.signals import claims_withdrawn


def assert_consistent() -> None:
    """What must hold after any mix of registrations and resolutions."""
    claimed = Counter(
        Device.objects.filter(status="claimed").values_list("identifier_hash", flat=True)
    )
    assert all(n == 1 for n in claimed.values()), "an identifier is claimed twice"
    for registration in Registration.objects.all():
        not_claimed = registration.devices.exclude(status="claimed").count()
        assert registration.devices_excluded == not_claimed, registration.reference
        assert registration.units_owed == (
            (registration.quantity - not_claimed) * registration.units_per_device
        )
    for device in Device.objects.filter(status="held"):
        assert device.conflict.status == "open"
    for conflict in Conflict.objects.filter(status="open"):
        assert conflict.second_device.status == "held"
        assert conflict.second_device.identifier_hash == conflict.identifier_hash
        assert conflict.first_device.identifier_hash == conflict.identifier_hash


class Claims:
    """A device claimed by the world's partner and claimed again by another partner."""

    def __init__(self, world: World) -> None:
        self.other, self.other_admin = make_partner()
        self.first = register(world, imeis=[imei(1), imei(2)], reference="FIRST")
        self.second = register(
            world,
            imeis=[imei(2), imei(3)],
            reference="SECOND",
            partner=self.other,
            actor=self.other_admin,
        )
        self.conflict = Conflict.objects.get()

    def refresh(self) -> None:
        for obj in (self.first, self.second, self.conflict):
            obj.refresh_from_db()

    def statuses(self) -> tuple[str, str]:
        self.refresh()
        return self.conflict.first_device.status, self.conflict.second_device.status


@pytest.fixture
def claims(world: World) -> Claims:
    return Claims(world)


@pytest.fixture
def withdrawn_signals() -> Any:
    received: list[dict[str, Any]] = []

    def receiver(sender: type, **kwargs: Any) -> None:
        received.append(
            {
                **kwargs,
                "in_transaction": connection.in_atomic_block,
                "owed": [r.units_owed for r in kwargs["registrations"]],
            }
        )

    claims_withdrawn.connect(receiver, dispatch_uid="tests.claims_withdrawn")
    yield received
    claims_withdrawn.disconnect(dispatch_uid="tests.claims_withdrawn")


def resolve(world: World, conflict: Conflict, decision: str, reason: str = "checked the invoices"):  # type: ignore[no-untyped-def]
    return resolve_conflict(
        actor=world.operator_user, conflict=conflict, decision=decision, reason=reason
    )


# Raising a conflict ------------------------------------------------------------------------------


def test_a_second_claim_is_held_with_an_open_conflict_naming_the_claimed_device(
    claims: Claims,
) -> None:
    assert claims.statuses() == ("claimed", "held")
    assert claims.conflict.first_device == claims.first.devices.get(position=2)
    assert claims.conflict.second_device == claims.second.devices.get(position=1)
    assert claims.conflict.identifier_hash == identifier_hash("imei", imei(2))
    assert (claims.first.units_owed, claims.second.units_owed) == (2, 1)
    assert (claims.conflict.resolved_at, claims.conflict.resolved_by, claims.conflict.reason) == (
        None,
        None,
        "",
    )
    assert_consistent()


def test_every_further_claim_is_held_against_the_one_claimed_device(
    world: World, claims: Claims
) -> None:
    third = register(world, imeis=[imei(2)])

    assert [d.status for d in third.devices.all()] == ["held"]
    assert Conflict.objects.get(second_device__registration=third).first_device == (
        claims.conflict.first_device
    )
    assert_consistent()


# Resolving ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("decision", "outcome", "statuses", "owed", "signalled"),
    [
        ("keep_first", "kept_first", ("claimed", "declined"), (2, 1), []),
        ("transfer", "transferred", ("withdrawn", "claimed"), (1, 2), ["FIRST"]),
        ("reject", "rejected", ("withdrawn", "withdrawn"), (1, 1), ["FIRST"]),
    ],
)
def test_each_decision_sets_the_statuses_and_the_units_owed(
    world: World,
    claims: Claims,
    withdrawn_signals: list[dict[str, Any]],
    decision: str,
    outcome: str,
    statuses: tuple[str, str],
    owed: tuple[int, int],
    signalled: list[str],
) -> None:
    resolved = resolve(world, claims.conflict, decision, reason="  the shop's invoice shows it  ")

    assert claims.statuses() == statuses
    assert (claims.first.units_owed, claims.second.units_owed) == owed
    assert (claims.first.devices_excluded, claims.second.devices_excluded) == (
        2 - owed[0],
        2 - owed[1],
    )
    assert resolved.status == claims.conflict.status == outcome
    assert claims.conflict.resolved_by == world.operator_user
    assert claims.conflict.resolved_at is not None
    assert claims.conflict.reason == "the shop's invoice shows it"
    assert [[r.reference for r in s["registrations"]] for s in withdrawn_signals] == (
        [signalled] if signalled else []
    )
    for signal in withdrawn_signals:
        assert signal["in_transaction"], "the registry releases units in the same transaction"
        assert signal["owed"] == [owed[0]]
        assert signal["actor"] == world.operator_user
        assert signal["reason"] == "the shop's invoice shows it"
    assert_consistent()


def test_one_audit_event_names_both_partners(world: World, claims: Claims) -> None:
    events = AuditEvent.objects.count()

    resolve(world, claims.conflict, "transfer")

    assert AuditEvent.objects.count() == events + 1
    event = AuditEvent.objects.latest("id")
    assert event.code == "partners.conflict.resolved"
    assert event.object_id == str(claims.conflict.pk)
    assert event.data["decision"] == "transfer"
    assert event.data["reason"] == "checked the invoices"
    assert event.data["first"]["partner"] == world.partner.name
    assert event.data["first"]["registration"] == "FIRST"
    assert event.data["second"]["partner"] == claims.other.name
    assert event.data["second"]["registration"] == "SECOND"
    assert (event.data["first"]["status"], event.data["second"]["status"]) == (
        "withdrawn",
        "claimed",
    )
    assert imei(2) not in str(event.data)


def test_resolving_twice_is_refused_and_changes_nothing(world: World, claims: Claims) -> None:
    resolve(world, claims.conflict, "keep_first")
    events = AuditEvent.objects.count()

    with pytest.raises(ConflictRefused, match="already resolved"):
        resolve(world, claims.conflict, "transfer")

    assert claims.statuses() == ("claimed", "declined")
    assert claims.conflict.status == "kept_first"
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    ("decision", "reason", "expected"),
    [
        ("transfer", "   ", "give the reason"),
        ("transfer", "", "give the reason"),
        ("toss_a_coin", "why not", "unknown decision 'toss_a_coin'"),
    ],
)
def test_a_decision_needs_a_known_kind_and_a_reason(
    world: World, claims: Claims, decision: str, reason: str, expected: str
) -> None:
    with pytest.raises(ConflictRefused, match=expected):
        resolve(world, claims.conflict, decision, reason=reason)
    assert claims.statuses() == ("claimed", "held")
    assert claims.conflict.status == "open"


def test_only_operator_staff_resolve(world: World, claims: Claims) -> None:
    viewer = make_member(world.operator, role=Role.VIEWER)
    for actor in (world.partner_admin, claims.other_admin, world.hub_user, viewer):
        with pytest.raises(NotAllowed, match="is not operator staff"):
            resolve_conflict(actor=actor, conflict=claims.conflict, decision="transfer", reason="x")
    assert claims.statuses() == ("claimed", "held")


def test_a_transfer_moves_the_other_open_claims_onto_the_new_claim(
    world: World, claims: Claims
) -> None:
    third = register(world, imeis=[imei(2)], reference="THIRD")
    later = Conflict.objects.get(second_device__registration=third)

    resolve(world, claims.conflict, "transfer")

    later.refresh_from_db()
    assert later.first_device == claims.conflict.second_device
    resolve(world, later, "transfer")
    third.refresh_from_db()
    claims.refresh()
    assert [d.status for d in third.devices.all()] == ["claimed"]
    assert claims.second.devices.get(position=1).status == "withdrawn"
    assert (claims.first.units_owed, claims.second.units_owed, third.units_owed) == (1, 1, 1)
    assert_consistent()


def test_after_a_rejection_the_other_claims_are_still_decided_one_by_one(
    world: World, claims: Claims
) -> None:
    third = register(world, imeis=[imei(2)], reference="THIRD")
    fourth = register(world, imeis=[imei(2)], reference="FOURTH")

    resolve(world, claims.conflict, "reject")
    resolve(world, Conflict.objects.get(second_device__registration=third), "keep_first")
    resolve(world, Conflict.objects.get(second_device__registration=fourth), "transfer")

    third.refresh_from_db()
    fourth.refresh_from_db()
    assert [d.status for d in third.devices.all()] == ["declined"]
    assert [d.status for d in fourth.devices.all()] == ["claimed"]
    assert (third.units_owed, fourth.units_owed) == (0, 1)
    assert_consistent()


def test_a_failing_receiver_rolls_the_resolution_back(world: World, claims: Claims) -> None:
    def refuse(sender: type, **kwargs: Any) -> None:
        raise RuntimeError("the registry could not release the units")

    claims_withdrawn.connect(refuse, dispatch_uid="tests.refuse")
    try:
        with pytest.raises(RuntimeError, match="could not release"):
            resolve(world, claims.conflict, "transfer")
    finally:
        claims_withdrawn.disconnect(dispatch_uid="tests.refuse")

    assert claims.statuses() == ("claimed", "held")
    assert claims.conflict.status == "open"
    assert (claims.first.units_owed, claims.second.units_owed) == (2, 1)


# The database's guarantees -----------------------------------------------------------------------


def test_the_partial_unique_index_refuses_a_second_claimed_row_even_in_raw_sql(
    claims: Claims,
) -> None:
    held = claims.conflict.second_device
    with connection.cursor() as cursor:
        with pytest.raises(IntegrityError, match="device_claimed_once"), transaction.atomic():
            cursor.execute("UPDATE partners_device SET status = 'claimed' WHERE id = %s", [held.pk])
        with pytest.raises(IntegrityError, match="device_claimed_once"), transaction.atomic():
            cursor.execute(
                """INSERT INTO partners_device (registration_id, position, kind, identifier_hash,
                                                status)
                   VALUES (%s, 3, 'imei', %s, 'claimed')""",
                [claims.second.pk, claims.conflict.identifier_hash],
            )
        # Held, declined and withdrawn rows of the same identifier are as many as there are claims.
        cursor.execute(
            """INSERT INTO partners_device (registration_id, position, kind, identifier_hash,
                                            status)
               VALUES (%s, 3, 'imei', %s, 'withdrawn')""",
            [claims.second.pk, claims.conflict.identifier_hash],
        )


def test_the_database_refuses_a_resolution_without_its_facts(claims: Claims) -> None:
    with connection.cursor() as cursor:
        for sql in [
            "UPDATE partners_conflict SET status = 'kept_first' WHERE id = %s",
            "UPDATE partners_conflict SET reason = 'why' WHERE id = %s",
            "UPDATE partners_conflict SET resolved_at = now() WHERE id = %s",
        ]:
            with (
                pytest.raises(IntegrityError, match="conflict_resolved_iff_closed"),
                transaction.atomic(),
            ):
                cursor.execute(sql, [claims.conflict.pk])


def test_the_database_refuses_more_exclusions_than_devices(claims: Claims) -> None:
    with pytest.raises(IntegrityError, match="registration_excluded_within_quantity"):
        Registration.objects.filter(pk=claims.second.pk).update(devices_excluded=3)


# Concurrency -------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_of_overlapping_devices_leave_one_claim_each() -> None:
    """Threads on their own connections register overlapping identifiers at the same moment."""
    ensure_categories()
    world = make_world()
    partners: list[tuple[Organisation, User]] = [(world.partner, world.partner_admin)] + [
        make_partner() for _ in range(5)
    ]
    rng = random.Random(3)
    pool = [imei(n) for n in range(60)]
    rounds = 3
    for round_ in range(rounds):
        # Each thread lists a different random order of an overlapping window of the pool.
        sets = [rng.sample(pool[i * 6 : i * 6 + 30], 20) for i in range(len(partners))]
        barrier = threading.Barrier(len(partners))
        errors: list[BaseException] = []

        def registrar(
            partner: Organisation,
            actor: User,
            imeis: list[str],
            reference: str,
            barrier: threading.Barrier,
            errors: list[BaseException],
        ) -> None:
            try:
                barrier.wait(timeout=10)
                register(world, imeis=imeis, partner=partner, actor=actor, reference=reference)
            except BaseException as exc:
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [
            threading.Thread(
                target=registrar, args=(partner, actor, imeis, f"R{round_}-{n}", barrier, errors)
            )
            for n, ((partner, actor), imeis) in enumerate(zip(partners, sets, strict=True))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []

    claims_per_identifier = Counter(Device.objects.values_list("identifier_hash", flat=True))
    claimed = Counter(
        Device.objects.filter(status="claimed").values_list("identifier_hash", flat=True)
    )
    conflicts = Counter(Conflict.objects.values_list("identifier_hash", flat=True))
    assert Device.objects.count() == rounds * len(partners) * 20
    for hashed, n in claims_per_identifier.items():
        assert claimed[hashed] == 1, "exactly one claim counts"
        assert conflicts[hashed] == n - 1, "one conflict per other claim"
    for conflict in Conflict.objects.select_related("first_device", "second_device"):
        assert conflict.first_device.status == "claimed"
        assert conflict.second_device.status == "held"
    assert_consistent()
    assert sum(r.units_owed for r in Registration.objects.all()) == len(claims_per_identifier)


# The operator's pages ----------------------------------------------------------------------------


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_conflict_list_names_both_parties_open_first_and_filters(
    world: World, claims: Claims
) -> None:
    resolve(world, claims.conflict, "keep_first")
    third = register(world, imeis=[imei(1)], reference="THIRD")
    open_one = Conflict.objects.get(second_device__registration=third)
    client = client_for(world.operator_user)

    page = client.get(reverse("operator-conflicts"))

    assert page.status_code == 200
    assert [r["conflict"].pk for r in page.context["rows"]] == [open_one.pk, claims.conflict.pk]
    body = page.content.decode()
    assert world.partner.name in body
    assert claims.other.name in body
    assert "SECOND" in body
    assert f'href="{reverse("operator-conflicts")}"' in client.get(reverse("home")).content.decode()
    resolved = client.get(reverse("operator-conflicts"), {"status": "kept_first"})
    assert [r["conflict"].pk for r in resolved.context["rows"]] == [claims.conflict.pk]
    assert "first claim kept (1)" in resolved.content.decode()


def test_the_operator_resolves_a_conflict_from_its_page(world: World, claims: Claims) -> None:
    client = client_for(world.operator_user)
    url = reverse("operator-conflict", args=[claims.conflict.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "Keep the first claim" in page.content.decode()

    refused = client.post(url, {"decision": "transfer", "reason": "  "})
    assert refused.status_code == 200
    assert "Give the reason for the decision." in refused.content.decode()
    assert claims.statuses() == ("claimed", "held")

    done = client.post(url, {"decision": "transfer", "reason": "receipt dated earlier"})
    assert done.status_code == 302
    assert claims.statuses() == ("withdrawn", "claimed")
    after = client.get(url).content.decode()
    assert "receipt dated earlier" in after
    assert 'name="decision"' not in after

    again = client.post(url, {"decision": "reject", "reason": "changed my mind"}, follow=True)
    assert "already resolved" in again.content.decode()
    assert claims.statuses() == ("withdrawn", "claimed")


def test_conflict_pages_are_for_operator_staff_only(world: World, claims: Claims) -> None:
    url = reverse("operator-conflict", args=[claims.conflict.pk])
    for user in (world.partner_admin, claims.other_admin, world.hub_user):
        client = client_for(user)
        assert client.get(reverse("operator-conflicts")).status_code == 403
        assert client.post(url, {"decision": "transfer", "reason": "x"}).status_code == 403
    viewer = client_for(make_member(world.operator, role=Role.VIEWER))
    assert viewer.get(url).status_code == 200
    assert viewer.post(url, {"decision": "transfer", "reason": "x"}).status_code == 403
    assert claims.statuses() == ("claimed", "held")
    assert Client().get(reverse("operator-conflicts")).status_code == 302
