"""Notification pages: the list, the notification by its form blocks with what the authorities
and parties answered, and one form per document the operator or the notifier records."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext, gettext_lazy

from oneforone.accounts.decorators import member_of_kind
from oneforone.accounts.models import Membership, Organisation, OrganisationKind
from oneforone.accounts.permissions import NotAllowed
from oneforone.shipments import notification_actions as notices
from oneforone.shipments import notification_forms as nforms
from oneforone.shipments.compliance import current_consents
from oneforone.shipments.models import ChangeAnswer, ConsignmentState, Decision, Notification
from oneforone.shipments.notification_actions import (
    CarrierBlock,
    NotificationBlocks,
    NotificationError,
    StopBlock,
)
from oneforone.shipments.queries import READ_ALL_KINDS

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

PAGE_SIZE = 50

notification_page = member_of_kind(
    OrganisationKind.COLLECTION_PARTNER,
    OrganisationKind.CARRIER,
    OrganisationKind.RECYCLER,
    OrganisationKind.OPERATOR,
    OrganisationKind.AUDITOR,
)
notifier_page = member_of_kind(
    OrganisationKind.COLLECTION_PARTNER, OrganisationKind.OPERATOR, write=True
)


def visible_notifications(organisation: Organisation | None) -> QuerySet[Notification]:
    """Every notification for the operator and auditors; otherwise those naming the
    organisation as notifier, consignee, facility or carrier."""
    notifications = Notification.objects.select_related("notifier", "consignee")
    if organisation is None:
        return notifications.none()
    if organisation.kind in READ_ALL_KINDS:
        return notifications
    named = (
        Q(notifier=organisation)
        | Q(consignee=organisation)
        | Q(facility=organisation)
        | Q(carriers__carrier=organisation)
    )
    ids = Notification.objects.filter(named).values("pk")
    return notifications.filter(pk__in=ids)


def notification_for(organisation: Organisation | None, number: str) -> Notification:
    notification = visible_notifications(organisation).filter(number=number).first()
    if notification is None:
        raise Http404(gettext("No notification with this number is visible to you."))
    return notification


def may_record(membership: Membership, notification: Notification) -> bool:
    """Operator staff and the notifier's writing members record documents."""
    kind = membership.organisation.kind
    own = membership.organisation.pk == notification.notifier_id
    return membership.can_write and (kind == OrganisationKind.OPERATOR or own)


def status_of(notification: Notification) -> str:
    if notification.last_departure < timezone.localdate():
        return "ended"
    latest = current_consents(notification)
    decisions = [latest.get(stop.pk) for stop in notification.route.all()]
    if any(d is not None and d.decision == Decision.OBJECTION for d in decisions):
        return "objected"
    if any(d is None for d in decisions):
        return "pending"
    return "consented"


STATUS_BADGES = {"pending": "warn", "objected": "err", "consented": "ok", "ended": ""}


@notification_page
def notification_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    filters = nforms.NotificationFilterForm(request.GET or None)
    notifications = visible_notifications(membership.organisation).prefetch_related("route")
    wanted = filters.cleaned_data if filters.is_valid() else {}
    if wanted.get("stream"):
        notifications = notifications.filter(stream=wanted["stream"])
    if wanted.get("country"):
        notifications = notifications.filter(route__role="export", route__country=wanted["country"])
    rows = []
    for notification in notifications.order_by("-notified_on", "number"):
        status = status_of(notification)
        if wanted.get("status") and status != wanted["status"]:
            continue
        notification.status = status  # type: ignore[attr-defined]
        notification.badge = STATUS_BADGES[status]  # type: ignore[attr-defined]
        notification.countries = " → ".join(s.country for s in notification.route.all())  # type: ignore[attr-defined]
        rows.append(notification)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "shipments/notifications/list.html",
        {
            "page": page,
            "filters": filters,
            "can_create": membership.can_write
            and membership.organisation.kind
            in (OrganisationKind.OPERATOR, OrganisationKind.COLLECTION_PARTNER),
        },
    )


def _notifiers(membership: Membership) -> QuerySet[Organisation]:
    if membership.organisation.kind == OrganisationKind.OPERATOR:
        return Organisation.objects.filter(kind=OrganisationKind.COLLECTION_PARTNER)
    return Organisation.objects.filter(pk=membership.organisation.pk)


def _blocks(form: nforms.NotificationCreateForm) -> NotificationBlocks:
    data = form.cleaned_data
    notifier = data["notifier"]
    return NotificationBlocks(
        number=data["number"],
        notifier=notifier,
        consignee=data["consignee"],
        generator=notifier,
        generator_site=data["generator_site"],
        facility=data["facility"],
        facility_site=data["facility_site"],
        shipment_type=data["shipment_type"],
        intended_shipments=data["intended_shipments"],
        total_quantity_kg=data["total_quantity_kg"],
        first_departure=data["first_departure"],
        last_departure=data["last_departure"],
        operation_code=data["operation_code"],
        waste_description=data["waste_description"],
        physical_characteristics=data["physical_characteristics"],
        basel_code=data["basel_code"],
        ewc_code=data["ewc_code"],
        hs_code=data["hs_code"],
        notified_on=data["notified_on"],
        route=[StopBlock(*stop) for stop in form.route()],
        carriers=[CarrierBlock(data["carrier"], data["means_of_transport"])],
        stream=data["stream"],
        packaging_types=data["packaging_types"],
        technology=data["technology"],
        y_codes=data["y_codes"],
        h_codes=data["h_codes"],
        un_number=data["un_number"] or "",
    )


def explain(error: Exception) -> str:
    """An action's refusal as a sentence; a refusal for lack of rights says who records it."""
    problem = capfirst(str(error))
    if isinstance(error, NotAllowed):
        return gettext("%(problem)s. Ask the notifier or the operator to record it.") % {
            "problem": problem
        }
    return f"{problem}."


@notifier_page
def notification_create(request: HttpRequest, membership: Membership) -> HttpResponse:
    notifiers = _notifiers(membership)
    form = nforms.NotificationCreateForm(request.POST or None, notifiers=notifiers)
    if request.method == "POST" and form.is_valid():
        try:
            notification = notices.create_notification(actor=membership.user, blocks=_blocks(form))
        except (NotificationError, NotAllowed) as error:
            form.add_error(None, explain(error))
        else:
            messages.success(
                request,
                gettext(
                    "Notification %(number)s recorded. Record the acknowledgement and each authority's "
                    "decision as they arrive."
                )
                % {"number": notification.number},
            )
            return redirect(_detail_url(notification))
    return render(request, "shipments/notifications/new.html", {"form": form})


def _detail_url(notification: Notification) -> str:
    return reverse("notifications-detail", args=[notification.number])


@dataclass(frozen=True)
class Document:
    """One kind of document recorded against a notification, by its form."""

    title: StrOrPromise
    form: type[forms.Form]
    record: Callable[[Membership, Notification, Any], str]
    takes_notification: bool = True


# The flash after recording a written decision, one whole sentence per decision.
DECISION_RECORDED: dict[str, StrOrPromise] = {
    Decision.CONSENT: gettext_lazy("Consent of %(country)s recorded."),
    Decision.CONDITIONS: gettext_lazy("Consent with conditions of %(country)s recorded."),
    Decision.OBJECTION: gettext_lazy("Objection of %(country)s recorded."),
}
# The flash after recording the authorities' answer to a change.
CHANGE_ANSWERED: dict[str, StrOrPromise] = {
    ChangeAnswer.ACCEPTED: gettext_lazy("Change accepted by the authorities."),
    ChangeAnswer.REFUSED: gettext_lazy("Change refused by the authorities."),
    ChangeAnswer.WITHDRAWN: gettext_lazy("Change withdrawn by the notifier."),
}


def _acknowledge(membership: Membership, notification: Notification, form: Any) -> str:
    data = dict(form.cleaned_data)
    notices.acknowledge_notification(
        actor=membership.user,
        notification=notification,
        acknowledged_on=data["acknowledged_on"],
    )
    return gettext("Acknowledgement recorded.")


def _consent(membership: Membership, notification: Notification, form: Any) -> str:
    data = dict(form.cleaned_data)
    consent = notices.record_consent(
        actor=membership.user,
        notification=notification,
        route_stop=data["route_stop"],
        decision=data["decision"],
        decided_on=data["decided_on"],
        valid_from=data["valid_from"],
        valid_to=data["valid_to"],
        conditions=data["conditions"],
        reference=data["reference"],
    )
    country = consent.route_stop.country
    recorded = DECISION_RECORDED.get(consent.decision)
    if recorded is None:
        return gettext("%(decision)s of %(country)s recorded.") % {
            "decision": consent.get_decision_display(),
            "country": country,
        }
    return str(recorded) % {"country": country}


def _tacit(membership: Membership, notification: Notification, form: Any) -> str:
    data = dict(form.cleaned_data)
    consent = notices.record_tacit_consent(
        actor=membership.user, notification=notification, route_stop=data["route_stop"]
    )
    return gettext("Tacit consent of %(country)s recorded.") % {
        "country": consent.route_stop.country
    }


def _contract(membership: Membership, notification: Notification, form: Any) -> str:
    data = dict(form.cleaned_data)
    notices.record_contract(actor=membership.user, notification=notification, **data)
    return gettext("Contract recorded.")


def _guarantee(membership: Membership, notification: Notification, form: Any) -> str:
    data = dict(form.cleaned_data)
    covered = [notification, *data.pop("also_covers")]
    notices.record_guarantee(actor=membership.user, notifications=covered, **data)
    return gettext("Guarantee recorded.")


def _release(membership: Membership, notification: Notification, form: Any) -> str:
    data = dict(form.cleaned_data)
    notices.release_guarantee(
        actor=membership.user, guarantee=data["guarantee"], released_on=data["released_on"]
    )
    return gettext("Guarantee released.")


def _change(membership: Membership, notification: Notification, form: Any) -> str:
    notices.request_change(
        actor=membership.user,
        notification=notification,
        kind=form.cleaned_data["kind"],
        description=form.cleaned_data["description"],
        proposed=form.proposed(),
    )
    return gettext("Change requested: dispatches wait for the authorities' answer.")


def _answer(membership: Membership, notification: Notification, form: Any) -> str:
    data = dict(form.cleaned_data)
    change = notices.answer_change(
        actor=membership.user,
        change=data["change"],
        answer=data["answer"],
        answered_on=data["answered_on"],
        note=data["note"],
    )
    answered = CHANGE_ANSWERED.get(change.answer)
    if answered is None:
        return gettext("Change %(answer)s.") % {"answer": change.get_answer_display().lower()}
    return str(answered)


DOCUMENTS: dict[str, Document] = {
    "acknowledge": Document(
        gettext_lazy("Record the acknowledgement"), nforms.AcknowledgeForm, _acknowledge, False
    ),
    "consent": Document(
        gettext_lazy("Record an authority's decision"), nforms.ConsentForm, _consent
    ),
    "tacit": Document(gettext_lazy("Record a tacit consent"), nforms.TacitConsentForm, _tacit),
    "contract": Document(
        gettext_lazy("Record the contract"), nforms.ContractForm, _contract, False
    ),
    "guarantee": Document(
        gettext_lazy("Record a financial guarantee"), nforms.GuaranteeForm, _guarantee
    ),
    "release": Document(gettext_lazy("Release a guarantee"), nforms.ReleaseForm, _release),
    "change": Document(gettext_lazy("Request a change"), nforms.ChangeForm, _change),
    "answer": Document(gettext_lazy("Record the answer to a change"), nforms.AnswerForm, _answer),
}


def _form(name: str, notification: Notification, data: Any = None) -> forms.Form:
    document = DOCUMENTS[name]
    if document.takes_notification:
        return document.form(data, notification=notification)  # type: ignore[call-arg]
    return document.form(data)


def _usage(notification: Notification) -> dict[str, Any]:
    shipped = notification.consignments.exclude(state=ConsignmentState.DRAFT)
    totals = shipped.aggregate(kg=Sum("net_weight_kg_dispatched"))
    kg = totals["kg"] or Decimal(0)
    return {
        "shipments": shipped.count(),
        "kg": kg,
        "kg_percent": round(100 * kg / notification.total_quantity_kg),
    }


def render_notification(
    request: HttpRequest,
    membership: Membership,
    notification: Notification,
    *,
    posted: tuple[str, forms.Form] | None = None,
) -> HttpResponse:
    latest = current_consents(notification)
    stops = list(notification.route.all())
    for stop in stops:
        stop.current = latest.get(stop.pk)  # type: ignore[attr-defined]
        stop.history = list(stop.consents.order_by("recorded_at", "id"))  # type: ignore[attr-defined]
        stop.tacit_on = notices.tacit_consent_possible_on(notification, stop)  # type: ignore[attr-defined]
    forms_shown: list[tuple[str, StrOrPromise, forms.Form]] = []
    if may_record(membership, notification):
        for name, document in DOCUMENTS.items():
            form = posted[1] if posted and posted[0] == name else _form(name, notification)
            forms_shown.append((name, document.title, form))
    return render(
        request,
        "shipments/notifications/detail.html",
        {
            "notification": notification,
            "status": status_of(notification),
            "badge": STATUS_BADGES[status_of(notification)],
            "stops": stops,
            "carriers": notification.carriers.select_related("carrier"),
            "contracts": notification.contracts.order_by("valid_from"),
            "guarantees": notification.guarantees.order_by("valid_from"),
            "changes": notification.change_requests.order_by("-requested_at"),
            "consignments": notification.consignments.select_related("origin_hub").order_by(
                "created_at"
            ),
            "usage": _usage(notification),
            "forms": forms_shown,
            "posted": posted[0] if posted else "",
        },
        status=200,
    )


@notification_page
def notification_detail(request: HttpRequest, membership: Membership, number: str) -> HttpResponse:
    notification = notification_for(membership.organisation, number)
    return render_notification(request, membership, notification)


@notifier_page
def notification_record(
    request: HttpRequest, membership: Membership, number: str, document: str
) -> HttpResponse:
    """POST one of the documents of DOCUMENTS; GET shows the notification."""
    notification = notification_for(membership.organisation, number)
    if document not in DOCUMENTS:
        raise Http404(gettext("No such document."))
    if request.method != "POST":
        return redirect(_detail_url(notification))
    if not may_record(membership, notification):
        raise Http404(gettext("Only the notifier and the operator record documents here."))
    form = _form(document, notification, request.POST)
    if form.is_valid():
        try:
            done = DOCUMENTS[document].record(membership, notification, form)
        except (NotificationError, NotAllowed) as error:
            form.add_error(None, explain(error))
        else:
            messages.success(request, done)
            return redirect(_detail_url(notification))
    notification.refresh_from_db()
    return render_notification(request, membership, notification, posted=(document, form))
