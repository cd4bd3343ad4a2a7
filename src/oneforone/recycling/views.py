"""The recycler's signatures on a consignment: counted reception, then treatment completion."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_decimal
from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_POST

from oneforone.accounts.decorators import member_of_kind
from oneforone.accounts.models import Membership, OrganisationKind
from oneforone.accounts.permissions import NotAllowed
from oneforone.core.money import active_locale
from oneforone.recycling import actions
from oneforone.recycling.forms import TreatmentForm, reception_form
from oneforone.recycling.models import Reception
from oneforone.shipments.custody import CustodyError
from oneforone.shipments.queries import consignment_for
from oneforone.shipments.views import explain, render_detail

recycler_page = member_of_kind(OrganisationKind.RECYCLER)


def _counted(reception: Reception) -> str:
    if reception.counted_phones is None:
        packages = reception.packages or 0
        return ngettext("%(count)s package", "%(count)s packages", packages) % {
            "count": format_decimal(packages, locale=active_locale())
        }
    phones = reception.counted_phones
    return ngettext("%(count)s phone", "%(count)s phones", phones) % {
        "count": format_decimal(phones, locale=active_locale())
    }


@require_POST
@recycler_page
def reception(request: HttpRequest, membership: Membership, reference: str) -> HttpResponse:
    consignment = consignment_for(membership.organisation, reference)
    form = reception_form(consignment.stream)(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            recorded = actions.record_reception(
                actor=membership.user,
                consignment=consignment,
                counted_phones=data.get("counted_phones"),
                packages=data.get("packages"),
                net_weight_kg=data["net_weight_kg"],
                decision=data["decision"],
                refused_phones=data.get("refused_phones") or 0,
                refused_weight_kg=data["refused_weight_kg"] or Decimal(0),
                refusal_reason=data["refusal_reason"],
            )
        except (CustodyError, NotAllowed) as error:
            form.add_error(None, explain(error))
        else:
            text = gettext("Reception recorded: %(counted)s, %(weight)s kg, %(decision)s.") % {
                "counted": _counted(recorded),
                "weight": format_decimal(recorded.net_weight_kg, locale=active_locale()),
                "decision": recorded.get_decision_display().lower(),
            }
            if recorded.flags:
                messages.warning(
                    request,
                    gettext("%(text)s Flagged for review: %(flags)s.")
                    % {"text": text, "flags": "; ".join(recorded.flag_texts)},
                )
            else:
                messages.success(
                    request,
                    gettext("%(text)s The reception reconciles with the dispatch.")
                    % {"text": text},
                )
            return redirect(reverse("shipments-detail", args=[consignment.reference]))
    return render_detail(request, membership, consignment, form=form)


@require_POST
@recycler_page
def treatment(request: HttpRequest, membership: Membership, reference: str) -> HttpResponse:
    consignment = consignment_for(membership.organisation, reference)
    form = TreatmentForm(request.POST)
    if form.is_valid():
        try:
            completion = actions.complete_treatment(
                actor=membership.user,
                consignment=consignment,
                completed_on=form.cleaned_data["completed_on"],
                operation=form.cleaned_data["operation"],
            )
        except (CustodyError, NotAllowed) as error:
            form.add_error(None, explain(error))
        except IntegrityError as error:
            form.add_error(
                None,
                gettext(
                    "The registry refused to issue units for this treatment (%(error)s). Nothing was "
                    "recorded; contact the operator."
                )
                % {"error": error},
            )
        else:
            text = gettext("Treatment completion recorded (%(operation)s, %(date)s).") % {
                "operation": completion.operation,
                "date": completion.completed_on,
            }
            try:
                batch = completion.batch
            except ObjectDoesNotExist:
                messages.success(request, text)
            else:
                messages.success(
                    request,
                    gettext("%(text)s %(quantity)s units issued: %(block)s.")
                    % {"text": text, "quantity": batch.quantity, "block": batch.block},
                )
            return redirect(reverse("shipments-detail", args=[consignment.reference]))
    return render_detail(request, membership, consignment, form=form)
