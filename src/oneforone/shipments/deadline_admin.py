"""Deadline rules are configuration the operator edits in the back office; acts and reminders
are history, shown read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from oneforone.shipments.deadline_models import DeadlineAct, DeadlineReminder, DeadlineRule


@admin.register(DeadlineRule)
class DeadlineRuleAdmin(admin.ModelAdmin):
    list_display = [
        "kind",
        "period",
        "unit",
        "direction",
        "calendar",
        "export_country",
        "import_country",
        "operations",
        "valid_from",
        "valid_to",
        "legal_source",
    ]
    list_filter = ["kind", "export_country", "import_country"]


class _History(admin.ModelAdmin):
    """Append-only rows: every field read-only, nothing added or deleted here."""

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.get_fields() if isinstance(f, models.Field)]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(DeadlineAct)
class DeadlineActAdmin(_History):
    list_display = ["kind", "subject_key", "done_on", "organisation", "recorded_by", "recorded_at"]
    list_filter = ["kind"]


@admin.register(DeadlineReminder)
class DeadlineReminderAdmin(_History):
    list_display = ["kind", "subject_key", "stage", "due_on", "sent_at"]
    list_filter = ["kind", "stage"]
