from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from oneforone.accounts.models import OrganisationKind
from oneforone.accounts.queries import membership_of
from oneforone.core.charts import Bar, grouped_columns, horizontal_bars
from oneforone.impact import queries as impact

PIPELINE_COLORS = ["#9ca3af", "#0e7490", "#ca8a04", "#166534"]


def home(request: HttpRequest) -> HttpResponse:
    totals = impact.registry_totals()
    return render(
        request,
        "reporting/home.html",
        {
            "totals": totals,
            "pipeline": impact.pipeline(),
            "weight_kg": impact.weight_diverted_kg(),
            "origins": impact.origins(),
        },
    )


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    membership = membership_of(request.user)  # type: ignore[arg-type]
    if membership is None:
        return redirect("home")
    organisation = membership.organisation
    partner = organisation if organisation.kind == OrganisationKind.PARTNER else None
    pipeline = impact.pipeline()
    categories = impact.by_category(partner)
    context = {
        "partner": partner,
        "totals": impact.registry_totals(partner),
        "pipeline": pipeline,
        "weight_kg": impact.weight_diverted_kg(partner),
        "living_wages": impact.living_wages(partner),
        "origins": impact.origins(partner),
        "pipeline_chart": horizontal_bars(
            [
                Bar("At hubs", pipeline.at_hubs, PIPELINE_COLORS[0]),
                Bar("In transit", pipeline.in_transit, PIPELINE_COLORS[1]),
                Bar("Received", pipeline.received, PIPELINE_COLORS[2]),
                Bar("Treated", pipeline.treated, PIPELINE_COLORS[3]),
            ],
            title="Phones in the pipeline by stage",
            unit=" phones",
        ),
        "category_chart": grouped_columns(
            [name for name, _, _ in categories],
            [
                ("Devices registered", [r for _, r, _ in categories]),
                ("Devices compensated", [c for _, _, c in categories]),
            ],
            title="Devices registered and compensated by category",
        ),
    }
    return render(request, "reporting/dashboard.html", context)
