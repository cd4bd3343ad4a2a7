"""What partners' webhook endpoints hear about allocations and certificates (oneforone.webhooks)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from oneforone.partners.models import Registration
from oneforone.registry.models import Allocation, Certificate
from oneforone.webhooks.actions import emit_many, listening
from oneforone.webhooks.models import EventType
from oneforone.webhooks.payload import public_url

# A run that serves many registrations of a partner is told in several events, each of a size a
# receiver can take in one request.
PER_EVENT = 1000


def allocation_made(
    allocations: Sequence[Allocation],
    partner_of: dict[int, int],
    completed: Iterable[int],
    certificates: Sequence[Certificate],
) -> None:
    """One `allocation.made` per partner (per PER_EVENT registrations) with what this allocation
    run gave its registrations."""
    listeners = listening(EventType.ALLOCATION_MADE, set(partner_of.values()))
    if not listeners:
        return
    units: dict[int, int] = {}
    for a in allocations:
        units[a.registration_id] = units.get(a.registration_id, 0) + a.units.upper - a.units.lower
    done = set(completed)
    references = dict(
        Registration.objects.filter(pk__in=list(units)).values_list("pk", "reference")
    )
    registration_url = public_url("partner-registration")
    codes: dict[int, list[str]] = {}
    for c in certificates:
        codes.setdefault(c.registration_id, []).append(c.code)
    per_partner: dict[int, list[dict[str, Any]]] = {}
    for registration_id, allocated in units.items():
        per_partner.setdefault(partner_of[registration_id], []).append(
            {
                "id": registration_id,
                "reference": references[registration_id],
                "units": allocated,
                "fully_allocated": registration_id in done,
                "certificates": codes.get(registration_id, []),
                "url": registration_url(registration_id),
            }
        )
    events: list[tuple[int, dict[str, Any]]] = []
    for partner_id, rows in per_partner.items():
        rows.sort(key=lambda r: r["id"])
        parts = [rows[i : i + PER_EVENT] for i in range(0, len(rows), PER_EVENT)]
        events.extend(
            (
                partner_id,
                {
                    "units": sum(r["units"] for r in part),
                    "registrations": part,
                    "part": number,
                    "parts": len(parts),
                },
            )
            for number, part in enumerate(parts, start=1)
        )
    emit_many(event_type=EventType.ALLOCATION_MADE, events=events, listeners=listeners)


def _certificate(
    certificate: Certificate, urls: dict[str, Callable[[object], str]]
) -> dict[str, Any]:
    return {
        "code": certificate.code,
        "version": certificate.version,
        "url": urls["verify"](certificate.code),
        "pdf_url": urls["verify-pdf"](certificate.code),
    }


def certificates_issued(certificates: Sequence[Certificate]) -> None:
    """`certificate.issued` for each new certificate and `certificate.superseded` for each
    version it replaces. The registrations come with their partner selected."""
    partners = {c.registration.partner_id for c in certificates}
    if not partners or not (
        listening(EventType.CERTIFICATE_ISSUED, partners)
        or listening(EventType.CERTIFICATE_SUPERSEDED, partners)
    ):
        return
    urls = {name: public_url(name) for name in ("verify", "verify-pdf", "partner-registration")}
    issued = []
    superseded = []
    for c in certificates:
        registration = {
            "id": c.registration_id,
            "reference": c.registration.reference,
            "url": urls["partner-registration"](c.registration_id),
        }
        partner_id = c.registration.partner_id
        issued.append(
            (
                partner_id,
                {
                    "certificate": {**_certificate(c, urls), "issued_at": c.issued_at},
                    "registration": registration,
                    "supersedes": c.supersedes.code if c.supersedes else None,
                },
            )
        )
        if c.supersedes is not None:
            superseded.append(
                (
                    partner_id,
                    {
                        "certificate": _certificate(c.supersedes, urls),
                        "superseded_by": _certificate(c, urls),
                        "registration": registration,
                    },
                )
            )
    emit_many(event_type=EventType.CERTIFICATE_ISSUED, events=issued)
    emit_many(event_type=EventType.CERTIFICATE_SUPERSEDED, events=superseded)
