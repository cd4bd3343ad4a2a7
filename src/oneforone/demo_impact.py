"""Demo impact: a lot assay on a treated consignment, and every batch's figures under the
published methodology (2026.1, published by its data migration).

Runs at the end of the demo load, back at the real now, through the actions: the recycler's
laboratory reports the gold grade of the first treated Ghanaian consignment, then every batch
without figures is computed (the one assayed uses its assay instead of the default grade).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from oneforone.accounts.models import User
from oneforone.impact import actions as impact_actions
from oneforone.impact.models import MethodologyVersion, VersionStatus
from oneforone.impact.tasks import compute_version
from oneforone.recycling.assay_actions import record_assay
from oneforone.recycling.models import LotAssay
from oneforone.shipments.models import Consignment, ConsignmentState, Stream

# A gold grade a little above the stream's default (84.85 g/t), as a fire assay of a sample
# of shredded phones might report it.
ASSAY_GRADE_G_PER_T = Decimal("91.20")
ASSAY_SAMPLE_KG = Decimal("2.500")
ASSAY_LABORATORY = "Scheldt Precious Metals assay laboratory, Hoboken"


def load(*, recycler_user: User, operator_user: User, today: dt.date) -> int:
    """Record the assay, make sure 2026.1 is published, compute every batch; the number of
    batches computed."""
    consignment = (
        Consignment.objects.filter(
            state=ConsignmentState.TREATED,
            stream=Stream.PHONES,
            origin_hub__country="GH",
            batch__isnull=False,
        )
        .order_by("batch__issued_at")
        .first()
    )
    if consignment is not None and not LotAssay.objects.filter(consignment=consignment).exists():
        record_assay(
            actor=recycler_user,
            consignment=consignment,
            metal="Au",
            grade_g_per_t=ASSAY_GRADE_G_PER_T,
            sample_mass_kg=ASSAY_SAMPLE_KG,
            laboratory=ASSAY_LABORATORY,
            assayed_on=consignment.treatment.completed_on + dt.timedelta(days=10),
        )
    version = MethodologyVersion.objects.get(label="2026.1")
    if version.status == VersionStatus.DRAFT:
        impact_actions.publish_version(actor=operator_user, version=version)
    return compute_version(version.number, reason="demo")
