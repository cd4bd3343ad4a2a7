"""The partner's side of reporting: dashboard, drill-downs, exports, the PDF report and the
public badge. Views parse the filters, read through `queries`/`report`, and render."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from html import escape

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from oneforone.accounts.decorators import member_of_kind
from oneforone.accounts.models import Membership, Organisation, OrganisationKind, Role, User
from oneforone.accounts.permissions import NotAllowed
from oneforone.impact import cards, method
from oneforone.impact import queries as impact_queries
from oneforone.registry import queries as registry_queries
from oneforone.registry.models import AllocationPreference
from oneforone.reporting import actions, exports, filters, queries, report_pdf
from oneforone.reporting.models import BadgeSetting
from oneforone.reporting.report import SOURCES, PartnerReport, build, impact_scope

partner_page = member_of_kind(OrganisationKind.PARTNER, write=True)
BADGE_MAX_AGE = 300  # seconds: a live count, cached briefly by browsers and proxies
# The badge is shown on the partner's own site, so its words follow `?lang=` in its address (set
# in the snippet), not the visitor's browser: one address, one image, cached as such.
BADGE_LANGUAGES = frozenset(code for code, _name in settings.LANGUAGES)


def _report(chosen: filters.Filters) -> PartnerReport:
    return build(chosen.scope, chosen.programmes, chosen.version)


def dashboard(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Called by `views.dashboard` for a partner's member."""
    partner = membership.organisation
    chosen = filters.parse(request.GET, partner)
    for error in chosen.errors:
        messages.warning(request, error)
    report = _report(chosen)
    published = BadgeSetting.objects.filter(partner=partner, published=True).exists()
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    badge_url = base + reverse("partner-badge", args=[partner.slug])
    # The snippet embeds the badge in the language of the page it was copied from.
    language = translation.get_language() or settings.LANGUAGE_CODE
    badge_query = "" if language == settings.LANGUAGE_CODE else f"?lang={language}"
    badge_alt = _("%(partner)s: devices compensated, one for one") % {"partner": partner.name}
    return render(
        request,
        "reporting/partner/dashboard.html",
        {
            "partner": partner,
            "filters": chosen,
            "scope": chosen.scope,
            "presets": queries.PRESETS,
            "query": chosen.query(),
            "report": report,
            "impact": report.impact,
            "methodology": report.methodology,
            "sources": SOURCES,
            "totals": impact_queries.registry_totals(partner),
            "backlog": registry_queries.backlog(partner).for_partner(partner),
            "preference": AllocationPreference.objects.filter(partner=partner).first(),
            "can_set_preference": membership.role == Role.ADMIN,
            "badge_published": published,
            "badge_url": badge_url,
            "badge_query": badge_query,
            "badge_snippet": (
                f'<a href="{escape(base)}/"><img src="{escape(badge_url + badge_query)}" '
                f'alt="{escape(badge_alt)}" height="20"></a>'
            ),
        },
    )


@partner_page
def impact_allocations(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The records behind devices compensated and kilograms: allocations -> batches ->
    receptions with their measured weights."""
    chosen = filters.parse(request.GET, membership.organisation)
    page = Paginator(queries.allocations(chosen.scope), 100).get_page(request.GET.get("page"))
    for allocation in page:
        batch = allocation.batch
        share = allocation.quantity * batch.net_weight_kg / batch.quantity
        allocation.kg = share.quantize(Decimal("0.001"))  # type: ignore[attr-defined]
    return render(
        request,
        "reporting/partner/allocations.html",
        {
            "partner": membership.organisation,
            "scope": chosen.scope,
            "query": chosen.query(),
            "page": page,
            "impact": queries.impact(chosen.scope),
            "sources": SOURCES,
        },
    )


@partner_page
def impact_income(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The records behind the living-wage months: income lines per batch, and the benchmark
    (with its source) that each place and year is divided by."""
    chosen = filters.parse(request.GET, membership.organisation)
    return render(
        request,
        "reporting/partner/income.html",
        {
            "partner": membership.organisation,
            "scope": chosen.scope,
            "query": chosen.query(),
            "living_wages": queries.living_wages(chosen.scope),
            "batches": queries.income_by_batch(chosen.scope),
            "sources": SOURCES,
        },
    )


@dataclass(frozen=True)
class DrillStep:
    """One figure's drill-down, with the factors its batches used listed once."""

    label: str | Promise
    drill: impact_queries.DrillDown

    @property
    def factors(self) -> list[tuple[impact_queries.FactorUsed, str]]:
        """Each factor with the `floatformat` argument that writes its value without trailing
        zeros (84.85, not 84.85000000), grouped per language."""
        used = {f.id: f for share in self.drill.batches for f in share.factors}
        return [
            (f, f"{max(0, -int(f.value.normalize().as_tuple().exponent))}g")
            for f in sorted(used.values(), key=lambda f: (f.key, f.qualifier))
        ]


@partner_page
def impact_figure(request: HttpRequest, membership: Membership, key: str) -> HttpResponse:
    """The records and factors behind one methodology figure of the dashboard, batch by batch;
    a metal's figure shows its whole recovery chain, from the content of the phones on."""
    chosen = filters.parse(request.GET, membership.organisation)
    if chosen.version is None:
        raise Http404(_("No methodology version is published yet."))
    if cards.label_of(key) == key:
        raise Http404(_("No impact figure '%(key)s'.") % {"key": key})
    chain = [method.metal_key(key.split("_")[1], stage) for stage in method.CHAIN]
    keys = chain if key in chain else [key]
    scope = impact_scope(chosen.scope)
    steps = [
        DrillStep(cards.label_of(k), impact_queries.drill_down(scope, k, chosen.version))
        for k in keys
    ]
    for error in chosen.errors:
        messages.warning(request, error)
    return render(
        request,
        "reporting/partner/impact_figure.html",
        {
            "partner": membership.organisation,
            "scope": chosen.scope,
            "filters": chosen,
            "query": chosen.query(),
            "key": key,
            "label": cards.label_of(key),
            "version": chosen.version,
            "figure": steps[keys.index(key)].drill,
            "steps": steps,
        },
    )


def _filename(scope: queries.Scope, name: str, extension: str) -> str:
    programme = f"-{scope.programme.code}" if scope.programme else ""
    return (
        f"{scope.partner.slug}{programme}-{name}-{scope.first:%Y-%m}-to-{scope.last:%Y-%m}"
        f".{extension}"
    )


@require_GET
@partner_page
def export_csv(request: HttpRequest, membership: Membership, dataset: str) -> StreamingHttpResponse:
    if dataset not in exports.DATASETS:
        raise Http404(
            _("No export '%(dataset)s': choose one of %(choices)s.")
            % {"dataset": dataset, "choices": ", ".join(exports.DATASETS)}
        )
    chosen = filters.parse(request.GET, membership.organisation)
    report = _report(chosen)
    response = StreamingHttpResponse(
        exports.csv_lines(dataset, report), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{_filename(chosen.scope, dataset, "csv")}"'
    )
    return response


def _download(body: bytes | str, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
@partner_page
def export_xlsx(request: HttpRequest, membership: Membership) -> HttpResponse:
    chosen = filters.parse(request.GET, membership.organisation)
    return _download(
        exports.xlsx(_report(chosen)),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _filename(chosen.scope, "report", "xlsx"),
    )


@require_GET
@partner_page
def export_json(request: HttpRequest, membership: Membership) -> HttpResponse:
    chosen = filters.parse(request.GET, membership.organisation)
    return _download(
        exports.as_json(_report(chosen)),
        "application/json",
        _filename(chosen.scope, "report", "json"),
    )


@require_GET
@partner_page
def report_pdf_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    chosen = filters.parse(request.GET, membership.organisation)
    return _download(
        report_pdf.render(_report(chosen)),
        "application/pdf",
        _filename(chosen.scope, "impact-report", "pdf"),
    )


@require_POST
@partner_page
def badge_setting(request: HttpRequest, membership: Membership) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    published = request.POST.get("published") == "1"
    try:
        actions.set_badge_published(
            actor=user, partner=membership.organisation, published=published
        )
    except NotAllowed as error:
        raise PermissionDenied(
            _("%(problem)s: ask an administrator of %(partner)s to change it.")
            % {"problem": error, "partner": membership.organisation.name}
        ) from error
    messages.success(
        request,
        _("Your badge is public: embed it with the snippet below.")
        if published
        else _("Your badge is no longer public: its address answers 'not found'."),
    )
    return redirect(reverse("dashboard") + "#badge")


@require_GET
def badge(request: HttpRequest, slug: str) -> HttpResponse:
    """The public badge: the partner's live count of devices compensated, if it publishes it."""
    partner = Organisation.objects.filter(
        slug=slug,
        kind=OrganisationKind.PARTNER,
        badge_setting__published=True,
    ).first()
    if partner is None:
        raise Http404(_("No published badge at this address."))
    count = impact_queries.registry_totals(partner).devices_compensated
    language = request.GET.get("lang", "")
    with translation.override(language if language in BADGE_LANGUAGES else settings.LANGUAGE_CODE):
        svg = badge_svg(count)
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = f"public, max-age={BADGE_MAX_AGE}"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def badge_svg(count: int) -> str:
    """The badge in the active language (English: "devices compensated | 1,234")."""
    label = _("devices compensated")
    value = number_format(count, force_grouping=True)
    title = escape(_("devices compensated: %(count)s") % {"count": value})
    desc = _(
        "Devices compensated one for one: an end-of-life phone collected, shipped and "
        "recycled for each."
    )
    left, right = 8 + 7 * len(label), 14 + 8 * len(value)
    width = left + right
    label = escape(label)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" '
        f'viewBox="0 0 {width} 20" role="img" aria-label="{title}">'
        f"<title>{title}</title>"
        f"<desc>{escape(desc)}</desc>"
        f'<rect width="{left}" height="20" rx="3" fill="#374151"/>'
        f'<rect x="{left - 3}" width="{right + 3}" height="20" rx="3" fill="#166534"/>'
        f'<g fill="#fff" font-family="Verdana, DejaVu Sans, sans-serif" font-size="11">'
        f'<text x="6" y="14">{label}</text>'
        f'<text x="{left + 7}" y="14">{value}</text></g></svg>'
    )
