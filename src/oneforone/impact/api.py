"""API v1: the partner's impact, from the same queries as its dashboard."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from pydantic import StringConstraints

from oneforone.accounts.models import ApiKey
from oneforone.core.apitools import ErrorOut
from oneforone.impact import queries
from oneforone.partners.api import programme_of

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


class ImpactQuery(Schema):
    programme: (
        Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[-a-zA-Z0-9_]+$")]
        | None
    ) = Field(None, description="a programme's code: its figures only")


@router.get(
    "/impact",
    response={200: ImpactOut, 404: ErrorOut},
    summary="Your impact so far, for all your programmes or one",
)
def impact(request: HttpRequest, filters: Query[ImpactQuery]) -> dict[str, Any]:
    key = request.auth  # type: ignore[attr-defined]
    assert isinstance(key, ApiKey)
    partner = key.organisation
    programme = programme_of(partner, filters.programme) if filters.programme else None
    totals = queries.registry_totals(partner, programme)
    return {
        "registrations": totals.registrations,
        "devices_registered": totals.devices_registered,
        "devices_compensated": totals.devices_compensated,
        "devices_owed": totals.devices_owed,
        "units_owed": totals.units_owed,
        "units_allocated": totals.units_allocated,
        "units_backlog": totals.units_backlog,
        "weight_diverted_kg": queries.weight_diverted_kg(partner, programme),
        "living_wage_months": queries.living_wages(partner, programme).months,
        "by_category": [
            {"category": name, "devices_registered": registered, "devices_compensated": done}
            for name, registered, done in queries.by_category(partner, programme)
        ],
        "origins": [{"country": c, "units": n} for c, n in queries.origins(partner, programme)],
    }
