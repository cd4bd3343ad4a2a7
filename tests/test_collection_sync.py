"""Offline sync of intake records from hub devices: replayed, reordered and partially failed
batches end in the same state as one clean upload; the API answers each record on its own."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import uuid
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factories import (
    World,
    imei,
    make_collector,
    make_hub,
    make_member,
    make_organisation,
    record_intake,
    seal_lot,
)
from oneforone.accounts import actions as account_actions
from oneforone.accounts.models import ApiKeyScope, Role
from oneforone.collection import signals, sync
from oneforone.collection.models import (
    Collector,
    Intake,
    IntakeImei,
    IntakePhoto,
    Payment,
    PaymentMethod,
    PriceCap,
    SyncBatch,
)
from oneforone.collection.sync import IntakeRecord, Outcome

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x07" * 64


def version(
    client_uuid: uuid.UUID, revision: int, collector: Collector, *, phones: int = 10, **more: Any
) -> IntakeRecord:
    figures: dict[str, Any] = {
        "client_uuid": client_uuid,
        "revision": revision,
        "collected_at": NOW - dt.timedelta(days=2, minutes=phones),
        "collector_code": collector.code,
        "phones": phones,
        "net_weight_kg": Decimal("0.055") * phones,
        "price_per_phone": Decimal("0.50"),
        "batteries_removed": phones // 2,
        "battery_weight_kg": Decimal("0.045") * (phones // 2),
    }
    figures.update(more)
    return IntakeRecord(**figures)


def send(
    world: World, records: list[IntakeRecord], batch_uuid: uuid.UUID | None = None
) -> sync.BatchResult:
    batch_uuid = batch_uuid or uuid.uuid4()
    body = json.dumps([repr(r) for r in records]).encode()
    return sync.sync_batch(
        actor=world.hub_user,
        hub=world.hub,
        batch_uuid=batch_uuid,
        device_id="tablet-1",
        records=records,
        body_sha256=hashlib.sha256(body).hexdigest(),
    )


def canonical_state() -> dict[str, Any]:
    """Everything a sync writes, keyed by the device's UUIDs (not by database ids or times of
    recording): the records, their IMEIs and photos, and the payments."""
    intakes = {
        str(i.client_uuid): (
            i.revision,
            i.collector.code,
            i.collected_at,
            i.phones,
            i.net_weight_kg,
            i.batteries_removed,
            i.battery_weight_kg,
            i.condition,
            i.price_per_phone,
            i.latitude,
            i.longitude,
            i.note,
            sorted(IntakeImei.objects.filter(intake=i).values_list("imei", flat=True)),
            sorted(IntakePhoto.objects.filter(intake=i).values_list("sha256", flat=True)),
        )
        for i in Intake.objects.select_related("collector")
    }
    payments = sorted(
        (str(p.intake.client_uuid), p.kind, p.amount, p.currency, p.method, p.reference, p.paid_at)
        for p in Payment.objects.select_related("intake")
    )
    return {"intakes": intakes, "payments": payments}


# --- the conflict rule, record by record ----------------------------------------------------------


def test_a_new_record_is_created_with_the_devices_uuid_and_revision(world: World) -> None:
    record = version(uuid.uuid4(), 2, world.collector, imeis=(imei(1),), paid_with="cash")

    result = send(world, [record])

    assert [(r.outcome, r.revision) for r in result.results] == [(Outcome.CREATED, 2)]
    intake = Intake.objects.get(client_uuid=record.client_uuid)
    assert intake.revision == 2
    assert intake.imeis.get().imei == imei(1)
    assert Payment.objects.get(intake=intake).method == PaymentMethod.CASH


def test_a_higher_revision_replaces_an_open_record(world: World) -> None:
    key = uuid.uuid4()
    send(world, [version(key, 1, world.collector, phones=10)])

    result = send(world, [version(key, 2, world.collector, phones=12)])

    assert result.results[0].outcome == Outcome.UPDATED
    assert Intake.objects.get(client_uuid=key).phones == 12


def test_a_lower_revision_is_ignored_and_answered_with_the_kept_one(world: World) -> None:
    key = uuid.uuid4()
    send(world, [version(key, 3, world.collector, phones=12)])

    result = send(world, [version(key, 2, world.collector, phones=10)])

    assert (result.results[0].outcome, result.results[0].revision) == (Outcome.CONFLICT, 3)
    assert "keeps revision 3" in result.results[0].message
    assert Intake.objects.get(client_uuid=key).phones == 12


def test_the_same_revision_again_is_unchanged(world: World) -> None:
    record = version(uuid.uuid4(), 1, world.collector, imeis=(imei(2),), paid_with="cash")
    send(world, [record])

    result = send(world, [replace(record, net_weight_kg=Decimal("0.5500"))])

    assert result.results[0].outcome == Outcome.UNCHANGED


def test_the_same_revision_with_other_figures_keeps_the_first(world: World) -> None:
    key = uuid.uuid4()
    send(world, [version(key, 1, world.collector, phones=10)])

    result = send(world, [version(key, 1, world.collector, phones=11)])

    assert result.results[0].outcome == Outcome.CONFLICT
    assert "the first one stays" in result.results[0].message
    assert Intake.objects.get(client_uuid=key).phones == 10


@pytest.mark.parametrize("lock", ["paid", "packed"])
def test_an_edit_of_a_paid_or_packed_record_asks_for_a_correction(world: World, lock: str) -> None:
    key = uuid.uuid4()
    send(world, [version(key, 1, world.collector, paid_with="cash" if lock == "paid" else None)])
    if lock == "packed":
        seal_lot(world, [Intake.objects.get(client_uuid=key)])

    result = send(world, [version(key, 2, world.collector, phones=9)])

    assert result.results[0].outcome == Outcome.CONFLICT
    assert "record a correction" in result.results[0].message
    assert Intake.objects.get(client_uuid=key).phones == 10


def test_a_broken_record_is_rejected_alone_and_writes_nothing(world: World) -> None:
    good = version(uuid.uuid4(), 1, world.collector)
    bad_imei = version(uuid.uuid4(), 1, world.collector, imeis=("123",))
    unknown = version(uuid.uuid4(), 1, world.collector, collector_code="NOBODY")
    stranger = version(uuid.uuid4(), 1, make_collector(make_hub(world.collection_partner)))

    result = send(world, [good, bad_imei, unknown, stranger])

    assert [r.outcome for r in result.results] == [
        Outcome.CREATED,
        Outcome.REJECTED,
        Outcome.REJECTED,
        Outcome.REJECTED,
    ]
    assert "not a valid IMEI" in result.results[1].message
    assert "register the collector first" in result.results[2].message
    assert list(Intake.objects.values_list("client_uuid", flat=True)) == [good.client_uuid]


def test_a_price_above_the_cap_is_rejected_with_the_cap(world: World) -> None:
    PriceCap.objects.create(
        country_id="GH",
        valid_from=dt.date(2020, 1, 1),
        max_per_phone=Decimal("3.00"),
        currency="GHS",
        second_hand_value=Decimal("40"),
        source="test",
        set_by=world.operator_user,
        set_at=timezone.now(),
    )

    result = send(world, [version(uuid.uuid4(), 1, world.collector, price_per_phone=Decimal("4"))])

    assert result.results[0].outcome == Outcome.REJECTED
    assert "above the cap of GHS3.00" in result.results[0].message


def test_a_collector_registered_offline_is_named_by_its_uuid(world: World) -> None:
    record = version(
        uuid.uuid4(),
        1,
        world.collector,
        collector_code=None,
        collector_uuid=world.collector.client_uuid,
    )

    assert send(world, [record]).results[0].outcome == Outcome.CREATED


# --- batches --------------------------------------------------------------------------------------


def test_the_same_batch_twice_returns_the_stored_answer_and_changes_nothing(world: World) -> None:
    records = [version(uuid.uuid4(), 1, world.collector, phones=n) for n in (5, 6)]
    batch = uuid.uuid4()
    first = send(world, records, batch)
    before = canonical_state()

    again = send(world, records, batch)

    assert again.replayed
    assert again.results == first.results
    assert canonical_state() == before
    assert SyncBatch.objects.count() == 1


def test_a_batch_uuid_reused_with_other_records_is_refused(world: World) -> None:
    batch = uuid.uuid4()
    send(world, [version(uuid.uuid4(), 1, world.collector)], batch)

    with pytest.raises(sync.SyncError, match="new batch_uuid"):
        send(world, [version(uuid.uuid4(), 1, world.collector)], batch)
    assert Intake.objects.count() == 1


def test_a_batch_broken_half_way_leaves_nothing_and_is_sent_again(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = [version(uuid.uuid4(), 1, world.collector, phones=n) for n in (5, 6, 7)]
    with transaction.atomic():
        send(world, records)
        clean = canonical_state()
        transaction.set_rollback(True)
    calls = []

    def crash_on_the_third(intake: Intake) -> list:
        calls.append(intake)
        if len(calls) == 3:
            raise RuntimeError("connection to the server lost")
        return []

    batch = uuid.uuid4()
    monkeypatch.setattr(signals, "raise_for_intake", crash_on_the_third)
    with pytest.raises(RuntimeError):
        send(world, records, batch)
    assert not Intake.objects.exists()
    assert not SyncBatch.objects.exists()
    monkeypatch.undo()

    result = send(world, records, batch)

    assert [r.outcome for r in result.results] == [Outcome.CREATED] * 3
    assert canonical_state() == clean


def test_rejected_records_sent_again_once_fixed_end_as_a_clean_upload(world: World) -> None:
    newcomer_uuid = uuid.uuid4()
    records = [
        version(uuid.uuid4(), 1, world.collector, phones=5),
        version(
            uuid.uuid4(),
            1,
            world.collector,
            phones=6,
            collector_code=None,
            collector_uuid=newcomer_uuid,
        ),
    ]
    with transaction.atomic():
        Collector.objects.create(hub=world.hub, code="NEW-1", client_uuid=newcomer_uuid)
        send(world, records)
        clean = canonical_state()
        transaction.set_rollback(True)

    first = send(world, records)
    Collector.objects.create(hub=world.hub, code="NEW-1", client_uuid=newcomer_uuid)
    second = send(world, records)

    assert [r.outcome for r in first.results] == [Outcome.CREATED, Outcome.REJECTED]
    assert [r.outcome for r in second.results] == [Outcome.UNCHANGED, Outcome.CREATED]
    assert canonical_state() == clean


# --- any order, any repetition: the state of one clean upload -------------------------------------


@st.composite
def plans(
    draw: st.DrawFn,
) -> tuple[list[tuple[int, int, int, bool, int]], list[list[int]], list[int]]:
    """Records with one to three revisions; only a record's last revision may pay it (after
    paying, a device corrects instead of editing). Then the versions cut into batches that arrive
    in any order, some of them twice."""
    shapes = []
    for record in range(draw(st.integers(1, 4))):
        revisions = draw(st.integers(1, 3))
        paid_last = draw(st.booleans())
        for revision in range(1, revisions + 1):
            phones = draw(st.integers(1, 60))
            shapes.append(
                (
                    record,
                    revision,
                    phones,
                    paid_last and revision == revisions,
                    draw(st.integers(0, 3)),
                )
            )
    order = draw(st.permutations(range(len(shapes))))
    batches: list[list[int]] = []
    rest = list(order)
    while rest:
        size = draw(st.integers(1, 3))
        batches.append(rest[:size])
        rest = rest[size:]
    replays = draw(st.lists(st.integers(0, len(batches) - 1), max_size=3))
    return shapes, batches, replays


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=plans())
def test_reordered_and_replayed_batches_end_as_one_clean_upload(world: World, plan: Any) -> None:
    shapes, batches, replays = plan
    keys = [uuid.uuid5(uuid.NAMESPACE_URL, f"record-{n}") for n in range(5)]
    second = Collector.objects.get_or_create(hub=world.hub, code="SYNC-2")[0]
    versions = [
        version(
            keys[record],
            revision,
            world.collector if record % 2 == 0 else second,
            phones=phones,
            imeis=tuple(imei(record * 10 + k) for k in range(imeis)),
            photos=(hashlib.sha256(f"{record}-{revision}".encode()).hexdigest(),),
            condition="whole" if revision % 2 else "board_missing",
            paid_with="mobile_money" if paid else None,
            payment_reference=f"MM-{record}{revision}" if paid else "",
        )
        for record, revision, phones, paid, imeis in shapes
    ]

    with transaction.atomic():
        send(world, versions)
        clean = canonical_state()
        transaction.set_rollback(True)

    with transaction.atomic():
        batch_uuids = [uuid.uuid4() for _ in batches]
        for batch, batch_uuid in zip(batches, batch_uuids, strict=True):
            send(world, [versions[i] for i in batch], batch_uuid)
        for again in replays:
            assert send(world, [versions[i] for i in batches[again]], batch_uuids[again]).replayed
        messy = canonical_state()
        transaction.set_rollback(True)

    assert messy == clean


def test_a_shuffled_upload_of_a_day_of_records_ends_as_one_clean_upload(world: World) -> None:
    rng = random.Random(5)
    versions = []
    for _ in range(12):
        key = uuid.uuid4()
        edits = rng.randint(1, 3)
        for revision in range(1, edits + 1):
            versions.append(
                version(
                    key,
                    revision,
                    world.collector,
                    phones=rng.randint(1, 90),
                    paid_with="cash" if revision == edits else None,
                )
            )
    with transaction.atomic():
        send(world, versions)
        clean = canonical_state()
        transaction.set_rollback(True)
    shuffled = versions[:]
    rng.shuffle(shuffled)

    for start in range(0, len(shuffled), 5):
        send(world, shuffled[start : start + 5])
        send(world, shuffled[start : start + 5])  # a retry with a new batch_uuid

    assert canonical_state() == clean
    assert Payment.objects.count() == 12


# --- the API --------------------------------------------------------------------------------------


def device_key(world: World, scope: str = ApiKeyScope.WRITE) -> str:
    admin = make_member(world.collection_partner, role=Role.ADMIN)
    _, raw = account_actions.create_api_key(
        actor=admin, organisation=world.collection_partner, name="hub tablet", scope=scope
    )
    return raw


def api_record(world: World, client_uuid: uuid.UUID, **more: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "client_uuid": str(client_uuid),
        "revision": 1,
        "collected_at": (NOW - dt.timedelta(hours=3)).isoformat(),
        "collector": world.collector.code,
        "phones": 12,
        "net_weight_kg": "0.660",
        "batteries_removed": 4,
        "battery_weight_kg": "0.180",
        "condition": "whole",
        "price_per_phone": "0.50",
        "latitude": "5.568012",
        "longitude": "-0.212034",
        "imeis": [imei(77)],
        "photos": [hashlib.sha256(PNG).hexdigest()],
        "paid_with": "mobile_money",
        "payment_reference": "MM-4411",
    }
    body.update(more)
    return body


def post_batch(client: Client, key: str, body: dict[str, Any]) -> Any:
    return client.post(
        "/api/v1/collection/sync",
        json.dumps(body),
        content_type="application/json",
        headers={"X-API-Key": key},
    )


def test_the_sync_api_answers_each_record_and_replays_a_batch(world: World) -> None:
    key = device_key(world)
    client = Client()
    body = {
        "batch_uuid": str(uuid.uuid4()),
        "device_id": "tablet-1",
        "hub": world.hub.code,
        "records": [api_record(world, uuid.uuid4()), api_record(world, uuid.uuid4(), phones=3)],
    }

    first = post_batch(client, key, {**body, "records": body["records"][:1]})
    again = post_batch(client, key, {**body, "records": body["records"][:1]})

    assert first.status_code == 200, first.content
    assert first.json()["records"][0]["outcome"] == "created"
    assert first.json()["counts"]["created"] == 1
    assert again.json()["replayed"] is True
    assert again.json()["records"] == first.json()["records"]
    intake = Intake.objects.get()
    assert (intake.latitude, intake.amount_paid) == (Decimal("5.568012"), Decimal("6.0000"))
    reused = post_batch(client, key, {**body, "records": body["records"][1:]})
    assert reused.status_code == 409
    assert reused.json()["code"] == "batch_reused"


def test_the_sync_api_refuses_floats_in_figures(world: World) -> None:
    response = post_batch(
        Client(),
        device_key(world),
        {
            "batch_uuid": str(uuid.uuid4()),
            "device_id": "tablet-1",
            "hub": world.hub.code,
            "records": [api_record(world, uuid.uuid4(), price_per_phone=0.5)],
        },
    )

    assert response.status_code == 422
    assert "never as JSON floats" in json.dumps(response.json())
    assert not Intake.objects.exists()


def test_the_sync_api_is_for_the_hubs_own_collection_partner(world: World) -> None:
    body = {
        "batch_uuid": str(uuid.uuid4()),
        "device_id": "tablet-1",
        "hub": world.hub.code,
        "records": [api_record(world, uuid.uuid4())],
    }
    _, partner_key = account_actions.create_api_key(
        actor=world.partner_admin, organisation=world.partner, name="ERP"
    )
    stranger_org = make_organisation("collection_partner", country="NG")
    stranger_admin = make_member(stranger_org, role=Role.ADMIN)
    _, stranger_key = account_actions.create_api_key(
        actor=stranger_admin, organisation=stranger_org, name="their tablet"
    )
    client = Client()

    assert post_batch(client, partner_key, body).status_code == 401
    assert post_batch(client, stranger_key, body).status_code == 404
    assert post_batch(client, device_key(world, ApiKeyScope.READ), body).status_code == 403
    assert post_batch(client, "o4o_nothing_here", body).status_code == 401
    assert not Intake.objects.exists()


def test_photos_are_uploaded_once_and_named_by_their_hash(
    world: World, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    key = device_key(world)
    client = Client()
    url = f"/api/v1/collection/photos?hub={world.hub.code}"

    first = client.post(url, PNG, content_type="image/png", headers={"X-API-Key": key})
    again = client.post(url, PNG, content_type="image/png", headers={"X-API-Key": key})
    refused = client.post(
        url, b"%PDF-1.4", content_type="application/pdf", headers={"X-API-Key": key}
    )

    assert first.status_code == 201
    assert again.status_code == 200
    assert first.json()["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert refused.status_code == 422
    assert "JPEG, PNG or WebP" in refused.json()["message"]


def test_the_hub_state_lets_a_device_resume(
    world: World, django_assert_max_num_queries: Any
) -> None:
    key = device_key(world, ApiKeyScope.READ)
    PriceCap.objects.create(
        country_id="GH",
        valid_from=dt.date(2020, 1, 1),
        max_per_phone=Decimal("3.00"),
        min_per_phone=Decimal("0.40"),
        currency="GHS",
        second_hand_value=Decimal("40"),
        source="test",
        set_by=world.operator_user,
        set_at=timezone.now(),
    )
    open_one = record_intake(world, phones=5, photos=[hashlib.sha256(PNG).hexdigest()])
    paid = record_intake(world, phones=6, paid_with=PaymentMethod.CASH)

    with django_assert_max_num_queries(12):
        response = Client().get(
            f"/api/v1/collection/hubs/{world.hub.code}/state", headers={"X-API-Key": key}
        )

    assert response.status_code == 200, response.content
    state = response.json()
    assert state["price_cap"]["max_per_phone"] == "3.0000"
    assert [c["code"] for c in state["collectors"]] == [world.collector.code]
    editable = {i["client_uuid"]: i["editable"] for i in state["intakes"]}
    assert editable == {str(open_one.client_uuid): True, str(paid.client_uuid): False}
    assert state["missing_photos"] == [hashlib.sha256(PNG).hexdigest()]
