"""The registry: units are issued only from treated supply, and each unit goes to one device."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factories import (
    World,
    ensure_categories,
    issue,
    make_partner,
    make_world,
    received_consignment,
    register,
    treated_consignment,
)
from oneforone.core.models import AuditEvent
from oneforone.partners.models import Registration
from oneforone.recycling import actions as recycling_actions
from oneforone.recycling.models import TreatmentCompletion
from oneforone.recycling.signals import treatment_completed
from oneforone.registry import actions as registry_actions
from oneforone.registry import serials
from oneforone.registry.certificate_pdf import render_pdf
from oneforone.registry.models import Allocation, Certificate, CertificateDocument, IssuanceBatch
from oneforone.registry.receivers import issue_batch_on_treatment


def allocate(world: World, **kwargs: object) -> registry_actions.AllocationResult:
    return registry_actions.allocate(actor=world.operator_user, **kwargs)  # type: ignore[arg-type]


def units_of(registration: Registration) -> list[tuple[int, int]]:
    return [(a.units.lower, a.units.upper) for a in registration.allocations.order_by("units")]


def allocated_units(registration: Registration) -> int:
    return sum(a.quantity for a in Allocation.objects.filter(registration=registration))


@contextmanager
def issuance_disconnected() -> Iterator[None]:
    """Treatment without its batch: lets a test try to insert a batch by hand."""
    treatment_completed.disconnect(dispatch_uid="registry.issue_batch")
    try:
        yield
    finally:
        treatment_completed.connect(issue_batch_on_treatment, dispatch_uid="registry.issue_batch")


def insert_batch(consignment_id: int, treatment_id: int, lower: int, upper: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO registry_issuancebatch (treatment_id, consignment_id, origin_country,
                vintage_year, units, net_weight_kg, collected_from, collected_until, issued_at,
                issued_by_id)
            SELECT %s, %s, 'GH', 2026, int8range(%s, %s), 5.5, now()::date, now()::date, now(),
                   (SELECT id FROM accounts_user ORDER BY id LIMIT 1)
            """,
            [treatment_id, consignment_id, lower, upper],
        )


def insert_allocation(registration_id: int, batch_id: int, lower: int, upper: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO registry_allocation (registration_id, batch_id, units, allocated_at,
                allocated_by_id)
            SELECT %s, %s, int8range(%s, %s), now(), (SELECT id FROM accounts_user LIMIT 1)
            """,
            [registration_id, batch_id, lower, upper],
        )


# Issuance ------------------------------------------------------------------------------------


def test_units_are_issued_only_when_treatment_is_completed(world: World) -> None:
    consignment = received_consignment(world, intakes=(30,))
    assert not IssuanceBatch.objects.exists()

    recycling_actions.complete_treatment(
        actor=world.recycler_user, consignment=consignment, completed_on=timezone.localdate()
    )

    batch = IssuanceBatch.objects.get()
    assert batch.consignment == consignment
    assert batch.treatment == consignment.treatment
    assert batch.quantity == 30


def test_batch_size_is_the_recyclers_count_not_the_dispatched_count(world: World) -> None:
    consignment = treated_consignment(world, intakes=(60, 40), counted=99)

    assert consignment.phones_dispatched == 100
    batch = IssuanceBatch.objects.get(consignment=consignment)
    assert batch.quantity == consignment.reception.counted_phones == 99
    assert batch.net_weight_kg == consignment.reception.net_weight_kg


def test_batches_take_consecutive_disjoint_serial_ranges(world: World) -> None:
    first = issue(world, 10)
    second = issue(world, 5)

    assert (first.units.lower, first.units.upper) == (1, 11)
    assert (second.units.lower, second.units.upper) == (11, 16)
    assert serials.parse(second.block) == serials.Block("GH", timezone.localdate().year, 11, 15)


def test_batch_records_the_income_paid_into_the_collection_network(world: World) -> None:
    consignment = treated_consignment(world, intakes=(60, 40))
    batch = IssuanceBatch.objects.get(consignment=consignment)

    [income] = batch.incomes.all()
    assert income.phones == 100
    assert income.currency == "GHS"
    assert income.amount == Decimal("50.0000")  # 100 phones at 0.50


def test_database_refuses_a_batch_without_a_treatment(world: World) -> None:
    consignment = received_consignment(world, intakes=(10,))

    with (
        pytest.raises(IntegrityError, match="only for a treated consignment"),
        transaction.atomic(),
    ):
        insert_batch(consignment.pk, 987654, 1, 11)


def test_database_refuses_a_batch_whose_size_is_not_the_counted_reception(world: World) -> None:
    consignment = received_consignment(world, intakes=(10,))
    with issuance_disconnected():
        recycling_actions.complete_treatment(
            actor=world.recycler_user, consignment=consignment, completed_on=timezone.localdate()
        )
    treatment = TreatmentCompletion.objects.get(consignment=consignment)
    assert not IssuanceBatch.objects.exists()

    for lower, upper in [(1, 12), (1, 10), (0, 10)]:
        with pytest.raises(IntegrityError, match="recycler counted"), transaction.atomic():
            insert_batch(consignment.pk, treatment.pk, lower, upper)

    insert_batch(consignment.pk, treatment.pk, 1, 11)  # the right size is accepted
    assert IssuanceBatch.objects.get().quantity == 10


def test_database_refuses_a_batch_for_another_consignments_treatment(world: World) -> None:
    treated = treated_consignment(world, intakes=(10,))
    other = received_consignment(world, intakes=(10,))

    with (
        pytest.raises(IntegrityError, match="only for a treated consignment"),
        transaction.atomic(),
    ):
        insert_batch(other.pk, treated.treatment.pk, 100, 110)


def test_issued_batches_cannot_be_edited_or_deleted(world: World) -> None:
    batch = issue(world, 5)
    with connection.cursor() as cursor:
        for sql in [
            "UPDATE registry_issuancebatch SET units = int8range(1, 100) WHERE id = %s",
            "DELETE FROM registry_issuancebatch WHERE id = %s",
        ]:
            with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
                cursor.execute(sql, [batch.pk])


# Allocation ----------------------------------------------------------------------------------


def test_allocation_never_exceeds_the_units_issued(world: World) -> None:
    registration = register(world, quantity=10)
    issue(world, 4)

    result = allocate(world)

    assert result.units == 4
    assert allocated_units(registration) == 4
    assert result.certificates == []
    assert not Certificate.objects.exists()
    assert allocate(world).allocations == []  # nothing left to give


def test_allocation_completes_a_registration_from_the_next_batch(world: World) -> None:
    registration = register(world, quantity=10)
    first = issue(world, 4)
    allocate(world)
    second = issue(world, 10)

    result = allocate(world)

    assert [c.registration_id for c in result.certificates] == [registration.pk]
    assert units_of(registration) == [(1, 5), (first.units.upper, first.units.upper + 6)]
    assert {a.batch_id for a in registration.allocations.all()} == {first.pk, second.pk}


def test_allocation_serves_the_oldest_registration_first(world: World) -> None:
    older = register(world, quantity=3)
    newer = register(world, quantity=3)
    issue(world, 5)

    allocate(world)

    assert units_of(older) == [(1, 4)]
    assert units_of(newer) == [(4, 6)]
    assert Certificate.objects.get().registration == older


def test_allocation_gives_the_oldest_units_first(world: World) -> None:
    old_batch = issue(world, 3)
    new_batch = issue(world, 3)
    registration = register(world, quantity=4)

    allocate(world)

    by_batch = {a.batch_id: a.quantity for a in registration.allocations.all()}
    assert by_batch == {old_batch.pk: 3, new_batch.pk: 1}


def test_a_laptop_owes_three_units(world: World) -> None:
    laptop = register(world, quantity=2, category="laptop")
    issue(world, 10)

    allocate(world)

    assert allocated_units(laptop) == laptop.units_owed == 6


def test_allocation_respects_a_unit_budget_and_a_partner_filter(world: World) -> None:
    other_partner, other_admin = make_partner()
    mine = register(world, quantity=5)
    theirs = register(world, quantity=5, partner=other_partner, actor=other_admin)
    issue(world, 20)

    allocate(world, partner=other_partner, max_units=2)
    assert allocated_units(theirs) == 2
    assert allocated_units(mine) == 0

    allocate(world)
    assert allocated_units(mine) == 5
    assert allocated_units(theirs) == 5


def test_allocation_with_nothing_to_do_writes_nothing(world: World) -> None:
    register(world, quantity=2)
    events = AuditEvent.objects.count()

    result = allocate(world)

    assert result.allocations == []
    assert AuditEvent.objects.count() == events


def test_database_refuses_an_overlapping_allocation(world: World) -> None:
    first = register(world, quantity=3)
    second = register(world, quantity=3)
    batch = issue(world, 10)
    allocate(world, max_units=3)
    assert units_of(first) == [(1, 4)]

    with pytest.raises(IntegrityError, match="allocation_units_never_twice"), transaction.atomic():
        insert_allocation(second.pk, batch.pk, 3, 5)

    insert_allocation(second.pk, batch.pk, 4, 7)  # the free units are accepted
    assert allocated_units(second) == 3


def test_database_refuses_an_allocation_beyond_units_owed(world: World) -> None:
    registration = register(world, quantity=2)
    batch = issue(world, 10)

    with pytest.raises(IntegrityError, match="owes 2 units; 3 would be"), transaction.atomic():
        insert_allocation(registration.pk, batch.pk, 1, 4)
    insert_allocation(registration.pk, batch.pk, 1, 2)
    with pytest.raises(IntegrityError, match="owes 2 units; 3 would be"), transaction.atomic():
        insert_allocation(registration.pk, batch.pk, 2, 4)


def test_database_refuses_an_allocation_outside_its_batch(world: World) -> None:
    registration = register(world, quantity=5)
    batch = issue(world, 3)

    with pytest.raises(IntegrityError, match="not inside its batch"), transaction.atomic():
        insert_allocation(registration.pk, batch.pk, 2, 6)


def test_allocations_are_never_edited_or_deleted_only_stamped_revoked_once(world: World) -> None:
    register(world, quantity=2)
    issue(world, 2)
    [allocation] = allocate(world).allocations
    with connection.cursor() as cursor:
        for sql in [
            "UPDATE registry_allocation SET registration_id = registration_id WHERE id = %s",
            "UPDATE registry_allocation SET revoked_at = now(), units = '[1,2)' WHERE id = %s",
            "DELETE FROM registry_allocation WHERE id = %s",
        ]:
            with (
                pytest.raises(IntegrityError, match="only revoked_at may be set, once"),
                transaction.atomic(),
            ):
                cursor.execute(sql, [allocation.pk])
        cursor.execute(
            "UPDATE registry_allocation SET revoked_at = now() WHERE id = %s", [allocation.pk]
        )
        with (
            pytest.raises(IntegrityError, match="only revoked_at may be set, once"),
            transaction.atomic(),
        ):
            cursor.execute(
                "UPDATE registry_allocation SET revoked_at = now() + interval '1 day' WHERE id = %s",
                [allocation.pk],
            )


def test_allocating_many_registrations_uses_a_bounded_number_of_queries(
    world: World, django_assert_max_num_queries
) -> None:
    for _ in range(3):
        issue(world, 40)
    for _ in range(100):
        register(world, quantity=1)

    # Independent of the number of registrations: reads, one insert of allocations, the ledger's
    # locks, heads and entries, the certificates and the audit event.
    with django_assert_max_num_queries(30):
        result = allocate(world)

    assert len(result.certificates) == 100
    assert result.units == 100


# Certificates --------------------------------------------------------------------------------


def test_a_fully_allocated_registration_gets_a_certificate_with_its_facts(world: World) -> None:
    registration = register(world, quantity=3, reference="INV-2026-00042")
    consignment = treated_consignment(world, intakes=(3,))
    batch = IssuanceBatch.objects.get(consignment=consignment)

    [certificate] = allocate(world).certificates

    assert certificate.registration == registration
    assert certificate.code.startswith("C-")
    snapshot = certificate.snapshot
    assert snapshot["partner"] == world.partner.name
    assert snapshot["registration"] == "INV-2026-00042"
    assert snapshot["devices"] == 3
    assert snapshot["units"] == 3
    assert snapshot["unit_blocks"] == [batch.block]
    assert snapshot["origin_countries"] == ["GH"]
    assert snapshot["consignments"] == [consignment.reference]
    assert snapshot["recyclers"] == [world.recycler.name]
    assert snapshot["treatment_completed"] == timezone.localdate().isoformat()
    assert snapshot["net_weight_kg"] == "0.165"  # 3 units of 55 g
    encoded = json.dumps(snapshot, sort_keys=True, cls=DjangoJSONEncoder, separators=(",", ":"))
    assert certificate.snapshot_sha256 == hashlib.sha256(encoded.encode()).hexdigest()


def test_a_partly_allocated_registration_has_no_certificate(world: World) -> None:
    register(world, quantity=3)
    issue(world, 2)

    assert allocate(world).certificates == []
    assert not Certificate.objects.exists()


def test_certificates_cannot_be_edited(world: World) -> None:
    register(world, quantity=1)
    issue(world, 1)
    [certificate] = allocate(world).certificates

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        Certificate.objects.filter(pk=certificate.pk).update(snapshot={"units": 1000})


def test_certificate_pdf_is_rendered_after_commit_with_its_sha256(
    world: World, django_capture_on_commit_callbacks
) -> None:
    register(world, quantity=2)
    issue(world, 2)

    with django_capture_on_commit_callbacks(execute=True):
        [certificate] = allocate(world).certificates

    document = CertificateDocument.objects.get(certificate=certificate)
    pdf = bytes(document.pdf)
    assert pdf.startswith(b"%PDF-")
    assert document.sha256 == hashlib.sha256(pdf).hexdigest()
    assert AuditEvent.objects.filter(code="registry.certificate.rendered").count() == 1

    from pypdf import PdfReader

    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert certificate.code in text
    assert certificate.snapshot["unit_blocks"][0] in text


def test_certificate_pdf_is_deterministic(world: World) -> None:
    register(world, quantity=2)
    issue(world, 2)
    [certificate] = allocate(world).certificates

    first = render_pdf(certificate)
    second = render_pdf(Certificate.objects.get(pk=certificate.pk))

    assert first == second
    document = registry_actions.render_certificate_document(
        actor=world.operator_user, certificate=certificate
    )
    assert bytes(document.pdf) == first
    again = registry_actions.render_certificate_document(
        actor=world.operator_user, certificate=certificate
    )
    assert again.pk == document.pk  # rendered once, kept


# Conservation, property-based -----------------------------------------------------------------


def conservation_per_batch() -> list[tuple[int, int, int, int]]:
    """(batch, issued, available from the free multirange, allocated from allocations)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT b.id, upper(b.units) - lower(b.units),
                   COALESCE((SELECT SUM(upper(f) - lower(f)) FROM unnest(
                       int8multirange(b.units) - COALESCE(
                           (SELECT range_agg(a.units) FROM registry_allocation a
                            WHERE a.batch_id = b.id), '{}')) AS f), 0),
                   COALESCE((SELECT SUM(upper(a.units) - lower(a.units))
                             FROM registry_allocation a WHERE a.batch_id = b.id), 0)
            FROM registry_issuancebatch b ORDER BY b.id
            """
        )
        return [tuple(row) for row in cursor.fetchall()]


operations = st.lists(
    st.one_of(
        st.tuples(st.just("issue"), st.integers(min_value=1, max_value=12)),
        st.tuples(
            st.just("register"),
            st.integers(min_value=1, max_value=6),
            st.sampled_from(["phone", "tablet", "laptop"]),
        ),
        st.tuples(st.just("allocate"), st.one_of(st.none(), st.integers(1, 10))),
    ),
    min_size=1,
    max_size=8,
)


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=operations)
def test_any_sequence_of_issuances_and_allocations_conserves_units(steps: list[tuple]) -> None:
    with transaction.atomic():
        world = make_world()
        issued = 0
        for step in steps:
            if step[0] == "issue":
                issue(world, step[1])
                issued += step[1]
            elif step[0] == "register":
                register(world, quantity=step[1], category=step[2])
            else:
                allocate(world, max_units=step[1])

            for _batch, batch_issued, available, allocated in conservation_per_batch():
                assert batch_issued == available + allocated
            for registration in Registration.objects.all():
                assert allocated_units(registration) <= registration.units_owed
            total_allocated = sum(a.quantity for a in Allocation.objects.all())
            assert total_allocated <= issued
            owed = sum(r.units_owed for r in Registration.objects.all())
            # Allocation is greedy: after it runs, either supply or open demand is exhausted.
            if step[0] == "allocate" and step[1] is None:
                assert total_allocated == min(issued, owed)
        transaction.set_rollback(True)


# Concurrency ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_allocators_never_allocate_the_same_unit() -> None:
    ensure_categories()
    world = make_world()
    issued = 0
    rounds = 20
    for _ in range(rounds):
        # Each round: fresh supply and more demand than supply, so both allocators compete.
        issue(world, 7)
        issued += 7
        for quantity in (3, 2, 4):
            register(world, quantity=quantity)

        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def allocator(barrier: threading.Barrier, errors: list[BaseException]) -> None:
            try:
                barrier.wait(timeout=10)
                registry_actions.allocate(actor=world.operator_user)
            except BaseException as exc:
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=allocator, args=(barrier, errors)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []

        units = [(a.units.lower, a.units.upper) for a in Allocation.objects.order_by("units")]
        for (_, previous_upper), (lower, _) in itertools.pairwise(units):
            assert lower >= previous_upper, "two allocations share a unit"
        every_unit = [unit for lower, upper in units for unit in range(lower, upper)]
        assert len(every_unit) == len(set(every_unit))
        assert len(every_unit) <= issued
        for registration in Registration.objects.all():
            assert allocated_units(registration) <= registration.units_owed
        for _batch, batch_issued, available, allocated in conservation_per_batch():
            assert batch_issued == available + allocated
        # All supply is used: demand exceeds it every round.
        assert len(every_unit) == issued


@pytest.mark.django_db(transaction=True)
def test_the_exclusion_constraint_holds_between_concurrent_transactions() -> None:
    """Without the allocators' lock, two transactions claiming overlapping units: one is refused."""
    ensure_categories()
    world = make_world()
    batch = issue(world, 10)
    first = register(world, quantity=5)
    second = register(world, quantity=5)
    inserted = threading.Event()
    outcomes: dict[str, BaseException | None] = {}

    def claim(name: str, registration_id: int, lower: int, upper: int) -> None:
        try:
            with transaction.atomic():
                if name == "second":
                    inserted.wait(timeout=10)
                insert_allocation(registration_id, batch.pk, lower, upper)
                if name == "first":
                    inserted.set()
                    threading.Event().wait(0.5)  # hold the transaction open while "second" tries
            outcomes[name] = None
        except BaseException as exc:
            outcomes[name] = exc
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=claim, args=("first", first.pk, 1, 5)),
        threading.Thread(target=claim, args=("second", second.pk, 3, 7)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert outcomes["first"] is None
    assert isinstance(outcomes["second"], IntegrityError)
    assert "allocation_units_never_twice" in str(outcomes["second"])
    assert units_of(first) == [(1, 5)]
    assert units_of(second) == []
