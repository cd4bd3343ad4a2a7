"""Money pages: a hub's payday, a collection partner's income and living wages, and the
operator's price caps, handling-fee rates and exchange rates (read-only for collection partners).

A collection partner sees its own hubs, collectors and payments; operator staff see every
partner; other organisations get a 403."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_POST

from oneforone.accounts.decorators import member_of_kind
from oneforone.accounts.models import Membership, Organisation, OrganisationKind
from oneforone.accounts.permissions import NotAllowed
from oneforone.collection import money_queries, payment_actions
from oneforone.collection.actions import CollectionError
from oneforone.collection.fx import Converted, RateBook
from oneforone.collection.models import (
    ExchangeRate,
    HandlingFeeRate,
    Hub,
    Payment,
    PaymentKind,
    PriceCap,
)
from oneforone.collection.money_forms import (
    EndCapForm,
    ExchangeRateForm,
    FeeRateForm,
    HandlingFeeForm,
    PaymentMethodForm,
    PriceCapForm,
    ReverseForm,
)
from oneforone.collection.views import chosen_hub, explain
from oneforone.core import charts
from oneforone.core.money import Money

LEDGER_ROWS = 30
STABILITY_ROWS = 25
CHART_MONTHS = 12
RATE_ROWS = 40

hub_money_page = member_of_kind(OrganisationKind.COLLECTION_PARTNER)
hub_money_post = member_of_kind(OrganisationKind.COLLECTION_PARTNER, write=True)
money_page = member_of_kind(OrganisationKind.COLLECTION_PARTNER, OrganisationKind.OPERATOR)
money_post = member_of_kind(
    OrganisationKind.COLLECTION_PARTNER, OrganisationKind.OPERATOR, write=True
)


def is_operator(membership: Membership) -> bool:
    return membership.organisation.kind == OrganisationKind.OPERATOR


def _require_operator_post(membership: Membership) -> None:
    if not is_operator(membership):
        raise PermissionDenied(
            gettext("Only operator staff change this; collection partners read it.")
        )


# --- the hub's payments --------------------------------------------------------------------------


def _render_payments(
    request: HttpRequest,
    membership: Membership,
    hub: Hub,
    hubs: QuerySet[Hub],
    *,
    pay_form: PaymentMethodForm | None = None,
    status: int = 200,
) -> HttpResponse:
    dues = money_queries.due_by_collector(hub)
    ledger = list(
        Payment.objects.filter(hub=hub, kind=PaymentKind.PURCHASE)
        .select_related("collector", "paid_by", "intake")
        .order_by("-recorded_at", "-id")[:LEDGER_ROWS]
    )
    reversed_ids = set(
        Payment.objects.filter(reverses__in=[p.pk for p in ledger]).values_list(
            "reverses_id", flat=True
        )
    )
    return render(
        request,
        "collection/money/payments.html",
        {
            "hub": hub,
            "hubs": hubs,
            "switch_url": reverse("collection-payments"),
            "membership": membership,
            "dues": dues,
            "total_due": Money(sum((d.amount for d in dues), Decimal(0)), hub.currency),
            "pay_form": pay_form or PaymentMethodForm(),
            "ledger": ledger,
            "reversed_ids": reversed_ids,
        },
        status=status,
    )


@hub_money_page
def payments(request: HttpRequest, membership: Membership) -> HttpResponse:
    hubs, hub = chosen_hub(request, membership)
    return _render_payments(request, membership, hub, hubs)


@require_POST
@hub_money_post
def pay(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Pay every intake still owed at the hub, or those of one collector (?collector=code)."""
    hubs, hub = chosen_hub(request, membership)
    form = PaymentMethodForm(request.POST)
    code = request.POST.get("collector", "")
    collector = get_object_or_404(hub.collectors, code=code) if code else None
    if form.is_valid():
        try:
            made = payment_actions.pay_all_due(
                actor=membership.user,
                hub=hub,
                method=form.cleaned_data["method"],
                reference=form.cleaned_data["reference"],
                collector=collector,
            )
        except (CollectionError, NotAllowed) as error:
            form.add_error(None, explain(error))
        else:
            total = Money(sum((p.amount for p in made), Decimal(0)), hub.currency)
            if made:
                messages.success(
                    request,
                    (
                        ngettext(
                            "Paid %(total)s for %(count)s intake to %(code)s.",
                            "Paid %(total)s for %(count)s intakes to %(code)s.",
                            len(made),
                        )
                        if collector
                        else ngettext(
                            "Paid %(total)s for %(count)s intake.",
                            "Paid %(total)s for %(count)s intakes.",
                            len(made),
                        )
                    )
                    % {
                        "total": total,
                        "count": len(made),
                        "code": collector.code if collector else "",
                    },
                )
            else:
                messages.info(request, gettext("Nothing was due; no payment was recorded."))
            return redirect(f"{reverse('collection-payments')}?hub={hub.code}")
    return _render_payments(request, membership, hub, hubs, pay_form=form, status=400)


@require_POST
@money_post
def reverse_payment(request: HttpRequest, membership: Membership, payment_id: int) -> HttpResponse:
    """Reverse a collector's payment (its hub's organisation) or a handling fee (operator)."""
    if is_operator(membership):
        payment = get_object_or_404(Payment, pk=payment_id)
        back = reverse("collection-fee-rates")
    else:
        payment = get_object_or_404(
            Payment, pk=payment_id, hub__organisation=membership.organisation
        )
        back = f"{reverse('collection-payments')}?hub={payment.hub.code}"
    form = ReverseForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, gettext("Nothing was reversed: say why; the reason stays in the ledger.")
        )
        return redirect(back)
    try:
        reversals = payment_actions.reverse_payment(
            actor=membership.user, payment=payment, reason=form.cleaned_data["reason"]
        )
    except (CollectionError, NotAllowed) as error:
        messages.error(
            request, gettext("Nothing was reversed: %(error)s") % {"error": explain(error)}
        )
    else:
        total = Money(sum((r.amount for r in reversals), Decimal(0)), payment.currency)
        messages.success(
            request,
            gettext("Reversed: %(total)s recorded against the original payment.")
            % {"total": total},
        )
    return redirect(back)


# --- income and living wages ---------------------------------------------------------------------


def _previous_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


@dataclass(frozen=True)
class MonthIncome:
    month: dt.date
    income: Money
    eur: Converted | None  # None: no exchange rate on or before the month's end


def _month_end(month: dt.date) -> dt.date:
    return payment_actions.next_month(month) - dt.timedelta(days=1)


def _income_table(
    months: Sequence[money_queries.IncomeMonth], window: list[dt.date]
) -> list[MonthIncome]:
    """Income per month and currency in the window, newest first, with its EUR value and the
    rate (and source) that gave it."""
    book = RateBook({m.currency for m in months})
    totals = money_queries.monthly_totals([m for m in months if m.month in window])
    return [
        MonthIncome(
            month, Money(amount, currency), book.to_eur(amount, currency, _month_end(month))
        )
        for (month, currency), amount in sorted(
            totals.items(), key=lambda kv: (-kv[0][0].toordinal(), kv[0][1])
        )
    ]


def _income_chart(
    months: Sequence[money_queries.IncomeMonth], window: list[dt.date]
) -> tuple[Any, list[str]]:
    """Income per month in EUR (purchases and fees), and the months left out for want of a rate."""
    book = RateBook({m.currency for m in months})
    purchases = dict.fromkeys(window, Decimal(0))
    fees = dict.fromkeys(window, Decimal(0))
    missing: set[str] = set()
    for row in months:
        if row.month not in purchases:
            continue
        on = _month_end(row.month)
        bought = book.to_eur(row.purchases, row.currency, on)
        fee = book.to_eur(row.fees, row.currency, on)
        if bought is None or fee is None:
            missing.add(
                gettext("%(currency)s in %(month)s")
                % {"currency": row.currency, "month": date_format(row.month, "M Y")}
            )
            continue
        purchases[row.month] += bought.eur
        fees[row.month] += fee.eur
    chart = charts.grouped_columns(
        [date_format(m, "M") for m in window],
        [
            (gettext("Collectors, EUR"), [int(purchases[m]) for m in window]),
            (gettext("Handling fees, EUR"), [int(fees[m]) for m in window]),
        ],
        title=gettext("Income paid per month, in EUR"),
    )
    return chart, sorted(missing)


@money_page
def income(request: HttpRequest, membership: Membership) -> HttpResponse:
    partners = Organisation.objects.filter(kind=OrganisationKind.COLLECTION_PARTNER)
    chosen: Organisation | None = None
    if is_operator(membership):
        slug = request.GET.get("org", "")
        if slug:
            chosen = get_object_or_404(partners, slug=slug)
        scope: list[Organisation] | None = [chosen] if chosen else None
    else:
        chosen = membership.organisation
        scope = [chosen]
    months = money_queries.income_months(scope)
    collector_months = money_queries.collector_months(scope)
    until = _previous_month(timezone.localdate())
    window = money_queries.last_months(until)
    recent = [m for m in collector_months if window[0] <= m.month <= window[-1]]
    chart, chart_missing = _income_chart(months, money_queries.last_months(until, CHART_MONTHS))
    bands = money_queries.earnings_bands(recent)
    hubs = Hub.objects.filter(organisation__in=scope) if scope else Hub.objects.all()
    dues = money_queries.due_by_hub(hubs)
    return render(
        request,
        "collection/money/income.html",
        {
            "membership": membership,
            "operator": is_operator(membership),
            "partners": partners,
            "chosen": chosen,
            "hubs": [
                (hub, Money(dues.get(hub.pk, Decimal(0)), hub.currency))
                for hub in hubs.select_related("organisation").order_by("organisation", "name")
            ],
            "periods": money_queries.living_wage_periods(months),
            "living_wage_counts": money_queries.collectors_at_living_wage(recent),
            "bands_chart": charts.horizontal_bars(
                [charts.Bar(gettext(label), count) for label, count in bands.items() if count],
                title=gettext("Collector-months by share of the living wage"),
            )
            if recent
            else None,
            "bands": bands,
            "bands_without_benchmark": bands.get(money_queries.NO_BENCHMARK, 0),
            "window": window,
            "stability": money_queries.income_stability(collector_months, until)[:STABILITY_ROWS],
            "income_chart": chart if months else None,
            "income_table": _income_table(months, money_queries.last_months(timezone.localdate())),
            "chart_missing": chart_missing,
            "reconciliation": money_queries.reconciliation(scope),
        },
    )


# --- operator settings: price caps, fee rates, exchange rates ------------------------------------


@money_page
def price_caps(request: HttpRequest, membership: Membership) -> HttpResponse:
    form = PriceCapForm()
    end_form = EndCapForm()
    if request.method == "POST":
        _require_operator_post(membership)
        if "last_day" in request.POST:
            end_form = EndCapForm(request.POST)
            if end_form.is_valid():
                try:
                    cap = payment_actions.end_price_cap(
                        actor=membership.user,
                        cap=end_form.cleaned_data["cap"],
                        last_day=end_form.cleaned_data["last_day"],
                    )
                except (CollectionError, NotAllowed) as error:
                    end_form.add_error(None, explain(error))
                else:
                    messages.success(
                        request,
                        gettext("The cap for %(country_id)s ends on %(valid_until)s.")
                        % {
                            "country_id": cap.country_id,
                            "valid_until": date_format(end_form.cleaned_data["last_day"], "j F Y"),
                        },
                    )
                    return redirect("collection-price-caps")
        else:
            form = PriceCapForm(request.POST)
            if form.is_valid():
                try:
                    cap = payment_actions.set_price_cap(actor=membership.user, **form.cleaned_data)
                except (CollectionError, NotAllowed) as error:
                    form.add_error(None, explain(error))
                else:
                    messages.success(request, gettext("Price cap set: %(cap)s.") % {"cap": cap})
                    return redirect("collection-price-caps")
    caps = PriceCap.objects.select_related("country").order_by("country__name", "-valid_from")
    if not is_operator(membership):
        countries = Hub.objects.filter(organisation=membership.organisation).values("country")
        caps = caps.filter(country__in=countries)
    bound = form.is_bound or end_form.is_bound
    return render(
        request,
        "collection/money/price_caps.html",
        {
            "membership": membership,
            "operator": is_operator(membership),
            "caps": caps,
            "today": timezone.localdate(),
            "form": form,
            "end_form": end_form,
        },
        status=400 if bound else 200,
    )


@money_page
def fee_rates(request: HttpRequest, membership: Membership) -> HttpResponse:
    rate_form = FeeRateForm()
    fee_form = HandlingFeeForm()
    if request.method == "POST":
        _require_operator_post(membership)
        if "per_phone" in request.POST:
            rate_form = FeeRateForm(request.POST)
            if rate_form.is_valid():
                try:
                    rate = payment_actions.set_handling_fee_rate(
                        actor=membership.user, **rate_form.cleaned_data
                    )
                except (CollectionError, NotAllowed, ValueError) as error:
                    rate_form.add_error(None, explain(error))
                else:
                    messages.success(
                        request,
                        gettext("Rate set for %(name)s: %(rate)s.")
                        % {"name": rate.organisation.name, "rate": rate},
                    )
                    return redirect("collection-fee-rates")
        else:
            fee_form = HandlingFeeForm(request.POST)
            if fee_form.is_valid():
                try:
                    rows = payment_actions.pay_handling_fee(
                        actor=membership.user, **fee_form.cleaned_data
                    )
                except (CollectionError, NotAllowed) as error:
                    fee_form.add_error(None, explain(error))
                else:
                    total = Money(sum((r.amount for r in rows), Decimal(0)), rows[0].currency)
                    messages.success(
                        request,
                        gettext("Paid %(total)s to %(name)s for %(period)s.")
                        % {
                            "total": total,
                            "name": fee_form.cleaned_data["organisation"].name,
                            "period": date_format(fee_form.cleaned_data["period"], "F Y"),
                        },
                    )
                    return redirect("collection-fee-rates")
    rates = HandlingFeeRate.objects.select_related("organisation")
    fees = Payment.objects.exclude(kind=PaymentKind.PURCHASE).select_related(
        "payee_organisation", "hub"
    )
    if not is_operator(membership):
        rates = rates.filter(organisation=membership.organisation)
        fees = fees.filter(payee_organisation=membership.organisation)
    fee_rows = list(fees.order_by("-recorded_at", "-id")[:LEDGER_ROWS])
    reversed_ids = set(
        Payment.objects.filter(reverses__in=[p.pk for p in fee_rows]).values_list(
            "reverses_id", flat=True
        )
    )
    return render(
        request,
        "collection/money/fee_rates.html",
        {
            "membership": membership,
            "operator": is_operator(membership),
            "rates": rates,
            "fees": fee_rows,
            "reversed_ids": reversed_ids,
            "rate_form": rate_form,
            "fee_form": fee_form,
        },
        status=400 if rate_form.is_bound or fee_form.is_bound else 200,
    )


@money_page
def exchange_rates(request: HttpRequest, membership: Membership) -> HttpResponse:
    form = ExchangeRateForm()
    if request.method == "POST":
        _require_operator_post(membership)
        form = ExchangeRateForm(request.POST)
        if form.is_valid():
            try:
                rate = payment_actions.record_exchange_rate(
                    actor=membership.user, **form.cleaned_data
                )
            except (CollectionError, NotAllowed, ValueError) as error:
                form.add_error(None, explain(error))
            else:
                messages.success(
                    request,
                    gettext("Recorded: %(rate)s (%(source)s).")
                    % {"rate": rate, "source": rate.source},
                )
                return redirect("collection-exchange-rates")
    latest = ExchangeRate.objects.order_by("currency", "-rate_date").distinct("currency")
    return render(
        request,
        "collection/money/exchange_rates.html",
        {
            "membership": membership,
            "operator": is_operator(membership),
            "latest": latest,
            "recent": ExchangeRate.objects.order_by("-rate_date", "currency")[:RATE_ROWS],
            "form": form,
        },
        status=400 if form.is_bound else 200,
    )
