"""URLs of the collection pages: signal."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
