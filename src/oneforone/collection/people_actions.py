"""Actions on collectors as people: registration with personal data kept apart and encrypted."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import transaction
from django.utils import timezone

from oneforone.accounts.models import User
from oneforone.accounts.permissions import require_member
from oneforone.collection import personal_data
from oneforone.collection.models import (
    Collector,
    CollectorIdentity,
    Hub,
    PersonalDataAccess,
    PersonalDataPurpose,
)
from oneforone.core import audit


class PeopleError(Exception):
    pass


def code_for(hub: Hub, client_uuid: uuid.UUID) -> str:
    """A pseudonymous code a hub device can work out offline from the UUID it made."""
    return f"{hub.code.upper()}-{client_uuid.hex[:6].upper()}"


@transaction.atomic
def register_collector(
    *,
    actor: User,
    hub: Hub,
    person: personal_data.Person,
    consent_version: str,
    consent_given_on: dt.date,
    client_uuid: uuid.UUID | None = None,
    code: str | None = None,
) -> Collector:
    """A new collector at a hub: a code for every record, the person encrypted apart from it."""
    membership = require_member(actor, hub.organisation)
    if not person.name.strip() or not person.phone.strip():
        raise PeopleError("a collector needs a name and a phone number")
    if not consent_version.strip():
        raise PeopleError("record which version of the consent text the collector agreed to")
    client_uuid = client_uuid or uuid.uuid4()
    collector = Collector.objects.create(
        hub=hub, code=code or code_for(hub, client_uuid), client_uuid=client_uuid
    )
    now = timezone.now()
    CollectorIdentity.objects.create(
        collector=collector,
        name_encrypted=personal_data.encrypt(person.name.strip()),
        phone_encrypted=personal_data.encrypt(person.phone.strip()),
        mobile_money_encrypted=personal_data.encrypt(person.mobile_money.strip()),
        consent_version=consent_version.strip(),
        consent_given_on=consent_given_on,
        updated_at=now,
    )
    PersonalDataAccess.objects.create(
        collector=collector,
        purpose=PersonalDataPurpose.RECORD,
        reason="registered",
        user=actor,
        organisation=membership.organisation,
        at=now,
    )
    audit.record(
        actor=actor,
        code="collection.collector.registered",
        obj=collector,
        organisation=hub.organisation,
        data={"code": collector.code, "hub": hub.code, "consent_version": consent_version},
    )
    return collector
