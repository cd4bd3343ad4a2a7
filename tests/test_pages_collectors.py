"""Collectors and safe-work pages: each shows what its reader may see, hides the rest (403/404),
reveals personal data only on a logged request, and records safe work through forms."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from factories import (
    World,
    make_collector,
    make_hub,
    make_member,
    make_organisation,
    register_person,
)
from oneforone.accounts.models import OrganisationKind, Role, User
from oneforone.collection import people_actions
from oneforone.collection.models import (
    Collector,
    CollectorIdentity,
    Incident,
    PersonalDataAccess,
    Training,
)

pytestmark = pytest.mark.django_db

NAME = "Yaw Darko-Pagetest"


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def person(world: World) -> Collector:
    return register_person(world.hub, world.hub_user, name=NAME)


def url(name: str, collector: Collector) -> str:
    return reverse(name, args=[collector.code])


def test_hub_sees_its_collectors_with_badges_but_no_names(world: World, person: Collector) -> None:
    page = client_for(world.hub_user).get(reverse("collection-collectors"))
    assert page.status_code == 200
    text = page.content.decode()
    assert person.code in text
    assert "not trained" in text
    assert NAME not in text


def test_the_collector_record_shows_no_personal_data_until_asked(
    world: World, person: Collector
) -> None:
    page = client_for(world.hub_user).get(url("collection-collector", person))
    assert page.status_code == 200
    assert NAME not in page.content.decode()
    assert "Show personal data" in page.content.decode()
    assert not PersonalDataAccess.objects.filter(purpose="view").exists()


def test_hub_reveals_personal_data_and_the_look_is_logged(world: World, person: Collector) -> None:
    page = client_for(world.hub_user).post(url("collection-collector-reveal", person), {})
    assert page.status_code == 200
    assert NAME in page.content.decode()
    assert "no-store" in page["Cache-Control"]
    assert PersonalDataAccess.objects.filter(collector=person, purpose="view").count() == 1


def test_operator_without_a_reason_is_refused_and_nothing_is_shown(
    world: World, person: Collector
) -> None:
    client = client_for(world.operator_user)
    page = client.post(url("collection-collector-reveal", person), {"reason": ""})
    assert page.status_code == 400
    assert "must give a reason" in page.content.decode()
    assert NAME not in page.content.decode()
    page = client.post(url("collection-collector-reveal", person), {"reason": "complaint 7"})
    assert NAME in page.content.decode()
    access = PersonalDataAccess.objects.get(purpose="view")
    assert (access.user, access.reason) == (world.operator_user, "complaint 7")


def test_operator_sees_the_access_log_on_the_record(world: World, person: Collector) -> None:
    people_actions.reveal_identity(actor=world.hub_user, collector=person, reason="pay check")
    page = client_for(world.operator_user).get(url("collection-collector", person))
    text = page.content.decode()
    assert "Who handled the personal data" in text
    assert "pay check" in text
    assert world.hub_user.username in text


def test_another_collection_partner_gets_404_and_a_brand_403(
    world: World, person: Collector
) -> None:
    other = make_organisation(OrganisationKind.COLLECTION_PARTNER, country="NG")
    make_hub(other, country="NG", currency="NGN")
    outsider = client_for(make_member(other))
    brand = client_for(world.partner_admin)
    for name in ("collection-collector",):
        assert outsider.get(url(name, person)).status_code == 404
        assert brand.get(url(name, person)).status_code == 403
    for name in (
        "collection-collector-reveal",
        "collection-collector-export",
        "collection-collector-erase",
        "collection-collector-training",
        "collection-collector-incident",
    ):
        assert outsider.post(url(name, person), {"reason": "x"}).status_code == 404
        assert brand.post(url(name, person), {"reason": "x"}).status_code == 403
    assert person.code not in outsider.get(reverse("collection-collectors")).content.decode()
    assert brand.get(reverse("collection-collectors")).status_code == 403
    assert brand.get(reverse("collection-safe-work")).status_code == 403
    assert not PersonalDataAccess.objects.exclude(purpose="record").exists()


def test_export_downloads_json_and_is_logged(world: World, person: Collector) -> None:
    response = client_for(world.operator_user).post(
        url("collection-collector-export", person), {"reason": "access request 3"}
    )
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{person.code}.json"'
    document = json.loads(response.content)
    assert document["identity"]["name"] == NAME
    assert PersonalDataAccess.objects.filter(purpose="export").count() == 1


def test_erasure_asks_for_the_code_then_forgets_the_person(world: World, person: Collector) -> None:
    client = client_for(world.hub_user)
    erase = url("collection-collector-erase", person)
    page = client.post(erase, {"reason": "left", "confirm_code": "WRONG"})
    assert page.status_code == 400
    assert f"Type {person.code} exactly" in page.content.decode()
    assert CollectorIdentity.objects.filter(collector=person).exists()
    response = client.post(erase, {"reason": "left", "confirm_code": person.code})
    assert response.status_code == 302
    assert not CollectorIdentity.objects.filter(collector=person).exists()
    page = client.get(url("collection-collector", person))
    assert "was erased" in page.content.decode()


def test_register_a_collector_with_consent(world: World) -> None:
    client = client_for(world.hub_user)
    form = {
        "hub": world.hub.pk,
        "name": "Ama Serwaa-Form",
        "phone": "+233 20 555 0111",
        "mobile_money": "",
        "consent_version": "C-2",
        "consent_given_on": timezone.localdate().isoformat(),
    }
    page = client.post(reverse("collection-collector-new"), {**form, "consent_version": ""})
    assert page.status_code == 200
    assert "Nothing was recorded" in page.content.decode()
    response = client.post(reverse("collection-collector-new"), form)
    assert response.status_code == 302
    collector = Collector.objects.exclude(pk=world.collector.pk).get()
    assert response["Location"] == url("collection-collector", collector)
    assert collector.identity.consent_version == "C-2"
    assert "Ama" not in collector.identity.name_encrypted


def test_operator_and_read_only_members_may_not_register_collectors(world: World) -> None:
    new = reverse("collection-collector-new")
    assert client_for(world.operator_user).get(new).status_code == 403
    viewer = client_for(make_member(world.collection_partner, role=Role.VIEWER))
    assert viewer.post(new, {"name": "A B"}).status_code == 403


def test_safe_work_is_recorded_through_the_record_forms(world: World, person: Collector) -> None:
    client = client_for(world.hub_user)
    today = timezone.localdate()
    response = client.post(
        url("collection-collector-training", person),
        {"topic": "safe_handling", "trained_on": today.isoformat(), "trainer": "Hub lead"},
    )
    assert response.status_code == 302
    assert Training.objects.filter(collector=person).count() == 1
    page = client.post(
        url("collection-collector-training", person),
        {
            "topic": "first_aid",
            "trained_on": (today + dt.timedelta(days=2)).isoformat(),
            "trainer": "Red Cross",
        },
    )
    assert page.status_code == 400
    assert "is in the future" in page.content.decode()
    client.post(
        url("collection-collector-incident", person),
        {"kind": "injury", "occurred_on": today.isoformat(), "description": "Cut finger."},
    )
    incident = Incident.objects.get(collector=person)
    client.post(
        url("collection-collector-follow-up", person),
        {"incident": incident.pk, "note": "Healed.", "closes": "on"},
    )
    incident.refresh_from_db()
    assert incident.closed_at is not None


def test_operator_reads_safe_work_but_does_not_record_it(world: World, person: Collector) -> None:
    client = client_for(world.operator_user)
    page = client.get(url("collection-collector", person))
    assert "Record a training" not in page.content.decode()
    response = client.post(
        url("collection-collector-training", person),
        {"topic": "safe_handling", "trained_on": timezone.localdate(), "trainer": "x"},
    )
    assert response.status_code == 403
    assert not Training.objects.exists()


def test_safe_work_page_per_hub_for_the_partner_and_per_partner_for_the_operator(
    world: World, person: Collector
) -> None:
    second_hub = make_hub(world.collection_partner)
    make_collector(second_hub)
    page = client_for(world.hub_user).get(reverse("collection-safe-work"))
    text = page.content.decode()
    assert world.hub.name in text
    assert second_hub.name in text
    assert "<svg" in text
    page = client_for(world.operator_user).get(reverse("collection-safe-work"))
    assert world.collection_partner.name in page.content.decode()
    assert "across the network" in page.content.decode()


def test_a_read_only_member_sees_the_list_but_cannot_record(
    world: World, person: Collector
) -> None:
    viewer = client_for(make_member(world.collection_partner, role=Role.VIEWER))
    assert viewer.get(reverse("collection-collectors")).status_code == 200
    response = viewer.post(
        url("collection-collector-training", person),
        {"topic": "safe_handling", "trained_on": timezone.localdate(), "trainer": "x"},
    )
    assert response.status_code == 403
    assert not Training.objects.exists()


def test_collector_list_takes_a_fixed_number_of_queries(
    world: World, django_assert_max_num_queries: pytest.FixtureRequest
) -> None:
    for _ in range(8):
        make_collector(world.hub)
    client = client_for(world.hub_user)
    client.get(reverse("collection-collectors"))  # warm the session
    with django_assert_max_num_queries(12):  # type: ignore[operator]
        assert client.get(reverse("collection-collectors")).status_code == 200


def test_revealed_data_can_be_corrected_and_the_change_is_logged(
    world: World, person: Collector
) -> None:
    client = client_for(world.hub_user)
    page = client.post(url("collection-collector-reveal", person), {})
    assert "Correct the personal data" in page.content.decode()
    response = client.post(
        url("collection-collector-identity", person),
        {"name": "Yaw Darko", "phone": "+233 24 555 0100", "mobile_money": "", "reason": ""},
    )
    assert response.status_code == 302
    assert people_actions.person_of(person).name == "Yaw Darko"  # type: ignore[union-attr]
    assert PersonalDataAccess.objects.filter(collector=person, purpose="record").count() == 2


def test_a_correction_without_a_name_or_by_an_operator_without_reason_is_refused(
    world: World, person: Collector
) -> None:
    correction = {"name": "", "phone": "+233 24 555 0100", "mobile_money": "", "reason": ""}
    page = client_for(world.hub_user).post(url("collection-collector-identity", person), correction)
    assert page.status_code == 400
    assert "no-store" in page["Cache-Control"]
    page = client_for(world.operator_user).post(
        url("collection-collector-identity", person), {**correction, "name": "New Name"}
    )
    assert page.status_code == 400
    assert "must give a reason" in page.content.decode()
    assert people_actions.person_of(person).name == NAME  # type: ignore[union-attr]


def test_an_incident_at_the_hub_is_reported_and_closed_on_the_safe_work_page(
    world: World,
) -> None:
    client = client_for(world.hub_user)
    today = timezone.localdate().isoformat()
    response = client.post(
        reverse("collection-safe-work-incident"),
        {"hub": world.hub.pk, "kind": "theft", "occurred_on": today, "description": "Break-in."},
    )
    assert response.status_code == 302
    incident = Incident.objects.get(collector__isnull=True)
    assert "Break-in." in client.get(reverse("collection-safe-work")).content.decode()
    page = client.post(reverse("collection-safe-work-follow-up"), {"incident": incident.pk})
    assert page.status_code == 400
    client.post(
        reverse("collection-safe-work-follow-up"),
        {"incident": incident.pk, "note": "Lock replaced.", "closes": "on"},
    )
    incident.refresh_from_db()
    assert incident.closed_at is not None


def test_another_partner_cannot_follow_up_or_report_at_a_foreign_hub(world: World) -> None:
    incident = people_actions.report_incident(
        actor=world.hub_user,
        hub=world.hub,
        kind="fire",
        occurred_on=timezone.localdate(),
        description="Smoke.",
    )
    other = make_organisation(OrganisationKind.COLLECTION_PARTNER, country="NG")
    make_hub(other, country="NG", currency="NGN")
    outsider = client_for(make_member(other))
    page = outsider.post(
        reverse("collection-safe-work-follow-up"),
        {"incident": incident.pk, "note": "closing it", "closes": "on"},
    )
    assert page.status_code == 400
    assert "Smoke." not in outsider.get(reverse("collection-safe-work")).content.decode()
    page = outsider.post(
        reverse("collection-safe-work-incident"),
        {"hub": world.hub.pk, "kind": "theft", "occurred_on": "2026-01-01", "description": "x"},
    )
    assert page.status_code == 400
    incident.refresh_from_db()
    assert incident.closed_at is None
    assert Incident.objects.count() == 1
