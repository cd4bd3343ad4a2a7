"""Collectors and safe work pages: the hub's list of collectors, registration, a collector's
record (personal data only on request, with a reason, logged), export, erasure, safe-work
records, and the safe-work figures of a partner's hubs or of the whole network."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Count, Prefetch, QuerySet, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from oneforone.accounts.decorators import member_of_kind
from oneforone.accounts.models import Membership, OrganisationKind
from oneforone.accounts.permissions import NotAllowed
from oneforone.collection import people_actions, people_queries
from oneforone.collection.models import (
    Collector,
    CollectorIdentity,
    Hub,
    Incident,
    IncidentFollowUp,
    Intake,
    Payment,
)
from oneforone.collection.people_actions import PeopleError
from oneforone.collection.people_forms import (
    ConductForm,
    EquipmentForm,
    EraseForm,
    FollowUpForm,
    HubIncidentForm,
    IdentityForm,
    IncidentForm,
    ReasonForm,
    RegisterCollectorForm,
    TrainingForm,
)
from oneforone.collection.personal_data import Person
from oneforone.core.charts import StackedRow, stacked_bars
from oneforone.core.money import Money

people_page = member_of_kind(OrganisationKind.COLLECTION_PARTNER, OrganisationKind.OPERATOR)
# Registration and safe-work records are the collection partner's to keep; operator staff read
# them, read-only members too.
hub_writer_page = member_of_kind(OrganisationKind.COLLECTION_PARTNER, write=True)
ACCESS_ROWS = 30
DONE_COLOR, NOT_YET_COLOR = "#166534", "#d1d5db"


def _is_operator(membership: Membership) -> bool:
    return membership.organisation.kind == OrganisationKind.OPERATOR


def visible_hubs(membership: Membership) -> QuerySet[Hub]:
    """Operator staff see every hub; a collection partner its own."""
    hubs = Hub.objects.select_related("organisation").order_by("country", "name")
    return hubs if _is_operator(membership) else hubs.filter(organisation=membership.organisation)


def _collector(membership: Membership, code: str) -> Collector:
    """The collector with this code among the hubs the member may see; 404 for any other."""
    return get_object_or_404(
        Collector.objects.select_related("hub__organisation"),
        code=code,
        hub__in=visible_hubs(membership),
    )


def _refusal(error: Exception) -> str:
    text = str(error)
    if isinstance(error, NotAllowed):
        return gettext("%(refusal)s. Ask the collection partner or operator staff.") % {
            "refusal": capfirst(text)
        }
    return gettext("%(refusal)s. Correct it and send again.") % {"refusal": capfirst(text)}


# --- the list and registration -----------------------------------------------------------------


@people_page
def collectors(request: HttpRequest, membership: Membership) -> HttpResponse:
    hubs = visible_hubs(membership)
    code = request.GET.get("hub")
    hub = hubs.filter(code=code).first() if code else hubs.first()
    if hub is None:
        raise Http404(
            gettext("No such hub.")
            if code
            else gettext("No hub yet; ask the operator to register one.")
        )
    month = timezone.localdate().replace(day=1)
    rows = people_queries.collectors_list(
        Collector.objects.filter(hub=hub).order_by("-active", "code"), month
    )
    return render(
        request,
        "collection/people/collectors.html",
        {
            "hub": hub,
            "hubs": hubs,
            "switch_url": reverse("collection-collectors"),
            "rows": rows,
            "month": month,
            "can_register": not _is_operator(membership) and membership.can_write,
            "conduct_version": people_queries.CURRENT_CONDUCT_VERSION,
        },
    )


@hub_writer_page
def register(request: HttpRequest, membership: Membership) -> HttpResponse:
    hubs = visible_hubs(membership)
    form = RegisterCollectorForm(request.POST or None, hubs=hubs)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            collector = people_actions.register_collector(
                actor=membership.user,
                hub=data["hub"],
                person=Person(data["name"], data["phone"], data["mobile_money"]),
                consent_version=data["consent_version"],
                consent_given_on=data["consent_given_on"],
            )
        except (PeopleError, NotAllowed) as error:
            form.add_error(None, _refusal(error))
        else:
            messages.success(
                request, gettext("Registered collector %(code)s.") % {"code": collector.code}
            )
            return redirect("collection-collector", code=collector.code)
    return render(request, "collection/people/register.html", {"form": form})


# --- one collector's record --------------------------------------------------------------------


def _detail_forms(collector: Collector, **bound: forms.Form) -> dict[str, forms.Form]:
    open_incidents = Incident.objects.filter(collector=collector, closed_at__isnull=True)
    unbound: dict[str, forms.Form] = {
        "reveal_form": ReasonForm(),
        "export_form": ReasonForm(),
        "erase_form": EraseForm(collector=collector),
        "training_form": TrainingForm(),
        "equipment_form": EquipmentForm(),
        "conduct_form": ConductForm(),
        "incident_form": IncidentForm(),
        "follow_up_form": FollowUpForm(incidents=open_incidents),
        "identity_form": IdentityForm(),
    }
    return unbound | bound


def render_detail(
    request: HttpRequest,
    membership: Membership,
    collector: Collector,
    *,
    person: Person | None = None,
    status: int = 200,
    bound: dict[str, forms.Form] | None = None,
    correcting: bool = False,
) -> HttpResponse:
    """A collector's record; the person only when just revealed, never in a link or a cache."""
    status_row = people_queries.with_safe_work(Collector.objects.filter(pk=collector.pk)).get()
    paid = (
        Payment.objects.filter(collector=collector)
        .values("currency")
        .annotate(total=Sum("amount"))
        .order_by("currency")
    )
    is_operator = _is_operator(membership)
    response = render(
        request,
        "collection/people/collector.html",
        {
            "collector": collector,
            "hub": collector.hub,
            "status": status_row,
            "identity": CollectorIdentity.objects.filter(collector=collector).first(),
            "person": person,
            "correcting": correcting,
            "intakes": Intake.objects.filter(collector=collector).aggregate(
                records=Count("id"), phones=Sum("phones")
            ),
            "paid": [Money(row["total"] or Decimal(0), row["currency"]) for row in paid],
            "trainings": collector.trainings.all(),
            "equipment": collector.equipment.all(),
            "conduct": collector.conduct.all(),
            "incidents": collector.incidents.prefetch_related(
                Prefetch("follow_ups", queryset=IncidentFollowUp.objects.select_related("by"))
            ),
            "accesses": people_queries.access_log(collector)[:ACCESS_ROWS],
            "is_operator": is_operator,
            "can_record": not is_operator and membership.can_write,
            "current_conduct": people_queries.CURRENT_CONDUCT_VERSION,
            **_detail_forms(collector, **(bound or {})),
        },
        status=status,
    )
    if person is not None or correcting:
        response["Cache-Control"] = "no-store"
    return response


@people_page
def collector(request: HttpRequest, membership: Membership, code: str) -> HttpResponse:
    return render_detail(request, membership, _collector(membership, code))


@never_cache
@require_POST
@people_page
def reveal(request: HttpRequest, membership: Membership, code: str) -> HttpResponse:
    target = _collector(membership, code)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            person = people_actions.reveal_identity(
                actor=membership.user, collector=target, reason=form.cleaned_data["reason"]
            )
        except (PeopleError, NotAllowed) as error:
            form.add_error("reason", _refusal(error))
        else:
            correction = IdentityForm(initial={**vars(person), "reason": ""})
            return render_detail(
                request, membership, target, person=person, bound={"identity_form": correction}
            )
    return render_detail(request, membership, target, status=400, bound={"reveal_form": form})


@never_cache
@require_POST
@people_page
def correct(request: HttpRequest, membership: Membership, code: str) -> HttpResponse:
    """Correct the person's data; on a refusal the form comes back with what was typed."""
    target = _collector(membership, code)
    form = IdentityForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            people_actions.update_identity(
                actor=membership.user,
                collector=target,
                person=Person(data["name"], data["phone"], data["mobile_money"]),
                consent_version=data["consent_version"] or None,
                consent_given_on=data["consent_given_on"],
                reason=data["reason"],
            )
        except (PeopleError, NotAllowed) as error:
            form.add_error(None, _refusal(error))
        else:
            messages.success(
                request, gettext("Corrected the personal data of %(code)s.") % {"code": target.code}
            )
            return redirect("collection-collector", code=target.code)
    return render_detail(
        request, membership, target, status=400, bound={"identity_form": form}, correcting=True
    )


@require_POST
@people_page
def export(request: HttpRequest, membership: Membership, code: str) -> HttpResponse:
    target = _collector(membership, code)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            document = people_actions.export_collector(
                actor=membership.user, collector=target, reason=form.cleaned_data["reason"]
            )
        except (PeopleError, NotAllowed) as error:
            form.add_error("reason", _refusal(error))
        else:
            response = HttpResponse(
                json.dumps(document, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False),
                content_type="application/json; charset=utf-8",
            )
            response["Content-Disposition"] = f'attachment; filename="{target.code}.json"'
            response["Cache-Control"] = "no-store"
            return response
    return render_detail(request, membership, target, status=400, bound={"export_form": form})


@require_POST
@people_page
def erase(request: HttpRequest, membership: Membership, code: str) -> HttpResponse:
    target = _collector(membership, code)
    form = EraseForm(request.POST, collector=target)
    if form.is_valid():
        try:
            scrubbed = people_actions.erase_collector(
                actor=membership.user, collector=target, reason=form.cleaned_data["reason"]
            )
        except (PeopleError, NotAllowed) as error:
            form.add_error(None, _refusal(error))
        else:
            messages.success(
                request,
                gettext(
                    "Erased the person behind %(code)s; %(scrubbed)s text(s) naming them were replaced. "
                    "Every intake and payment stays under the code."
                )
                % {"code": target.code, "scrubbed": scrubbed},
            )
            return redirect("collection-collector", code=target.code)
    return render_detail(request, membership, target, status=400, bound={"erase_form": form})


def _record(
    request: HttpRequest,
    membership: Membership,
    code: str,
    form_name: str,
    form: forms.Form,
    act: Callable[[Collector, dict[str, Any]], object],
    done: str,
) -> HttpResponse:
    """Validate a safe-work form, call its action, come back to the record with what was done."""
    target = _collector(membership, code)
    if form.is_valid():
        try:
            act(target, form.cleaned_data)
        except (PeopleError, NotAllowed) as error:
            form.add_error(None, _refusal(error))
        else:
            messages.success(request, done)
            return redirect(f"{reverse('collection-collector', args=[target.code])}#safe-work")
    return render_detail(request, membership, target, status=400, bound={form_name: form})


@require_POST
@hub_writer_page
def training(request: HttpRequest, membership: Membership, code: str) -> HttpResponse:
    def act(target: Collector, data: dict[str, Any]) -> object:
        return people_actions.record_training(actor=membership.user, collector=target, **data)

    form = TrainingForm(request.POST)
    return _record(
        request, membership, code, "training_form", form, act, gettext("Training recorded.")
    )


@require_POST
@hub_writer_page
def equipment(request: HttpRequest, membership: Membership, code: str) -> HttpResponse:
    def act(target: Collector, data: dict[str, Any]) -> object:
        return people_actions.issue_equipment(actor=membership.user, collector=target, **data)

    form = EquipmentForm(request.POST)
    return _record(
        request, membership, code, "equipment_form", form, act, gettext("Equipment recorded.")
    )


@require_POST
@hub_writer_page
def conduct(request: HttpRequest, membership: Membership, code: str) -> HttpResponse:
    def act(target: Collector, data: dict[str, Any]) -> object:
        return people_actions.acknowledge_conduct(actor=membership.user, collector=target, **data)

    form = ConductForm(request.POST)
    done = gettext("Code of conduct acknowledgement recorded.")
    return _record(request, membership, code, "conduct_form", form, act, done)


@require_POST
@hub_writer_page
def incident(request: HttpRequest, membership: Membership, code: str) -> HttpResponse:
    def act(target: Collector, data: dict[str, Any]) -> object:
        return people_actions.report_incident(
            actor=membership.user, hub=target.hub, collector=target, **data
        )

    form = IncidentForm(request.POST)
    return _record(
        request, membership, code, "incident_form", form, act, gettext("Incident reported.")
    )


@require_POST
@hub_writer_page
def follow_up(request: HttpRequest, membership: Membership, code: str) -> HttpResponse:
    def act(target: Collector, data: dict[str, Any]) -> object:
        return people_actions.follow_up_incident(
            actor=membership.user,
            incident=data["incident"],
            note=data["note"],
            closes=data["closes"],
        )

    target = _collector(membership, code)
    open_incidents = Incident.objects.filter(collector=target, closed_at__isnull=True)
    form = FollowUpForm(request.POST, incidents=open_incidents)
    return _record(
        request, membership, code, "follow_up_form", form, act, gettext("Follow-up recorded.")
    )


@require_POST
@hub_writer_page
def set_active(request: HttpRequest, membership: Membership, code: str) -> HttpResponse:
    target = _collector(membership, code)
    active = request.POST.get("active") == "1"
    try:
        people_actions.set_collector_active(actor=membership.user, collector=target, active=active)
    except (PeopleError, NotAllowed) as error:
        messages.error(request, _refusal(error))
    else:
        messages.success(
            request,
            (gettext("%(code)s is active.") if active else gettext("%(code)s is inactive."))
            % {"code": target.code},
        )
    return redirect("collection-collector", code=target.code)


# --- safe work across hubs ---------------------------------------------------------------------


CHART_LABEL = 13  # characters that fit left of a bar on a phone


def _short(row: people_queries.SafeWorkRow) -> str:
    label = row.label if len(row.label) <= CHART_LABEL else f"{row.label[: CHART_LABEL - 1]}…"
    return f"{row.country} {label}"


def _share_chart(rows: list[people_queries.SafeWorkRow], field: str, title: str) -> str:
    done_name = {"trained": gettext("trained"), "equipped": gettext("equipped")}[field]
    return stacked_bars(
        [
            StackedRow(
                label=_short(row),
                values=[getattr(row, field), row.active - getattr(row, field)],
                note=f"{getattr(row, f'{field}_share')}%",
            )
            for row in rows
            if row.active
        ],
        [(done_name, DONE_COLOR), (gettext("not yet"), NOT_YET_COLOR)],
        title=title,
    )


def render_safe_work(
    request: HttpRequest,
    membership: Membership,
    *,
    status: int = 200,
    bound: dict[str, forms.Form] | None = None,
) -> HttpResponse:
    is_operator = _is_operator(membership)
    rows = (
        people_queries.safe_work_per_partner()
        if is_operator
        else people_queries.safe_work_per_hub(membership.organisation)
    )
    hubs = visible_hubs(membership)
    open_incidents = people_queries.open_incidents(hubs)
    forms_: dict[str, forms.Form] = {
        "incident_form": HubIncidentForm(hubs=hubs),
        "follow_up_form": FollowUpForm(incidents=open_incidents),
    }
    return render(
        request,
        "collection/people/safe_work.html",
        {
            "rows": rows,
            "is_operator": is_operator,
            "can_record": not is_operator and membership.can_write,
            "trained_chart": _share_chart(rows, "trained", gettext("Active collectors trained")),
            "equipped_chart": _share_chart(rows, "equipped", gettext("Active collectors equipped")),
            "open_incidents": open_incidents.prefetch_related("follow_ups"),
            "conduct_version": people_queries.CURRENT_CONDUCT_VERSION,
            **(forms_ | (bound or {})),
        },
        status=status,
    )


@people_page
def safe_work(request: HttpRequest, membership: Membership) -> HttpResponse:
    return render_safe_work(request, membership)


@require_POST
@hub_writer_page
def hub_incident(request: HttpRequest, membership: Membership) -> HttpResponse:
    form = HubIncidentForm(request.POST, hubs=visible_hubs(membership))
    if form.is_valid():
        data = form.cleaned_data
        try:
            people_actions.report_incident(actor=membership.user, **data)
        except (PeopleError, NotAllowed) as error:
            form.add_error(None, _refusal(error))
        else:
            messages.success(
                request, gettext("Incident at %(name)s reported.") % {"name": data["hub"].name}
            )
            return redirect("collection-safe-work")
    return render_safe_work(request, membership, status=400, bound={"incident_form": form})


@require_POST
@hub_writer_page
def incident_follow_up(request: HttpRequest, membership: Membership) -> HttpResponse:
    incidents = people_queries.open_incidents(visible_hubs(membership))
    form = FollowUpForm(request.POST, incidents=incidents)
    if form.is_valid():
        data = form.cleaned_data
        try:
            people_actions.follow_up_incident(
                actor=membership.user,
                incident=data["incident"],
                note=data["note"],
                closes=data["closes"],
            )
        except (PeopleError, NotAllowed) as error:
            form.add_error(None, _refusal(error))
        else:
            messages.success(request, gettext("Follow-up recorded."))
            return redirect("collection-safe-work")
    return render_safe_work(request, membership, status=400, bound={"follow_up_form": form})
