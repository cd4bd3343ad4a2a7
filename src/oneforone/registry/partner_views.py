"""The partner portal's pages that read the registry: a registration with its units, and the
certificates. They live here because partners must not import the registry."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from oneforone.accounts.models import Membership
from oneforone.accounts.permissions import NotAllowed
from oneforone.partners import actions
from oneforone.partners.forms import CancelRegistrationForm, RegistrationState
from oneforone.partners.queries import DeviceCounts, device_counts, devices_of, registrations_of
from oneforone.partners.views import (
    DEVICES_PER_PAGE,
    device_row,
    partner_page,
    registration_state,
)
from oneforone.registry import queries, serials
from oneforone.registry.queries import certificate_state


@partner_page
def registration_detail(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    registration = registrations_of(membership.organisation).filter(pk=pk).first()
    if registration is None:
        raise Http404(_("No such registration of yours"))
    cancel_form = CancelRegistrationForm(request.POST or None)
    if request.method == "POST" and cancel_form.is_valid():
        try:
            actions.cancel_registration(
                actor=request.user,  # type: ignore[arg-type]
                registration=registration,
                reason=cancel_form.cleaned_data["reason"],
            )
        except (actions.CancellationRefused, NotAllowed) as exc:
            cancel_form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("%(reference)s cancelled: it owes nothing now.")
                % {"reference": registration.reference},
            )
            return redirect("partner-registration", pk=registration.pk)
    allocations = queries.units_of_registration(registration.pk)
    for allocation in allocations:
        allocation.origin_name = serials.country_name(allocation.batch.origin_country)  # type: ignore[attr-defined]
    devices = Paginator(devices_of(registration), DEVICES_PER_PAGE).get_page(
        request.GET.get("devices")
    )
    listed = list(devices)
    units = queries.units_of_devices(registration, listed, allocations)
    versions = sorted(
        registration.certificates.select_related("withdrawal", "superseded_by"),
        key=lambda c: -c.version,
    )
    return render(
        request,
        "partners/registration_detail.html",
        {
            "registration": registration,
            "state": RegistrationState(registration_state(registration)).label,
            "allocations": allocations,
            "certificate": registration.current_certificate(),
            "versions": [(c, certificate_state(c)) for c in versions],
            "counts": device_counts([registration.pk]).get(registration.pk, DeviceCounts()),
            "devices": devices,
            "device_rows": [device_row(d, units.get(d.position, ())) for d in listed],
            "cancel_form": cancel_form
            if registration.cancelled_at is None
            and not registration.units_allocated  # type: ignore[attr-defined]
            and membership.can_write
            else None,
        },
    )


@partner_page
def certificates(request: HttpRequest, membership: Membership) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    page = Paginator(queries.certificates_of(membership.organisation, query), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "partners/certificates.html",
        {
            "page": page,
            "rows": [(c, certificate_state(c)) for c in page],
            "q": query,
        },
    )
