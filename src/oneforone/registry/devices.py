"""Which unit compensated a device: the n-th counted device of a registration holds the n-th
stretch of `units_per_device` units of its active allocations, in unit-number order.

Identifiers arrive in clear from the person asking and are only hashed here, never stored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext

from oneforone.partners.identifiers import DeviceKind, InvalidIdentifier, identifier_hash, normalise
from oneforone.partners.models import Device, DeviceStatus
from oneforone.registry import serials
from oneforone.registry.models import Allocation, IssuanceBatch


@dataclass(frozen=True)
class CompensatingUnit:
    serial: str
    batch: IssuanceBatch
    certificate_code: str | None

    @property
    def origin_country(self) -> str:
        return self.batch.origin_country

    @property
    def origin_country_name(self) -> str:
        return serials.country_name(self.batch.origin_country)

    @property
    def collection_months(self) -> tuple[dt.date, dt.date]:
        return self.batch.collected_from.replace(day=1), self.batch.collected_until.replace(day=1)


@dataclass(frozen=True)
class DeviceAnswer:
    """What the public may learn about one identifier, and nothing about any other device."""

    status: str  # "compensated", "waiting", "not_registered"
    kind: str
    units: tuple[CompensatingUnit, ...] = ()


def guess_kind(text: str) -> str:
    """Fifteen digits (spaces and dashes aside) are read as an IMEI, anything else as a serial."""
    digits = text.replace(" ", "").replace("-", "")
    return (
        DeviceKind.IMEI if digits.isdigit() and len(digits) in (14, 15, 16) else DeviceKind.SERIAL
    )


def look_up(text: str, kind: str | None = None) -> DeviceAnswer:
    """Raises InvalidIdentifier (without echoing the identifier) when the text is malformed."""
    kind = kind or guess_kind(text)
    if kind not in DeviceKind.values:
        raise InvalidIdentifier(gettext("say whether it is an IMEI or a serial number"))
    hashed = identifier_hash(kind, normalise(kind, text))
    device = (
        Device.objects.filter(identifier_hash=hashed, status=DeviceStatus.CLAIMED)
        .select_related("registration")
        .prefetch_related("registration__certificates__withdrawal")
        .first()
    )
    if device is None:
        return DeviceAnswer("not_registered", kind)
    units = units_of(device)
    return DeviceAnswer("compensated" if units else "waiting", kind, units)


def units_of(device: Device) -> tuple[CompensatingUnit, ...]:
    """The units of a claimed device, or () while its registration waits for supply."""
    registration = device.registration
    index = Device.objects.filter(
        registration=registration, status=DeviceStatus.CLAIMED, position__lt=device.position
    ).count()
    per_device = registration.units_per_device
    wanted = range(index * per_device, (index + 1) * per_device)
    allocations = list(
        Allocation.objects.filter(registration=registration)
        .select_related("batch__consignment__recycler", "batch__treatment")
        .order_by("units")
    )
    certificate = registration.current_certificate()
    found = []
    offset = 0
    for allocation in allocations:
        size = allocation.units.upper - allocation.units.lower
        for n in wanted:
            if offset <= n < offset + size:
                number = allocation.units.lower + (n - offset)
                batch = allocation.batch
                found.append(
                    CompensatingUnit(
                        serial=serials.format_serial(
                            batch.origin_country, batch.vintage_year, number
                        ),
                        batch=batch,
                        certificate_code=certificate.code if certificate else None,
                    )
                )
        offset += size
    return tuple(found) if len(found) == per_device else ()
