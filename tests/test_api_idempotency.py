"""Idempotency-Key, over real HTTP against a live server: a retry gets the first answer, a retry
while the first request runs gets 409, the same key with another body is refused; and however
many retries race, the registration is made once."""

from __future__ import annotations

import datetime as dt
import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import psycopg
import pytest
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.test import RequestFactory
from django.utils import timezone

from factories import World, imei
from oneforone.accounts import actions as account_actions
from oneforone.core import idempotency
from oneforone.core.models import IdempotencyRecord, IdempotencyState
from oneforone.partners.models import Registration


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def replayed(self) -> bool:
        return self.headers.get("Idempotent-Replayed") == "true"

    def json(self) -> dict:
        return json.loads(self.body)


def post(base_url: str, path: str, body: dict, *, api_key: str, idempotency_key: str) -> Answer:
    request = urllib.request.Request(  # noqa: S310 (the live server's own http:// address)
        base_url + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-API-Key": api_key,
            "Idempotency-Key": idempotency_key,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return Answer(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, dict(error.headers), error.read())


def write_key(world: World) -> str:
    _, raw = account_actions.create_api_key(
        actor=world.partner_admin, organisation=world.partner, name="ERP"
    )
    return raw


def registration(reference: str, devices: int = 0) -> dict:
    if devices:
        return {
            "reference": reference,
            "category": "phone",
            "devices": [{"imei": imei(n)} for n in range(devices)],
        }
    return {"reference": reference, "category": "phone", "quantity": 3}


def test_a_retry_while_the_first_request_runs_gets_409_then_the_first_answer(
    live_server, transactional_db: None, world: World
) -> None:
    api_key = write_key(world)
    body = registration("HELD-BACK")
    send = lambda payload=body: post(  # noqa: E731
        live_server.url, "/api/v1/registrations", payload, api_key=api_key, idempotency_key="k-1"
    )
    # Another session holds the registrations table: the first request claims its key, then
    # waits inside the action until the lock goes.
    blocker = psycopg.connect(**connection.get_connection_params())
    blocker.execute("LOCK TABLE partners_registration IN EXCLUSIVE MODE")
    with ThreadPoolExecutor(max_workers=3) as pool:
        first = pool.submit(send)
        while not IdempotencyRecord.objects.filter(key="k-1").exists():
            assert not first.done(), first.result()
        retries = [pool.submit(send) for _ in range(2)]
        while_running = [r.result() for r in retries]
        blocker.commit()
        blocker.close()
        original = first.result()

    for answer in while_running:
        assert answer.status == 409
        assert answer.json()["code"] == "idempotency_key_in_use"
        assert int(answer.headers["Retry-After"]) >= 1
    assert original.status == 201, original.body
    assert not original.replayed

    replay = send()
    assert replay.status == 201
    assert replay.replayed
    assert replay.body == original.body
    assert Registration.objects.filter(reference="HELD-BACK").count() == 1

    other = send(registration("SOMETHING-ELSE"))
    assert other.status == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert not Registration.objects.filter(reference="SOMETHING-ELSE").exists()


def test_racing_retries_register_the_devices_once(
    live_server, transactional_db: None, world: World
) -> None:
    api_key = write_key(world)
    body = {"registrations": [registration("RACE-1", devices=500), registration("RACE-2")]}
    start = threading.Barrier(6)

    def send(_: int) -> Answer:
        start.wait()
        return post(
            live_server.url,
            "/api/v1/registrations/batch",
            body,
            api_key=api_key,
            idempotency_key="race",
        )

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(send, range(6)))

    assert {a.status for a in answers} <= {201, 409}
    originals = [a for a in answers if a.status == 201 and not a.replayed]
    assert len(originals) == 1
    assert all(a.body == originals[0].body for a in answers if a.status == 201)
    assert Registration.objects.filter(reference__startswith="RACE-").count() == 2
    assert Registration.objects.get(reference="RACE-1").devices.count() == 500
    final = post(
        live_server.url,
        "/api/v1/registrations/batch",
        body,
        api_key=api_key,
        idempotency_key="race",
    )
    assert (final.status, final.replayed, final.body) == (201, True, originals[0].body)


def test_a_key_is_per_api_key_and_a_validation_error_is_final(
    live_server, transactional_db: None, world: World
) -> None:
    first, second = write_key(world), write_key(world)
    bad = {"reference": "X", "category": "phone", "quantity": -1}

    refused = post(
        live_server.url, "/api/v1/registrations", bad, api_key=first, idempotency_key="v"
    )
    again = post(live_server.url, "/api/v1/registrations", bad, api_key=first, idempotency_key="v")
    assert (refused.status, again.status, again.replayed) == (422, 422, True)

    good = registration("PER-KEY")
    # The same Idempotency-Key under another API key is another request.
    made = post(live_server.url, "/api/v1/registrations", good, api_key=second, idempotency_key="v")
    assert (made.status, made.replayed) == (201, False)


# The mechanism itself, on a plain view ---------------------------------------------------------


def _view_failing_first(calls: list[int]):  # type: ignore[no-untyped-def]
    @idempotency.idempotent(lambda request: "test")
    def view(request: HttpRequest) -> HttpResponse:
        calls.append(1)
        if len(calls) == 1:
            return JsonResponse({"code": "server_error"}, status=500)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return JsonResponse({"made": len(calls)}, status=201)

    return view


def test_a_server_error_or_an_exception_releases_the_key_so_a_retry_runs(db: None) -> None:
    calls: list[int] = []
    view = _view_failing_first(calls)

    def request() -> HttpRequest:
        return RequestFactory().post(
            "/x", data=b"{}", content_type="application/json", headers={"Idempotency-Key": "r"}
        )

    assert view(request()).status_code == 500
    with pytest.raises(RuntimeError):
        view(request())
    assert view(request()).status_code == 201
    replay = view(request())
    assert (replay.status_code, replay["Idempotent-Replayed"]) == (201, "true")
    assert json.loads(replay.content) == {"made": 3}
    assert len(calls) == 3


def test_a_claim_lost_by_a_crashed_worker_is_taken_over_after_its_lease(db: None) -> None:
    calls: list[int] = []

    @idempotency.idempotent(lambda request: "test")
    def view(request: HttpRequest) -> HttpResponse:
        calls.append(1)
        return JsonResponse({}, status=201)

    def request() -> HttpRequest:
        return RequestFactory().post(
            "/x", data=b"{}", content_type="application/json", headers={"Idempotency-Key": "c"}
        )

    now = timezone.now()
    record = IdempotencyRecord.objects.create(
        scope="test",
        key="c",
        fingerprint=idempotency.fingerprint(request()),
        method="POST",
        path="/x",
        state=IdempotencyState.RUNNING,
        created_at=now,
        lease_until=now + dt.timedelta(minutes=1),
        expires_at=now + idempotency.IDEMPOTENCY_TTL,
    )
    assert view(request()).status_code == 409
    IdempotencyRecord.objects.filter(pk=record.pk).update(lease_until=now)
    assert view(request()).status_code == 201
    assert len(calls) == 1


def test_an_invalid_key_is_refused_and_expired_records_are_purged(db: None) -> None:
    @idempotency.idempotent(lambda request: "test")
    def view(request: HttpRequest) -> HttpResponse:
        return JsonResponse({}, status=201)

    refused = view(
        RequestFactory().post(
            "/x",
            data=b"{}",
            content_type="application/json",
            headers={"Idempotency-Key": "has spaces"},
        )
    )
    assert refused.status_code == 400
    assert json.loads(refused.content)["code"] == "invalid_idempotency_key"

    view(
        RequestFactory().post(
            "/x", data=b"{}", content_type="application/json", headers={"Idempotency-Key": "old"}
        )
    )
    IdempotencyRecord.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert idempotency.purge_expired() == 1
    assert not IdempotencyRecord.objects.exists()


def test_the_purge_command_deletes_expired_records(db: None) -> None:
    from io import StringIO

    from django.core.management import call_command

    now = timezone.now()
    for key, expires in [
        ("old", now - dt.timedelta(seconds=1)),
        ("new", now + dt.timedelta(hours=1)),
    ]:
        IdempotencyRecord.objects.create(
            scope="test",
            key=key,
            fingerprint="0" * 64,
            method="POST",
            path="/x",
            state=IdempotencyState.RUNNING,
            created_at=now,
            lease_until=now,
            expires_at=expires,
        )
    out = StringIO()

    call_command("purge_idempotency_keys", stdout=out)

    assert "1 expired" in out.getvalue()
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
