from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import IntegrityError, connection, models, transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext, gettext_lazy, ngettext

from oneforone.accounts.models import Organisation, OrganisationKind, User
from oneforone.accounts.permissions import (
    NotAllowed,
    require_admin,
    require_member,
    require_operator,
)
from oneforone.core import audit
from oneforone.core.db import ALLOCATION_LOCK, advisory_xact_lock
from oneforone.core.money import CurrencyError, check_currency
from oneforone.partners import webhook_events
from oneforone.partners.identifiers import identifier_hash
from oneforone.partners.models import (
    REASON_REGISTRATION_CANCELLED,
    ActivationMode,
    Channel,
    Conflict,
    ConflictStatus,
    Device,
    DeviceCategory,
    DeviceStatus,
    Programme,
    Registration,
)
from oneforone.partners.queries import current_categories
from oneforone.partners.schemas import RegistrationRow
from oneforone.partners.signals import claims_withdrawn


@dataclass(frozen=True)
class RegistrationProblem:
    line: int
    message: str
    field: str
    code: str = "rejected"  # stable for API clients; the message follows the reader's language


class RegistrationRejected(Exception):
    """Nothing was written; `problems` says which rows are wrong and why."""

    def __init__(self, problems: list[RegistrationProblem]) -> None:
        super().__init__("; ".join(f"line {p.line}: {p.message}" for p in problems[:5]))
        self.problems = problems


@dataclass(frozen=True)
class DeviceClaims:
    """What the devices listed in one new registration came to."""

    listed: int
    claimed: int  # the claim that counts: owed compensation
    already_compensated: int  # held, each with a Conflict: claimed before (by anyone), not owed


class Registered(list[Registration]):
    """The new registrations in row order, with what their listed devices came to."""

    def __init__(self, registrations: Iterable[Registration], claims: dict[int, DeviceClaims]):
        super().__init__(registrations)
        self._claims = claims

    def claims(self, registration: Registration) -> DeviceClaims:
        return self._claims[registration.pk]


class _NewDevice(NamedTuple):
    registration_id: int
    position: int
    kind: str
    identifier_hash: str


@transaction.atomic
def register_devices(
    *,
    actor: User,
    partner: Organisation,
    rows: Sequence[tuple[int, RegistrationRow]],
    channel: str,
) -> Registered:
    """Register devices owed compensation, all rows or none.

    `rows` pairs each row with its line (CSV line or position in the API batch) for error reports.
    Devices listed one by one are claimed by the keyed hash of their identifier; a device whose
    identifier is already claimed (by this partner or another) is held, with a Conflict for the
    operator, and is not owed: PostgreSQL's unique index decides who claimed first, also between
    concurrent registrations.
    """
    if partner.kind != OrganisationKind.PARTNER:
        message = gettext("%(organisation)s is not a partner") % {"organisation": partner}
        raise RegistrationRejected([RegistrationProblem(0, message, "")])
    if channel not in Channel.values:
        raise ValueError(f"unknown channel {channel}")
    categories = current_categories()
    problems = check_rows(partner, rows)
    if problems:
        raise RegistrationRejected(problems)
    now = timezone.now()
    programmes = ProgrammeChoice(partner)
    registrations = Registration.objects.bulk_create(
        Registration(
            partner=partner,
            reference=row.reference,
            programme=programmes.of(row),
            category=categories[row.category],
            product_model=row.product_model,
            quantity=row.count,
            units_per_device=categories[row.category].units_per_device,
            channel=channel,
            created_at=now,
            created_by=actor,
        )
        for _, row in rows
    )
    devices = [
        _NewDevice(
            registration.pk, position, device.kind, identifier_hash(device.kind, device.value)
        )
        for registration, (_, row) in zip(registrations, rows, strict=True)
        for position, device in enumerate(row.devices or [], start=1)
    ]
    held = _claim(devices, now)
    excluded: dict[int, int] = {}
    for device in held:
        excluded[device.registration_id] = excluded.get(device.registration_id, 0) + 1
    _set_excluded(registrations, excluded)
    claims = {
        r.pk: DeviceClaims(
            listed=len(row.devices or []),
            claimed=len(row.devices or []) - excluded.get(r.pk, 0),
            already_compensated=excluded.get(r.pk, 0),
        )
        for r, (_, row) in zip(registrations, rows, strict=True)
    }
    audit.record(
        actor=actor,
        code="partners.registrations.created",
        obj=registrations[0] if len(registrations) == 1 else partner,
        organisation=partner,
        data={
            "channel": channel,
            "registrations": len(registrations),
            "devices": sum(r.quantity for r in registrations),
            "devices_listed": len(devices),
            "conflicts": len(held),
            "first_id": registrations[0].pk,
            "last_id": registrations[-1].pk,
        },
    )
    webhook_events.registrations_accepted(partner, registrations, claims, held)  # webhooks
    return Registered(registrations, claims)


# Devices to claim are first copied into a session-local staging table, then claimed with a
# constant number of set-based statements: the same path for an API call of ten devices and for a
# bulk upload of a million (partners.upload_actions), so the claim rules exist once.
_STAGE = "partners_device_stage"
_CREATE_STAGE = f"""
    CREATE TEMP TABLE IF NOT EXISTS {_STAGE} (
        registration_id bigint NOT NULL, position integer NOT NULL, kind text NOT NULL,
        identifier_hash text NOT NULL, status text, first_id bigint
    ) ON COMMIT DELETE ROWS
"""
# Hex hashes sort alike in every collation; "C" compares bytes, without the locale's cost.
_INSERT_DEVICES = f"""
    INSERT INTO partners_device (registration_id, position, kind, identifier_hash, status)
    SELECT registration_id, position, kind, identifier_hash, %(status)s
    FROM {_STAGE} WHERE status IS NOT DISTINCT FROM %(staged)s
    ORDER BY identifier_hash COLLATE "C"
"""
_CLAIM_DEVICES = (
    _INSERT_DEVICES + "ON CONFLICT (identifier_hash) WHERE status = 'claimed' DO NOTHING"
)
# After a claim that lost some rows to a concurrent one: mark those that went in.
_MARK_CLAIMED = f"""
    UPDATE {_STAGE} s SET status = 'claimed'
    WHERE s.status IS NULL AND EXISTS (
        SELECT 1 FROM partners_device d
        WHERE d.registration_id = s.registration_id AND d.position = s.position)
"""
# The claimed rows unclaimed staged devices compete with, kept from changing until this
# transaction ends: those staged devices are held, against them.
_CLAIMED_BY = f"""
    WITH claimed AS (
        SELECT d.identifier_hash, d.id FROM partners_device d
        WHERE d.status = 'claimed'
          AND d.identifier_hash IN (SELECT identifier_hash FROM {_STAGE} WHERE status IS NULL)
        FOR SHARE OF d
    )
    UPDATE {_STAGE} s SET status = 'held', first_id = claimed.id
    FROM claimed WHERE s.status IS NULL AND s.identifier_hash = claimed.identifier_hash
"""
_RAISE_CONFLICTS = f"""
    INSERT INTO partners_conflict (identifier_hash, first_device_id, second_device_id, raised_at,
                                   status, reason)
    SELECT s.identifier_hash, s.first_id, d.id, %(now)s, 'open', ''
    FROM {_STAGE} s
    JOIN partners_device d ON d.registration_id = s.registration_id AND d.position = s.position
    WHERE s.status = 'held'
"""
# Identifiers the operator rejected (invalid or fraudulent) and nobody holds since: a new claim
# of one is held for the operator like a double claim, against the rejected device.
_REJECTED = f"""
    UPDATE {_STAGE} s SET status = 'held', first_id = r.first_device_id
    FROM (
        SELECT DISTINCT ON (c.identifier_hash) c.identifier_hash, c.first_device_id
        FROM partners_conflict c
        WHERE c.identifier_hash IN (SELECT identifier_hash FROM {_STAGE}) AND c.status = 'rejected'
          AND NOT EXISTS (SELECT 1 FROM partners_device d
                          WHERE d.identifier_hash = c.identifier_hash AND d.status = 'claimed')
        ORDER BY c.identifier_hash, c.resolved_at DESC
    ) r
    WHERE s.identifier_hash = r.identifier_hash
"""
_EXCLUDE_HELD = f"""
    UPDATE partners_registration r SET devices_excluded = e.n
    FROM (SELECT registration_id, count(*) AS n FROM {_STAGE} WHERE status = 'held'
          GROUP BY registration_id) e
    WHERE r.id = e.registration_id
"""
_CLAIM_ATTEMPTS = 5


def open_device_stage(cursor: Any) -> None:
    """An empty staging table for devices to claim, in this session (emptied at commit)."""
    cursor.execute(_CREATE_STAGE)
    cursor.execute(f"TRUNCATE {_STAGE}")


def copy_devices_to_stage(cursor: Any, devices: Iterable[_NewDevice]) -> None:
    """COPY the devices into the staging table, in blocks of text (identifiers are hex, kinds
    are fixed words: nothing needs escaping)."""
    block: list[str] = []
    with cursor.cursor.copy(
        f"COPY {_STAGE} (registration_id, position, kind, identifier_hash) FROM STDIN"
    ) as copy:
        for d in devices:
            block.append(f"{d.registration_id}\t{d.position}\t{d.kind}\t{d.identifier_hash}\n")
            if len(block) >= 10_000:
                copy.write("".join(block))
                block.clear()
        if block:
            copy.write("".join(block))


def claim_staged(cursor: Any, now: dt.datetime, *, analyze: bool = False) -> int:
    """Insert the staged devices; those whose identifier is claimed already, or was rejected by
    the operator, become held with a Conflict, and their registrations exclude them. Returns the
    number held.

    A constant number of statements whatever the number of devices. Rows go in in hash order, so
    concurrent registrations of overlapping devices wait for each other without deadlocking; the
    loop only repeats if a claim was withdrawn between our insert and our read of it.
    """
    if analyze:  # a large stage: give the planner its size (temp tables are never auto-analysed)
        cursor.execute(f"ANALYZE {_STAGE}")
    cursor.execute(_REJECTED)
    held: int = cursor.rowcount
    # Those claimed already are held before the insert, so that the insert normally takes every
    # remaining row and nothing needs marking (at a million devices, marking the winners would
    # rewrite the whole stage). Only when a concurrent registration claimed some of them between
    # the two statements are the winners marked and the losers held, and the insert repeated
    # for any whose claim was withdrawn meanwhile.
    cursor.execute(_CLAIMED_BY)
    held += cursor.rowcount
    if not _insert_unopposed(cursor):
        for _ in range(_CLAIM_ATTEMPTS):
            cursor.execute(f"SELECT count(*) FROM {_STAGE} WHERE status IS NULL")
            pending = cursor.fetchone()[0]
            if not pending:
                break
            cursor.execute(_CLAIM_DEVICES, {"status": DeviceStatus.CLAIMED, "staged": None})
            if cursor.rowcount == pending:
                break
            cursor.execute(_MARK_CLAIMED)
            cursor.execute(_CLAIMED_BY)
            held += cursor.rowcount
        else:
            # Shown to the member whose upload broke (upload_actions words the failure).
            raise RuntimeError(
                gettext("device claims kept changing under this registration; try again")
            )
    if held:
        cursor.execute(_INSERT_DEVICES, {"status": DeviceStatus.HELD, "staged": DeviceStatus.HELD})
        cursor.execute(_RAISE_CONFLICTS, {"now": now})
        cursor.execute(_EXCLUDE_HELD)
    return held


def _insert_unopposed(cursor: Any) -> bool:
    """Insert the staged devices not held as claimed, with a plain INSERT (no per-row
    speculative insertion of ON CONFLICT): normally nobody claimed any of them since they were
    checked. False, with nothing inserted, if someone did (a unique violation)."""
    try:
        with transaction.atomic():
            cursor.execute(_INSERT_DEVICES, {"status": DeviceStatus.CLAIMED, "staged": None})
    except IntegrityError:
        return False
    return True


def _claim(devices: list[_NewDevice], now: dt.datetime) -> list[_NewDevice]:
    """Claim the devices of new registrations (see claim_staged); returns those held."""
    if not devices:
        return []
    with connection.cursor() as cursor:
        open_device_stage(cursor)
        copy_devices_to_stage(cursor, devices)
        if claim_staged(cursor, now) == 0:
            return []
        cursor.execute(f"SELECT registration_id, position FROM {_STAGE} WHERE status = 'held'")
        held = set(cursor.fetchall())
    return [d for d in devices if (d.registration_id, d.position) in held]


def _set_excluded(registrations: list[Registration], excluded: dict[int, int]) -> None:
    """Reload what the claim stored: how many listed devices each new registration does not owe."""
    if not excluded:
        return
    stored = {
        pk: (n, owed)
        for pk, n, owed in Registration.objects.filter(pk__in=list(excluded)).values_list(
            "pk", "devices_excluded", "units_owed"
        )
    }
    for registration in registrations:
        if registration.pk in stored:
            registration.devices_excluded, registration.units_owed = stored[registration.pk]


class ProgrammeChoice:
    """The programme each row goes to: the one it names, else the partner's default."""

    def __init__(self, partner: Organisation) -> None:
        self.by_code = {p.code: p for p in Programme.objects.filter(partner=partner)}
        self.default = next((p for p in self.by_code.values() if p.is_default), None)

    def of(self, row: RegistrationRow) -> Programme:
        programme = self.by_code[row.programme] if row.programme else self.default
        assert programme is not None, "check_rows() refuses rows without a programme"
        return programme

    def problem(
        self, line: int, row: RegistrationRow, today: dt.date
    ) -> RegistrationProblem | None:
        if row.programme and row.programme not in self.by_code:
            known = ", ".join(sorted(self.by_code)) or gettext("none yet")
            message = gettext("unknown programme %(code)s; your programmes: %(known)s") % {
                "code": repr(row.programme),
                "known": known,
            }
            return RegistrationProblem(line, message, "programme", "unknown_programme")
        if not row.programme and self.default is None:
            message = gettext(
                "name the programme (column or field `programme`): you have no default "
                "programme; set one on the Programmes page"
            )
            return RegistrationProblem(line, message, "programme", "unknown_programme")
        programme = self.of(row)
        if not programme.runs_on(today):
            runs = {"code": repr(programme.code), "start": programme.starts_on}
            if programme.ends_on:
                message = gettext(
                    "programme %(code)s runs from %(start)s to %(end)s: register under a "
                    "programme that runs today"
                ) % {**runs, "end": programme.ends_on}
            else:
                message = (
                    gettext(
                        "programme %(code)s runs from %(start)s: register under a programme that "
                        "runs today"
                    )
                    % runs
                )
            return RegistrationProblem(line, message, "programme", "programme_not_open")
        return None


def check_rows(
    partner: Organisation, rows: Sequence[tuple[int, RegistrationRow]]
) -> list[RegistrationProblem]:
    """What would make these rows fail, by line; reads only, so an import can report every
    problem of a file at once."""
    category_codes = set(current_categories())
    problems: list[RegistrationProblem] = []
    if not rows:
        return [RegistrationProblem(0, gettext("no registrations given"), "")]
    programmes = ProgrammeChoice(partner)
    today = timezone.localdate()
    for line, row in rows:
        if problem := programmes.problem(line, row, today):
            problems.append(problem)
    problems.extend(_over_quota(programmes, rows))
    seen: dict[str, int] = {}
    devices_seen: dict[tuple[str, str], tuple[int, int]] = {}
    for line, row in rows:
        if row.category not in category_codes:
            problems.append(
                RegistrationProblem(
                    line,
                    gettext("unknown category %(category)s; use one of %(categories)s")
                    % {
                        "category": repr(row.category),
                        "categories": ", ".join(sorted(category_codes)),
                    },
                    "category",
                    "unknown_category",
                )
            )
        if row.reference in seen:
            problems.append(
                RegistrationProblem(
                    line,
                    gettext("reference %(reference)s repeats line %(line)s")
                    % {"reference": repr(row.reference), "line": seen[row.reference]},
                    "reference",
                    "reference_repeated",
                )
            )
        seen.setdefault(row.reference, line)
        for position, device in enumerate(row.devices or [], start=1):
            first = devices_seen.setdefault((device.kind, device.value), (line, position))
            if first != (line, position):
                problems.append(
                    RegistrationProblem(
                        line,
                        gettext(
                            "device %(position)s is the same %(kind)s as device %(first)s "
                            "of line %(line)s"
                        )
                        % {
                            "position": position,
                            "kind": device.kind.label,
                            "first": first[1],
                            "line": first[0],
                        },
                        "devices",
                        "device_repeated",
                    )
                )
    existing = set(
        Registration.objects.filter(partner=partner, reference__in=list(seen)).values_list(
            "reference", flat=True
        )
    )
    problems.extend(
        RegistrationProblem(
            line,
            gettext("reference %(reference)s is already registered")
            % {"reference": repr(row.reference)},
            "reference",
            "reference_taken",
        )
        for line, row in rows
        if row.reference in existing
    )
    return sorted(problems, key=lambda p: p.line)


def _over_quota(
    programmes: ProgrammeChoice, rows: Sequence[tuple[int, RegistrationRow]]
) -> list[RegistrationProblem]:
    """Tender quotas: the first line that would take a tender past its quota (a trigger is the
    last word, under concurrent registrations)."""
    tenders = {p.pk: p for p in programmes.by_code.values() if p.quota is not None}
    if not tenders:
        return []
    used = dict(
        Registration.objects.filter(programme__in=list(tenders), cancelled_at__isnull=True)
        .order_by()
        .values_list("programme")
        .annotate(n=models.Sum("quantity"))
    )
    problems = []
    for line, row in rows:
        if (row.programme or programmes.default) is None:
            continue
        if row.programme and row.programme not in programmes.by_code:
            continue
        programme = programmes.of(row)
        if programme.pk not in tenders or programme.quota is None:
            continue
        used[programme.pk] = used.get(programme.pk, 0) + row.count
        if used[programme.pk] > programme.quota:
            problems.append(
                RegistrationProblem(
                    line,
                    gettext(
                        "programme %(code)s covers %(quota)s devices under tender %(tender)s; "
                        "this row takes it to %(used)s"
                    )
                    % {
                        "code": repr(programme.code),
                        "quota": number_format(programme.quota, force_grouping=True),
                        "tender": programme.tender_reference,
                        "used": number_format(used[programme.pk], force_grouping=True),
                    },
                    "quantity",
                    "over_quota",
                )
            )
    return problems


# Programmes -----------------------------------------------------------------------------------------


class ProgrammeRefused(Exception):
    """The programme cannot be created or changed this way; the message says why."""


@dataclass(frozen=True)
class ProgrammeTerms:
    """What a programme is: validated by the form or API schema, checked again here."""

    code: str
    name: str
    activation_mode: str
    price_per_unit: Decimal
    currency: str
    starts_on: dt.date
    ends_on: dt.date | None
    claim_wording: str
    contracting_authority: str = ""
    tender_reference: str = ""
    quota: int | None = None


def _check_terms(terms: ProgrammeTerms) -> None:
    if terms.activation_mode not in ActivationMode.values:
        raise ProgrammeRefused(
            gettext("unknown activation mode %(mode)s; use one of %(modes)s")
            % {"mode": repr(terms.activation_mode), "modes": ", ".join(ActivationMode.values)}
        )
    try:
        check_currency(terms.currency)
    except CurrencyError as exc:
        raise ProgrammeRefused(str(exc)) from None
    if terms.price_per_unit < 0:
        raise ProgrammeRefused(gettext("the price per unit cannot be negative"))
    if terms.ends_on is not None and terms.ends_on < terms.starts_on:
        raise ProgrammeRefused(gettext("the programme cannot end before it starts"))
    if not terms.claim_wording.strip():
        raise ProgrammeRefused(gettext("give the claim wording the partner may publish"))
    tender = terms.activation_mode == ActivationMode.PUBLIC_TENDER
    tender_fields = [terms.contracting_authority.strip(), terms.tender_reference.strip()]
    if tender and (not all(tender_fields) or not terms.quota):
        raise ProgrammeRefused(
            gettext("a public tender needs its contracting authority, tender reference and quota")
        )
    if not tender and (any(tender_fields) or terms.quota):
        raise ProgrammeRefused(
            gettext(
                "contracting authority, tender reference and quota belong to public tenders only"
            )
        )


def _require_programme_manager(actor: User, partner: Organisation) -> None:
    """A partner's administrators and operator staff set programmes up."""
    try:
        require_admin(actor, partner)
    except NotAllowed:
        try:
            require_operator(actor)
        except NotAllowed:
            raise NotAllowed(
                gettext(
                    "%(username)s may not manage the programmes of %(partner)s: "
                    "ask one of its administrators"
                )
                % {"username": actor.username, "partner": partner.name}
            ) from None


def _terms_data(terms: ProgrammeTerms) -> dict[str, object]:
    return {
        name: str(value) if isinstance(value, Decimal | dt.date) else value
        for name, value in asdict(terms).items()
    }


@transaction.atomic
def create_programme(
    *, actor: User, partner: Organisation, terms: ProgrammeTerms, is_default: bool = False
) -> Programme:
    """A new programme; the first one of a partner becomes its default."""
    _require_programme_manager(actor, partner)
    if partner.kind != OrganisationKind.PARTNER:
        raise ProgrammeRefused(
            gettext("%(organisation)s is not a partner") % {"organisation": partner}
        )
    _check_terms(terms)
    if Programme.objects.filter(partner=partner, code=terms.code).exists():
        raise ProgrammeRefused(
            gettext("there is already a programme %(code)s; choose another code")
            % {"code": repr(terms.code)}
        )
    Organisation.objects.select_for_update().get(pk=partner.pk)  # one default at a time
    first = not Programme.objects.filter(partner=partner).exists()
    if is_default and not first:
        Programme.objects.filter(partner=partner, is_default=True).update(is_default=False)
    programme = Programme.objects.create(
        partner=partner,
        created_at=timezone.now(),
        created_by=actor,
        is_default=is_default or first,
        **{**asdict(terms), "currency": check_currency(terms.currency)},
    )
    audit.record(
        actor=actor,
        code="partners.programme.created",
        obj=programme,
        organisation=partner,
        data={**_terms_data(terms), "is_default": programme.is_default},
    )
    return programme


@transaction.atomic
def change_programme(
    *, actor: User, programme: Programme, ends_on: dt.date | None, claim_wording: str, name: str
) -> Programme:
    """Change what may change once registrations exist: name, end date, claim wording.

    Price, currency, mode, start and tender terms stay as registered against; a new agreement
    is a new programme."""
    _require_programme_manager(actor, programme.partner)
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    if ends_on is not None and ends_on < programme.starts_on:
        raise ProgrammeRefused(gettext("the programme cannot end before it starts"))
    if not claim_wording.strip() or not name.strip():
        raise ProgrammeRefused(gettext("give the programme's name and claim wording"))
    if ends_on is not None:
        last = (
            programme.registrations.filter(cancelled_at__isnull=True)
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        if last is not None and timezone.localdate(last) > ends_on:
            raise ProgrammeRefused(
                gettext(
                    "devices were registered under this programme on %(date)s: "
                    "it cannot end before that"
                )
                % {"date": timezone.localdate(last)}
            )
    before = {
        "name": programme.name,
        "ends_on": str(programme.ends_on),
        "claim_wording": programme.claim_wording,
    }
    programme.name, programme.ends_on, programme.claim_wording = (
        name.strip(),
        ends_on,
        claim_wording.strip(),
    )
    programme.save(update_fields=["name", "ends_on", "claim_wording"])
    audit.record(
        actor=actor,
        code="partners.programme.changed",
        obj=programme,
        organisation=programme.partner,
        data={
            "before": before,
            "after": {
                "name": programme.name,
                "ends_on": str(programme.ends_on),
                "claim_wording": programme.claim_wording,
            },
        },
    )
    return programme


@transaction.atomic
def set_default_programme(*, actor: User, programme: Programme) -> Programme:
    """Registrations that name no programme go to this one from now on."""
    _require_programme_manager(actor, programme.partner)
    Organisation.objects.select_for_update().get(pk=programme.partner_id)
    Programme.objects.filter(partner=programme.partner_id, is_default=True).exclude(
        pk=programme.pk
    ).update(is_default=False)
    Programme.objects.filter(pk=programme.pk).update(is_default=True)
    programme.is_default = True
    audit.record(
        actor=actor,
        code="partners.programme.made_default",
        obj=programme,
        organisation=programme.partner,
        data={"code": programme.code},
    )
    return programme


# Device categories ---------------------------------------------------------------------------------


@transaction.atomic
def add_category_version(
    *,
    actor: User,
    code: str,
    name: str,
    units_per_device: int,
    valid_from: dt.date,
    source: str,
) -> DeviceCategory:
    """A new version of a device category (or a new category), in force from a future date.

    Registrations keep the version they were made under; a version is never edited."""
    require_operator(actor)
    if valid_from <= timezone.localdate():
        raise ProgrammeRefused(
            gettext(
                "a category version takes effect from tomorrow at the earliest: registrations "
                "made today keep today's factors"
            )
        )
    if units_per_device < 1:
        raise ProgrammeRefused(gettext("a device owes at least one unit"))
    if not source.strip():
        raise ProgrammeRefused(gettext("name the source of the unit factor"))
    category = DeviceCategory.objects.create(
        code=code,
        name=name,
        units_per_device=units_per_device,
        valid_from=valid_from,
        source=source.strip(),
    )
    audit.record(
        actor=actor,
        code="partners.category.version_added",
        obj=category,
        data={
            "code": code,
            "units_per_device": units_per_device,
            "valid_from": str(valid_from),
            "source": category.source,
        },
    )
    return category


# Cancelling before allocation -----------------------------------------------------------------------


class CancellationRefused(Exception):
    """The registration cannot be cancelled; the message says why and what to do instead."""


@transaction.atomic
def cancel_registration(*, actor: User, registration: Registration, reason: str) -> Registration:
    """The partner withdraws a registration that no unit was allocated to yet.

    It owes nothing from then on (units_owed is 0); its devices are `cancelled`, which frees their
    identifiers for a later registration; open conflicts over its held devices close. After
    allocation a registration is corrected by the operator (registry cancel-units), not here.
    """
    require_member(actor, registration.partner)
    reason = reason.strip()
    if not reason:
        raise CancellationRefused(
            gettext("give the reason for cancelling; it stays in the history")
        )
    # The allocator's lock first (one lock order for every action): no allocation run can
    # give this registration units between the check below and the cancellation.
    advisory_xact_lock(ALLOCATION_LOCK)
    registration = Registration.objects.select_for_update().get(pk=registration.pk)
    if registration.cancelled_at is not None:
        raise CancellationRefused(
            gettext("%(reference)s was already cancelled on %(date)s")
            % {
                "reference": registration.reference,
                "date": timezone.localdate(registration.cancelled_at),
            }
        )
    allocated = registration.allocations.filter(revoked_at__isnull=True).aggregate(
        n=models.Sum("quantity")
    )["n"]
    if allocated:
        raise CancellationRefused(
            ngettext(
                "%(reference)s already has %(count)s unit allocated: it can no longer be "
                "cancelled. Ask the operator for a correction (cancelling units).",
                "%(reference)s already has %(count)s units allocated: it can no longer be "
                "cancelled. Ask the operator for a correction (cancelling units).",
                allocated,
            )
            % {
                "reference": registration.reference,
                "count": number_format(allocated, force_grouping=True),
            }
        )
    now = timezone.now()
    registration.cancelled_at, registration.cancelled_by = now, actor
    registration.cancel_reason = reason
    registration.save(update_fields=["cancelled_at", "cancelled_by", "cancel_reason"])
    devices = registration.devices.exclude(
        status__in=[DeviceStatus.DECLINED, DeviceStatus.WITHDRAWN]
    ).update(status=DeviceStatus.CANCELLED)
    closed = Conflict.objects.filter(
        second_device__registration=registration, status=ConflictStatus.OPEN
    ).update(
        status=ConflictStatus.CANCELLED,
        resolved_at=now,
        resolved_by=actor,
        reason=REASON_REGISTRATION_CANCELLED,  # stored in English, shown translated
    )
    audit.record(
        actor=actor,
        code="partners.registration.cancelled",
        obj=registration,
        organisation=registration.partner,
        data={
            "reference": registration.reference,
            "quantity": registration.quantity,
            "reason": reason,
            "devices_cancelled": devices,
            "conflicts_closed": closed,
        },
    )
    registration.refresh_from_db(fields=["units_owed"])
    return registration


# Resolving conflicts -------------------------------------------------------------------------------


class Decision(models.TextChoices):
    KEEP_FIRST = (
        "keep_first",
        gettext_lazy("Keep the first claim: the second device is not compensated"),
    )
    TRANSFER = (
        "transfer",
        gettext_lazy("Transfer the claim: the second registration is compensated instead"),
    )
    REJECT = "reject", gettext_lazy("Reject both claims: the identifier is invalid or fraudulent")


class ConflictRefused(Exception):
    """The conflict cannot be resolved this way; the message says why."""


_OUTCOMES: dict[str, str] = {
    Decision.KEEP_FIRST: ConflictStatus.KEPT_FIRST,
    Decision.TRANSFER: ConflictStatus.TRANSFERRED,
    Decision.REJECT: ConflictStatus.REJECTED,
}
# pg_advisory_xact_lock(namespace, hashtext(identifier hash)): one resolution per identifier at once.
_CONFLICT_LOCK_NAMESPACE = 0x0402


@transaction.atomic
def resolve_conflict(*, actor: User, conflict: Conflict, decision: str, reason: str) -> Conflict:
    """The operator decides a second claim of a device identifier.

    keep_first: the held device is declined; the first claim stays.
    transfer:   the claimed device is withdrawn and the held one claimed: the second registration
                owes the unit, the first one no longer does.
    reject:     both are withdrawn: the identifier is invalid or fraudulent.

    Both registrations' devices_excluded (so units_owed) follow. Afterwards `claims_withdrawn` is
    sent, in this transaction, with the registrations whose units owed went down.
    """
    require_operator(actor)
    if decision not in Decision.values:
        raise ConflictRefused(
            gettext("unknown decision %(decision)s; use one of %(decisions)s")
            % {"decision": repr(decision), "decisions": ", ".join(Decision.values)}
        )
    reason = reason.strip()
    if not reason:
        raise ConflictRefused(
            gettext("give the reason for the decision; the partners may ask for it")
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
            [_CONFLICT_LOCK_NAMESPACE, conflict.identifier_hash],
        )
    conflict = Conflict.objects.select_for_update().get(pk=conflict.pk)
    if conflict.status != ConflictStatus.OPEN:
        raise ConflictRefused(
            gettext("conflict %(number)s was already resolved (%(status)s) on %(when)s")
            % {
                "number": conflict.pk,
                "status": conflict.get_status_display(),
                "when": f"{conflict.resolved_at:%Y-%m-%d %H:%M}",
            }
        )
    claimed = Device.objects.filter(
        identifier_hash=conflict.identifier_hash, status=DeviceStatus.CLAIMED
    ).first()
    first_id = claimed.pk if claimed else conflict.first_device_id
    device_ids = [first_id, conflict.second_device_id]
    registrations = {
        r.pk: r
        for r in Registration.objects.select_for_update(of=("self",))
        .select_related("partner")
        .filter(devices__pk__in=device_ids)
        .order_by("pk")
    }
    devices = {
        d.pk: d for d in Device.objects.select_for_update().filter(pk__in=device_ids).order_by("pk")
    }
    first, second = devices[first_id], devices[conflict.second_device_id]
    if second.status != DeviceStatus.HELD:
        raise ConflictRefused(
            gettext("the second device is %(status)s, not held")
            % {"status": second.get_status_display()}
        )
    owed_before = {pk: r.units_owed for pk, r in registrations.items()}

    if decision in (Decision.TRANSFER, Decision.REJECT) and claimed is not None:
        _set_status(first, DeviceStatus.WITHDRAWN)  # before the second is claimed: unique index
    _set_status(
        second,
        {
            Decision.KEEP_FIRST: DeviceStatus.DECLINED,
            Decision.TRANSFER: DeviceStatus.CLAIMED,
            Decision.REJECT: DeviceStatus.WITHDRAWN,
        }[Decision(decision)],
    )
    if decision == Decision.TRANSFER:
        # Other open claims of this identifier now compete with the device that holds the claim.
        Conflict.objects.filter(
            identifier_hash=conflict.identifier_hash, status=ConflictStatus.OPEN
        ).exclude(pk=conflict.pk).update(first_device=second)
    _recount_excluded(registrations)

    conflict.first_device = first
    conflict.status = _OUTCOMES[decision]
    conflict.resolved_at = timezone.now()
    conflict.resolved_by = actor
    conflict.reason = reason
    conflict.save(update_fields=["first_device", "status", "resolved_at", "resolved_by", "reason"])
    parties = {
        "first": _party(first, registrations[first.registration_id]),
        "second": _party(second, registrations[second.registration_id]),
    }
    down = [r for pk, r in registrations.items() if r.units_owed < owed_before[pk]]
    if down:
        # Before the audit event: the registry's receiver takes the allocator's lock, and every
        # action takes that lock before the audit chain's (one order, no deadlock).
        claims_withdrawn.send(sender=Conflict, registrations=down, actor=actor, reason=reason)
    audit.record(
        actor=actor,
        code="partners.conflict.resolved",
        obj=conflict,
        organisation=registrations[second.registration_id].partner,
        data={"decision": decision, "reason": reason, **parties},
    )
    return conflict


def _set_status(device: Device, status: str) -> None:
    Device.objects.filter(pk=device.pk).update(status=status)
    device.status = status


def _recount_excluded(registrations: dict[int, Registration]) -> None:
    """devices_excluded = the registration's devices not claimed; reloads units_owed."""
    not_claimed = (
        Device.objects.filter(registration=OuterRef("pk"))
        .exclude(status=DeviceStatus.CLAIMED)
        .order_by()
        .values("registration")
        .annotate(n=Count("pk"))
        .values("n")
    )
    Registration.objects.filter(pk__in=registrations).update(
        devices_excluded=Coalesce(Subquery(not_claimed), 0)
    )
    for pk, excluded, owed in Registration.objects.filter(pk__in=registrations).values_list(
        "pk", "devices_excluded", "units_owed"
    ):
        registrations[pk].devices_excluded = excluded
        registrations[pk].units_owed = owed


def _party(device: Device, registration: Registration) -> dict[str, object]:
    return {
        "partner_id": registration.partner_id,
        "partner": registration.partner.name,
        "registration_id": registration.pk,
        "registration": registration.reference,
        "device": device.position,
        "status": device.status,
    }
