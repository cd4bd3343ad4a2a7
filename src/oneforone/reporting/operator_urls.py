"""The operator's overview of the whole service, mounted at /operator/overview/."""

from django.urls import path

from oneforone.reporting import operator_views as views

urlpatterns = [
    path("", views.overview, name="operator-overview"),
    path("intakes/", views.intakes, name="operator-overview-intakes"),
    path("payments/", views.payments, name="operator-overview-payments"),
]
