"""API v1: the partner's impact, from the same queries as its dashboard."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from oneforone.accounts.models import ApiKey
from oneforone.impact import queries

router = Router(tags=["impact"])


class CategoryImpactOut(Schema):
    category: str
    devices_registered: int
    devices_compensated: int


class OriginOut(Schema):
    country: str = Field(description="ISO 3166-1 alpha-2 code where the recycled phones came from")
    units: int


class ImpactOut(Schema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "registrations": 12,
                    "devices_registered": 5400,
                    "devices_compensated": 5000,
                    "devices_owed": 400,
                    "units_owed": 5400,
                    "units_allocated": 5000,
                    "units_backlog": 400,
                    "weight_diverted_kg": "275.0",
                    "living_wage_months": "12.40",
                    "by_category": [
                        {
                            "category": "Phone",
                            "devices_registered": 5400,
                            "devices_compensated": 5000,
                        }
                    ],
                    "origins": [{"country": "GH", "units": 5000}],
                }
            ]
        }
    }

    registrations: int
    devices_registered: int = Field(description="devices that count (double claims left out)")
    devices_compensated: int
    devices_owed: int
    units_owed: int
    units_allocated: int
    units_backlog: int
    weight_diverted_kg: Decimal = Field(description="measured net weight of your recycled phones")
    living_wage_months: Decimal = Field(
        description="income paid to collectors for your phones, in months of a living wage"
    )
    by_category: list[CategoryImpactOut]
    origins: list[OriginOut]


@router.get("/impact", response={200: ImpactOut}, summary="Your impact so far")
def impact(request: HttpRequest) -> dict[str, Any]:
    key = request.auth  # type: ignore[attr-defined]
    assert isinstance(key, ApiKey)
    partner = key.organisation
    totals = queries.registry_totals(partner)
    return {
        "registrations": totals.registrations,
        "devices_registered": totals.devices_registered,
        "devices_compensated": totals.devices_compensated,
        "devices_owed": totals.devices_owed,
        "units_owed": totals.units_owed,
        "units_allocated": totals.units_allocated,
        "units_backlog": totals.units_backlog,
        "weight_diverted_kg": queries.weight_diverted_kg(partner),
        "living_wage_months": queries.living_wages(partner).months,
        "by_category": [
            {"category": name, "devices_registered": registered, "devices_compensated": done}
            for name, registered, done in queries.by_category(partner)
        ],
        "origins": [{"country": c, "units": n} for c, n in queries.origins(partner)],
    }
