"""The recycler's signatures on a consignment: counted reception, then treatment completion."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from oneforone.accounts.decorators import member_of_kind
from oneforone.accounts.models import Membership, OrganisationKind
from oneforone.accounts.permissions import NotAllowed
from oneforone.recycling import actions
from oneforone.recycling.forms import ReceptionForm, TreatmentForm
from oneforone.shipments.custody import CustodyError
from oneforone.shipments.queries import consignment_for
from oneforone.shipments.views import explain, render_detail

recycler_page = member_of_kind(OrganisationKind.RECYCLER)


@require_POST
@recycler_page
def reception(request: HttpRequest, membership: Membership, reference: str) -> HttpResponse:
    consignment = consignment_for(membership.organisation, reference)
    form = ReceptionForm(request.POST)
    if form.is_valid():
        try:
            recorded = actions.record_reception(
                actor=membership.user,
                consignment=consignment,
                counted_phones=form.cleaned_data["counted_phones"],
                net_weight_kg=form.cleaned_data["net_weight_kg"],
                decision=form.cleaned_data["decision"],
                refused_phones=form.cleaned_data["refused_phones"] or 0,
                refused_weight_kg=form.cleaned_data["refused_weight_kg"] or Decimal(0),
                refusal_reason=form.cleaned_data["refusal_reason"],
            )
        except (CustodyError, NotAllowed) as error:
            form.add_error(None, explain(error))
        else:
            text = (
                f"Reception recorded: {recorded.counted_phones} phones, "
                f"{recorded.net_weight_kg} kg, {recorded.get_decision_display().lower()}."
            )
            if recorded.flags:
                messages.warning(
                    request, f"{text} Flagged for review: {'; '.join(recorded.flags)}."
                )
            else:
                messages.success(request, f"{text} Count and weight reconcile with the dispatch.")
            return redirect(reverse("shipments-detail", args=[consignment.reference]))
    return render_detail(request, membership, consignment, form=form)


@require_POST
@recycler_page
def treatment(request: HttpRequest, membership: Membership, reference: str) -> HttpResponse:
    consignment = consignment_for(membership.organisation, reference)
    form = TreatmentForm(request.POST)
    if form.is_valid():
        try:
            completion = actions.complete_treatment(
                actor=membership.user,
                consignment=consignment,
                completed_on=form.cleaned_data["completed_on"],
                operation=form.cleaned_data["operation"],
            )
        except (CustodyError, NotAllowed) as error:
            form.add_error(None, explain(error))
        except IntegrityError as error:
            form.add_error(
                None,
                f"The registry refused to issue units for this treatment ({error}). "
                "Nothing was recorded; contact the operator.",
            )
        else:
            text = (
                f"Treatment completion recorded ({completion.operation}, "
                f"{completion.completed_on})."
            )
            try:
                batch = completion.batch
            except ObjectDoesNotExist:
                messages.success(request, text)
            else:
                messages.success(request, f"{text} {batch.quantity} units issued: {batch.block}.")
            return redirect(reverse("shipments-detail", args=[consignment.reference]))
    return render_detail(request, membership, consignment, form=form)
