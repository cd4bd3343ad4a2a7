"""Intake detail pages: one purchase record with its evidence, its lots, and its correction.

The hub's own people see and correct their records; operator staff see every record and may
reverse one (resolving a flag). Brands and other collection partners see none of it."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from oneforone.accounts import actions as account_actions
from oneforone.accounts.decorators import member_of_kind
from oneforone.accounts.models import ApiKey, ApiKeyScope, Membership, OrganisationKind
from oneforone.accounts.permissions import NotAllowed
from oneforone.collection import actions
from oneforone.collection.forms import CorrectionForm, ReversalForm
from oneforone.collection.models import Hub, Intake, IntakePhoto, PaymentMethod, Photo
from oneforone.collection.views import explain
from oneforone.core.text import as_sentence

record_page = member_of_kind(OrganisationKind.COLLECTION_PARTNER, OrganisationKind.OPERATOR)


def visible_intakes(membership: Membership) -> QuerySet[Intake]:
    if membership.organisation.kind == OrganisationKind.OPERATOR:
        return Intake.objects.all()
    return Intake.objects.filter(hub__organisation=membership.organisation)


def _intake_for(membership: Membership, client_uuid: uuid.UUID) -> Intake:
    intake = (
        visible_intakes(membership)
        .select_related(
            "hub",
            "collector",
            "lot__consignment",
            "battery_lot__consignment",
            "reverses",
            "recorded_by",
        )
        .filter(client_uuid=client_uuid)
        .first()
    )
    if intake is None:
        raise Http404(gettext("No such intake record for your organisation."))
    return intake


def _render(
    request: HttpRequest,
    membership: Membership,
    intake: Intake,
    *,
    correction_form: CorrectionForm | None = None,
    reversal_form: ReversalForm | None = None,
) -> HttpResponse:
    hub_member = membership.organisation_id == intake.hub.organisation_id
    reversal = Intake.objects.filter(reverses=intake).first()
    lots = [lot for lot in (intake.lot, intake.battery_lot) if lot is not None]
    reconciliations = actions.lot_reconciliations(lots)
    return render(
        request,
        "collection/intake/detail.html",
        {
            "intake": intake,
            "hub": intake.hub,
            "membership": membership,
            "hub_member": hub_member,
            "local_time": intake.collected_at.astimezone(actions.hub_timezone(intake.hub)),
            "imeis": list(intake.imeis.order_by("imei").values_list("imei", flat=True)),
            "photos": _photos(intake),
            "payments": list(intake.payments.select_related("paid_by").order_by("paid_at", "id")),
            "flags": list(intake.flags.order_by("raised_at")),
            "reversal": reversal,
            "lots": [(lot, reconciliations[lot.pk]) for lot in lots],
            "why_locked": actions.why_locked(intake),
            "can_reverse": reversal is None and intake.reverses_id is None,
            "correction_form": correction_form or CorrectionForm(intake=intake),
            "reversal_form": reversal_form or ReversalForm(),
        },
    )


def _photos(intake: Intake) -> list[tuple[str, bool]]:
    digests = list(intake.photos.order_by("id").values_list("sha256", flat=True))
    stored = set(Photo.objects.filter(sha256__in=digests).values_list("sha256", flat=True))
    return [(digest, digest in stored) for digest in digests]


@record_page
def intake_detail(
    request: HttpRequest, membership: Membership, client_uuid: uuid.UUID
) -> HttpResponse:
    return _render(request, membership, _intake_for(membership, client_uuid))


def _back(intake: Intake) -> HttpResponse:
    return redirect(reverse("collection-intake-detail", args=[intake.client_uuid]))


@require_POST
@record_page
def reverse_intake(
    request: HttpRequest, membership: Membership, client_uuid: uuid.UUID
) -> HttpResponse:
    intake = _intake_for(membership, client_uuid)
    form = ReversalForm(request.POST)
    if form.is_valid():
        try:
            actions.reverse_intake(
                actor=membership.user, intake=intake, reason=form.cleaned_data["reason"]
            )
        except (actions.CollectionError, NotAllowed) as error:
            form.add_error(None, explain(error))
        else:
            messages.success(
                request,
                gettext("Reversed: %(phones)s phones of %(code)s cancelled.")
                % {"phones": intake.phones, "code": intake.collector.code},
            )
            return _back(intake)
    return _render(request, membership, intake, reversal_form=form)


@require_POST
@record_page
def correct_intake(
    request: HttpRequest, membership: Membership, client_uuid: uuid.UUID
) -> HttpResponse:
    intake = _intake_for(membership, client_uuid)
    form = CorrectionForm(request.POST, intake=intake)
    if form.is_valid():
        data = form.cleaned_data
        try:
            correction = actions.correct_intake(
                actor=membership.user,
                intake=intake,
                reason=data["reason"],
                phones=data["phones"],
                net_weight_kg=data["net_weight_kg"],
                price_per_phone=data["price_per_phone"],
                batteries_removed=data["batteries_removed"],
                battery_weight_kg=data["battery_weight_kg"],
                condition=data["condition"],
                imeis=data["imeis"],
                paid_with=PaymentMethod(data["paid_with"]) if data["paid_with"] else None,
                payment_reference=data["payment_reference"],
            )
        except (actions.CollectionError, NotAllowed) as error:
            form.add_error(None, explain(error))
        else:
            messages.success(
                request,
                gettext(
                    "Corrected: the record is reversed and %(phones)s phones are recorded anew; pack them "
                    "with the next lot."
                )
                % {"phones": correction.corrected.phones},
            )
            return _back(correction.corrected)
    return _render(request, membership, intake, correction_form=form)


@record_page
def intake_photo(request: HttpRequest, membership: Membership, sha256: str) -> FileResponse:
    """A photo's bytes, for the people who may see a record that refers to it."""
    refers = IntakePhoto.objects.filter(
        sha256=sha256, intake__in=visible_intakes(membership)
    ).exists()
    photo = Photo.objects.filter(sha256=sha256).first() if refers else None
    if photo is None:
        raise Http404(gettext("No such photo for your organisation."))
    response = FileResponse(photo.file.open("rb"), content_type=photo.content_type)
    response["Cache-Control"] = "private, max-age=86400, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    return response


hub_admin_page = member_of_kind(OrganisationKind.COLLECTION_PARTNER)


@hub_admin_page
def device_keys(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Keys for the hub devices' sync API: made (shown once) and revoked by administrators."""
    organisation = membership.organisation
    new_key = None
    if request.method == "POST":
        actor = membership.user
        try:
            if revoke := request.POST.get("revoke", ""):
                key = ApiKey.objects.filter(
                    organisation=organisation, pk=revoke if revoke.isdigit() else 0
                ).first()
                if key is None:
                    raise Http404(gettext("No such key"))
                account_actions.revoke_api_key(actor=actor, key=key)
                messages.success(
                    request,
                    gettext("Key %(display_prefix)s… revoked: devices using it stop.")
                    % {"display_prefix": key.display_prefix},
                )
                return redirect("collection-device-keys")
            name = request.POST.get("name", "").strip()
            if not name:
                raise account_actions.ApiKeyRefused(
                    gettext("name the device the key is for, e.g. 'Accra tablet 2'")
                )
            _, new_key = account_actions.create_api_key(
                actor=actor, organisation=organisation, name=name, scope=ApiKeyScope.WRITE
            )
        except NotAllowed as exc:
            messages.error(
                request,
                gettext("%(exc)s. Ask an administrator of %(name)s.")
                % {"exc": exc, "name": organisation.name},
            )
        except account_actions.ApiKeyRefused as exc:
            messages.error(
                request,
                as_sentence(exc),
            )
    keys = organisation.api_keys.order_by("revoked_at", "-created_at")
    response = render(
        request,
        "collection/intake/device_keys.html",
        {
            "membership": membership,
            "keys": keys,
            "new_key": new_key,
            "hubs": Hub.objects.filter(organisation=organisation).order_by("name"),
        },
    )
    response["Cache-Control"] = "no-store"  # the new key is on this page once
    return response
