"""Webhooks: partners' endpoints hear about their own registrations, allocations, certificates and
conflicts, after commit, signed with their secret, retried with backoff until the endpoint is
disabled; every attempt is logged. Against a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import factories
from factories import World
from oneforone.accounts.models import Role
from oneforone.accounts.permissions import NotAllowed
from oneforone.core import audit
from oneforone.core.models import AuditEvent
from oneforone.partners import actions as partner_actions
from oneforone.partners.models import Channel
from oneforone.partners.schemas import RegistrationRow
from oneforone.registry import actions as registry_actions
from oneforone.registry.models import IssuanceBatch
from oneforone.webhooks import actions, crypto, delivery, signing
from oneforone.webhooks.models import Attempt, Delivery, DeliveryState, Endpoint, Event
from webhook_receiver import Receiver, serve


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from serve()


ALL_EVENTS = [
    "registration.accepted",
    "allocation.made",
    "certificate.issued",
    "certificate.superseded",
    "conflict.raised",
]


def endpoint_for(
    world: World,
    receiver: Receiver,
    path: str = "/hook",
    events=ALL_EVENTS,
    partner=None,
    actor=None,
) -> tuple[Endpoint, str]:  # type: ignore[no-untyped-def]
    return actions.create_endpoint(
        actor=actor or world.partner_admin,
        organisation=partner or world.partner,
        url=receiver.url(path),
        events=events,
    )


def register_rows(world: World, references: list[str], partner=None, actor=None, devices=None):  # type: ignore[no-untyped-def]
    return partner_actions.register_devices(
        actor=actor or world.partner_admin,
        partner=partner or world.partner,
        rows=[
            (line, RegistrationRow(reference=ref, category="phone", quantity=2))
            for line, ref in enumerate(references, start=1)
        ],
        channel=Channel.API,
    )


# Signing -----------------------------------------------------------------------------------------


def test_a_delivery_is_signed_with_the_endpoints_secret_and_a_timestamp(
    world: World, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    endpoint, secret = endpoint_for(world, receiver)
    with django_capture_on_commit_callbacks(execute=True):
        test = actions.send_test_event(actor=world.partner_admin, endpoint=endpoint)

    [request] = receiver.requests
    header = request.headers[signing.SIGNATURE_HEADER]
    assert signing.verify_signature(secret, header, request.body) > 0
    assert request.headers[signing.EVENT_HEADER] == "ping"
    assert request.headers[signing.DELIVERY_HEADER] == str(test.uuid)
    assert request.json["id"] == str(test.event.uuid)
    assert request.json["type"] == "ping"
    assert request.headers["Content-Type"] == "application/json"

    with pytest.raises(signing.InvalidSignature, match="wrong secret"):
        signing.verify_signature("whsec_not-the-secret", header, request.body)
    with pytest.raises(signing.InvalidSignature, match="altered body"):
        signing.verify_signature(secret, header, request.body.replace(b"ping", b"pong"))
    with pytest.raises(signing.InvalidSignature, match="stale or replayed"):
        signing.verify_signature(secret, header, request.body, now=time.time() + 301)
    with pytest.raises(signing.InvalidSignature, match="malformed"):
        signing.verify_signature(secret, "v1=abc", request.body)


def test_the_secret_is_shown_once_and_stored_encrypted(world: World, receiver: Receiver) -> None:
    endpoint, secret = endpoint_for(world, receiver)
    stored = Endpoint.objects.get(pk=endpoint.pk)
    assert secret.startswith("whsec_")
    assert secret not in stored.secret_encrypted
    assert crypto.decrypt(stored.secret_encrypted) == secret
    assert stored.secret_hint == secret[-4:]


def test_after_a_rotation_deliveries_carry_both_signatures_for_a_day(
    world: World, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    endpoint, old = endpoint_for(world, receiver)
    endpoint, new = actions.rotate_secret(actor=world.partner_admin, endpoint=endpoint)
    assert new != old
    with django_capture_on_commit_callbacks(execute=True):
        actions.send_test_event(actor=world.partner_admin, endpoint=endpoint)

    [request] = receiver.requests
    header = request.headers[signing.SIGNATURE_HEADER]
    assert header.count("v1=") == 2
    signing.verify_signature(new, header, request.body)
    signing.verify_signature(old, header, request.body)

    later = timezone.now() + actions.SECRET_OVERLAP + dt.timedelta(minutes=1)
    with time_travel(later), django_capture_on_commit_callbacks(execute=True):
        actions.send_test_event(actor=world.partner_admin, endpoint=endpoint)
    header = receiver.requests[-1].headers[signing.SIGNATURE_HEADER]
    assert header.count("v1=") == 1
    with pytest.raises(signing.InvalidSignature):
        signing.verify_signature(old, header, receiver.requests[-1].body, now=later.timestamp())


def time_travel(when: dt.datetime):  # type: ignore[no-untyped-def]
    import time_machine

    return time_machine.travel(when, tick=False)


# Events from the real actions --------------------------------------------------------------------


def test_registrations_reach_the_partners_subscribed_endpoints_only_after_commit(
    world: World, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    other, other_admin = factories.make_partner()
    endpoint_for(world, receiver, "/accepted", events=["registration.accepted"])
    endpoint_for(world, receiver, "/allocations", events=["allocation.made"])
    endpoint_for(world, receiver, "/other", partner=other, actor=other_admin)

    with django_capture_on_commit_callbacks(execute=True):
        created = register_rows(world, ["A-1", "A-2", "A-3"])
        assert receiver.requests == []  # nothing leaves before the registration commits

    events = receiver.events("/accepted")
    assert [e["type"] for e in events] == ["registration.accepted"] * 3
    assert [e["data"]["registration"]["reference"] for e in events] == ["A-1", "A-2", "A-3"]
    first = events[0]["data"]
    assert first["registration"]["id"] == created[0].pk
    assert first["registration"]["quantity"] == 2
    assert first["registration"]["units_owed"] == 2
    assert first["registration"]["url"].endswith(f"/partner/registrations/{created[0].pk}/")
    assert receiver.at("/allocations") == []  # not subscribed to registrations
    assert receiver.at("/other") == []  # another partner's endpoint hears nothing of ours
    assert Delivery.objects.filter(state=DeliveryState.SUCCEEDED).count() == 3


def test_a_rolled_back_change_sends_nothing(world: World, receiver: Receiver) -> None:
    endpoint_for(world, receiver)

    def fail_after_registering() -> None:
        with transaction.atomic():
            register_rows(world, ["B-1"])
            raise RuntimeError("the caller fails after registering")

    with pytest.raises(RuntimeError):
        fail_after_registering()
    assert Event.objects.count() == 0
    assert Delivery.objects.count() == 0
    assert receiver.requests == []


def test_emitting_for_many_registrations_takes_a_constant_number_of_queries(
    world: World, receiver: Receiver
) -> None:
    endpoint_for(world, receiver)
    endpoint_for(world, receiver, "/second")

    def queries_for(references: list[str]) -> int:
        with CaptureQueriesContext(connection) as captured:
            register_rows(world, references)
        return len(captured)

    few = queries_for([f"Q-{n}" for n in range(3)])
    many = queries_for([f"R-{n}" for n in range(300)])
    assert many == few
    assert Delivery.objects.count() == 2 * 303


def test_emitting_with_nobody_listening_writes_nothing(world: World) -> None:
    register_rows(world, ["N-1", "N-2"])
    assert Event.objects.count() == 0


def test_allocations_and_certificates_reach_each_partner_with_only_its_own_registrations(
    world: World, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    other, other_admin = factories.make_partner()
    endpoint_for(world, receiver, "/mine", events=["allocation.made", "certificate.issued"])
    endpoint_for(
        world, receiver, "/theirs", events=["allocation.made"], partner=other, actor=other_admin
    )
    mine = factories.register(world, quantity=3, reference="MINE-1")
    theirs = factories.register(
        world, quantity=2, reference="THEIRS-1", partner=other, actor=other_admin
    )
    factories.issue(world, 5)

    with django_capture_on_commit_callbacks(execute=True):
        result = registry_actions.allocate(actor=world.operator_user)

    by_type = {e["type"]: e for e in receiver.events("/mine")}
    assert len(receiver.events("/mine")) == 2
    allocation, certificate = by_type["allocation.made"], by_type["certificate.issued"]
    assert allocation["type"] == "allocation.made"
    assert allocation["data"]["units"] == 3
    [row] = allocation["data"]["registrations"]
    assert (row["id"], row["reference"], row["units"], row["fully_allocated"]) == (
        mine.pk,
        "MINE-1",
        3,
        True,
    )
    issued = next(c for c in result.certificates if c.registration_id == mine.pk)
    assert row["certificates"] == [issued.code]
    assert certificate["type"] == "certificate.issued"
    assert certificate["data"]["certificate"]["code"] == issued.code
    assert certificate["data"]["certificate"]["url"].endswith(f"/verify/{issued.code}")
    assert certificate["data"]["certificate"]["pdf_url"].endswith(f"/verify/{issued.code}.pdf")
    assert certificate["data"]["supersedes"] is None
    assert "THEIRS-1" not in str(receiver.events("/mine"))

    assert (allocation["data"]["part"], allocation["data"]["parts"]) == (1, 1)
    [their_allocation] = receiver.events("/theirs")
    assert [r["id"] for r in their_allocation["data"]["registrations"]] == [theirs.pk]
    assert "MINE-1" not in str(their_allocation)


def test_a_new_certificate_version_reports_the_one_it_supersedes(
    world: World, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    registration = factories.register(world, quantity=6)
    batch = factories.issue(world, 8)
    [version_1] = registry_actions.allocate(actor=world.operator_user).certificates
    endpoint_for(world, receiver, events=["certificate.issued", "certificate.superseded"])
    first = batch.units.lower

    with django_capture_on_commit_callbacks(execute=True):
        result = registry_actions.cancel_units(
            actor=world.operator_user,
            batch=IssuanceBatch.objects.get(pk=batch.pk),
            first=first + 2,
            last=first + 3,
            reason="count_corrected",
            explanation="two phones were counted twice",
        )

    [version_2] = result.reallocated.certificates
    issued, superseded = receiver.events()
    assert issued["type"] == "certificate.issued"
    assert issued["data"]["certificate"]["code"] == version_2.code
    assert issued["data"]["supersedes"] == version_1.code
    assert superseded["type"] == "certificate.superseded"
    assert superseded["data"]["certificate"]["code"] == version_1.code
    assert superseded["data"]["superseded_by"]["code"] == version_2.code
    assert superseded["data"]["registration"]["id"] == registration.pk


def test_a_held_device_raises_a_conflict_for_its_partner_without_naming_the_first_claimant(
    world: World, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    other, other_admin = factories.make_partner()
    endpoint_for(world, receiver, "/first", events=["conflict.raised"])
    endpoint_for(
        world, receiver, "/second", events=["conflict.raised"], partner=other, actor=other_admin
    )
    imei = factories.imei(4711)
    factories.register(world, reference="FIRST", imeis=[imei])

    with django_capture_on_commit_callbacks(execute=True):
        second = factories.register(
            world,
            reference="SECOND",
            imeis=[factories.imei(4712), imei],
            partner=other,
            actor=other_admin,
        )

    assert receiver.at("/first") == []
    [conflict] = receiver.events("/second")
    assert conflict["type"] == "conflict.raised"
    assert conflict["data"]["registration"]["id"] == second.pk
    assert conflict["data"]["devices"] == [{"position": 2, "kind": "imei"}]
    text = str(conflict)
    assert world.partner.name not in text
    assert "FIRST" not in text
    assert str(world.partner.pk) not in str(conflict["data"]["devices"])


# Retries, the log, disabling ---------------------------------------------------------------------


def _one_delivery() -> Delivery:
    return Delivery.objects.get()


def test_a_failed_delivery_is_retried_with_growing_delays_and_a_success_resets_the_count(
    world: World, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    endpoint, _ = endpoint_for(world, receiver)
    receiver.answers = [500, 503, 502]
    with django_capture_on_commit_callbacks(execute=True):
        register_rows(world, ["R-1"])

    pending = _one_delivery()
    assert (pending.state, pending.attempts, pending.last_status) == ("pending", 1, 500)
    # Not due yet: nothing is sent early.
    assert delivery.deliver_due(now=pending.next_attempt_at - dt.timedelta(seconds=1)) == 0
    delays = [pending.next_attempt_at - pending.attempt_log.get().requested_at]
    failures: list[int] = []
    for _ in range(3):
        due = _one_delivery().next_attempt_at
        with django_capture_on_commit_callbacks(execute=True):
            assert delivery.deliver_due(now=due) == 1
        latest = _one_delivery()
        if latest.next_attempt_at:
            delays.append(latest.next_attempt_at - due)
            failures.append(Endpoint.objects.get(pk=endpoint.pk).consecutive_failures)
    assert failures == [2, 3]

    # Delays grow as scheduled: 1 min, 5 min, 30 min (each within the jitter).
    for delay, scheduled in zip(delays, delivery.RETRY_DELAYS, strict=False):
        assert scheduled * (1 - delivery.JITTER) <= delay <= scheduled * (1 + delivery.JITTER)
    assert delays == sorted(delays)

    delivered = _one_delivery()
    assert (delivered.state, delivered.attempts, delivered.last_status) == ("succeeded", 4, 200)
    assert delivered.next_attempt_at is None
    log = list(Attempt.objects.filter(delivery=delivered).order_by("number"))
    assert [a.response_status for a in log] == [500, 503, 502, 200]
    assert [a.succeeded for a in log] == [False, False, False, True]
    assert log[0].error == "HTTP 500 Internal Server Error"
    assert log[0].response_excerpt == "receiver is down"
    assert log[-1].response_excerpt == '{"received": true}'
    assert all(a.request_headers[signing.SIGNATURE_HEADER].startswith("t=") for a in log)
    # Every attempt posts the same event: the receiver can tell repeats by its id.
    assert len({r.json["id"] for r in receiver.requests}) == 1
    endpoint.refresh_from_db()
    assert (endpoint.consecutive_failures, endpoint.failing_since) == (0, None)


def test_an_unreachable_endpoint_is_logged_with_the_error(
    world: World, django_capture_on_commit_callbacks
) -> None:
    closed = Receiver()
    url = closed.url()
    closed.close()  # nothing listens on this port any more
    actions.create_endpoint(
        actor=world.partner_admin, organisation=world.partner, url=url, events=ALL_EVENTS
    )
    with django_capture_on_commit_callbacks(execute=True):
        register_rows(world, ["U-1"])
    attempt = Attempt.objects.get()
    assert attempt.response_status is None
    assert "refused" in attempt.error.lower()
    assert _one_delivery().state == DeliveryState.PENDING


def test_an_endpoint_that_keeps_failing_is_disabled_and_its_admins_get_one_email(
    world: World, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    world.partner_admin.email = "admin@partner.example"
    world.partner_admin.save()
    member = factories.make_member(world.partner, role=Role.MEMBER)
    member.email = "member@partner.example"
    member.save()
    endpoint, _ = endpoint_for(world, receiver)
    receiver.status = 500
    with django_capture_on_commit_callbacks(execute=True):
        register_rows(world, ["F-1"])

    for _ in range(delivery.MAX_ATTEMPTS - 1):
        due = _one_delivery().next_attempt_at
        with django_capture_on_commit_callbacks(execute=True):
            delivery.deliver_due(now=due)

    failed = _one_delivery()
    assert (failed.state, failed.attempts) == ("failed", delivery.MAX_ATTEMPTS)
    assert len(receiver.requests) == delivery.MAX_ATTEMPTS
    span = failed.finished_at - failed.created_at
    assert dt.timedelta(hours=24) < span < dt.timedelta(hours=32)
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    assert "8 failed attempts" in endpoint.disabled_reason
    assert "HTTP 500" in endpoint.disabled_reason
    assert AuditEvent.objects.filter(code="webhooks.endpoint.disabled").count() == 1
    [message] = mail.outbox
    assert message.to == ["admin@partner.example"]
    assert endpoint.url in message.body
    assert f"/partner/webhooks/{endpoint.pk}/" in message.body
    assert "enable" in message.body

    # Disabled: new events are not sent to it.
    register_rows(world, ["F-2"])
    assert Delivery.objects.count() == 1


def test_a_burst_of_failures_within_a_day_does_not_disable_the_endpoint(
    world: World, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    endpoint, _ = endpoint_for(world, receiver)
    receiver.status = 503
    with django_capture_on_commit_callbacks(execute=True):
        register_rows(world, [f"S-{n}" for n in range(12)])
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 12
    assert endpoint.enabled
    assert mail.outbox == []


def test_a_disabled_endpoints_pending_deliveries_resume_when_it_is_enabled(
    world: World, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    endpoint, _ = endpoint_for(world, receiver)
    receiver.answers = [500]
    with django_capture_on_commit_callbacks(execute=True):
        register_rows(world, ["P-1"])
    endpoint = actions.disable_endpoint(actor=world.partner_admin, endpoint=endpoint)
    due = _one_delivery().next_attempt_at
    assert delivery.deliver_due(now=due) == 0  # disabled: not attempted

    with django_capture_on_commit_callbacks(execute=True):
        actions.enable_endpoint(actor=world.partner_admin, endpoint=endpoint)
    assert _one_delivery().state == DeliveryState.SUCCEEDED
    assert len(receiver.requests) == 2


def test_a_logged_delivery_can_be_redelivered_once_as_a_new_delivery(
    world: World, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    _, secret = endpoint_for(world, receiver)
    with django_capture_on_commit_callbacks(execute=True):
        register_rows(world, ["D-1"])
    original = _one_delivery()

    with django_capture_on_commit_callbacks(execute=True):
        again = actions.redeliver(actor=world.partner_admin, original=original)

    again.refresh_from_db()
    assert (again.manual, again.redelivery_of, again.state) == (True, original, "succeeded")
    first, second = receiver.requests
    assert first.json == second.json  # the same event, the same id
    assert second.headers[signing.DELIVERY_HEADER] == str(again.uuid)
    signing.verify_signature(secret, second.headers[signing.SIGNATURE_HEADER], second.body)


def test_a_failing_manual_delivery_is_attempted_once_and_does_not_count_towards_disabling(
    world: World, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    endpoint, _ = endpoint_for(world, receiver)
    receiver.status = 500
    with django_capture_on_commit_callbacks(execute=True):
        test = actions.send_test_event(actor=world.partner_admin, endpoint=endpoint)
    test.refresh_from_db()
    assert (test.state, test.attempts, test.next_attempt_at) == ("failed", 1, None)
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0


def test_a_delivery_taken_by_one_sender_is_not_sent_by_another(
    world: World, receiver: Receiver
) -> None:
    endpoint_for(world, receiver)
    register_rows(world, ["L-1"])  # not committed: the delivery waits for a sender
    pending = _one_delivery()
    now = timezone.now()
    assert delivery._lease(pending.pk, now)
    assert delivery.deliver(pending.pk, now=now) is None
    assert receiver.requests == []
    # A sender that died holding it: the lease runs out and the sweep sends it.
    assert delivery.deliver(pending.pk, now=now + delivery.LEASE) is not None
    assert len(receiver.requests) == 1


# Who may do what ---------------------------------------------------------------------------------


def test_only_administrators_change_endpoints_and_readers_send_nothing(
    world: World, receiver: Receiver
) -> None:
    endpoint, _ = endpoint_for(world, receiver)
    member = factories.make_member(world.partner, role=Role.MEMBER)
    viewer = factories.make_member(world.partner, role=Role.VIEWER)
    _, other_admin = factories.make_partner()
    with pytest.raises(NotAllowed):
        endpoint_for(world, receiver, actor=member)
    with pytest.raises(NotAllowed):
        actions.rotate_secret(actor=member, endpoint=endpoint)
    with pytest.raises(NotAllowed):
        actions.disable_endpoint(actor=other_admin, endpoint=endpoint)
    with pytest.raises(NotAllowed):
        actions.send_test_event(actor=viewer, endpoint=endpoint)
    actions.send_test_event(actor=member, endpoint=endpoint)
    with pytest.raises(NotAllowed):
        endpoint_for(world, receiver, actor=other_admin)  # not a member of this partner


def test_an_endpoint_needs_known_events_and_a_reachable_url(
    world: World, receiver: Receiver, settings
) -> None:
    with pytest.raises(actions.EndpointRefused, match="at least one event"):
        endpoint_for(world, receiver, events=[])
    with pytest.raises(actions.EndpointRefused, match="unknown event 'ping'"):
        endpoint_for(world, receiver, events=["ping"])
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    with pytest.raises(actions.EndpointRefused, match="https"):
        endpoint_for(world, receiver)
    with pytest.raises(actions.EndpointRefused, match="private"):
        actions.create_endpoint(
            actor=world.partner_admin,
            organisation=world.partner,
            url="https://10.0.0.7/hook",
            events=ALL_EVENTS,
        )


def test_the_verification_example_in_the_documentation_checks_a_real_delivery(
    world: World, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    docs = (Path(__file__).resolve().parent.parent / "docs" / "webhooks.md").read_text()
    example = docs.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, object] = {}
    exec(example, namespace)  # noqa: S102 - our own documentation's example
    verify = namespace["verify"]
    _, secret = endpoint_for(world, receiver)
    with django_capture_on_commit_callbacks(execute=True):
        register_rows(world, ["DOC-1"])
    [request] = receiver.requests
    header = request.headers[signing.SIGNATURE_HEADER]
    assert verify(secret, header, request.body)  # type: ignore[operator]
    assert not verify("whsec_wrong", header, request.body)  # type: ignore[operator]
    assert not verify(secret, header, request.body + b" ")  # type: ignore[operator]


@pytest.mark.django_db(transaction=True)
def test_two_senders_at_the_same_moment_send_a_delivery_once(receiver: Receiver) -> None:
    world = factories.make_world()
    endpoint_for(world, receiver)
    receiver.answers = [500]
    register_rows(world, ["C-1"])  # commits: the first attempt fails, a retry is scheduled
    pending = _one_delivery()
    assert pending.attempts == 1
    receiver.delay = 0.5
    start = threading.Barrier(2)
    results: list[object] = []

    errors: list[BaseException] = []

    def send() -> None:
        try:
            start.wait()
            results.append(delivery.deliver(pending.pk, now=pending.next_attempt_at))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(r is None for r in results) == [False, True]
    assert len(receiver.requests) == 2
    assert _one_delivery().state == DeliveryState.SUCCEEDED
    assert Attempt.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_sender_updating_an_endpoint_does_not_deadlock_an_action_emitting_to_it(
    receiver: Receiver,
) -> None:
    """The sender holds the endpoint, then wants the audit chain (to disable it); an action holds
    the audit chain, then records a delivery for that endpoint. Both must get through."""
    world = factories.make_world()
    endpoint, _ = endpoint_for(world, receiver)
    sender_holds_endpoint = threading.Event()
    action_holds_audit = threading.Event()
    errors: list[BaseException] = []

    def sender() -> None:
        try:
            with transaction.atomic():
                delivery.lock_endpoint(endpoint.pk)
                sender_holds_endpoint.set()
                action_holds_audit.wait(5)
                audit.lock_chain()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    def action() -> None:
        try:
            sender_holds_endpoint.wait(5)
            with transaction.atomic():
                audit.lock_chain()
                action_holds_audit.set()
                actions.emit(
                    organisation=world.partner, event_type="registration.accepted", data={"n": 1}
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sender), threading.Thread(target=action)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Event.objects.filter(type="registration.accepted").count() == 1


def test_the_database_refuses_inconsistent_endpoints_deliveries_and_attempts(
    world: World, receiver: Receiver
) -> None:
    endpoint, _ = endpoint_for(world, receiver)
    with pytest.raises(IntegrityError), transaction.atomic():
        Endpoint.objects.filter(pk=endpoint.pk).update(enabled=False)  # without disabled_at
    with pytest.raises(IntegrityError), transaction.atomic():
        Endpoint.objects.filter(pk=endpoint.pk).update(url="file:///etc/passwd")
    register_rows(world, ["I-1"])
    pending = _one_delivery()
    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.filter(pk=pending.pk).update(next_attempt_at=None)  # pending, unscheduled
    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.filter(pk=pending.pk).update(state="succeeded")  # finished, still due
    attempt = delivery.deliver(pending.pk)
    assert attempt is not None
    with pytest.raises(IntegrityError), transaction.atomic():
        Attempt.objects.create(
            delivery=pending,
            number=attempt.number,
            requested_at=timezone.now(),
            request_headers={},
            duration_ms=0,
            succeeded=False,
        )


def test_the_sweep_command_sends_what_is_due_and_a_test_event_reaches_a_disabled_endpoint(
    world: World, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    endpoint, _ = endpoint_for(world, receiver)
    register_rows(world, ["W-1"])  # not committed here: no task ran, as if it had been lost
    out = StringIO()
    call_command("deliver_webhooks", stdout=out)
    assert "1 webhook deliveries attempted" in out.getvalue()
    assert len(receiver.requests) == 1

    endpoint = actions.disable_endpoint(actor=world.partner_admin, endpoint=endpoint)
    with django_capture_on_commit_callbacks(execute=True):
        test = actions.send_test_event(actor=world.partner_admin, endpoint=endpoint)
    test.refresh_from_db()
    assert test.state == DeliveryState.SUCCEEDED
    assert receiver.requests[-1].headers[signing.EVENT_HEADER] == "ping"


def test_a_large_allocation_is_told_in_parts(
    world: World, receiver: Receiver, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    from oneforone.registry import webhook_events

    monkeypatch.setattr(webhook_events, "PER_EVENT", 2)
    endpoint_for(world, receiver, events=["allocation.made"])
    register_rows(world, ["P-1", "P-2", "P-3"])  # 2 devices each
    factories.issue(world, 6)
    with django_capture_on_commit_callbacks(execute=True):
        registry_actions.allocate(actor=world.operator_user)
    parts = sorted(receiver.events(), key=lambda e: e["data"]["part"])
    assert [(e["data"]["part"], e["data"]["parts"]) for e in parts] == [(1, 2), (2, 2)]
    assert [[r["reference"] for r in e["data"]["registrations"]] for e in parts] == [
        ["P-1", "P-2"],
        ["P-3"],
    ]
    assert [e["data"]["units"] for e in parts] == [4, 2]


def test_a_sender_whose_lease_ran_out_only_logs_its_late_attempt(
    world: World, receiver: Receiver
) -> None:
    endpoint_for(world, receiver)
    register_rows(world, ["LATE-1"])
    slow = _one_delivery()
    now = timezone.now()
    assert delivery._lease(slow.pk, now)  # the slow sender takes it, then hangs
    assert delivery.deliver(slow.pk, now=now + delivery.LEASE) is not None  # another sends it
    late = delivery._record(slow, {}, delivery.Answer(503, "", "HTTP 503", 10_000), now)
    finished = _one_delivery()
    assert (finished.state, finished.attempts) == (DeliveryState.SUCCEEDED, 2)
    assert late.number == 2
    assert [a.response_status for a in finished.attempt_log.order_by("number")] == [200, 503]


def test_in_production_nothing_is_sent_to_a_private_address(
    world: World, receiver: Receiver, settings, django_capture_on_commit_callbacks
) -> None:
    actions.create_endpoint(
        actor=world.partner_admin,
        organisation=world.partner,
        url=receiver.url().replace("http://", "https://"),
        events=ALL_EVENTS,
    )
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False  # as in production
    with django_capture_on_commit_callbacks(execute=True):
        register_rows(world, ["PRIV-1"])
    attempt = Attempt.objects.get()
    assert attempt.error.startswith("not sent: 127.0.0.1 points at a private or reserved address")
    assert attempt.response_status is None
    assert receiver.requests == []
