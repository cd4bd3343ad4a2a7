"""What partners' webhook endpoints hear about their registrations (oneforone.webhooks)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from oneforone.webhooks.actions import emit_many, listening
from oneforone.webhooks.models import EventType
from oneforone.webhooks.payload import public_url

if TYPE_CHECKING:
    from oneforone.accounts.models import Organisation
    from oneforone.partners.actions import DeviceClaims, _NewDevice
    from oneforone.partners.models import Registration


def _registration(registration: Registration, url: Callable[[object], str]) -> dict[str, Any]:
    return {"id": registration.pk, "reference": registration.reference, "url": url(registration.pk)}


def registrations_accepted(
    partner: Organisation,
    registrations: Sequence[Registration],
    claims: dict[int, DeviceClaims],
    held: Sequence[_NewDevice],
) -> None:
    """One `registration.accepted` per new registration; one `conflict.raised` per registration
    with devices held because their identifier was claimed before. Never says by whom."""
    listeners = listening(EventType.REGISTRATION_ACCEPTED, [partner.pk])
    if held:
        _conflicts_raised(partner, registrations, held)
    if not listeners:
        return
    url = public_url("partner-registration")
    accepted = []
    for r in registrations:
        claim = claims[r.pk]
        accepted.append(
            (
                partner.pk,
                {
                    "registration": {
                        **_registration(r, url),
                        "programme": r.programme.code,
                        "category": r.category.code,
                        "quantity": r.quantity,
                        "units_per_device": r.units_per_device,
                        "units_owed": (r.quantity - claim.already_compensated) * r.units_per_device,
                        "channel": r.channel,
                        "created_at": r.created_at,
                    },
                    "devices": {
                        "listed": claim.listed,
                        "claimed": claim.claimed,
                        "held": claim.already_compensated,
                    },
                },
            )
        )
    emit_many(event_type=EventType.REGISTRATION_ACCEPTED, events=accepted, listeners=listeners)


def _conflicts_raised(
    partner: Organisation, registrations: Sequence[Registration], held: Sequence[_NewDevice]
) -> None:
    listeners = listening(EventType.CONFLICT_RAISED, [partner.pk])
    if not listeners:
        return
    url = public_url("partner-registration")
    by_registration: dict[int, list[dict[str, Any]]] = {}
    for device in held:
        by_registration.setdefault(device.registration_id, []).append(
            {"position": device.position, "kind": device.kind}
        )
    emit_many(
        event_type=EventType.CONFLICT_RAISED,
        events=[
            (
                partner.pk,
                {
                    "registration": _registration(r, url),
                    "devices": by_registration[r.pk],
                    "message": "These devices were registered for compensation before, or "
                    "their identifier was rejected; they are held for the operator's review and "
                    "are not compensated twice.",
                },
            )
            for r in registrations
            if r.pk in by_registration
        ],
        listeners=listeners,
    )
