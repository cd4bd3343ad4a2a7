"""Operator staff pages of the registry, mounted at /operator/registry/."""

from django.urls import path

from oneforone.registry import operator_views as views

urlpatterns = [
    path("", views.allocation, name="operator-registry-allocation"),
    path("allocate/", views.run_allocation, name="operator-registry-allocation-run"),
    path("cancellations/", views.cancellations, name="operator-registry-cancellations"),
    path(
        "cancellations/<int:pk>/",
        views.cancellation_detail,
        name="operator-registry-cancellation",
    ),
    path("reservations/", views.reservations, name="operator-registry-reservations"),
    path("reservations/release/", views.release, name="operator-registry-release"),
    path("preferences/", views.preferences, name="operator-registry-preferences"),
    path("preferences/<slug:slug>/", views.preference_edit, name="operator-registry-preference"),
]
