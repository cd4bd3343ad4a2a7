"""One collector's data as a single JSON document: what the right of access hands over."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Sum
from django.utils import timezone

from oneforone.collection.models import (
    Collector,
    CollectorIdentity,
    Incident,
    Intake,
    Payment,
)
from oneforone.collection.personal_data import Person

FORMAT = "oneforone.collector-export.v1"


def document(collector: Collector, person: Person | None) -> dict[str, Any]:
    """Identity and consent, the collector's intakes, payments, safe-work records and the log of
    who handled their personal data. Amounts are strings: exact, never floats."""
    identity = CollectorIdentity.objects.filter(collector=collector).first()
    return {
        "format": FORMAT,
        "exported_at": timezone.now().isoformat(),
        "collector": {
            "code": collector.code,
            "hub": collector.hub.name,
            "country": collector.hub.country,
            "active": collector.active,
            "registered_at": collector.created_at.isoformat(),
        },
        "identity": _identity(identity, person),
        "intakes": _intakes(collector),
        "payments": _payments(collector),
        "code_of_conduct": [
            {"version": a.version, "acknowledged_on": a.acknowledged_on.isoformat()}
            for a in collector.conduct.order_by("acknowledged_on", "id")
        ],
        "trainings": [
            {"topic": t.topic, "trained_on": t.trained_on.isoformat(), "trainer": t.trainer}
            for t in collector.trainings.order_by("trained_on", "id")
        ],
        "equipment": [
            {"item": e.item, "quantity": e.quantity, "issued_on": e.issued_on.isoformat()}
            for e in collector.equipment.order_by("issued_on", "id")
        ],
        "incidents": [_incident(i) for i in _incidents(collector)],
        "personal_data_accesses": [
            {
                "at": a.at.isoformat(),
                "purpose": a.purpose,
                "organisation": a.organisation.name,
                "reason": a.reason,
            }
            for a in collector.accesses.select_related("organisation").order_by("at", "id")
        ],
    }


def _identity(identity: CollectorIdentity | None, person: Person | None) -> dict[str, Any] | None:
    if identity is None or person is None:
        return None
    return {
        "name": person.name,
        "phone": person.phone,
        "mobile_money_account": person.mobile_money,
        "consent_version": identity.consent_version,
        "consent_given_on": identity.consent_given_on.isoformat(),
        "updated_at": identity.updated_at.isoformat(),
    }


def _intakes(collector: Collector) -> dict[str, Any]:
    intakes = Intake.objects.filter(collector=collector).order_by("collected_at", "id")
    totals = intakes.aggregate(records=Count("id"), phones=Sum("phones"))
    return {
        "records": totals["records"],
        "phones": totals["phones"] or 0,
        "list": [
            {
                "collected_at": i.collected_at.isoformat(),
                "phones": i.phones,
                "net_weight_kg": str(i.net_weight_kg),
                "condition": i.condition,
                "price_per_phone": str(i.price_per_phone),
                "amount": str(i.amount_paid),
                "currency": i.currency,
                "reverses": i.reverses_id is not None,
            }
            for i in intakes
        ],
    }


def _payments(collector: Collector) -> list[dict[str, Any]]:
    return [
        {
            "paid_at": p.paid_at.isoformat(),
            "kind": p.kind,
            "amount": str(p.amount),
            "currency": p.currency,
            "method": p.method,
            "reference": p.reference,
            "reversal": p.reverses_id is not None,
        }
        for p in Payment.objects.filter(collector=collector).order_by("paid_at", "id")
    ]


def _incidents(collector: Collector) -> list[Incident]:
    return list(
        Incident.objects.filter(collector=collector)
        .prefetch_related("follow_ups")
        .order_by("occurred_on", "id")
    )


def _incident(incident: Incident) -> dict[str, Any]:
    return {
        "kind": incident.kind,
        "occurred_on": incident.occurred_on.isoformat(),
        "description": incident.description,
        "closed_at": incident.closed_at.isoformat() if incident.closed_at else None,
        "follow_ups": [
            {"at": f.at.isoformat(), "note": f.note, "closes": f.closes}
            for f in incident.follow_ups.all()
        ],
    }
