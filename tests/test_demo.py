from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from oneforone import demo
from oneforone.accounts.models import ApiKey, Membership, Organisation, OrganisationKind, User
from oneforone.accounts.queries import api_key_for
from oneforone.collection.models import Collector, Hub, Intake, Lot
from oneforone.core import audit
from oneforone.core.models import AuditEvent
from oneforone.impact.models import Computation
from oneforone.partners.models import Conflict, ConflictStatus, Device, Registration
from oneforone.recycling.models import LotAssay, Reception, TreatmentCompletion
from oneforone.registry import devices, ledger, supply
from oneforone.registry.models import (
    Allocation,
    AllocationPreference,
    Cancellation,
    Certificate,
    IssuanceBatch,
    LedgerEntry,
    LedgerRoot,
    Reservation,
)
from oneforone.shipments.models import Consignment, ConsignmentState, CustodySignature

SCALE = 0.05


@pytest.fixture
def _fast(settings):
    """Certificates are rendered by a background task and the test is about the data; demo
    passwords need no costly hashing here."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.django_db
@pytest.mark.usefixtures("_fast")
def test_demo_loads_every_stage_over_a_history():
    summary = demo.load_if_empty(base_url="http://demo.test", scale=SCALE)
    today = timezone.localdate()

    # Organisations, logins and hubs.
    kinds = set(Organisation.objects.values_list("kind", flat=True))
    assert kinds == set(OrganisationKind.values)
    assert Organisation.objects.filter(kind=OrganisationKind.PARTNER).count() == 3
    operator = User.objects.get(username="operator")
    assert operator.is_staff
    assert operator.is_superuser
    assert operator.check_password(demo.DEMO_PASSWORD)
    for username in ("brand", "telco", "ministry"):
        assert Membership.objects.get(user__username=username).role == "admin"
    assert set(Hub.objects.values_list("country", flat=True)) == {"GH", "NG", "CM"}
    assert Hub.objects.filter(area="rural").exists()
    assert Collector.objects.filter(code="GH-ACC-007").exists()

    # Every stage holds phones.
    assert Intake.objects.filter(lot__isnull=True).exists()
    assert Lot.objects.filter(consignment__isnull=True).exists()
    for state in ConsignmentState:
        assert Consignment.objects.filter(state=state).exists(), state
    assert any(r.flags for r in Reception.objects.all())

    # A history of about eighteen months, ending yesterday, every step on a plausible day.
    first = Intake.objects.order_by("collected_on").values_list("collected_on", flat=True)[0]
    assert 500 <= (today - first).days <= 560
    assert not Intake.objects.filter(collected_on__gte=today).exists()
    assert not AuditEvent.objects.filter(occurred_at__date__gt=today).exists()
    assert list(AuditEvent.objects.order_by("id").values_list("occurred_at", flat=True)) == sorted(
        AuditEvent.objects.values_list("occurred_at", flat=True)
    )
    issue_days = set(IssuanceBatch.objects.values_list("issued_at__date", flat=True))
    assert len(issue_days) > 5
    for completion in TreatmentCompletion.objects.select_related("batch", "reception"):
        assert completion.batch.issued_at.date() == completion.completed_on
        assert 14 <= (completion.completed_on - completion.reception.received_at.date()).days <= 28
    for consignment in Consignment.objects.exclude(state=ConsignmentState.DRAFT):
        signed = list(
            CustodySignature.objects.filter(consignment=consignment)
            .order_by("id")
            .values_list("step", "signed_at")
        )
        assert [at for _, at in signed] == sorted(at for _, at in signed)
        last_packed = Lot.objects.filter(consignment=consignment).latest("sealed_at").sealed_at
        assert last_packed < consignment.created_at < signed[0][1]
        steps = dict(signed)
        if "reception" in steps:
            # Calendar days: the plan counts days, the signatures fall at any hour of them.
            at_sea = (steps["reception"].date() - steps["pickup"].date()).days
            assert 28 <= at_sea <= 43, consignment.reference
    registration_days = set(Registration.objects.values_list("created_at__date", flat=True))
    assert len(registration_days) > 20

    # Issuance, allocation with a backlog, certificates.
    issued = IssuanceBatch.objects.aggregate(n=Sum("quantity"))["n"]
    owed = Registration.objects.aggregate(n=Sum("units_owed"))["n"]
    allocated = Allocation.objects.aggregate(n=Sum("quantity"))["n"]
    cancelled = Cancellation.objects.aggregate(n=Sum("quantity"))["n"]
    reserved = sum(s.size for block in supply.reserved_stretches().values() for s in block)
    free = sum(s.size for s in supply.free_stretches())
    assert (
        issued
        == Consignment.objects.filter(state="treated").aggregate(
            n=Sum("reception__counted_phones")
        )["n"]
    )
    assert allocated + cancelled + reserved + free == issued
    assert allocated < owed
    assert Registration.objects.filter(allocations__isnull=True).exists()
    allocation_days = set(Allocation.history.values_list("allocated_at__date", flat=True))
    assert len(allocation_days) > 5

    # The registry's features: a reservation the ministry's deliveries draw on, preferences,
    # devices listed by IMEI, double claims (one decided, one open), a count correction that
    # superseded a certificate.
    ministry = Organisation.objects.get(slug="ministry-interior")
    reservation = Reservation.objects.get(parent__isnull=True)
    assert reservation.partner == ministry
    assert reservation.label.startswith("MIN-T")
    assert Allocation.objects.filter(reservation__isnull=False).exists()
    assert not Allocation.objects.filter(reservation__isnull=False).exclude(
        registration__partner=ministry
    )
    telco_preference = AllocationPreference.objects.get(partner__slug="telenova-business")
    assert telco_preference.origin_countries == ["GH"]
    assert not telco_preference.strict
    assert not AllocationPreference.objects.get(partner=ministry).allow_partial
    assert Device.objects.filter(registration__partner__slug="lumen-mobile").count() > 50
    conflicts = dict(
        Conflict.objects.values_list("status", "second_device__registration__partner__slug")
    )
    assert conflicts == {
        ConflictStatus.OPEN: "telenova-business",
        ConflictStatus.KEPT_FIRST: "telenova-business",
    }
    correction = Cancellation.objects.get()
    assert correction.reason == "count_corrected"
    superseded = Certificate.objects.filter(superseded_by__isnull=False)
    assert superseded.count() == 1
    assert superseded.get().superseded_by.version == 2

    # The ledger and the audit log hold, and every finished day of the ledger has its root.
    report = ledger.verify()
    assert report.ok, report.problems
    ledger_days = set(
        LedgerEntry.objects.annotate(day=TruncDate("recorded_at", tzinfo=dt.UTC))
        .order_by()
        .values_list("day", flat=True)
        .distinct()
    )
    assert max(ledger_days) < today - dt.timedelta(days=1)
    assert set(LedgerRoot.objects.values_list("day", flat=True)) == ledger_days
    assert report.roots == len(ledger_days) > 5
    assert audit.verify_chain() is None

    # The summary: counts, address, logins, a device to look up and the brand's key, which works.
    assert "http://demo.test" in summary
    assert demo.DEMO_PASSWORD in summary
    assert "1 superseded" in summary
    assert "1 open" in summary
    assert reservation.label in summary
    assert f"{len(ledger_days)} daily Merkle roots published" in summary
    assert f"http://demo.test/verify/device: IMEI {demo.DEMO_IMEI}" in summary
    answer = devices.look_up(demo.DEMO_IMEI)
    assert answer.status == "compensated"
    assert answer.units[0].certificate_code is not None
    key_lines = [line for line in summary.splitlines() if line.startswith("API key: ")]
    assert len(key_lines) == 1
    key = api_key_for(key_lines[0].removeprefix("API key: "))
    assert key is not None
    assert key.organisation.slug == "lumen-mobile"

    # Impact: every batch has its figures under 2026.1, one consignment its gold assay.
    batches = IssuanceBatch.objects.count()
    computed = Computation.objects.filter(version__label="2026.1")
    assert computed.values("batch").distinct().count() == batches
    [assay] = LotAssay.objects.all()
    assayed = computed.filter(batch__consignment=assay.consignment).latest("id")
    gold = assayed.figures.get(key="metal_au_content_g")
    assert gold.inputs["grade_source"] == "lot-assay"

    # A second call changes nothing and says so.
    events = AuditEvent.objects.count()
    again = demo.load_if_empty(base_url="http://demo.test", scale=SCALE)
    assert AuditEvent.objects.count() == events
    assert ApiKey.objects.count() == 1
    assert "already loaded" in again
    assert "API key: " not in again
    assert "API keys page" in again
    assert demo.DEMO_IMEI in again
