"""Attachments in the back office: readable, never changed; deleting one passes through the
retention trigger like any other path."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from oneforone.shipments.models import Attachment


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ["title", "notification", "movement_document", "sha256", "uploaded_at"]
    search_fields = ["title", "sha256", "notification__number"]
    exclude = ["content"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
