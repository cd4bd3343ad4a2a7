"""URLs of the collection pages: money."""

from __future__ import annotations

from django.urls import URLPattern, path

from oneforone.collection import money_views

urlpatterns: list[URLPattern] = [
    path("payments/", money_views.payments, name="collection-payments"),
    path("payments/pay/", money_views.pay, name="collection-pay"),
    path(
        "payments/<int:payment_id>/reverse/",
        money_views.reverse_payment,
        name="collection-payment-reverse",
    ),
    path("income/", money_views.income, name="collection-income"),
    path("price-caps/", money_views.price_caps, name="collection-price-caps"),
    path("fee-rates/", money_views.fee_rates, name="collection-fee-rates"),
    path("exchange-rates/", money_views.exchange_rates, name="collection-exchange-rates"),
]
