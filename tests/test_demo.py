from __future__ import annotations

import pytest
from django.db.models import Sum
from django.utils import timezone

from oneforone import demo
from oneforone.accounts.models import ApiKey, Membership, Organisation, OrganisationKind, User
from oneforone.accounts.queries import api_key_for
from oneforone.collection.models import Collector, Hub, Intake, Lot
from oneforone.core import audit
from oneforone.core.models import AuditEvent
from oneforone.partners.models import Registration
from oneforone.recycling.models import Reception
from oneforone.registry.models import Allocation, Certificate, IssuanceBatch
from oneforone.shipments.models import Consignment, ConsignmentState


@pytest.fixture
def _fast(settings):
    """Certificates are rendered by a background task and the test is about the data; demo
    passwords need no costly hashing here."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.django_db
@pytest.mark.usefixtures("_fast")
def test_demo_loads_every_stage_once():
    summary = demo.load_if_empty(base_url="http://demo.test", scale=0.02)

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
    assert not Intake.objects.filter(collected_on__gt=timezone.localdate()).exists()

    # Issuance, allocation with a backlog, certificates.
    issued = IssuanceBatch.objects.aggregate(n=Sum("quantity"))["n"]
    owed = Registration.objects.aggregate(n=Sum("units_owed"))["n"]
    allocated = Allocation.objects.aggregate(n=Sum("quantity"))["n"]
    assert (
        issued
        == Consignment.objects.filter(state="treated").aggregate(
            n=Sum("reception__counted_phones")
        )["n"]
    )
    assert allocated == issued < owed
    assert Certificate.objects.exists()
    assert Registration.objects.filter(allocations__isnull=True).exists()
    assert audit.verify_chain() is None

    # The summary: counts, address, logins and the brand's key, which works.
    assert "http://demo.test" in summary
    assert demo.DEMO_PASSWORD in summary
    key_lines = [line for line in summary.splitlines() if line.startswith("API key: ")]
    assert len(key_lines) == 1
    key = api_key_for(key_lines[0].removeprefix("API key: "))
    assert key is not None
    assert key.organisation.slug == "lumen-mobile"

    # A second call changes nothing and says so.
    events = AuditEvent.objects.count()
    again = demo.load_if_empty(base_url="http://demo.test", scale=0.02)
    assert AuditEvent.objects.count() == events
    assert ApiKey.objects.count() == 1
    assert "already loaded" in again
    assert "API key: " not in again
    assert "API keys page" in again
