"""Posts of the movement part: carrier handover, consignee receipt, revision requests."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from oneforone.accounts.decorators import member_of_kind
from oneforone.accounts.models import Membership, OrganisationKind
from oneforone.accounts.permissions import NotAllowed
from oneforone.shipments import movement_actions, revision_actions
from oneforone.shipments.custody import CustodyError
from oneforone.shipments.models import Consignment, RevisionStatus
from oneforone.shipments.movement_forms import (
    ConsigneeReceiptForm,
    HandoverForm,
    RevisionAnswerForm,
    RevisionRequestForm,
)
from oneforone.shipments.queries import consignment_for
from oneforone.shipments.views import carrier_page, explain, render_detail

# The consignee is the recycler's organisation (or another recycler); parties sign documents.
consignee_page = member_of_kind(OrganisationKind.RECYCLER)
party_page = member_of_kind(
    OrganisationKind.COLLECTION_PARTNER, OrganisationKind.CARRIER, OrganisationKind.RECYCLER
)


def _back(consignment: Consignment) -> HttpResponse:
    return redirect(reverse("shipments-detail", args=[consignment.reference]))


def _refused(
    request: HttpRequest, membership: Membership, consignment: Consignment, form: forms.Form
) -> HttpResponse:
    return render_detail(request, membership, consignment, form=form)


@require_POST
@carrier_page
def handover(request: HttpRequest, membership: Membership, reference: str) -> HttpResponse:
    consignment = consignment_for(membership.organisation, reference)
    form = HandoverForm(request.POST)
    if form.is_valid():
        try:
            leg = movement_actions.sign_carrier_handover(
                actor=membership.user,
                consignment=consignment,
                vehicle=form.cleaned_data["vehicle"],
                means_of_transport=form.cleaned_data["means_of_transport"],
                transferred_on=form.cleaned_data["transferred_on"],
            )
        except (CustodyError, NotAllowed) as error:
            form.add_error(None, explain(error))
        else:
            messages.success(
                request,
                gettext(
                    "Handover signed: leg %(sequence)s of %(reference)s is in the custody of %(name)s."
                )
                % {
                    "sequence": leg.sequence,
                    "reference": consignment.reference,
                    "name": leg.carrier.name,
                },
            )
            return _back(consignment)
    return _refused(request, membership, consignment, form)


@require_POST
@consignee_page
def receipt(request: HttpRequest, membership: Membership, reference: str) -> HttpResponse:
    consignment = consignment_for(membership.organisation, reference)
    form = ConsigneeReceiptForm(request.POST)
    if form.is_valid():
        try:
            movement_actions.sign_consignee_receipt(
                actor=membership.user,
                consignment=consignment,
                received_on=form.cleaned_data["received_on"],
                quantity_kg=form.cleaned_data["quantity_kg"],
            )
        except (CustodyError, NotAllowed) as error:
            form.add_error(None, explain(error))
        else:
            messages.success(
                request,
                gettext("Receipt signed. The facility records its reception and decision next."),
            )
            return _back(consignment)
    return _refused(request, membership, consignment, form)


@require_POST
@party_page
def request_revision(request: HttpRequest, membership: Membership, reference: str) -> HttpResponse:
    consignment = consignment_for(membership.organisation, reference)
    form = RevisionRequestForm(request.POST)
    if form.is_valid():
        try:
            revision = revision_actions.request_revision(
                actor=membership.user,
                consignment=consignment,
                field=form.cleaned_data["field"],
                new_value=form.cleaned_data["new_value"],
                reason=form.cleaned_data["reason"],
                leg=form.cleaned_data["leg"],
            )
        except (CustodyError, NotAllowed) as error:
            form.add_error(None, explain(error))
        else:
            messages.success(
                request,
                gettext(
                    "Revision requested: %(old_value)s → %(new_value)s. It applies when every other party "
                    "approves."
                )
                % {"old_value": revision.old_value, "new_value": revision.new_value},
            )
            return _back(consignment)
    return _refused(request, membership, consignment, form)


@require_POST
@party_page
def answer_revision(
    request: HttpRequest, membership: Membership, reference: str, revision_id: int
) -> HttpResponse:
    consignment = consignment_for(membership.organisation, reference)
    revision = consignment.revision_requests.filter(pk=revision_id).first()
    if revision is None:
        raise Http404(gettext("No such revision request on this consignment."))
    form = RevisionAnswerForm(request.POST)
    if form.is_valid():
        try:
            revision = revision_actions.answer_revision(
                actor=membership.user,
                request=revision,
                vote=form.cleaned_data["vote"],
                note=form.cleaned_data["note"],
            )
        except (CustodyError, NotAllowed) as error:
            form.add_error(None, explain(error))
        else:
            outcomes: dict[str, str] = {
                RevisionStatus.APPROVED: gettext("Approved by every party: the change is applied."),
                RevisionStatus.REJECTED: gettext("Rejected: the field keeps its signed value."),
            }
            text = outcomes.get(
                revision.status, gettext("Answer recorded; waiting for the other parties.")
            )
            messages.success(request, text)
            return _back(consignment)
    return _refused(request, membership, consignment, form)
