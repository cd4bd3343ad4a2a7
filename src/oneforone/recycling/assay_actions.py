"""The recycler records lot assays: a laboratory's grade of a metal in a consignment it treats."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from oneforone.accounts.models import User
from oneforone.accounts.permissions import require_member
from oneforone.core import audit
from oneforone.recycling.models import AssayMetal, LotAssay
from oneforone.shipments.models import Consignment, ConsignmentState, Stream


class AssayError(ValueError):
    """The assay cannot be recorded; the message says what to correct."""


@transaction.atomic
def record_assay(
    *,
    actor: User,
    consignment: Consignment,
    metal: str,
    grade_g_per_t: Decimal,
    sample_mass_kg: Decimal,
    laboratory: str,
    assayed_on: dt.date,
) -> LotAssay:
    """Record one assay result of a received or treated phone consignment.

    Only the consignment's recycler records assays. After commit the impact figures of its batch
    are computed again under every published methodology version (the new computation is added;
    earlier ones stay)."""
    require_member(actor, consignment.recycler)
    if consignment.state not in (ConsignmentState.RECEIVED, ConsignmentState.TREATED):
        raise AssayError(
            gettext("%(reference)s is %(state)s: assay a consignment after its reception")
            % {
                "reference": consignment.reference,
                "state": consignment.get_state_display().lower(),
            }
        )
    if consignment.stream != Stream.PHONES:
        raise AssayError(
            gettext("assays are recorded for phone consignments, not battery consignments")
        )
    if metal not in AssayMetal.values:
        raise AssayError(
            gettext("unknown metal %(metal)s: use one of %(values)s")
            % {"metal": repr(metal), "values": ", ".join(AssayMetal.values)}
        )
    if grade_g_per_t < 0:
        raise AssayError(gettext("a grade is zero or more grams per tonne"))
    if sample_mass_kg <= 0:
        raise AssayError(gettext("give the mass of the assayed sample in kg (more than zero)"))
    if not laboratory.strip():
        raise AssayError(gettext("name the laboratory that made the assay"))
    if assayed_on > timezone.localdate():
        raise AssayError(gettext("an assay cannot be dated in the future"))
    assay = LotAssay.objects.create(
        consignment=consignment,
        metal=metal,
        grade_g_per_t=grade_g_per_t,
        sample_mass_kg=sample_mass_kg,
        laboratory=laboratory.strip(),
        assayed_on=assayed_on,
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    audit.record(
        actor=actor,
        code="recycling.assay.recorded",
        obj=assay,
        organisation=consignment.recycler,
        data={
            "consignment": consignment.reference,
            "metal": metal,
            "grade_g_per_t": grade_g_per_t,
            "sample_mass_kg": sample_mass_kg,
            "laboratory": assay.laboratory,
            "assayed_on": assayed_on,
        },
    )
    return assay
