"""The partner's ESRS E5 sheet and evidence packs per product model: parse the filters, read
through `esrs` and `evidence`, answer with the file."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from oneforone.accounts.models import Membership
from oneforone.reporting import esrs, evidence, filters, queries
from oneforone.reporting.partner_views import _download, _filename, partner_page

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@require_GET
@partner_page
def evidence_page(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The ESRS E5 sheet's downloads and the partner's product models with their packs."""
    chosen = filters.parse(request.GET, membership.organisation)
    return render(
        request,
        "reporting/partner/evidence.html",
        {
            "partner": membership.organisation,
            "filters": chosen,
            "scope": chosen.scope,
            "presets": queries.PRESETS,
            "query": chosen.query(),
            "models": evidence.product_models(chosen.scope),
            "errors": chosen.errors,
        },
    )


@require_GET
@partner_page
def esrs_xlsx(request: HttpRequest, membership: Membership) -> HttpResponse:
    chosen = filters.parse(request.GET, membership.organisation)
    sheet = esrs.build(chosen.scope)
    return _download(esrs.as_xlsx(sheet), XLSX, _filename(chosen.scope, "esrs-e5-2", "xlsx"))


@require_GET
@partner_page
def esrs_csv(request: HttpRequest, membership: Membership) -> HttpResponse:
    chosen = filters.parse(request.GET, membership.organisation)
    sheet = esrs.build(chosen.scope)
    return _download(
        esrs.as_csv(sheet), "text/csv; charset=utf-8", _filename(chosen.scope, "esrs-e5-2", "csv")
    )


@require_GET
@partner_page
def evidence_pack(request: HttpRequest, membership: Membership, model: str) -> HttpResponse:
    chosen = filters.parse(request.GET, membership.organisation)
    found = evidence.gather(chosen.scope, model)
    if found is None:
        raise Http404(
            _(
                "You have no registration of product model '%(model)s' in this period: choose "
                "one from the list of your models."
            )
            % {"model": model}
        )
    name = "evidence-" + "".join(c if c.isalnum() else "-" for c in model)
    return _download(evidence.pack(found), "application/zip", _filename(chosen.scope, name, "zip"))
