"""Consignment pages: the list, the custody record, and the hub's and carrier's signatures."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_POST

from oneforone.accounts.decorators import member_of_kind
from oneforone.accounts.models import Membership, OrganisationKind
from oneforone.accounts.permissions import NotAllowed
from oneforone.collection.forms import ConsignmentForm
from oneforone.collection.views import chosen_hub, render_lots
from oneforone.shipments import actions, custody
from oneforone.shipments.compliance import dispatch_gate
from oneforone.shipments.custody import CustodyError
from oneforone.shipments.forms import (
    STEP_FORMS,
    DispatchForm,
    PickupForm,
    StateFilterForm,
    reception_form,
)
from oneforone.shipments.models import Consignment, ConsignmentState, CustodyStep
from oneforone.shipments.movement_queries import movement_context
from oneforone.shipments.queries import (
    awaits_receipt,
    consignment_for,
    next_custodian,
    step_for,
    visible_consignments,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

PAGE_SIZE = 50

# Where each step's form posts; reception and treatment are the recycling app's.
STEP_URLS: dict[str, str] = {
    CustodyStep.DISPATCH: "shipments-dispatch",
    CustodyStep.PICKUP: "shipments-pickup",
    CustodyStep.RECEIPT: "shipments-receipt",
    CustodyStep.RECEPTION: "recycling-reception",
    CustodyStep.TREATMENT: "recycling-treatment",
}
STEP_TITLES: dict[str, StrOrPromise] = {
    CustodyStep.DISPATCH: gettext_lazy("Sign dispatch"),
    CustodyStep.PICKUP: gettext_lazy("Sign pick-up"),
    CustodyStep.RECEIPT: gettext_lazy("Sign consignee receipt"),
    CustodyStep.RECEPTION: gettext_lazy("Record reception"),
    CustodyStep.TREATMENT: gettext_lazy("Record treatment completion"),
}
# The step as the object of "Next: ... by ...".
STEP_NAMES: dict[str, StrOrPromise] = {
    CustodyStep.DISPATCH: gettext_lazy("dispatch"),
    CustodyStep.PICKUP: gettext_lazy("pick-up"),
    CustodyStep.RECEIPT: gettext_lazy("consignee receipt"),
    CustodyStep.RECEPTION: gettext_lazy("reception"),
    CustodyStep.TREATMENT: gettext_lazy("treatment completion"),
}
STATE_BADGES: dict[str, str] = {
    ConsignmentState.DRAFT: "",
    ConsignmentState.DISPATCHED: "warn",
    ConsignmentState.IN_TRANSIT: "warn",
    ConsignmentState.RECEIVED: "warn",
    ConsignmentState.TREATED: "ok",
}

SHORT_STATES: dict[str, StrOrPromise] = {
    ConsignmentState.DRAFT: pgettext_lazy("consignment state", "packing"),
    ConsignmentState.DISPATCHED: pgettext_lazy("consignment state", "dispatched"),
    ConsignmentState.IN_TRANSIT: pgettext_lazy("consignment state", "in transit"),
    ConsignmentState.RECEIVED: pgettext_lazy("consignment state", "received"),
    ConsignmentState.TREATED: pgettext_lazy("consignment state", "treated"),
}

# The names of the fields a signature seals, as shown under it (the stored keys stay as sealed).
SEALED_FIELD_LABELS: dict[str, StrOrPromise] = {
    "reference": pgettext_lazy("sealed field", "reference"),
    "origin_hub": pgettext_lazy("sealed field", "origin hub"),
    "lots": pgettext_lazy("sealed field", "lots"),
    "phones": pgettext_lazy("sealed field", "phones"),
    "net_weight_kg": pgettext_lazy("sealed field", "net weight kg"),
    "carrier": pgettext_lazy("sealed field", "carrier"),
    "recycler": pgettext_lazy("sealed field", "recycler"),
    "container_number": pgettext_lazy("sealed field", "container number"),
    "vehicle_or_vessel": pgettext_lazy("sealed field", "vehicle or vessel"),
    "leg": pgettext_lazy("sealed field", "leg"),
    "means_of_transport": pgettext_lazy("sealed field", "means of transport"),
    "transferred_on": pgettext_lazy("sealed field", "transferred on"),
    "from_carrier": pgettext_lazy("sealed field", "from carrier"),
    "received_on": pgettext_lazy("sealed field", "received on"),
    "quantity_kg": pgettext_lazy("sealed field", "quantity kg"),
    "counted_phones": pgettext_lazy("sealed field", "counted phones"),
    "packages": pgettext_lazy("sealed field", "packages"),
    "decision": pgettext_lazy("sealed field", "decision"),
    "refused_phones": pgettext_lazy("sealed field", "refused phones"),
    "refused_weight_kg": pgettext_lazy("sealed field", "refused weight kg"),
    "refusal_reason": pgettext_lazy("sealed field", "refusal reason"),
    "certificate": pgettext_lazy("sealed field", "certificate"),
    "operation": pgettext_lazy("sealed field", "operation"),
    "completed_on": pgettext_lazy("sealed field", "completed on"),
}

consignment_page = member_of_kind(
    OrganisationKind.COLLECTION_PARTNER,
    OrganisationKind.CARRIER,
    OrganisationKind.RECYCLER,
    OrganisationKind.OPERATOR,
    OrganisationKind.AUDITOR,
)
hub_page = member_of_kind(OrganisationKind.COLLECTION_PARTNER)
carrier_page = member_of_kind(OrganisationKind.CARRIER)


def explain(error: Exception) -> str:
    """An action's refusal, worded with what to do next."""
    problem = capfirst(str(error))
    if isinstance(error, NotAllowed):
        return gettext(
            "%(problem)s. Ask an administrator of your organisation for a member role."
        ) % {"problem": problem}
    if isinstance(error, CustodyError):
        return gettext("%(problem)s. Reload the page to see where the consignment stands.") % {
            "problem": problem
        }
    return f"{problem}."


@consignment_page
def consignment_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    filter_form = StateFilterForm(request.GET or None)
    consignments = visible_consignments(membership.organisation)
    counts = dict(consignments.order_by().values_list("state").annotate(n=Count("id")))
    state = filter_form.cleaned_data["state"] if filter_form.is_valid() else ""
    if state:
        consignments = consignments.filter(state=state)
    consignments = consignments.select_related("reception").annotate(lot_count=Count("lots"))
    page = Paginator(consignments.order_by("-created_at", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    for consignment in page:
        consignment.badge = STATE_BADGES[consignment.state]  # type: ignore[attr-defined]
        consignment.short_state = SHORT_STATES[consignment.state]  # type: ignore[attr-defined]
    return render(
        request,
        "shipments/list.html",
        {
            "page": page,
            "state": state,
            "filter_form": filter_form,
            "states": [
                (value, SHORT_STATES[value], label, counts.get(value, 0))
                for value, label in ConsignmentState.choices
            ],
            "total": sum(counts.values()),
        },
    )


def _related(consignment: Consignment, name: str) -> Any:
    try:
        return getattr(consignment, name)
    except ObjectDoesNotExist:
        return None


def render_detail(
    request: HttpRequest,
    membership: Membership,
    consignment: Consignment,
    *,
    form: forms.Form | None = None,
    status: int = 200,
) -> HttpResponse:
    """The custody record of a consignment, with the one form its viewer may sign now."""
    if form is not None:
        consignment.refresh_from_db()  # a refused post: show where the consignment stands now
    step = step_for(consignment, membership.organisation)
    posted, form = form, None
    if step is not None and membership.can_write:
        step_form = (
            reception_form(consignment.stream)
            if step == CustodyStep.RECEPTION
            else STEP_FORMS[step]
        )
        form = posted if type(posted) is step_form else step_form()
    # A post for a step that is no longer this viewer's: its errors show above the page.
    refused = posted if posted is not None and posted is not form and posted.errors else None
    upcoming = next_custodian(consignment)
    lots = consignment.lots.order_by("seal_number")
    signatures = list(consignment.signatures.select_related("organisation", "signed_by"))
    for signature in signatures:
        signature.fields = [  # type: ignore[attr-defined]
            (
                SEALED_FIELD_LABELS.get(key, key.replace("_", " ")),
                ", ".join(map(str, value)) if isinstance(value, list) else value,
            )
            for key, value in signature.sealed_fields.items()
        ]
    return render(
        request,
        "shipments/detail.html",
        {
            "consignment": consignment,
            "badge": STATE_BADGES[consignment.state],
            "lots": lots,
            "lot_totals": lots.aggregate(
                count=Count("id"), phones=Sum("phones"), kg=Sum("net_weight_kg")
            ),
            "signatures": signatures,
            "chain_problems": custody.verify_signatures(consignment) if signatures else [],
            "gate": dispatch_gate(consignment),
            "reception": _related(consignment, "reception"),
            "treatment": _related(consignment, "treatment"),
            "batch": _related(consignment, "batch"),
            "step": step,
            # The facility is the consignee: its reception signs the receipt too (one step).
            "reception_signs_receipt": step == CustodyStep.RECEPTION
            and consignment.state == ConsignmentState.IN_TRANSIT
            and awaits_receipt(consignment),
            "step_title": STEP_TITLES.get(step, "") if step else "",
            "form": form,
            "refused": refused,
            "action_url": reverse(STEP_URLS[step], args=[consignment.reference]) if step else "",
            "read_only": step is not None and not membership.can_write,
            "waiting_for": (upcoming[1], STEP_NAMES[upcoming[0]])
            if upcoming and step is None
            else None,
            **movement_context(consignment, membership, posted),
        },
        status=status,
    )


@consignment_page
def consignment_detail(
    request: HttpRequest, membership: Membership, reference: str
) -> HttpResponse:
    consignment = consignment_for(membership.organisation, reference)
    return render_detail(request, membership, consignment)


def _detail_url(consignment: Consignment) -> str:
    return reverse("shipments-detail", args=[consignment.reference])


@require_POST
@hub_page
def create(request: HttpRequest, membership: Membership) -> HttpResponse:
    """From the lots page: checked sealed lots become a consignment."""
    hubs, hub = chosen_hub(request, membership)
    form = ConsignmentForm(request.POST, hub=hub)
    if form.is_valid():
        reference = form.cleaned_data["reference"]
        try:
            consignment = actions.create_consignment(
                actor=membership.user,
                reference=reference,
                hub=hub,
                lots=list(form.cleaned_data["lots"]),
                carrier=form.cleaned_data["carrier"],
                recycler=form.cleaned_data["recycler"],
                notification=form.cleaned_data["notification"],
            )
        except (CustodyError, NotAllowed) as error:
            form.add_error(None, explain(error))
        except IntegrityError:
            form.add_error(
                "reference",
                gettext(
                    "Reference %(reference)s is already used by another consignment; choose a new "
                    "reference."
                )
                % {"reference": reference},
            )
        else:
            messages.success(
                request,
                gettext(
                    "Consignment %(reference)s created. Sign its dispatch when the carrier collects it."
                )
                % {"reference": consignment.reference},
            )
            return redirect(_detail_url(consignment))
    return render_lots(request, membership, hub, hubs, consignment_form=form)


@require_POST
@hub_page
def dispatch(request: HttpRequest, membership: Membership, reference: str) -> HttpResponse:
    consignment = consignment_for(membership.organisation, reference)
    form = DispatchForm(request.POST)
    if form.is_valid():
        try:
            consignment = actions.sign_dispatch(
                actor=membership.user,
                consignment=consignment,
                container_number=form.cleaned_data["container_number"],
                packages=form.cleaned_data["packages"],
            )
        except (CustodyError, NotAllowed) as error:
            form.add_error(None, explain(error))
        else:
            messages.success(
                request,
                gettext(
                    "Dispatch signed: %(phones_dispatched)s phones, %(net_weight_kg_dispatched)s kg handed "
                    "over to %(name)s."
                )
                % {
                    "phones_dispatched": consignment.phones_dispatched,
                    "net_weight_kg_dispatched": consignment.net_weight_kg_dispatched,
                    "name": consignment.carrier.name,
                },
            )
            return redirect(_detail_url(consignment))
    return render_detail(request, membership, consignment, form=form)


@require_POST
@carrier_page
def pickup(request: HttpRequest, membership: Membership, reference: str) -> HttpResponse:
    consignment = consignment_for(membership.organisation, reference)
    form = PickupForm(request.POST)
    if form.is_valid():
        try:
            consignment = actions.sign_pickup(
                actor=membership.user, consignment=consignment, vehicle=form.cleaned_data["vehicle"]
            )
        except (CustodyError, NotAllowed) as error:
            form.add_error(None, explain(error))
        else:
            messages.success(
                request,
                gettext("Pick-up signed: %(reference)s is in the custody of %(name)s.")
                % {"reference": consignment.reference, "name": consignment.carrier.name},
            )
            return redirect(_detail_url(consignment))
    return render_detail(request, membership, consignment, form=form)
