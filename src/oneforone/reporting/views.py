from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext

from oneforone.accounts.decorators import member_of_kind
from oneforone.accounts.models import Membership, OrganisationKind, Role, User
from oneforone.accounts.permissions import NotAllowed, require_admin
from oneforone.accounts.queries import membership_of
from oneforone.core.charts import Bar, grouped_columns, horizontal_bars
from oneforone.impact import queries as impact
from oneforone.registry import actions as registry_actions
from oneforone.registry import queries as registry_queries
from oneforone.registry.forms import AllocationPreferenceForm
from oneforone.registry.models import AllocationPreference
from oneforone.reporting import home as home_figures
from oneforone.reporting import partner_views

PIPELINE_COLORS = ["#9ca3af", "#0e7490", "#ca8a04", "#166534"]


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "reporting/home.html", {"figures_html": home_figures.rendered_figures()})


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    membership = membership_of(request.user)  # type: ignore[arg-type]
    if membership is None:
        return redirect("home")
    organisation = membership.organisation
    if organisation.kind == OrganisationKind.PARTNER:
        return partner_views.dashboard(request, membership)
    partner = organisation if organisation.kind == OrganisationKind.PARTNER else None
    pipeline = impact.pipeline()
    categories = impact.by_category(partner)
    context: dict[str, Any] = {
        "partner": partner,
        "totals": impact.registry_totals(partner),
        "pipeline": pipeline,
        "weight_kg": impact.weight_diverted_kg(partner),
        "living_wages": impact.living_wages(partner),
        "origins": impact.origins(partner),
        "pipeline_chart": horizontal_bars(
            [
                Bar(gettext("At hubs"), pipeline.at_hubs, PIPELINE_COLORS[0]),
                Bar(gettext("In transit"), pipeline.in_transit, PIPELINE_COLORS[1]),
                Bar(gettext("Received"), pipeline.received, PIPELINE_COLORS[2]),
                Bar(gettext("Treated"), pipeline.treated, PIPELINE_COLORS[3]),
            ],
            title=gettext("Phones in the pipeline by stage"),
            unit=" " + gettext("phones"),
        ),
        "category_chart": grouped_columns(
            [name for name, _, _ in categories],
            [
                (gettext("Devices registered"), [r for _, r, _ in categories]),
                (gettext("Devices compensated"), [c for _, _, c in categories]),
            ],
            title=gettext("Devices registered and compensated by category"),
        ),
    }
    if partner is not None:
        context["backlog"] = registry_queries.backlog(partner).for_partner(partner)
        context["preference"] = AllocationPreference.objects.filter(partner=partner).first()
        context["can_set_preference"] = membership.role == Role.ADMIN
    return render(request, "reporting/dashboard.html", context)


@member_of_kind(OrganisationKind.PARTNER, write=True)
def allocation_preference(request: HttpRequest, membership: Membership) -> HttpResponse:
    """A partner administrator sets the partner's own allocation preference."""
    partner = membership.organisation
    user = request.user
    assert isinstance(user, User)
    try:
        require_admin(user, partner)
    except NotAllowed as error:
        raise PermissionDenied(
            gettext("%(problem)s: ask an administrator of %(partner)s to change the preference.")
            % {"problem": error, "partner": partner.name}
        ) from error
    form, preference = AllocationPreferenceForm.for_partner(
        request.POST if request.method == "POST" else None, partner
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        registry_actions.set_allocation_preference(
            actor=user,
            partner=partner,
            origin_countries=data["origin_countries"],
            vintage_years=data["vintage_years"],
            strict=data["strict"],
            allow_partial=data["allow_partial"],
        )
        messages.success(
            request,
            gettext("Saved your allocation preference; it applies from the next allocation run."),
        )
        return redirect("dashboard")
    return render(
        request,
        "reporting/allocation_preference.html",
        {"partner": partner, "form": form, "preference": preference},
    )
