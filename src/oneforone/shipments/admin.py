"""Shipments in the admin: read-only. Every change goes through an action (custody steps,
revision requests); the database refuses changes to sealed fields whatever the path."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from oneforone.shipments.models import (
    CarrierLeg,
    ConsigneeReceipt,
    Consignment,
    CustodySignature,
    MovementDocument,
    RevisionAnswer,
    RevisionRequest,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Every field read-only; no add, change or delete."""

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.get_fields() if isinstance(f, models.Field)]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Consignment)
class ConsignmentAdmin(ReadOnlyAdmin):
    list_display = ["reference", "state", "stream", "origin_hub", "carrier", "recycler"]
    list_filter = ["state", "stream"]
    search_fields = ["reference", "container_number"]


@admin.register(MovementDocument)
class MovementDocumentAdmin(ReadOnlyAdmin):
    list_display = ["consignment", "notification", "serial", "actual_departure", "packages"]


@admin.register(CarrierLeg)
class CarrierLegAdmin(ReadOnlyAdmin):
    list_display = ["consignment", "sequence", "carrier", "means_of_transport", "transferred_on"]


@admin.register(CustodySignature)
class CustodySignatureAdmin(ReadOnlyAdmin):
    list_display = ["consignment", "step", "leg", "organisation", "signed_at"]


@admin.register(ConsigneeReceipt)
class ConsigneeReceiptAdmin(ReadOnlyAdmin):
    list_display = ["consignment", "organisation", "received_on", "quantity_kg"]


@admin.register(RevisionRequest)
class RevisionRequestAdmin(ReadOnlyAdmin):
    list_display = ["consignment", "field", "old_value", "new_value", "status", "requested_at"]
    list_filter = ["status"]


@admin.register(RevisionAnswer)
class RevisionAnswerAdmin(ReadOnlyAdmin):
    list_display = ["request", "organisation", "vote", "answered_at"]
