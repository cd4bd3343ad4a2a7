from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from oneforone.accounts import actions as account_actions
from oneforone.accounts.decorators import member_of_kind
from oneforone.accounts.models import ApiKey, Membership, OrganisationKind
from oneforone.accounts.permissions import NotAllowed
from oneforone.partners import actions
from oneforone.partners.imports import RowError, parse_registrations_csv
from oneforone.partners.models import Channel
from oneforone.partners.queries import registrations_of, search
from oneforone.partners.schemas import RegistrationRow

partner_page = member_of_kind(OrganisationKind.PARTNER, write=True)


@partner_page
def registrations(request: HttpRequest, membership: Membership) -> HttpResponse:
    query = request.GET.get("q", "")
    rows = search(registrations_of(membership.organisation), query).prefetch_related(
        "certificates__withdrawal"
    )
    page = Paginator(rows.order_by("-created_at", "-id"), 50).get_page(request.GET.get("page"))
    return render(request, "partners/registrations.html", {"page": page, "q": query})


@partner_page
def registration_detail(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    registration = registrations_of(membership.organisation).filter(pk=pk).first()
    if registration is None:
        raise Http404("No such registration of yours")
    allocations = registration.allocations.select_related("batch__consignment__recycler")
    return render(
        request,
        "partners/registration_detail.html",
        {
            "registration": registration,
            "allocations": allocations,
            "certificate": registration.current_certificate(),
        },
    )


@partner_page
def upload(request: HttpRequest, membership: Membership) -> HttpResponse:
    context: dict[str, object] = {
        "columns": ",".join(RegistrationRow.columns()),
        "max_mb": settings.CSV_UPLOAD_MAX_BYTES // 1_000_000,
    }
    if request.method == "POST":
        errors, created = _import(request, membership)
        if not errors:
            messages.success(
                request,
                f"{len(created)} registrations of "
                f"{sum(r.quantity for r in created):,} devices recorded.",
            )
            return redirect("partner-registrations")
        context["errors"] = errors
    return render(request, "partners/upload.html", context)


def _import(request: HttpRequest, membership: Membership) -> tuple[list[RowError], list]:
    upload = request.FILES.get("file")
    if upload is None:
        return [RowError(0, "choose a CSV file to upload")], []
    if upload.size and upload.size > settings.CSV_UPLOAD_MAX_BYTES:
        return [
            RowError(
                0,
                f"the file is {upload.size / 1e6:.1f} MB; the limit here is "
                f"{settings.CSV_UPLOAD_MAX_BYTES / 1e6:.0f} MB: split it or use the API",
            )
        ], []
    parsed = parse_registrations_csv(
        upload.read(),
        max_bytes=settings.CSV_UPLOAD_MAX_BYTES,
        max_rows=settings.CSV_UPLOAD_MAX_ROWS,
    )
    if not parsed.ok:
        problems = actions.check_rows(membership.organisation, parsed.rows) if parsed.rows else []
        found = parsed.errors + [RowError(p.line, p.message, p.field) for p in problems]
        return sorted(found, key=lambda e: e.line), []
    try:
        created = actions.register_devices(
            actor=request.user,  # type: ignore[arg-type]
            partner=membership.organisation,
            rows=parsed.rows,
            channel=Channel.CSV,
        )
    except actions.RegistrationRejected as exc:
        return [RowError(p.line, p.message, p.field) for p in exc.problems], []
    except IntegrityError:
        return [RowError(0, "some references were registered at the same moment; upload again")], []
    return [], created


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
