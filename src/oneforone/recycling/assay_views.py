"""The recycler's lot assays of a consignment: the list and the form to record one."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext

from oneforone.accounts.decorators import member_of_kind
from oneforone.accounts.models import Membership, OrganisationKind
from oneforone.accounts.permissions import NotAllowed
from oneforone.recycling.assay_actions import AssayError, record_assay
from oneforone.recycling.forms import AssayForm
from oneforone.recycling.models import LotAssay
from oneforone.shipments.queries import consignment_for


@member_of_kind(OrganisationKind.RECYCLER, write=True)
def assays(request: HttpRequest, membership: Membership, reference: str) -> HttpResponse:
    consignment = consignment_for(membership.organisation, reference)
    form = AssayForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            assay = record_assay(
                actor=membership.user, consignment=consignment, **form.cleaned_data
            )
        except (AssayError, NotAllowed) as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                gettext(
                    "Assay recorded: %(metal)s %(grade_g_per_t)s g/t (%(laboratory)s). The batch's impact "
                    "figures are computed again with it."
                )
                % {
                    "metal": assay.metal,
                    "grade_g_per_t": assay.grade_g_per_t,
                    "laboratory": assay.laboratory,
                },
            )
            return redirect(reverse("recycling-assays", args=[consignment.reference]))
    return render(
        request,
        "recycling/assays.html",
        {
            "consignment": consignment,
            "assays": LotAssay.objects.filter(consignment=consignment).order_by("-id"),
            "form": form,
        },
    )
