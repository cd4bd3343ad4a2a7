from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from oneforone.accounts import actions as account_actions
from oneforone.accounts.decorators import member_of_kind
from oneforone.accounts.models import ApiKey, Membership, OrganisationKind
from oneforone.accounts.permissions import NotAllowed
from oneforone.partners import actions, queries
from oneforone.partners.forms import ConflictFilterForm, ResolveConflictForm
from oneforone.partners.models import Conflict, ConflictStatus, Device, DeviceStatus
from oneforone.partners.queries import (
    PARTNER_DEVICE_STATUS,
    DeviceCounts,
    device_counts,
    devices_of,
    registrations_of,
    search,
)

partner_page = member_of_kind(OrganisationKind.PARTNER, write=True)
operator_page = member_of_kind(OrganisationKind.OPERATOR, write=True)
DEVICES_PER_PAGE = 100
STATUS_BADGES: dict[str, str] = {
    DeviceStatus.CLAIMED: "ok",
    DeviceStatus.HELD: "warn",
    DeviceStatus.DECLINED: "",
    DeviceStatus.WITHDRAWN: "err",
    ConflictStatus.OPEN: "warn",
    ConflictStatus.KEPT_FIRST: "ok",
    ConflictStatus.TRANSFERRED: "ok",
    ConflictStatus.REJECTED: "err",
}


@partner_page
def registrations(request: HttpRequest, membership: Membership) -> HttpResponse:
    query = request.GET.get("q", "")
    rows = search(registrations_of(membership.organisation), query).prefetch_related(
        "certificates__withdrawal"
    )
    page = Paginator(rows.order_by("-created_at", "-id"), 50).get_page(request.GET.get("page"))
    counts = device_counts(r.pk for r in page)
    for registration in page:
        registration.device_counts = counts.get(registration.pk, DeviceCounts())  # type: ignore[attr-defined]
    return render(request, "partners/registrations.html", {"page": page, "q": query})


@partner_page
def registration_detail(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    registration = registrations_of(membership.organisation).filter(pk=pk).first()
    if registration is None:
        raise Http404("No such registration of yours")
    allocations = registration.allocations.select_related("batch__consignment__recycler")
    devices = Paginator(devices_of(registration), DEVICES_PER_PAGE).get_page(
        request.GET.get("devices")
    )
    return render(
        request,
        "partners/registration_detail.html",
        {
            "registration": registration,
            "allocations": allocations,
            "certificate": registration.current_certificate(),
            "counts": device_counts([registration.pk]).get(registration.pk, DeviceCounts()),
            "devices": devices,
            "device_rows": [_device_row(d) for d in devices],
        },
    )


def _device_row(device: Device) -> dict[str, object]:
    """What the partner reads about one of its devices: never who else claimed it."""
    label, note = PARTNER_DEVICE_STATUS[device.status]
    return {
        "position": device.position,
        "kind": device.get_kind_display(),
        "label": label,
        "note": note,
        "badge": STATUS_BADGES[device.status],
    }


@partner_page
def api_keys(request: HttpRequest, membership: Membership) -> HttpResponse:
    organisation = membership.organisation
    new_key = None
    if request.method == "POST":
        try:
            if "revoke" in request.POST:
                key = ApiKey.objects.filter(
                    organisation=organisation, pk=request.POST["revoke"]
                ).first()
                if key is None:
                    raise Http404("No such key")
                account_actions.revoke_api_key(actor=request.user, key=key)  # type: ignore[arg-type]
                messages.success(request, f"Key {key.prefix}… revoked.")
                return redirect("partner-api-keys")
            name = request.POST.get("name", "").strip() or "API key"
            _, new_key = account_actions.create_api_key(
                actor=request.user,  # type: ignore[arg-type]
                organisation=organisation,
                name=name[:100],
            )
        except NotAllowed as exc:
            messages.error(request, f"{exc}. Ask an administrator of {organisation.name}.")
    keys = organisation.api_keys.order_by("-created_at")
    return render(request, "partners/api_keys.html", {"keys": keys, "new_key": new_key})


# The operator's conflict queue ---------------------------------------------------------------------


@operator_page
def conflict_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    form = ConflictFilterForm(request.GET)
    status = form.cleaned_data["status"] if form.is_valid() else ""
    page = Paginator(queries.conflicts(status), 50).get_page(request.GET.get("page"))
    counts = queries.conflict_counts()
    return render(
        request,
        "partners/conflicts.html",
        {
            "page": page,
            "rows": [_conflict_row(c) for c in page],
            "status": status,
            "total": sum(counts.values()),
            "statuses": [(value, label, counts[value]) for value, label in ConflictStatus.choices],
        },
    )


@operator_page
def conflict_detail(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    conflict = queries.conflicts().filter(pk=pk).first()
    if conflict is None:
        raise Http404("No such conflict")
    form = ResolveConflictForm(request.POST or None)
    if request.method == "POST" and conflict.status == ConflictStatus.OPEN and form.is_valid():
        try:
            actions.resolve_conflict(
                actor=request.user,  # type: ignore[arg-type]
                conflict=conflict,
                decision=form.cleaned_data["decision"],
                reason=form.cleaned_data["reason"],
            )
        except (actions.ConflictRefused, NotAllowed) as exc:
            form.add_error(None, str(exc))
        except IntegrityError:
            form.add_error(
                None, "This identifier was claimed again at the same moment; decide once more."
            )
        else:
            messages.success(request, f"Conflict {conflict.pk} resolved.")
            return redirect("operator-conflict", pk=conflict.pk)
    elif request.method == "POST" and conflict.status != ConflictStatus.OPEN:
        messages.error(request, f"Conflict {conflict.pk} was already resolved; nothing changed.")
        return redirect("operator-conflict", pk=conflict.pk)
    others = (
        queries.conflicts().filter(identifier_hash=conflict.identifier_hash).exclude(pk=conflict.pk)
    )
    return render(
        request,
        "partners/conflict_detail.html",
        {
            "conflict": conflict,
            "row": _conflict_row(conflict),
            "form": form if conflict.status == ConflictStatus.OPEN else None,
            "others": [_conflict_row(c) for c in others],
        },
    )


def _conflict_row(conflict: Conflict) -> dict[str, object]:
    """Both claims of a conflict, named in full: this is the operator's view."""

    def claim(device: Device) -> dict[str, object]:
        registration = device.registration
        return {
            "partner": registration.partner.name,
            "reference": registration.reference,
            "position": device.position,
            "quantity": registration.quantity,
            "kind": device.get_kind_display(),
            "status": device.get_status_display(),
            "badge": STATUS_BADGES[device.status],
            "registered_at": registration.created_at,
            "channel": registration.get_channel_display(),
            "units_owed": registration.units_owed,
        }

    return {
        "conflict": conflict,
        "badge": STATUS_BADGES[conflict.status],
        "first": claim(conflict.first_device),
        "second": claim(conflict.second_device),
    }
