"""The one row schema for a registration: the API's JSON and every CSV row are validated by it."""

from __future__ import annotations

from typing import Annotated, Self

from django.utils.translation import gettext
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from oneforone.partners.identifiers import (
    DeviceKind,
    InvalidIdentifier,
    kind_name,
    normalise_imei,
    normalise_serial,
)

# PostgreSQL text cannot hold NUL characters: refuse them here rather than fail on insert.
Reference = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[^\x00]+$"),
]
CategoryCode = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=30)
]
ProgrammeCode = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, min_length=1, max_length=40, pattern=r"^[-a-z0-9_]+$"
    ),
]
MAX_QUANTITY = 1_000_000
# An identifier longer than this is wrong whatever it is; refuse it before normalising.
RawIdentifier = Annotated[str, StringConstraints(max_length=100)]


class DeviceId(BaseModel):
    """One device: its IMEI, or its serial number when it has no IMEI. Exactly one of the two.

    After validation the identifier is normalised (an IMEI's 15 digits; a serial upper-cased).
    """

    # hide_input_in_errors: an identifier must not reach a log through an exception's text.
    model_config = ConfigDict(
        extra="forbid",
        hide_input_in_errors=True,
        json_schema_extra={"examples": [{"imei": "490154203237518"}, {"serial": "C02XK1ABJG5H"}]},
    )

    imei: RawIdentifier | None = Field(
        default=None, repr=False, description="15 digits with a valid check digit (not an IMEISV)"
    )
    serial: RawIdentifier | None = Field(
        default=None, repr=False, description="for a device without IMEI: 4-40 of A-Z 0-9 - / ."
    )

    @model_validator(mode="after")
    def _exactly_one_normalised(self) -> Self:
        # Run once per device of a million-line upload: the two fields by name, no enum walk.
        imei, serial = self.imei, self.serial
        if bool(imei) == bool(serial):
            raise ValueError(
                gettext("give one identifier per device: either an IMEI or a serial number")
            )
        try:
            if imei:
                self.imei = normalise_imei(imei)
            else:
                self.serial = normalise_serial(serial or "")
        except InvalidIdentifier as exc:
            kind = DeviceKind.IMEI if imei else DeviceKind.SERIAL
            raise ValueError(f"{kind_name(kind)}: {exc}") from None
        return self

    @property
    def kind(self) -> DeviceKind:
        return DeviceKind.IMEI if self.imei else DeviceKind.SERIAL

    @property
    def value(self) -> str:
        """The normalised identifier; hash it, never store or log it."""
        value = self.imei or self.serial
        assert value is not None
        return value


class RegistrationRow(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, hide_input_in_errors=True)

    reference: Reference = Field(
        description="your own reference, unique among your registrations",
        examples=["INV-2026-00042"],
    )
    category: CategoryCode = Field(description="device category code", examples=["phone"])
    programme: ProgrammeCode | None = Field(
        default=None,
        description="code of the programme the devices belong to; left out: your default programme",
        examples=["retail-2026"],
    )
    product_model: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=100, pattern=r"^[^\x00/]*$")
    ] = Field(
        default="",
        description="the product model of the devices (e.g. a phone's model name, without '/'), "
        "for evidence per model; left out: not given",
        examples=["X2 Pro"],
    )
    quantity: int | None = Field(
        default=None,
        ge=1,
        le=MAX_QUANTITY,
        description="number of devices; may be left out when `devices` lists them",
        examples=[250],
    )
    devices: list[DeviceId] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_QUANTITY,
        description=(
            "the devices one by one, if you know them: each is compensated once across all "
            "partners; a device already registered is held for review and not owed twice"
        ),
    )

    @model_validator(mode="after")
    def _quantity_matches_devices(self) -> Self:
        if self.devices is None:
            if self.quantity is None:
                raise ValueError(gettext("give the quantity of devices, or list the devices"))
        else:
            if self.quantity is None:
                self.quantity = len(self.devices)
            elif self.quantity != len(self.devices):
                raise ValueError(
                    gettext("quantity %(quantity)s does not match the %(devices)s devices listed")
                    % {"quantity": self.quantity, "devices": len(self.devices)}
                )
            seen: dict[tuple[str, str], int] = {}
            for position, device in enumerate(self.devices, start=1):
                first = seen.setdefault((device.kind, device.value), position)
                if first != position:
                    raise ValueError(
                        gettext("device %(position)s is the same %(kind)s as device %(first)s")
                        % {"position": position, "kind": kind_name(device.kind), "first": first}
                    )
        return self

    @property
    def count(self) -> int:
        """The number of devices (validation guarantees it is set)."""
        assert self.quantity is not None
        return self.quantity

    @classmethod
    def columns(cls) -> list[str]:
        """The CSV columns of a registration per line; `imei`/`serial` list devices per line."""
        return ["reference", "category", "quantity"]

    @classmethod
    def optional_columns(cls) -> list[str]:
        """Columns a file may leave out: `programme` (your default programme when absent) and
        `product_model`."""
        return ["programme", "product_model"]
