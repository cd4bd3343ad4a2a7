"""The one row schema for a registration: the API's JSON and every CSV row are validated by it."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# PostgreSQL text cannot hold NUL characters: refuse them here rather than fail on insert.
Reference = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[^\x00]+$"),
]
CategoryCode = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=30)
]


class RegistrationRow(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reference: Reference = Field(
        description="your own reference, unique among your registrations",
        examples=["INV-2026-00042"],
    )
    category: CategoryCode = Field(description="device category code", examples=["phone"])
    quantity: int = Field(ge=1, le=1_000_000, description="number of devices", examples=[250])

    @classmethod
    def columns(cls) -> list[str]:
        return list(cls.model_fields)
