"""The partner's webhook pages: every member reads, administrators change endpoints, writing
members send test events and redeliver."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from oneforone.accounts.decorators import member_of_kind
from oneforone.accounts.models import Membership, OrganisationKind, Role
from oneforone.accounts.permissions import NotAllowed
from oneforone.webhooks import actions, delivery, queries, signing
from oneforone.webhooks.forms import EndpointForm
from oneforone.webhooks.models import Delivery, DeliveryState, Endpoint

partner_page = member_of_kind(OrganisationKind.PARTNER, write=True)
DELIVERIES_PER_PAGE = 50
STATE_BADGES: dict[str, str] = {
    DeliveryState.PENDING: "warn",
    DeliveryState.SUCCEEDED: "ok",
    DeliveryState.FAILED: "err",
}


def _endpoint(membership: Membership, pk: int) -> Endpoint:
    endpoint = Endpoint.objects.filter(organisation=membership.organisation, pk=pk).first()
    if endpoint is None:
        raise Http404(gettext("No such webhook endpoint of yours"))
    return endpoint


def _admin_only(request: HttpRequest, membership: Membership) -> None:
    """Changing endpoints is for the partner's administrators (the actions check it too)."""
    if membership.role != Role.ADMIN:
        raise PermissionDenied(
            gettext("Only an administrator of %(name)s changes webhook endpoints.")
            % {"name": membership.organisation.name}
        )


def _common(membership: Membership) -> dict[str, object]:
    return {
        "is_admin": membership.role == Role.ADMIN,
        "can_write": membership.can_write,
        "signature_header": signing.SIGNATURE_HEADER,
    }


@partner_page
def endpoints(request: HttpRequest, membership: Membership) -> HttpResponse:
    if request.method == "POST":
        _admin_only(request, membership)
    form = EndpointForm(request.POST or None)
    secret = None
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            created, secret = actions.create_endpoint(
                actor=request.user,  # type: ignore[arg-type]
                organisation=membership.organisation,
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
                description=form.cleaned_data["description"],
            )
        except (actions.EndpointRefused, NotAllowed) as exc:
            form.add_error(None, str(exc))
        else:
            form = EndpointForm()
    rows = list(queries.endpoints_of(membership.organisation))
    for endpoint in rows:
        endpoint.success_rate = queries.success_rate(endpoint)  # type: ignore[attr-defined]
    return render(
        request,
        "webhooks/endpoints.html",
        {
            **_common(membership),
            "endpoints": rows,
            "form": form,
            "secret": secret,
            "created": created,
            "max_attempts": delivery.MAX_ATTEMPTS,
        },
    )


@partner_page
def endpoint_detail(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    endpoint = _endpoint(membership, pk)
    initial = {"url": endpoint.url, "description": endpoint.description, "events": endpoint.events}
    if request.method == "POST":
        _admin_only(request, membership)
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_endpoint(
                actor=request.user,  # type: ignore[arg-type]
                endpoint=endpoint,
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
                description=form.cleaned_data["description"],
            )
        except (actions.EndpointRefused, NotAllowed) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, gettext("Endpoint saved."))
            return redirect("partner-webhook", pk=endpoint.pk)
    page = Paginator(queries.deliveries_of(endpoint), DELIVERIES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    for row in page:
        row.badge = STATE_BADGES[row.state]  # type: ignore[attr-defined]
    return render(
        request,
        "webhooks/endpoint_detail.html",
        {**_common(membership), "endpoint": endpoint, "form": form, "page": page},
    )


def _act(request: HttpRequest, done: str, call: Callable[[], object]) -> None:
    try:
        call()
    except (actions.EndpointRefused, NotAllowed) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)


@partner_page
@require_POST
def rotate_secret(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    endpoint = _endpoint(membership, pk)
    _admin_only(request, membership)
    try:
        endpoint, secret = actions.rotate_secret(actor=request.user, endpoint=endpoint)  # type: ignore[arg-type]
    except NotAllowed as exc:
        messages.error(request, str(exc))
        return redirect("partner-webhook", pk=endpoint.pk)
    return render(
        request,
        "webhooks/secret.html",
        {**_common(membership), "endpoint": endpoint, "secret": secret, "rotated": True},
    )


@partner_page
@require_POST
def endpoint_state(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    endpoint = _endpoint(membership, pk)
    _admin_only(request, membership)
    actor = request.user
    if "enable" not in request.POST and "disable" not in request.POST:
        messages.error(request, gettext("Choose Enable or Disable."))
    elif "enable" in request.POST:
        _act(
            request,
            gettext("Endpoint enabled; deliveries left pending are being sent."),
            lambda: actions.enable_endpoint(actor=actor, endpoint=endpoint),  # type: ignore[arg-type]
        )
    else:
        _act(
            request,
            gettext("Endpoint disabled: no events are sent to it until you enable it."),
            lambda: actions.disable_endpoint(
                actor=actor,  # type: ignore[arg-type]
                endpoint=endpoint,
                reason=request.POST.get("reason", ""),
            ),
        )
    return redirect("partner-webhook", pk=endpoint.pk)


@partner_page
def delete_endpoint(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    endpoint = _endpoint(membership, pk)
    _admin_only(request, membership)
    if request.method == "POST" and request.POST.get("confirm") == "delete":
        try:
            actions.delete_endpoint(actor=request.user, endpoint=endpoint)  # type: ignore[arg-type]
        except NotAllowed as exc:
            messages.error(request, str(exc))
            return redirect("partner-webhook", pk=endpoint.pk)
        messages.success(request, gettext("Endpoint %(url)s deleted.") % {"url": endpoint.url})
        return redirect("partner-webhooks")
    return render(request, "webhooks/delete.html", {**_common(membership), "endpoint": endpoint})


@partner_page
@require_POST
def send_test(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    endpoint = _endpoint(membership, pk)
    try:
        test = actions.send_test_event(actor=request.user, endpoint=endpoint)  # type: ignore[arg-type]
    except NotAllowed as exc:
        messages.error(request, str(exc))
        return redirect("partner-webhook", pk=endpoint.pk)
    messages.success(request, gettext("Test event sent; its result is below."))
    return redirect("partner-webhook-delivery", pk=endpoint.pk, delivery_id=test.pk)


def _delivery(endpoint: Endpoint, pk: int) -> Delivery:
    found = queries.deliveries_of(endpoint).filter(pk=pk).first()
    if found is None:
        raise Http404(gettext("No such delivery of this endpoint"))
    return found


@partner_page
def delivery_detail(
    request: HttpRequest, membership: Membership, pk: int, delivery_id: int
) -> HttpResponse:
    endpoint = _endpoint(membership, pk)
    shown = _delivery(endpoint, delivery_id)
    body = json.dumps(json.loads(delivery.body_of(shown.event)), indent=2, ensure_ascii=False)
    return render(
        request,
        "webhooks/delivery_detail.html",
        {
            **_common(membership),
            "endpoint": endpoint,
            "delivery": shown,
            "badge": STATE_BADGES[shown.state],
            "body": body,
            "attempts": queries.attempts_of(shown),
            "redeliveries": shown.redeliveries.order_by("-created_at"),
        },
    )


@partner_page
@require_POST
def redeliver(
    request: HttpRequest, membership: Membership, pk: int, delivery_id: int
) -> HttpResponse:
    endpoint = _endpoint(membership, pk)
    original = _delivery(endpoint, delivery_id)
    try:
        again = actions.redeliver(actor=request.user, original=original)  # type: ignore[arg-type]
    except NotAllowed as exc:
        messages.error(request, str(exc))
        return redirect("partner-webhook-delivery", pk=endpoint.pk, delivery_id=original.pk)
    messages.success(request, gettext("Event sent again as a new delivery."))
    return redirect("partner-webhook-delivery", pk=endpoint.pk, delivery_id=again.pk)
