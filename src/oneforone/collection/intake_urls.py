"""URLs of the collection pages: intake records, their corrections and photos."""

from __future__ import annotations

from django.urls import URLPattern, path

from oneforone.collection import intake_views

urlpatterns: list[URLPattern] = [
    path(
        "intakes/<uuid:client_uuid>/",
        intake_views.intake_detail,
        name="collection-intake-detail",
    ),
    path(
        "intakes/<uuid:client_uuid>/reverse/",
        intake_views.reverse_intake,
        name="collection-intake-reverse",
    ),
    path(
        "intakes/<uuid:client_uuid>/correct/",
        intake_views.correct_intake,
        name="collection-intake-correct",
    ),
    path("device-keys/", intake_views.device_keys, name="collection-device-keys"),
    path(
        "photos/<str:sha256>/",
        intake_views.intake_photo,
        name="collection-photo",
    ),
]
