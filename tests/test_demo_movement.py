"""The movement part of the demo: a partially refused sea consignment, a pending revision
request and a battery consignment, each written by its action at a plausible moment."""

from __future__ import annotations

import pytest
from django.utils import timezone

from oneforone import demo, demo_movement
from oneforone.recycling.models import Reception
from oneforone.shipments.models import (
    Consignment,
    ConsignmentState,
    RevisionRequest,
    RevisionStatus,
    Stream,
)


@pytest.fixture
def _fast(settings):  # type: ignore[no-untyped-def]
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.django_db
@pytest.mark.usefixtures("_fast")
def test_the_demo_shows_a_partial_refusal_a_pending_revision_and_batteries() -> None:
    demo.load_if_empty(base_url="http://demo.test", scale=0.02)

    refused = Consignment.objects.get(reference=demo_movement.REFERENCE)
    assert refused.state == ConsignmentState.RECEIVED
    reception = Reception.objects.get(consignment=refused)
    assert reception.decision == "partially_refused"
    assert 0 < reception.refused_phones < reception.counted_phones
    signed = dict(refused.signatures.values_list("step", "signed_at"))
    assert 28 <= (signed["reception"] - signed["pickup"]).days <= 43
    assert refused.legs.get(sequence=1).means_of_transport == "R"

    pending = RevisionRequest.objects.get()
    assert pending.status == RevisionStatus.PENDING
    assert pending.field == "vehicle"

    batteries = Consignment.objects.get(reference=demo_movement.BATTERY_REFERENCE)
    assert (batteries.stream, batteries.un_number, batteries.packing_instruction) == (
        Stream.BATTERIES,
        "UN3480",
        "P909",
    )
    assert batteries.created_at.date() < timezone.localdate()
