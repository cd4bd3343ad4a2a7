"""Devices are found by their identifier's hash through an index, whatever their status.

A claimed device is found through the unique index that keeps one claim per identifier; the others
(held, declined, withdrawn, cancelled: few) through a partial index of their own. So a bulk import
of a million claimed devices maintains one random-key index on the hash, not two."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import QuerySet

from factories import World, imei, make_partner, register
from oneforone.partners.identifiers import DeviceKind, identifier_hash
from oneforone.partners.models import Device, DeviceStatus
from oneforone.registry.devices import look_up


def plan(queryset: QuerySet[Device]) -> str:
    """The plan PostgreSQL picks when it may not read the whole table (a test's tables are tiny:
    left free, it would rightly scan them). Without the model's ordering: on an empty table an
    index giving that order costs the planner as little as the lookup's own index."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    return queryset.order_by().explain()


@pytest.mark.parametrize(
    ("status", "index"),
    [
        (DeviceStatus.CLAIMED, "device_claimed_once"),
        (DeviceStatus.HELD, "device_identifier_unclaimed"),
        (DeviceStatus.DECLINED, "device_identifier_unclaimed"),
        (DeviceStatus.WITHDRAWN, "device_identifier_unclaimed"),
        (DeviceStatus.CANCELLED, "device_identifier_unclaimed"),
    ],
)
def test_a_device_of_any_status_is_found_by_its_identifier_through_an_index(
    db: None, status: str, index: str
) -> None:
    hashed = identifier_hash(DeviceKind.IMEI, imei(1))
    found = plan(Device.objects.filter(identifier_hash=hashed, status=status))

    assert index in found
    assert "Seq Scan" not in found


def test_the_claimed_and_the_held_device_of_one_identifier_are_both_found(world: World) -> None:
    other, other_admin = make_partner()
    first = register(world, imeis=[imei(7)])
    second = register(world, partner=other, actor=other_admin, imeis=[imei(7)])
    hashed = identifier_hash(DeviceKind.IMEI, imei(7))

    claimed = Device.objects.get(identifier_hash=hashed, status=DeviceStatus.CLAIMED)
    held = Device.objects.get(identifier_hash=hashed, status=DeviceStatus.HELD)

    assert (claimed.registration, held.registration) == (first, second)
    assert look_up(imei(7)).status in ("waiting", "compensated")
