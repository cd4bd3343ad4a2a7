"""Operator staff pages of the registry: allocation with the backlog, cancellations, reservations,
allocation preferences. Each view parses, authorises (operator staff; read-only members may look),
calls one action and renders."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from oneforone.accounts.decorators import member_of_kind
from oneforone.accounts.models import Membership, Organisation, OrganisationKind, User
from oneforone.core.charts import StackedRow, stacked_bars
from oneforone.core.models import AuditEvent
from oneforone.core.text import as_sentence
from oneforone.impact import queries as impact
from oneforone.registry import actions, queries, serials
from oneforone.registry.forms import (
    AllocationPreferenceForm,
    CancellationForm,
    ReleaseForm,
    ReservationForm,
)
from oneforone.registry.models import (
    AllocationPreference,
    Cancellation,
    Certificate,
    IssuanceBatch,
    Revocation,
)

operator_page = member_of_kind(OrganisationKind.OPERATOR, write=True)

ALLOCATED_COLOR = "#166534"
WAITING_COLOR = "#ca8a04"
BATCH_ROWS = 20
RECENT_CANCELLATIONS = 20


def _grouped(number: int) -> str:
    """A count with the thousands separator of the active language."""
    return number_format(number, force_grouping=True)


def _actor(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _partner(slug: str) -> Organisation:
    return get_object_or_404(Organisation, slug=slug, kind=OrganisationKind.PARTNER)


# --- allocation and backlog -------------------------------------------------------------------


def backlog_chart(backlog: queries.Backlog) -> Any:
    rows = [
        StackedRow(
            p.name,
            [p.units_allocated, p.units_waiting],
            _("%(units)s waiting") % {"units": _grouped(p.units_waiting)}
            if p.units_waiting
            else _("all allocated"),
        )
        for p in backlog.partners
        if p.units_owed
    ]
    if not rows:
        return None
    return stacked_bars(
        rows,
        [(_("Units allocated"), ALLOCATED_COLOR), (_("Units waiting"), WAITING_COLOR)],
        title=_("Units allocated and waiting, per partner"),
    )


@operator_page
def allocation(request: HttpRequest, membership: Membership) -> HttpResponse:
    backlog = queries.backlog()
    return render(
        request,
        "registry/operator/allocation.html",
        {
            "membership": membership,
            "backlog": backlog,
            "pipeline": impact.pipeline(),
            "chart": backlog_chart(backlog),
        },
    )


@require_POST
@operator_page
def run_allocation(request: HttpRequest, membership: Membership) -> HttpResponse:
    partner = None
    if partner_id := request.POST.get("partner"):
        if not partner_id.isdigit():
            raise Http404(_("No such partner"))
        partner = get_object_or_404(Organisation, pk=partner_id, kind=OrganisationKind.PARTNER)
    result = actions.allocate(actor=_actor(request), partner=partner)
    if result.allocations:
        messages.success(
            request,
            _(
                "Allocated %(units)s units to %(registrations)s registrations; "
                "%(certificates)s certificates issued."
            )
            % {
                "units": _grouped(result.units),
                "registrations": _grouped(len({a.registration_id for a in result.allocations})),
                "certificates": _grouped(len(result.certificates)),
            },
        )
    else:
        messages.warning(
            request,
            _(
                "Nothing was allocated: no registration is waiting at %(partner)s, or no free or "
                "reserved unit fits (check strict preferences and reservations)."
            )
            % {"partner": partner.name}
            if partner
            else _(
                "Nothing was allocated: no registration is waiting, or no free or reserved unit "
                "fits (check strict preferences and reservations)."
            ),
        )
    return redirect("operator-registry-allocation")


# --- cancellations ----------------------------------------------------------------------------


@operator_page
def cancellations(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Find a batch, enter the units, review what they touch, confirm: then `cancel_units`."""
    source = request.POST if request.method == "POST" else request.GET
    batch = _chosen_batch(source.get("batch", ""))
    query = request.GET.get("q", "").strip()
    context: dict[str, Any] = {
        "membership": membership,
        "q": query,
        "batch": batch,
        "recent": Cancellation.objects.select_related("batch", "cancelled_by").order_by(
            "-cancelled_at", "-id"
        )[:RECENT_CANCELLATIONS],
    }
    if batch is None:
        context["batches"] = queries.search_batches(query)[:BATCH_ROWS] if query else None
        return render(request, "registry/operator/cancellations.html", context)
    if request.method != "POST" or request.POST.get("step") == "edit":
        # Back from the review: the values typed, no errors yet.
        initial = {name: request.POST.get(name) for name in CancellationForm.base_fields}
        context["form"] = CancellationForm(initial=initial, batch=batch)
        context["batch_facts"] = _batch_facts(batch)
        return render(request, "registry/operator/cancellations.html", context)
    form = CancellationForm(request.POST, batch=batch)
    context["form"] = form
    context["batch_facts"] = _batch_facts(batch)
    if not form.is_valid():
        return render(request, "registry/operator/cancellations.html", context)
    data = form.cleaned_data
    if request.POST.get("step") == "confirm":
        try:
            result = actions.cancel_units(
                actor=_actor(request),
                batch=batch,
                first=data["first"],
                last=data["last"],
                reason=data["reason"],
                explanation=data["explanation"],
            )
        except actions.CancellationRefused as error:
            form.add_error(
                None,
                _("%(problem)s Check the units and review again.")
                % {"problem": as_sentence(error)},
            )
            return render(request, "registry/operator/cancellations.html", context)
        messages.success(
            request,
            _(
                "Cancelled %(units)s units: %(revoked)s allocations revoked, %(withdrawn)s "
                "certificates withdrawn, %(reallocated)s units re-allocated."
            )
            % {
                "units": _grouped(data["last"] - data["first"] + 1),
                "revoked": len(result.revoked),
                "withdrawn": len(result.withdrawn),
                "reallocated": _grouped(result.reallocated.units),
            },
        )
        return redirect("operator-registry-cancellation", pk=result.cancellation.pk)
    context["preview"] = queries.cancellation_preview(batch, data["first"], data["last"])
    context["free_now"] = impact.pipeline().units_available
    context["reason_label"] = dict(form.fields["reason"].choices)[data["reason"]]  # type: ignore[attr-defined]
    return render(request, "registry/operator/cancellation_review.html", context)


def _chosen_batch(value: str) -> IssuanceBatch | None:
    if not value:
        return None
    if not value.isdigit():
        raise Http404(_("No such batch"))
    return get_object_or_404(IssuanceBatch.objects.select_related("consignment"), pk=value)


def _batch_facts(batch: IssuanceBatch) -> dict[str, Any]:
    cancelled = sum(c.quantity for c in batch.cancellations.all())
    return {"cancelled": cancelled, "country": serials.country_name(batch.origin_country)}


@operator_page
def cancellation_detail(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """What a cancellation did, from its records: revocations and the action's audit event."""
    cancellation = get_object_or_404(
        Cancellation.objects.select_related("batch__consignment", "cancelled_by"), pk=pk
    )
    revocations = (
        Revocation.objects.filter(cancellation=cancellation)
        .select_related("allocation__registration__partner", "allocation__batch")
        .prefetch_related("allocation__children__batch")
        .order_by("allocation__units")
    )
    event = AuditEvent.objects.filter(
        code="registry.units.cancelled",
        object_type=Cancellation._meta.label_lower,
        object_id=str(cancellation.pk),
    ).first()
    data = event.data if event else {}
    codes = list(data.get("certificates_withdrawn", [])) + list(data.get("new_certificates", []))
    certificates = {
        c.code: c for c in Certificate.objects.filter(code__in=codes).select_related("registration")
    }
    return render(
        request,
        "registry/operator/cancellation_detail.html",
        {
            "cancellation": cancellation,
            "revocations": revocations,
            "withdrawn": [
                certificates.get(code, code) for code in data.get("certificates_withdrawn", [])
            ],
            "new_certificates": [
                certificates.get(code, code) for code in data.get("new_certificates", [])
            ],
            "reallocated_units": data.get("reallocated_units"),
            "event": event,
        },
    )


# --- reservations -----------------------------------------------------------------------------


def _render_reservations(
    request: HttpRequest,
    membership: Membership,
    *,
    form: ReservationForm | None = None,
    release_form: ReleaseForm | None = None,
) -> HttpResponse:
    release_key = None
    if release_form is not None and release_form.is_bound:
        release_key = f"{release_form.data.get('partner')}:{release_form.data.get('label')}"
    return render(
        request,
        "registry/operator/reservations.html",
        {
            "membership": membership,
            "form": form or ReservationForm(),
            "release_form": release_form,
            "release_key": release_key,
            "quotas": queries.quotas(),
            "free": queries.free_supply(),
        },
    )


@operator_page
def reservations(request: HttpRequest, membership: Membership) -> HttpResponse:
    if request.method != "POST":
        return _render_reservations(request, membership)
    form = ReservationForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            blocks = actions.reserve_units(
                actor=_actor(request),
                partner=data["partner"],
                label=data["label"],
                quantity=data["quantity"],
                accept_fewer=data["accept_fewer"],
            )
        except actions.ReservationRefused as error:
            form.add_error(None, as_sentence(error))
        else:
            reserved = sum(b.quantity for b in blocks)
            figures = {
                "units": _grouped(reserved),
                "asked": _grouped(data["quantity"]),
                "partner": data["partner"].name,
                "quota": data["label"],
                "blocks": len(blocks),
            }
            done = (
                ngettext(
                    "Reserved %(units)s units for %(partner)s, quota “%(quota)s”, in %(blocks)s "
                    "block.",
                    "Reserved %(units)s units for %(partner)s, quota “%(quota)s”, in %(blocks)s "
                    "blocks.",
                    len(blocks),
                )
                if reserved == data["quantity"]
                else ngettext(
                    "Reserved %(units)s units (%(asked)s were asked) for %(partner)s, quota "
                    "“%(quota)s”, in %(blocks)s block.",
                    "Reserved %(units)s units (%(asked)s were asked) for %(partner)s, quota "
                    "“%(quota)s”, in %(blocks)s blocks.",
                    len(blocks),
                )
            )
            messages.success(request, done % figures)
            return redirect("operator-registry-reservations")
    return _render_reservations(request, membership, form=form)


@require_POST
@operator_page
def release(request: HttpRequest, membership: Membership) -> HttpResponse:
    form = ReleaseForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            released = actions.release_reservation(
                actor=_actor(request),
                partner=data["partner"],
                label=data["label"],
                reason=data["reason"],
            )
        except actions.ReservationRefused as error:
            form.add_error(
                None,
                _("%(problem)s Reload the page: it may have been released.")
                % {"problem": as_sentence(error)},
            )
        else:
            messages.success(
                request,
                _(
                    "Released quota “%(quota)s” of %(partner)s: %(units)s unallocated units went "
                    "back to supply."
                )
                % {
                    "quota": data["label"],
                    "partner": data["partner"].name,
                    "units": _grouped(released),
                },
            )
            return redirect("operator-registry-reservations")
    return _render_reservations(request, membership, release_form=form)


# --- allocation preferences -------------------------------------------------------------------


@operator_page
def preferences(request: HttpRequest, membership: Membership) -> HttpResponse:
    partners = Organisation.objects.filter(kind=OrganisationKind.PARTNER).order_by("name")
    by_partner = {
        p.partner_id: p
        for p in AllocationPreference.objects.filter(partner__in=partners).select_related(
            "updated_by"
        )
    }
    return render(
        request,
        "registry/operator/preferences.html",
        {"membership": membership, "rows": [(p, by_partner.get(p.pk)) for p in partners]},
    )


@operator_page
def preference_edit(request: HttpRequest, membership: Membership, slug: str) -> HttpResponse:
    partner = _partner(slug)
    form, preference = AllocationPreferenceForm.for_partner(
        request.POST if request.method == "POST" else None, partner
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        actions.set_allocation_preference(
            actor=_actor(request),
            partner=partner,
            origin_countries=data["origin_countries"],
            vintage_years=data["vintage_years"],
            strict=data["strict"],
            allow_partial=data["allow_partial"],
        )
        messages.success(
            request,
            _(
                "Saved the allocation preference of %(partner)s; it applies from the next "
                "allocation run."
            )
            % {"partner": partner.name},
        )
        return redirect("operator-registry-preferences")
    return render(
        request,
        "registry/operator/preference_edit.html",
        {
            "membership": membership,
            "partner": partner,
            "form": form,
            "preference": preference,
            "cancel_url": reverse("operator-registry-preferences"),
        },
    )
