from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy

from oneforone.accounts import actions as account_actions
from oneforone.accounts.decorators import member_of_kind
from oneforone.accounts.models import ApiKey, ApiKeyScope, Membership, OrganisationKind, Role
from oneforone.accounts.permissions import NotAllowed
from oneforone.partners import actions, queries
from oneforone.partners.forms import (
    ConflictFilterForm,
    RegistrationFilterForm,
    RegistrationState,
    ResolveConflictForm,
)
from oneforone.partners.models import (
    Conflict,
    ConflictStatus,
    Device,
    DeviceStatus,
    Registration,
)
from oneforone.partners.queries import (
    PARTNER_DEVICE_STATUS,
    DeviceCounts,
    device_counts,
    registrations_of,
)

partner_page = member_of_kind(OrganisationKind.PARTNER, write=True)
operator_page = member_of_kind(OrganisationKind.OPERATOR, write=True)
DEVICES_PER_PAGE = 100
STATUS_BADGES: dict[str, str] = {
    DeviceStatus.CLAIMED: "ok",
    DeviceStatus.HELD: "warn",
    DeviceStatus.DECLINED: "",
    DeviceStatus.WITHDRAWN: "err",
    DeviceStatus.CANCELLED: "",
    ConflictStatus.OPEN: "warn",
    ConflictStatus.KEPT_FIRST: "ok",
    ConflictStatus.TRANSFERRED: "ok",
    ConflictStatus.REJECTED: "err",
    ConflictStatus.CANCELLED: "",
}


@partner_page
def registrations(request: HttpRequest, membership: Membership) -> HttpResponse:
    form = RegistrationFilterForm(request.GET, partner=membership.organisation)
    rows = form.apply(registrations_of(membership.organisation)).prefetch_related(
        "certificates__withdrawal"
    )
    page = Paginator(rows.order_by("-created_at", "-id"), 50).get_page(request.GET.get("page"))
    counts = device_counts(r.pk for r in page)
    for registration in page:
        registration.device_counts = counts.get(registration.pk, DeviceCounts())  # type: ignore[attr-defined]
    return render(
        request,
        "partners/registrations.html",
        {"page": page, "form": form, "q": form.cleaned_data.get("q", "")},
    )


@partner_page
def registrations_csv(request: HttpRequest, membership: Membership) -> StreamingHttpResponse:
    """The filtered list as CSV, written row by row as the database streams it."""
    form = RegistrationFilterForm(request.GET, partner=membership.organisation)
    rows = (
        form.apply(registrations_of(membership.organisation))
        .prefetch_related("certificates__withdrawal")
        .order_by("-created_at", "-id")
    )
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(REGISTRATION_CSV_COLUMNS)
        for r in rows.iterator(chunk_size=2000):
            certificate = r.current_certificate()
            yield writer.writerow(
                [
                    _inert(r.reference),
                    r.programme.code,
                    r.category.code,
                    r.quantity,
                    r.devices_excluded,
                    r.units_owed,
                    r.units_allocated,  # type: ignore[attr-defined]
                    registration_state(r),
                    r.channel,
                    r.created_at.isoformat(),
                    certificate.code if certificate else "",
                ]
            )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = (
        f'attachment; filename="registrations-{membership.organisation.slug}-{stamp}.csv"'
    )
    return response


REGISTRATION_CSV_COLUMNS = [
    "reference",
    "programme",
    "category",
    "quantity",
    "devices_excluded",
    "units_owed",
    "units_allocated",
    "state",
    "channel",
    "registered_at",
    "certificate",
]


def _inert(text: str) -> str:
    """A partner's own text that a spreadsheet would run as a formula is quoted as text."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _Echo:
    """A file-like object whose write returns the line, for csv.writer in a streamed response."""

    def write(self, value: str) -> str:
        return value


def registration_state(registration: Registration) -> str:
    allocated: int = registration.units_allocated  # type: ignore[attr-defined]
    if registration.cancelled_at is not None:
        return RegistrationState.CANCELLED
    if allocated >= registration.units_owed:
        return RegistrationState.COMPENSATED
    return RegistrationState.PARTLY if allocated else RegistrationState.OWED


def device_row(device: Device, units: tuple[object, ...] = ()) -> dict[str, object]:
    """What the partner reads about one of its devices: never who else claimed it."""
    label, note = PARTNER_DEVICE_STATUS[device.status]
    return {
        "counted": device.status == DeviceStatus.CLAIMED,
        "position": device.position,
        "kind": device.get_kind_display(),
        "label": label,
        "note": note,
        "badge": STATUS_BADGES[device.status],
        "units": units,
    }


HELD_FILTER_LABELS: dict[str, str | Promise] = {
    DeviceStatus.HELD: gettext_lazy("under review"),
    DeviceStatus.DECLINED: gettext_lazy("already compensated"),
    DeviceStatus.WITHDRAWN: gettext_lazy("withdrawn"),
}


@partner_page
def held_devices(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The partner's devices that were already claimed for compensation, and what became of them."""
    status = request.GET.get("status", "")
    status = status if status in queries.NOT_COUNTED else ""
    page = Paginator(queries.held_devices_of(membership.organisation, status), 50).get_page(
        request.GET.get("page")
    )
    counts = queries.held_device_counts(membership.organisation)
    return render(
        request,
        "partners/held_devices.html",
        {
            "page": page,
            "rows": [
                {**device_row(d), "device": d, "page": (d.position - 1) // DEVICES_PER_PAGE + 1}
                for d in page
            ],
            "status": status,
            "total": sum(counts.values()),
            "statuses": [
                (value, HELD_FILTER_LABELS[value], counts[value]) for value in queries.NOT_COUNTED
            ],
        },
    )


ROTATION_OVERLAPS: dict[str, tuple[dt.timedelta, str | Promise]] = {
    "0": (dt.timedelta(0), gettext_lazy("stop the old key now")),
    "1h": (dt.timedelta(hours=1), gettext_lazy("1 hour")),
    "24h": (dt.timedelta(hours=24), gettext_lazy("24 hours")),
    "7d": (dt.timedelta(days=7), gettext_lazy("7 days")),
}


@partner_page
def api_keys(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Create (shown once), rotate with an overlap, revoke; administrators only may change."""
    organisation = membership.organisation
    new_key = None
    if request.method == "POST":
        actor = request.user
        try:
            if "revoke" in request.POST or "rotate" in request.POST:
                key_id = request.POST.get("revoke") or request.POST.get("rotate") or ""
                key = (
                    ApiKey.objects.filter(organisation=organisation, pk=key_id).first()
                    if key_id.isdigit()
                    else None
                )
                if key is None:
                    raise Http404(gettext("No such key"))
                if "revoke" in request.POST:
                    account_actions.revoke_api_key(actor=actor, key=key)  # type: ignore[arg-type]
                    messages.success(
                        request, gettext("Key %(key)s… revoked.") % {"key": key.display_prefix}
                    )
                    return redirect("partner-api-keys")
                overlap, label = ROTATION_OVERLAPS.get(
                    request.POST.get("overlap", "24h"), ROTATION_OVERLAPS["24h"]
                )
                _, new_key = account_actions.rotate_api_key(
                    actor=actor,  # type: ignore[arg-type]
                    key=key,
                    overlap=overlap,
                )
                messages.success(
                    request,
                    gettext("Key %(key)s… rotated; the old key works for %(overlap)s.")
                    % {"key": key.display_prefix, "overlap": label}
                    if overlap
                    else gettext("Key %(key)s… rotated; the old key no longer works.")
                    % {"key": key.display_prefix},
                )
            else:
                _, new_key = account_actions.create_api_key(
                    actor=actor,  # type: ignore[arg-type]
                    organisation=organisation,
                    name=request.POST.get("name", ""),
                    scope=request.POST.get("scope", ApiKeyScope.READ),
                )
        except NotAllowed as exc:
            messages.error(
                request,
                gettext("%(problem)s. Ask an administrator of %(organisation)s.")
                % {"problem": exc, "organisation": organisation.name},
            )
        except account_actions.ApiKeyRefused as exc:
            messages.error(request, str(exc))
    now = timezone.now()
    keys = list(organisation.api_keys.select_related("rotated_to").order_by("-created_at"))
    for key in keys:
        key.state = (  # type: ignore[attr-defined]
            "revoked"
            if key.revoked_at
            else "expired"
            if key.expires_at and key.expires_at <= now
            else "active"
        )
    response = render(
        request,
        "partners/api_keys.html",
        {
            "keys": keys,
            "new_key": new_key,
            "is_admin": membership.role == Role.ADMIN,
            "scopes": ApiKeyScope.choices,
            "overlaps": [(value, label) for value, (_, label) in ROTATION_OVERLAPS.items()],
        },
    )
    if new_key:
        response["Cache-Control"] = "no-store"  # the secret must not stay in a cache
    return response


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
        raise Http404(gettext("No such conflict"))
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
                None,
                gettext("This identifier was claimed again at the same moment; decide once more."),
            )
        else:
            messages.success(
                request, gettext("Conflict %(number)s resolved.") % {"number": conflict.pk}
            )
            return redirect("operator-conflict", pk=conflict.pk)
    elif request.method == "POST" and conflict.status != ConflictStatus.OPEN:
        messages.error(
            request,
            gettext("Conflict %(number)s was already resolved; nothing changed.")
            % {"number": conflict.pk},
        )
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
