"""The deadlines page: what is overdue and due on the movements the organisation may see, and
the form that records a deadline as met."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from oneforone.accounts.decorators import member_of_kind
from oneforone.accounts.models import Membership, OrganisationKind
from oneforone.accounts.permissions import NotAllowed
from oneforone.shipments.custody import CustodyError
from oneforone.shipments.deadline_actions import (
    DeadlineError,
    plan_departure,
    record_deadline_met,
)
from oneforone.shipments.deadline_forms import (
    DeadlineFilterForm,
    DeadlineMetForm,
    PlanDepartureForm,
)
from oneforone.shipments.deadlines import Deadline, DeadlineStatus, deadlines_for
from oneforone.shipments.models import ConsignmentState
from oneforone.shipments.queries import consignment_for, visible_consignments
from oneforone.shipments.views import explain

# Beyond this many rows the page asks for a filter instead of growing without end.
MAX_ROWS = 300

deadline_page = member_of_kind(
    OrganisationKind.COLLECTION_PARTNER,
    OrganisationKind.CARRIER,
    OrganisationKind.RECYCLER,
    OrganisationKind.OPERATOR,
    OrganisationKind.AUDITOR,
)

BADGES = {DeadlineStatus.OVERDUE: "err", DeadlineStatus.DUE: "warn", DeadlineStatus.MET: "ok"}


def _may_record(membership: Membership, deadline: Deadline) -> bool:
    if not membership.can_write or deadline.status == DeadlineStatus.MET:
        return False
    organisation = membership.organisation
    return (
        organisation.kind == OrganisationKind.OPERATOR or deadline.responsible.pk == organisation.pk
    )


def _matches(deadline: Deadline, filters: dict[str, str]) -> bool:
    status = filters.get("status") or ""
    if status == "" and deadline.status == DeadlineStatus.MET:
        return False
    if status not in ("", "all") and deadline.status != status:
        return False
    if filters.get("kind") and deadline.kind != filters["kind"]:
        return False
    if filters.get("country") and filters["country"].upper() not in deadline.countries:
        return False
    number = filters.get("notification")
    return not number or (
        deadline.notification is not None and deadline.notification.number == number
    )


@deadline_page
def deadline_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    today = timezone.localdate()
    filter_form = DeadlineFilterForm(request.GET or None)
    filters = filter_form.cleaned_data if filter_form.is_valid() else {}
    # Consignments whose certificate was sent are history: read only when asked for.
    include_met = filters.get("status") in ("met", "all")
    everything = deadlines_for(membership.organisation, today=today, include_met=include_met)
    counts = {
        status: sum(d.status == status for d in everything)
        for status in (DeadlineStatus.OVERDUE, DeadlineStatus.DUE)
    }
    chosen = [d for d in everything if _matches(d, filters)]
    rows = [
        {
            "deadline": d,
            "badge": BADGES[d.status],
            "days_left": d.days_left(today),
            "form": DeadlineMetForm(
                initial={"kind": d.act_kind, "subject_key": d.subject_key}, auto_id=False
            )
            if _may_record(membership, d)
            else None,
        }
        for d in chosen[:MAX_ROWS]
    ]
    return render(
        request,
        "shipments/deadlines.html",
        {
            "rows": rows,
            "shown": len(rows),
            "matching": len(chosen),
            "counts": counts,
            "filter_form": filter_form,
            "today": today,
            "drafts": _drafts_to_plan(membership),
        },
    )


def _drafts_to_plan(membership: Membership) -> list[tuple[object, PlanDepartureForm]]:
    """The hub's consignments being packed, each with a form to plan (or move) its departure."""
    if membership.organisation.kind != OrganisationKind.COLLECTION_PARTNER or not (
        membership.can_write
    ):
        return []
    drafts = (
        visible_consignments(membership.organisation)
        .filter(state=ConsignmentState.DRAFT)
        .order_by("created_at", "id")[:MAX_ROWS]
    )
    return [
        (
            draft,
            PlanDepartureForm(
                initial={"reference": draft.reference, "departure_on": draft.planned_departure},
                auto_id=False,
            ),
        )
        for draft in drafts
    ]


@require_POST
@member_of_kind(OrganisationKind.COLLECTION_PARTNER, write=True)
def departure(request: HttpRequest, membership: Membership) -> HttpResponse:
    form = PlanDepartureForm(request.POST)
    back = reverse("shipments-deadlines") + "#plan"
    if not form.is_valid():
        messages.error(
            request, gettext("Nothing was planned. Choose the day the consignment leaves.")
        )
        return redirect(back)
    consignment = consignment_for(membership.organisation, form.cleaned_data["reference"])
    try:
        consignment = plan_departure(
            actor=membership.user,
            consignment=consignment,
            departure_on=form.cleaned_data["departure_on"],
        )
    except (CustodyError, NotAllowed) as error:
        messages.error(
            request, gettext("Nothing was planned. %(error)s") % {"error": explain(error)}
        )
    else:
        messages.success(
            request,
            gettext(
                "%(reference)s leaves on %(planned_departure)s; its pre-shipment information is now "
                "listed below with its due date."
            )
            % {
                "reference": consignment.reference,
                "planned_departure": format(consignment.planned_departure, "%Y-%m-%d"),
            },
        )
    return redirect(back)


@require_POST
@member_of_kind(
    OrganisationKind.COLLECTION_PARTNER,
    OrganisationKind.CARRIER,
    OrganisationKind.RECYCLER,
    OrganisationKind.OPERATOR,
    write=True,
)
def deadline_met(request: HttpRequest, membership: Membership) -> HttpResponse:
    form = DeadlineMetForm(request.POST)
    back = reverse("shipments-deadlines")
    if not form.is_valid():
        problems = " ".join(str(error) for errors in form.errors.values() for error in errors)
        messages.error(
            request,
            gettext("Nothing was recorded (%(problems)s). Fill in the date it was done.")
            % {"problems": problems},
        )
        return redirect(back)
    try:
        act = record_deadline_met(
            actor=membership.user,
            kind=form.cleaned_data["kind"],
            subject_key=form.cleaned_data["subject_key"],
            done_on=form.cleaned_data["done_on"],
            note=form.cleaned_data["note"],
        )
    except (DeadlineError, NotAllowed) as error:
        messages.error(
            request, gettext("Nothing was recorded. %(error)s") % {"error": explain(error)}
        )
    else:
        messages.success(
            request,
            gettext("%(act)s recorded as done on %(done_on)s.")
            % {"act": act.get_kind_display(), "done_on": format(act.done_on, "%Y-%m-%d")},
        )
    return redirect(back)
