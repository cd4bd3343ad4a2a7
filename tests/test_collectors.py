"""Collectors' personal data: who may see, correct and export it, and that every handling of it
is logged; keys can be rotated without losing anyone."""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError

from factories import World, make_hub, make_member, make_organisation, register_person
from oneforone.accounts.models import OrganisationKind, Role
from oneforone.accounts.permissions import NotAllowed
from oneforone.collection import people_actions, personal_data
from oneforone.collection.models import CollectorIdentity, PersonalDataAccess
from oneforone.collection.people_actions import PeopleError, mentions_person
from oneforone.collection.personal_data import Person
from oneforone.core.models import AuditEvent

pytestmark = pytest.mark.django_db

NAME = "Abena Owusu-Test"


def test_personal_data_is_encrypted_at_rest(world: World) -> None:
    collector = register_person(world.hub, world.hub_user)
    identity = CollectorIdentity.objects.get(collector=collector)
    assert NAME not in identity.name_encrypted
    assert "555" not in identity.phone_encrypted
    assert personal_data.decrypt(identity.name_encrypted) == NAME


def test_own_collection_partner_sees_the_person_and_the_look_is_logged(world: World) -> None:
    collector = register_person(world.hub, world.hub_user)
    person = people_actions.reveal_identity(actor=world.hub_user, collector=collector, reason="")
    assert person.name == NAME
    access = PersonalDataAccess.objects.filter(collector=collector, purpose="view").get()
    assert access.user == world.hub_user
    assert access.organisation == world.collection_partner
    assert AuditEvent.objects.filter(code="collection.collector.personal_data.view").exists()


def test_operator_staff_see_the_person_only_with_a_reason(world: World) -> None:
    collector = register_person(world.hub, world.hub_user)
    with pytest.raises(NotAllowed, match="reason"):
        people_actions.reveal_identity(actor=world.operator_user, collector=collector, reason=" ")
    assert not PersonalDataAccess.objects.filter(purpose="view").exists()
    person = people_actions.reveal_identity(
        actor=world.operator_user, collector=collector, reason="payment complaint #12"
    )
    assert person.phone == "+233 20 555 0142"
    access = PersonalDataAccess.objects.get(purpose="view")
    assert (access.reason, access.organisation) == ("payment complaint #12", world.operator)


@pytest.mark.parametrize("who", ["other collection partner", "brand", "operator viewer"])
def test_nobody_else_sees_the_person(world: World, who: str) -> None:
    collector = register_person(world.hub, world.hub_user)
    if who == "other collection partner":
        other = make_organisation(OrganisationKind.COLLECTION_PARTNER, country="NG")
        make_hub(other, country="NG", currency="NGN")
        actor = make_member(other, role=Role.ADMIN)
    elif who == "brand":
        actor = world.partner_admin
    else:
        actor = make_member(world.operator, role=Role.VIEWER)
    for action in (people_actions.reveal_identity, people_actions.export_collector):
        with pytest.raises(NotAllowed):
            action(actor=actor, collector=collector, reason="curious")
    with pytest.raises(NotAllowed):
        people_actions.erase_collector(actor=actor, collector=collector, reason="curious")
    assert not PersonalDataAccess.objects.exclude(purpose="record").exists()
    assert CollectorIdentity.objects.filter(collector=collector).exists()


def test_a_reason_that_names_the_person_is_refused(world: World) -> None:
    """The access log cannot be changed, so it must never hold who the person is."""
    collector = register_person(world.hub, world.hub_user)
    with pytest.raises(PeopleError, match="without the collector's name"):
        people_actions.reveal_identity(
            actor=world.operator_user, collector=collector, reason="Abena called about pay"
        )
    with pytest.raises(PeopleError):
        people_actions.reveal_identity(
            actor=world.operator_user, collector=collector, reason="call back on 020-555-0142"
        )


def test_export_holds_everything_about_the_person_and_is_logged(world: World) -> None:
    collector = register_person(world.hub, world.hub_user)
    people_actions.record_training(
        actor=world.hub_user,
        collector=collector,
        topic="safe_handling",
        trained_on=collector.created_at.date(),
        trainer="Hub lead",
    )
    document = people_actions.export_collector(
        actor=world.operator_user, collector=collector, reason="subject access request"
    )
    text = json.dumps(document)  # JSON-ready as it is
    assert document["identity"]["name"] == NAME
    assert document["identity"]["mobile_money_account"] == "MTN 024 555 0199"
    assert document["identity"]["consent_version"] == "C-1"
    assert document["trainings"][0]["topic"] == "safe_handling"
    assert document["collector"]["code"] == collector.code
    assert "subject access request" in text
    assert PersonalDataAccess.objects.filter(purpose="export", collector=collector).count() == 1


def test_identity_correction_is_logged_and_read_back(world: World) -> None:
    collector = register_person(world.hub, world.hub_user)
    people_actions.update_identity(
        actor=world.hub_user,
        collector=collector,
        person=Person(name="Abena O. Test", phone="+233 20 555 0999", mobile_money=""),
    )
    assert people_actions.person_of(collector) == Person("Abena O. Test", "+233 20 555 0999", "")
    assert PersonalDataAccess.objects.filter(collector=collector, purpose="record").count() == 2


def test_a_read_only_member_may_look_but_not_correct(world: World) -> None:
    collector = register_person(world.hub, world.hub_user)
    viewer = make_member(world.collection_partner, role=Role.VIEWER)
    assert people_actions.reveal_identity(actor=viewer, collector=collector, reason="").name
    with pytest.raises(NotAllowed):
        people_actions.update_identity(
            actor=viewer, collector=collector, person=Person("X Y", "0200000000")
        )


def test_mentions_person_finds_name_parts_and_numbers_however_written() -> None:
    person = Person(name="Kofi Boateng", phone="+233 24 123 4567", mobile_money="0551234567")
    assert mentions_person("kofi cut his hand", person)
    assert mentions_person("Reported by BOATENG", person)
    assert mentions_person("call 024-123-4567", person)
    assert mentions_person("wallet 055 123 4567", person)
    assert not mentions_person("Glass cut on the left hand; first aid given", person)
    assert not mentions_person("", person)


def test_rotation_re_encrypts_with_the_new_key_and_the_old_key_can_go(
    world: World, settings: pytest.FixtureRequest
) -> None:
    collector = register_person(world.hub, world.hub_user)
    old_keys = list(settings.PERSONAL_DATA_KEYS)  # type: ignore[attr-defined]
    new_key = Fernet.generate_key().decode()
    settings.PERSONAL_DATA_KEYS = [new_key, *old_keys]  # type: ignore[attr-defined]
    assert people_actions.rotate_personal_data_keys(actor=world.operator_user) == 1
    settings.PERSONAL_DATA_KEYS = [new_key]  # type: ignore[attr-defined]
    assert people_actions.person_of(collector) == Person(
        NAME, "+233 20 555 0142", "MTN 024 555 0199"
    )
    assert AuditEvent.objects.filter(code="collection.personal_data.keys_rotated").count() == 1


def test_only_operator_staff_rotate_keys(world: World) -> None:
    with pytest.raises(NotAllowed):
        people_actions.rotate_personal_data_keys(actor=world.hub_user)


def test_rotation_command_names_its_actor(world: World) -> None:
    register_person(world.hub, world.hub_user)
    with pytest.raises(CommandError):
        call_command("rotate_personal_data_keys", "--actor", world.hub_user.username)
    call_command("rotate_personal_data_keys", "--actor", world.operator_user.username)
    assert AuditEvent.objects.filter(code="collection.personal_data.keys_rotated").exists()


def test_deactivated_collector_keeps_records_and_can_come_back(world: World) -> None:
    collector = register_person(world.hub, world.hub_user)
    people_actions.set_collector_active(actor=world.hub_user, collector=collector, active=False)
    collector.refresh_from_db()
    assert not collector.active
    people_actions.set_collector_active(actor=world.hub_user, collector=collector, active=True)
    collector.refresh_from_db()
    assert collector.active
    with pytest.raises(NotAllowed):
        people_actions.set_collector_active(
            actor=world.partner_admin, collector=collector, active=False
        )


def test_operator_staff_may_deactivate_a_collector_after_confirmed_fraud(world: World) -> None:
    people_actions.set_collector_active(
        actor=world.operator_user, collector=world.collector, active=False
    )
    world.collector.refresh_from_db()
    assert not world.collector.active
