"""Set-up of hubs: where they are and when they buy (the norms the signals check against)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from django.db import transaction
from django.utils.formats import number_format
from django.utils.translation import gettext

from oneforone.accounts.models import Membership, Organisation, OrganisationKind, Role, User
from oneforone.accounts.permissions import NotAllowed, require_operator
from oneforone.collection.models import Area, Country, Hub
from oneforone.core import audit

MIN_RADIUS_M = 100  # a GPS fix on a phone is rarely better than tens of metres
MAX_RADIUS_M = 50_000  # beyond this the check says nothing about being at the hub


class HubError(Exception):
    pass


@transaction.atomic
def register_hub(
    *,
    actor: User,
    organisation: Organisation,
    code: str,
    name: str,
    country: str,
    city: str,
    area: str = Area.URBAN,
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
) -> Hub:
    """Operator staff open a hub for a collection partner in a country the service collects in;
    it pays collectors in the country's currency and keeps the default hours until changed."""
    require_operator(actor)
    if organisation.kind != OrganisationKind.COLLECTION_PARTNER:
        raise HubError(
            gettext("%(name)s is not a collection partner") % {"name": organisation.name}
        )
    known = Country.objects.filter(code=country).first()
    if known is None:
        raise HubError(
            gettext("%(country)s is not a country the service collects in") % {"country": country}
        )
    if area not in Area.values:
        raise HubError(gettext("the area is urban or rural"))
    _check_place(latitude, longitude)
    code, name = code.strip().lower(), name.strip()
    if not code or not name:
        raise HubError(gettext("give the hub a code and a name"))
    if Hub.objects.filter(code=code).exists():
        raise HubError(gettext("the code %(code)s is taken by another hub") % {"code": code})
    hub = Hub.objects.create(
        organisation=organisation,
        code=code,
        name=name,
        country=known.code,
        city=city.strip(),
        area=area,
        currency=known.currency,
        latitude=latitude,
        longitude=longitude,
    )
    audit.record(
        actor=actor,
        code="collection.hub.registered",
        obj=hub,
        organisation=organisation,
        data={"code": code, "name": name, "country": known.code, "currency": known.currency},
    )
    return hub


def may_change_hub(actor: User, hub: Hub) -> bool:
    """Operator staff, or an administrator of the hub's collection partner."""
    return (
        Membership.objects.filter(user=actor)
        .filter(organisation__kind=OrganisationKind.OPERATOR, role__in=[Role.ADMIN, Role.MEMBER])
        .exists()
        or Membership.objects.filter(
            user=actor, organisation=hub.organisation, role=Role.ADMIN
        ).exists()
    )


@transaction.atomic
def change_hub_hours_and_location(
    *,
    actor: User,
    hub: Hub,
    opens_at: dt.time,
    closes_at: dt.time,
    open_weekdays: Sequence[int],
    latitude: Decimal | None,
    longitude: Decimal | None,
    radius_m: int,
) -> Hub:
    """Set when a hub buys and where it is; intakes recorded from then on are checked against it
    (flags already raised keep the evidence they were raised with)."""
    if not may_change_hub(actor, hub):
        raise NotAllowed(
            gettext(
                "%(username)s may not change %(hub)s: ask an administrator of %(organisation)s "
                "or the operator"
            )
            % {"username": actor.username, "hub": hub.name, "organisation": hub.organisation.name}
        )
    weekdays = sorted(set(open_weekdays))
    if not weekdays or not set(weekdays) <= set(range(1, 8)):
        raise HubError(
            gettext("choose at least one weekday the hub buys on (1 Monday ... 7 Sunday)")
        )
    if opens_at >= closes_at:
        raise HubError(gettext("the hub must open before it closes on the same day"))
    _check_place(latitude, longitude)
    if not MIN_RADIUS_M <= radius_m <= MAX_RADIUS_M:
        raise HubError(
            gettext("the radius is between %(min_radius_m)s and %(max_radius_m)s metres")
            % {
                "min_radius_m": MIN_RADIUS_M,
                "max_radius_m": number_format(MAX_RADIUS_M, force_grouping=True),
            }
        )
    hub = Hub.objects.select_for_update().get(pk=hub.pk)
    before = _settings(hub)
    hub.opens_at, hub.closes_at, hub.open_weekdays = opens_at, closes_at, weekdays
    hub.latitude, hub.longitude, hub.radius_m = latitude, longitude, radius_m
    hub.save(
        update_fields=[
            "opens_at",
            "closes_at",
            "open_weekdays",
            "latitude",
            "longitude",
            "radius_m",
        ]
    )
    audit.record(
        actor=actor,
        code="collection.hub.settings_changed",
        obj=hub,
        organisation=hub.organisation,
        data={"before": before, "after": _settings(hub)},
    )
    return hub


def _check_place(latitude: Decimal | None, longitude: Decimal | None) -> None:
    if (latitude is None) != (longitude is None):
        raise HubError(gettext("give both latitude and longitude, or neither"))
    if latitude is not None and not Decimal(-90) <= latitude <= Decimal(90):
        raise HubError(gettext("latitude is between -90 and 90 degrees"))
    if longitude is not None and not Decimal(-180) <= longitude <= Decimal(180):
        raise HubError(gettext("longitude is between -180 and 180 degrees"))


def _settings(hub: Hub) -> dict[str, object]:
    return {
        "opens_at": hub.opens_at.isoformat(timespec="minutes"),
        "closes_at": hub.closes_at.isoformat(timespec="minutes"),
        "open_weekdays": list(hub.open_weekdays),
        "latitude": str(hub.latitude) if hub.latitude is not None else None,
        "longitude": str(hub.longitude) if hub.longitude is not None else None,
        "radius_m": hub.radius_m,
    }
