"""URLs of the collection pages: signals (the operator's flag queue) and the network pages."""

from __future__ import annotations

from django.urls import URLPattern, path

from oneforone.collection import signal_views

urlpatterns: list[URLPattern] = [
    path("", signal_views.home, name="collection-home"),
    path("network/", signal_views.network, name="collection-network"),
    path("network/hubs/new/", signal_views.register_hub, name="collection-hub-register"),
    path("flags/", signal_views.flags, name="collection-flags"),
    path("flags/<int:pk>/resolve/", signal_views.resolve, name="collection-flag-resolve"),
    path("hubs/<slug:code>/", signal_views.hub_detail, name="collection-hub"),
    path("hubs/<slug:code>/settings/", signal_views.hub_settings, name="collection-hub-settings"),
]
