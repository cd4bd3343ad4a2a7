from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from oneforone.accounts.models import Organisation, OrganisationKind, User
from oneforone.accounts.permissions import require_member
from oneforone.collection.models import Hub, Lot
from oneforone.collection.network_queries import open_flags_on_lots
from oneforone.core import audit
from oneforone.shipments import custody, movement_actions
from oneforone.shipments.compliance import DispatchRefused, dispatch_refusals
from oneforone.shipments.custody import CustodyError
from oneforone.shipments.models import (
    Consignment,
    ConsignmentState,
    CustodyStep,
    Notification,
    Stream,
)


@transaction.atomic
def create_consignment(
    *,
    actor: User,
    reference: str,
    hub: Hub,
    lots: Sequence[Lot],
    carrier: Organisation,
    recycler: Organisation,
    notification: Notification | None = None,
    stream: str | None = None,
    un_number: str = "",
    packing_instruction: str = "",
    damaged: bool = False,
) -> Consignment:
    """The hub packs sealed lots into a consignment for a carrier and a recycler, under the
    notification it will move under. Batteries travel as their own consignment (stream
    `batteries`) with their dangerous-goods data."""
    require_member(actor, hub.organisation)
    if carrier.kind != OrganisationKind.CARRIER or recycler.kind != OrganisationKind.RECYCLER:
        raise CustodyError(gettext("choose a carrier and a recycler organisation"))
    stream = stream or (notification.stream if notification is not None else Stream.PHONES)
    if notification is not None and notification.notifier_id != hub.organisation_id:
        raise CustodyError(
            gettext(
                "notification %(number)s was notified by %(name)s; choose one of your own "
                "organisation's notifications"
            )
            % {"number": notification.number, "name": notification.notifier.name}
        )
    if notification is not None and notification.stream != stream:
        raise CustodyError(
            gettext(
                "notification %(number)s covers %(notification)s; choose a notification of this "
                "consignment's stream"
            )
            % {
                "number": notification.number,
                "notification": notification.get_stream_display().lower(),
            }
        )
    ids = [lot.pk for lot in lots]
    locked = Lot.objects.select_for_update().filter(pk__in=ids, hub=hub, consignment__isnull=True)
    if not ids or locked.count() != len(set(ids)):
        raise CustodyError(
            gettext("choose sealed lots of this hub that are not in a consignment yet")
        )
    # Batteries travel on their own, as dangerous goods; phones and batteries never mix.
    stray = sorted(locked.exclude(kind=stream).values_list("seal_number", flat=True))
    if stray:
        message = (
            ngettext(
                "lot %(lots)s holds batteries; a phone consignment carries phone lots only",
                "lots %(lots)s hold batteries; a phone consignment carries phone lots only",
                len(stray),
            )
            if stream == Stream.PHONES
            else ngettext(
                "lot %(lots)s holds phones; a battery consignment carries battery lots only",
                "lots %(lots)s hold phones; a battery consignment carries battery lots only",
                len(stray),
            )
        )
        raise CustodyError(message % {"lots": ", ".join(stray)})
    dangerous_goods = (
        movement_actions.battery_fields(
            un_number=un_number, packing_instruction=packing_instruction, damaged=damaged
        )
        if stream == Stream.BATTERIES
        else {}
    )
    consignment = Consignment.objects.create(
        reference=reference.strip(),
        origin_hub=hub,
        carrier=carrier,
        recycler=recycler,
        notification=notification,
        stream=stream,
        created_at=timezone.now(),
        created_by=actor,
        **dangerous_goods,
    )
    Lot.objects.filter(pk__in=ids).update(consignment=consignment)
    audit.record(
        actor=actor,
        code="shipments.consignment.created",
        obj=consignment,
        organisation=hub.organisation,
        data={
            "reference": consignment.reference,
            "lots": sorted(ids),
            "carrier": carrier.pk,
            "recycler": recycler.pk,
            "notification": notification.number if notification is not None else None,
            "stream": stream,
        },
    )
    return consignment


@transaction.atomic
def sign_dispatch(
    *,
    actor: User,
    consignment: Consignment,
    container_number: str = "",
    departure_on: dt.date | None = None,
    packaging_type: str = "",
    packages: int | None = None,
) -> Consignment:
    """The hub hands the consignment over; its lots, count and weight are sealed from here on."""

    consignment = custody.lock(consignment)
    # Checked before the figures are written: once dispatched they are sealed by the database.
    custody.require_state(consignment, ConsignmentState.DRAFT)
    notification = _pass_dispatch_gate(consignment, departure_on or timezone.localdate())
    if flagged := open_flags_on_lots(consignment.lots.all()):
        raise CustodyError(
            ngettext(
                "lot %(lots)s carries open plausibility flags; the operator must resolve them "
                "(collection flags queue) before the consignment is dispatched",
                "lots %(lots)s carry open plausibility flags; the operator must resolve them "
                "(collection flags queue) before the consignment is dispatched",
                len(flagged),
            )
            % {"lots": ", ".join(flagged)}
        )
    totals = consignment.lots.aggregate(phones=Sum("phones"), weight=Sum("net_weight_kg"))
    if not totals["weight"]:
        raise CustodyError(gettext("a consignment needs at least one sealed lot before dispatch"))
    consignment.phones_dispatched = totals["phones"]
    consignment.net_weight_kg_dispatched = totals["weight"]
    consignment.container_number = container_number.strip()
    consignment.save(
        update_fields=["phones_dispatched", "net_weight_kg_dispatched", "container_number"]
    )
    movement = movement_actions.prepare_movement_document(
        actor=actor,
        consignment=consignment,
        notification=notification,
        departure_on=departure_on,
        packaging_type=packaging_type,
        packages=packages,
    )
    signature = custody.sign(
        actor=actor,
        consignment=consignment,
        step=CustodyStep.DISPATCH,
        custodian=consignment.origin_hub.organisation,
        from_state=ConsignmentState.DRAFT,
        sealed_fields={
            "reference": consignment.reference,
            "origin_hub": consignment.origin_hub.code,
            "lots": sorted(consignment.lots.values_list("seal_number", flat=True)),
            "phones": consignment.phones_dispatched,
            "net_weight_kg": consignment.net_weight_kg_dispatched,
            "carrier": consignment.carrier.name,
            "recycler": consignment.recycler.name,
            "container_number": consignment.container_number,
            **movement,
        },
    )
    _audit_signature(actor, consignment, signature.hash, "shipments.consignment.dispatched")
    return consignment


def _pass_dispatch_gate(consignment: Consignment, departure_on: dt.date) -> Notification | None:
    """Refuse the dispatch unless every consent, contract, guarantee and ceiling allows it, and
    return the consignment's notification, row-locked for the rest of the dispatch.

    The notification's row lock makes concurrent dispatches under it wait for each other, so
    that two cannot both fit under a ceiling only one of them fits under, nor take the same
    movement document serial (`prepare_movement_document` numbers under this same lock).
    """
    notification = None
    if consignment.notification_id is not None:
        notification = (
            Notification.objects.select_for_update().filter(pk=consignment.notification_id).get()
        )
    if refusals := dispatch_refusals(consignment, departure_on=departure_on):
        raise DispatchRefused(refusals)
    return notification


@transaction.atomic
def sign_pickup(
    *,
    actor: User,
    consignment: Consignment,
    vehicle: str,
    means_of_transport: str = "",
    transferred_on: dt.date | None = None,
) -> Consignment:
    """The carrier takes custody of the consignment as dispatched: carrier leg 1."""
    consignment = custody.lock(consignment)
    if not vehicle.strip():
        raise CustodyError(gettext("enter the vehicle plate or the vessel and voyage"))
    movement_actions.check_first_carrier(consignment)
    transferred_on = transferred_on or timezone.localdate()
    means = movement_actions.first_leg_means(consignment, means_of_transport, on=transferred_on)
    signature = custody.sign(
        actor=actor,
        consignment=consignment,
        step=CustodyStep.PICKUP,
        custodian=consignment.carrier,
        from_state=ConsignmentState.DISPATCHED,
        sealed_fields={
            "vehicle_or_vessel": vehicle.strip(),
            "phones": consignment.phones_dispatched,
            "container_number": consignment.container_number,
            "leg": 1,
            "means_of_transport": means,
            "transferred_on": transferred_on,
        },
    )
    movement_actions.record_first_leg(
        consignment=consignment,
        signature=signature,
        vehicle=vehicle,
        means_of_transport=means,
        transferred_on=transferred_on,
    )
    _audit_signature(actor, consignment, signature.hash, "shipments.consignment.picked_up")
    return consignment


def _audit_signature(actor: User, consignment: Consignment, signature_hash: str, code: str) -> None:
    audit.record(
        actor=actor,
        code=code,
        obj=consignment,
        organisation=consignment.origin_hub.organisation,
        data={
            "reference": consignment.reference,
            "state": consignment.state,
            "signature": signature_hash,
        },
    )
