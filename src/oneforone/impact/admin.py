"""Methodology versions and figures in the admin: read-only, with publishing as an admin action
that calls `impact.actions.publish_version` (factors of a draft are set with `set_factor`)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext, gettext_lazy

from oneforone.accounts.permissions import NotAllowed
from oneforone.impact import actions
from oneforone.impact.models import Computation, Factor, Figure, MethodologyVersion, Rule


class _ReadOnly:
    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        model = self.model  # type: ignore[attr-defined]
        return [f.name for f in model._meta.get_fields() if isinstance(f, models.Field)]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class FactorInline(_ReadOnly, admin.TabularInline):
    model = Factor
    extra = 0


class RuleInline(_ReadOnly, admin.TabularInline):
    model = Rule
    extra = 0


@admin.register(MethodologyVersion)
class MethodologyVersionAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ["number", "label", "title", "status", "published_at"]
    inlines = [FactorInline, RuleInline]
    actions = ["publish"]

    @admin.action(
        description=gettext_lazy("Publish the selected draft versions (they are then frozen)")
    )
    def publish(self, request: HttpRequest, queryset: QuerySet[MethodologyVersion]) -> None:
        for version in queryset.order_by("number"):
            try:
                actions.publish_version(actor=request.user, version=version)  # type: ignore[arg-type]
            except (actions.MethodologyError, NotAllowed) as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                self.message_user(
                    request,
                    gettext("%(label)s published; figures are computed") % {"label": version.label},
                )


class FigureInline(_ReadOnly, admin.TabularInline):
    model = Figure
    extra = 0


@admin.register(Computation)
class ComputationAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ["batch", "version", "reason", "computed_at"]
    list_filter = ["version", "reason"]
    inlines = [FigureInline]
