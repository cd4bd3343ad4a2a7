"""URLs of the collection pages: people."""

from __future__ import annotations

from django.urls import URLPattern, path

from oneforone.collection import people_views as views

urlpatterns: list[URLPattern] = [
    path("collectors/", views.collectors, name="collection-collectors"),
    path("collectors/new/", views.register, name="collection-collector-new"),
    path("collectors/<str:code>/", views.collector, name="collection-collector"),
    path("collectors/<str:code>/personal-data/", views.reveal, name="collection-collector-reveal"),
    path("collectors/<str:code>/identity/", views.correct, name="collection-collector-identity"),
    path("collectors/<str:code>/export/", views.export, name="collection-collector-export"),
    path("collectors/<str:code>/erase/", views.erase, name="collection-collector-erase"),
    path("collectors/<str:code>/training/", views.training, name="collection-collector-training"),
    path(
        "collectors/<str:code>/equipment/", views.equipment, name="collection-collector-equipment"
    ),
    path("collectors/<str:code>/conduct/", views.conduct, name="collection-collector-conduct"),
    path("collectors/<str:code>/incident/", views.incident, name="collection-collector-incident"),
    path(
        "collectors/<str:code>/follow-up/", views.follow_up, name="collection-collector-follow-up"
    ),
    path("collectors/<str:code>/active/", views.set_active, name="collection-collector-active"),
    path("safe-work/", views.safe_work, name="collection-safe-work"),
    path("safe-work/incident/", views.hub_incident, name="collection-safe-work-incident"),
    path("safe-work/follow-up/", views.incident_follow_up, name="collection-safe-work-follow-up"),
]
