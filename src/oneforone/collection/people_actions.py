"""Actions on collectors as people: registration with personal data kept apart and encrypted."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

from oneforone.accounts.models import Membership, Organisation, OrganisationKind, User
from oneforone.accounts.permissions import NotAllowed, require_member, require_operator
from oneforone.collection import people_export, personal_data
from oneforone.collection.models import (
    Collector,
    CollectorIdentity,
    ConductAcknowledgement,
    EquipmentIssue,
    EquipmentItem,
    Flag,
    Hub,
    Incident,
    IncidentFollowUp,
    IncidentKind,
    PersonalDataAccess,
    PersonalDataPurpose,
    Training,
    TrainingTopic,
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
        raise PeopleError(gettext("a collector needs a name and a phone number"))
    if not consent_version.strip():
        raise PeopleError(
            gettext("record which version of the consent text the collector agreed to")
        )
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


# --- who may see a person ----------------------------------------------------------------------

ERASED = "[erased]"
# A phone number or account is recognised in free text by its last digits, whatever the spacing.
MIN_DIGITS_RECOGNISED = 7
MIN_NAME_PART = 3


def _is_operator_staff(actor: User) -> bool:
    try:
        require_operator(actor)
    except NotAllowed:
        return False
    return True


def _personal_data_access(
    actor: User, collector: Collector, reason: str, *, write: bool
) -> tuple[Organisation, str]:
    """The organisation on whose behalf `actor` may handle the collector's personal data, and
    the reason to log: the collector's own collection partner, or operator staff who say why."""
    reason = reason.strip()
    own = Membership.objects.filter(user=actor, organisation_id=collector.hub.organisation_id)
    membership = own.select_related("organisation").first()
    if membership is not None:
        if write and not membership.can_write:
            raise NotAllowed(
                gettext("%(username)s may only read for %(organisation)s")
                % {"username": actor.username, "organisation": membership.organisation.name}
            )
        return membership.organisation, reason or "collection partner's own record"
    if _is_operator_staff(actor):
        if not reason:
            raise NotAllowed(
                gettext("operator staff must give a reason to handle a collector's data")
            )
        operator = (
            Membership.objects.filter(user=actor, organisation__kind=OrganisationKind.OPERATOR)
            .select_related("organisation")
            .first()
        )
        assert operator is not None  # require_operator found it
        return operator.organisation, reason
    raise NotAllowed(
        gettext("%(username)s may not see the personal data of collectors of another organisation")
        % {"username": actor.username}
    )


def _log_access(
    *,
    actor: User,
    collector: Collector,
    purpose: str,
    organisation: Organisation,
    reason: str,
    person: personal_data.Person | None,
    data: dict[str, Any] | None = None,
) -> PersonalDataAccess:
    """One row of the access log (append-only, so a reason must not name the person) and the
    matching audit event (hash-chained: it carries no free text)."""
    if person is not None and mentions_person(reason, person):
        raise PeopleError(gettext("write the reason without the collector's name or number"))
    access = PersonalDataAccess.objects.create(
        collector=collector,
        purpose=purpose,
        reason=reason[:300],
        user=actor,
        organisation=organisation,
        at=timezone.now(),
    )
    audit.record(
        actor=actor,
        code=f"collection.collector.personal_data.{purpose}",
        obj=collector,
        organisation=organisation,
        data={"code": collector.code, "access": access.pk, **(data or {})},
    )
    return access


def person_of(collector: Collector) -> personal_data.Person | None:
    """The person in clear, without logging; only for actions that log the access themselves."""
    identity = CollectorIdentity.objects.filter(collector=collector).first()
    if identity is None:
        return None
    return personal_data.Person(
        name=personal_data.decrypt(identity.name_encrypted),
        phone=personal_data.decrypt(identity.phone_encrypted),
        mobile_money=personal_data.decrypt(identity.mobile_money_encrypted),
    )


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def mentions_person(text: str, person: personal_data.Person) -> bool:
    """Whether free text could name the person: any part of their name as a word, or the last
    digits of their phone number or mobile-money account however they are spaced. It errs on
    the side of erasing too much."""
    if not text:
        return False
    words = {word.casefold() for word in re.findall(r"\w+", text)}
    name_parts = [part.casefold() for part in re.findall(r"\w+", person.name)]
    if any(len(part) >= MIN_NAME_PART and part in words for part in name_parts):
        return True
    if person.name.strip() and person.name.strip().casefold() in text.casefold():
        return True
    text_digits = _digits(text)
    for number in (person.phone, person.mobile_money):
        digits = _digits(number)
        if len(digits) >= MIN_DIGITS_RECOGNISED and digits[-MIN_DIGITS_RECOGNISED:] in text_digits:
            return True
    # An account that is not a number (e.g. a wallet name) as it was written.
    account = person.mobile_money.strip().casefold()
    return len(account) >= MIN_NAME_PART and not _digits(account) and account in text.casefold()


def _alive(collector: Collector) -> None:
    if collector.erased_at is not None:
        raise PeopleError(
            gettext("collector %(code)s has been erased; the person is gone")
            % {"code": collector.code}
        )


# --- personal data -----------------------------------------------------------------------------


@transaction.atomic
def update_identity(
    *,
    actor: User,
    collector: Collector,
    person: personal_data.Person,
    consent_version: str | None = None,
    consent_given_on: dt.date | None = None,
    reason: str = "",
) -> None:
    """Correct a collector's name, phone or mobile-money account (and, with a new consent, its
    version and date); logged as a change of personal data."""
    _alive(collector)
    organisation, reason = _personal_data_access(actor, collector, reason, write=True)
    if not person.name.strip() or not person.phone.strip():
        raise PeopleError(gettext("a collector needs a name and a phone number"))
    identity = CollectorIdentity.objects.select_for_update().filter(collector=collector).first()
    if identity is None:
        raise PeopleError(
            gettext("collector %(code)s has no personal data to change") % {"code": collector.code}
        )
    before = person_of(collector)
    if before is not None and mentions_person(reason, before):
        raise PeopleError(gettext("write the reason without the collector's name or number"))
    identity.name_encrypted = personal_data.encrypt(person.name.strip())
    identity.phone_encrypted = personal_data.encrypt(person.phone.strip())
    identity.mobile_money_encrypted = personal_data.encrypt(person.mobile_money.strip())
    if consent_version is not None:
        if not consent_version.strip() or consent_given_on is None:
            raise PeopleError(
                gettext("a new consent needs the version of the text and the date given")
            )
        identity.consent_version = consent_version.strip()
        identity.consent_given_on = consent_given_on
    identity.updated_at = timezone.now()
    identity.save()
    _log_access(
        actor=actor,
        collector=collector,
        purpose=PersonalDataPurpose.RECORD,
        organisation=organisation,
        reason=reason or "corrected",
        person=person,
    )


@transaction.atomic
def reveal_identity(*, actor: User, collector: Collector, reason: str) -> personal_data.Person:
    """The person behind a code, in clear, for someone allowed to see it; every look is logged."""
    _alive(collector)
    organisation, reason = _personal_data_access(actor, collector, reason, write=False)
    person = person_of(collector)
    if person is None:
        raise PeopleError(
            gettext("collector %(code)s has no personal data on record") % {"code": collector.code}
        )
    _log_access(
        actor=actor,
        collector=collector,
        purpose=PersonalDataPurpose.VIEW,
        organisation=organisation,
        reason=reason,
        person=person,
    )
    return person


@transaction.atomic
def export_collector(*, actor: User, collector: Collector, reason: str) -> dict[str, Any]:
    """Everything kept about a collector, as one JSON-ready document (the right of access)."""
    _alive(collector)
    organisation, reason = _personal_data_access(actor, collector, reason, write=False)
    person = person_of(collector)
    _log_access(
        actor=actor,
        collector=collector,
        purpose=PersonalDataPurpose.EXPORT,
        organisation=organisation,
        reason=reason,
        person=person,
    )
    return people_export.document(collector, person)


@transaction.atomic
def erase_collector(*, actor: User, collector: Collector, reason: str) -> int:
    """Forget the person, keep the records: the identity row goes, free text that could name them
    becomes "[erased]", the code stays on every intake, payment and count. Returns how many
    texts were scrubbed."""
    collector = Collector.objects.select_for_update().select_related("hub").get(pk=collector.pk)
    _alive(collector)
    organisation, reason = _personal_data_access(actor, collector, reason, write=True)
    person = person_of(collector)
    scrubbed = _scrub_mentions(collector, person) if person is not None else 0
    CollectorIdentity.objects.filter(collector=collector).delete()
    collector.erased_at = timezone.now()
    collector.active = False
    collector.save(update_fields=["erased_at", "active"])
    _log_access(
        actor=actor,
        collector=collector,
        purpose=PersonalDataPurpose.ERASE,
        organisation=organisation,
        reason=reason,
        person=person,
        data={"texts_scrubbed": scrubbed},
    )
    return scrubbed


def _scrub_mentions(collector: Collector, person: personal_data.Person) -> int:
    """Replace the free texts of the collector's hub that could name the person."""
    scrubbed = 0
    for incident in Incident.objects.filter(hub_id=collector.hub_id).only("description"):
        if mentions_person(incident.description, person):
            Incident.objects.filter(pk=incident.pk).update(description=ERASED)
            scrubbed += 1
    follow_ups = IncidentFollowUp.objects.filter(incident__hub_id=collector.hub_id).only("note")
    for follow_up in follow_ups:
        if mentions_person(follow_up.note, person):
            IncidentFollowUp.objects.filter(pk=follow_up.pk).update(note=ERASED)
            scrubbed += 1
    flags = Flag.objects.filter(hub_id=collector.hub_id).exclude(resolution_reason="")
    for flag in flags.only("resolution_reason"):
        if mentions_person(flag.resolution_reason, person):
            Flag.objects.filter(pk=flag.pk).update(resolution_reason=ERASED)
            scrubbed += 1
    return scrubbed


@transaction.atomic
def rotate_personal_data_keys(*, actor: User) -> int:
    """Re-encrypt every identity with the first key of settings.PERSONAL_DATA_KEYS, so that older
    keys can be retired. Returns how many identities were re-encrypted."""
    require_operator(actor)
    identities = list(CollectorIdentity.objects.select_for_update().order_by("collector_id"))
    now = timezone.now()
    for identity in identities:
        identity.name_encrypted = personal_data.rotate(identity.name_encrypted)
        identity.phone_encrypted = personal_data.rotate(identity.phone_encrypted)
        identity.mobile_money_encrypted = personal_data.rotate(identity.mobile_money_encrypted)
        identity.updated_at = now
    CollectorIdentity.objects.bulk_update(
        identities, ["name_encrypted", "phone_encrypted", "mobile_money_encrypted", "updated_at"]
    )
    audit.record(
        actor=actor,
        code="collection.personal_data.keys_rotated",
        data={"identities": len(identities), "keys": len(settings.PERSONAL_DATA_KEYS)},
    )
    return len(identities)


# --- active or not -----------------------------------------------------------------------------


def _require_hub_writer(actor: User, hub: Hub) -> Membership:
    return require_member(actor, hub.organisation)


@transaction.atomic
def set_collector_active(*, actor: User, collector: Collector, active: bool) -> None:
    """A collector who stopped (or came back) stays on every record under their code. The hub's
    partner decides; operator staff may too (e.g. after confirmed fraud)."""
    if not _is_operator_staff(actor):
        _require_hub_writer(actor, collector.hub)
    if active:
        _alive(collector)
    if collector.active == active:
        return
    collector.active = active
    collector.save(update_fields=["active"])
    audit.record(
        actor=actor,
        code=f"collection.collector.{'reactivated' if active else 'deactivated'}",
        obj=collector,
        organisation=collector.hub.organisation,
        data={"code": collector.code},
    )


# --- safe work ---------------------------------------------------------------------------------


def _not_in_future(day: dt.date, what: str) -> None:
    if day > timezone.localdate():
        raise PeopleError(
            gettext("the %(what)s date %(day)s is in the future")
            % {"what": what, "day": date_format(day, "j F Y")}
        )


@transaction.atomic
def acknowledge_conduct(
    *, actor: User, collector: Collector, version: str, acknowledged_on: dt.date
) -> ConductAcknowledgement:
    _require_hub_writer(actor, collector.hub)
    _alive(collector)
    version = version.strip()
    if not version:
        raise PeopleError(gettext("say which version of the code of conduct was acknowledged"))
    _not_in_future(acknowledged_on, "acknowledgement")
    if ConductAcknowledgement.objects.filter(collector=collector, version=version).exists():
        raise PeopleError(
            gettext("%(code)s has acknowledged version %(version)s already")
            % {"code": collector.code, "version": version}
        )
    acknowledgement = ConductAcknowledgement.objects.create(
        collector=collector,
        version=version,
        acknowledged_on=acknowledged_on,
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    audit.record(
        actor=actor,
        code="collection.collector.conduct_acknowledged",
        obj=acknowledgement,
        organisation=collector.hub.organisation,
        data={"code": collector.code, "version": version, "on": acknowledged_on},
    )
    return acknowledgement


@transaction.atomic
def record_training(
    *, actor: User, collector: Collector, topic: str, trained_on: dt.date, trainer: str
) -> Training:
    _require_hub_writer(actor, collector.hub)
    _alive(collector)
    if topic not in TrainingTopic.values:
        raise PeopleError(gettext("unknown training topic %(topic)s") % {"topic": repr(topic)})
    if not trainer.strip():
        raise PeopleError(gettext("name the trainer or the organisation that gave the training"))
    _not_in_future(trained_on, "training")
    training = Training.objects.create(
        collector=collector,
        topic=topic,
        trained_on=trained_on,
        trainer=trainer.strip(),
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    audit.record(
        actor=actor,
        code="collection.collector.trained",
        obj=training,
        organisation=collector.hub.organisation,
        data={"code": collector.code, "topic": topic, "on": trained_on},
    )
    return training


@transaction.atomic
def issue_equipment(
    *, actor: User, collector: Collector, item: str, issued_on: dt.date, quantity: int = 1
) -> EquipmentIssue:
    _require_hub_writer(actor, collector.hub)
    _alive(collector)
    if item not in EquipmentItem.values:
        raise PeopleError(gettext("unknown equipment %(item)s") % {"item": repr(item)})
    if quantity < 1:
        raise PeopleError(gettext("hand out at least one"))
    _not_in_future(issued_on, "issue")
    issue = EquipmentIssue.objects.create(
        collector=collector,
        item=item,
        quantity=quantity,
        issued_on=issued_on,
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    audit.record(
        actor=actor,
        code="collection.collector.equipment_issued",
        obj=issue,
        organisation=collector.hub.organisation,
        data={"code": collector.code, "item": item, "quantity": quantity, "on": issued_on},
    )
    return issue


@transaction.atomic
def report_incident(
    *,
    actor: User,
    hub: Hub,
    kind: str,
    occurred_on: dt.date,
    description: str,
    collector: Collector | None = None,
) -> Incident:
    """An incident at a hub, about a collector or not; open until a follow-up closes it. The
    description stays out of the audit log: it may name people and must be erasable."""
    _require_hub_writer(actor, hub)
    if collector is not None and collector.hub_id != hub.pk:
        raise PeopleError(
            gettext("collector %(code)s works for another hub") % {"code": collector.code}
        )
    if kind not in IncidentKind.values:
        raise PeopleError(gettext("unknown kind of incident %(kind)s") % {"kind": repr(kind)})
    if not description.strip():
        raise PeopleError(gettext("describe what happened"))
    _not_in_future(occurred_on, "incident")
    incident = Incident.objects.create(
        hub=hub,
        collector=collector,
        kind=kind,
        occurred_on=occurred_on,
        description=description.strip(),
        reported_by=actor,
        reported_at=timezone.now(),
    )
    audit.record(
        actor=actor,
        code="collection.incident.reported",
        obj=incident,
        organisation=hub.organisation,
        data={
            "hub": hub.code,
            "kind": kind,
            "on": occurred_on,
            "collector": collector.code if collector else None,
        },
    )
    return incident


@transaction.atomic
def follow_up_incident(
    *, actor: User, incident: Incident, note: str, closes: bool = False
) -> IncidentFollowUp:
    """What was done about an incident; a closing follow-up closes it, and none come after."""
    incident = Incident.objects.select_for_update().select_related("hub").get(pk=incident.pk)
    _require_hub_writer(actor, incident.hub)
    if incident.closed_at is not None:
        raise PeopleError(
            gettext("the incident is closed; report a new one if something else happened")
        )
    if not note.strip():
        raise PeopleError(gettext("write what was done or decided"))
    now = timezone.now()
    follow_up = IncidentFollowUp.objects.create(
        incident=incident, note=note.strip(), closes=closes, by=actor, at=now
    )
    if closes:
        incident.closed_at = now
        incident.save(update_fields=["closed_at"])
    audit.record(
        actor=actor,
        code="collection.incident.followed_up",
        obj=incident,
        organisation=incident.hub.organisation,
        data={"follow_up": follow_up.pk, "closes": closes},
    )
    return follow_up
