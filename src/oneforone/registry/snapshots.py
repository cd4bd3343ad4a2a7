"""What a certificate states, frozen at issuance."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from oneforone.partners.models import Registration
from oneforone.registry.models import Allocation


def certificate_snapshot(registration: Registration) -> dict[str, Any]:
    allocations = sorted(registration.allocations.all(), key=lambda a: a.units.lower)
    batches = {a.batch_id: a.batch for a in allocations}.values()
    return {
        "partner": registration.partner.name,
        "registration": registration.reference,
        "category": registration.category.name,
        "devices": registration.quantity - registration.devices_excluded,
        "units": registration.units_owed,
        "unit_blocks": [a.block for a in allocations],
        "origin_countries": sorted({b.origin_country for b in batches}),
        "collection_period": {
            "from": min(b.collected_from for b in batches).isoformat(),
            "until": max(b.collected_until for b in batches).isoformat(),
        },
        "consignments": sorted(b.consignment.reference for b in batches),
        "recyclers": sorted({b.consignment.recycler.name for b in batches}),
        "treatment_completed": max(b.treatment.completed_on for b in batches).isoformat(),
        "net_weight_kg": str(_weight_of(allocations)),
    }


def _weight_of(allocations: list[Allocation]) -> Decimal:
    """Each unit carries its batch's measured net weight divided by the batch's counted phones."""
    total = sum(
        (a.batch.net_weight_kg * a.quantity / a.batch.quantity for a in allocations),
        start=Decimal(0),
    )
    return total.quantize(Decimal("0.001"))
