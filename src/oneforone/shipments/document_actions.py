"""Actions on shipment documents: attaching signed scans, and deleting what is past retention."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import IO

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext

from oneforone.accounts.models import OrganisationKind, User
from oneforone.accounts.permissions import NotAllowed, require_member, require_operator
from oneforone.accounts.queries import membership_of
from oneforone.core import audit
from oneforone.shipments.documents import (
    attachment_deletable_from,
    deletable_from,
    notification_completed_on,
    share_retention_with_database,
    visible_notifications,
)
from oneforone.shipments.models import Attachment, Consignment, MovementDocument, Notification

DEFAULT_MAX_BYTES = 10_000_000
# What a file's first bytes say it is; the name and the browser's claim are not trusted.
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


class DocumentError(ValueError):
    """A document action refused; the message says what to do instead."""


def max_attachment_bytes() -> int:
    return int(getattr(settings, "ONEFORONE_ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def content_type_of(data: bytes) -> str:
    for signature, content_type in SIGNATURES:
        if data.startswith(signature):
            return content_type
    raise DocumentError(gettext("attach a PDF, PNG or JPEG file; this file is none of these"))


def require_party(actor: User, notification: Notification) -> None:
    """A writing member of the operator or of an organisation taking part in the notification."""
    membership = membership_of(actor)
    organisation = membership.organisation if membership else None
    if (
        organisation is None
        or organisation.kind == OrganisationKind.AUDITOR
        or not visible_notifications(organisation).filter(pk=notification.pk).exists()
    ):
        raise NotAllowed(
            gettext("%(username)s takes no part in notification %(number)s")
            % {"username": actor.username, "number": notification.number}
        )
    require_member(actor, organisation)


@transaction.atomic
def attach_document(
    *,
    actor: User,
    notification: Notification,
    movement_document: MovementDocument | None = None,
    title: str,
    file: IO[bytes],
    filename: str = "",
) -> Attachment:
    """Keep a signed scan (PDF, PNG or JPEG) with a notification or one of its movement
    documents, under the SHA-256 computed here from the bytes received."""
    require_party(actor, notification)
    if movement_document is not None and movement_document.notification_id != notification.pk:
        raise DocumentError(
            gettext("movement document %(serial)s belongs to another notification; attach it there")
            % {"serial": movement_document.serial}
        )
    title = title.strip()
    if not title:
        raise DocumentError(gettext("give the attachment a title, e.g. 'signed movement document'"))
    limit = max_attachment_bytes()
    data = file.read(limit + 1)
    if not data:
        raise DocumentError(gettext("the file is empty; choose the scan again"))
    if len(data) > limit:
        raise DocumentError(
            gettext(
                "the file is larger than %(limit)s bytes; scan at a lower resolution or split it"
            )
            % {"limit": number_format(limit, force_grouping=True)}
        )
    name = (filename or getattr(file, "name", "") or "attachment").rsplit("/", 1)[-1]
    attachment = Attachment.objects.create(
        notification=notification,
        movement_document=movement_document,
        title=title[:200],
        filename=name[:200],
        content_type=content_type_of(data),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        content=data,
        uploaded_by=actor,
        uploaded_at=timezone.now(),
    )
    audit.record(
        actor=actor,
        code="shipments.attachment.added",
        obj=attachment,
        data={
            "notification": notification.number,
            "movement_document": movement_document.serial if movement_document else None,
            "title": attachment.title,
            "sha256": attachment.sha256,
            "size": attachment.size,
        },
    )
    return attachment


@dataclass
class Deleted:
    """What a retention run deleted."""

    attachments: list[str] = field(default_factory=list)
    notifications: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.attachments) + len(self.notifications)


def past(day: dt.date | None, today: dt.date) -> bool:
    return day is not None and day <= today


def _delete_notification(notification: Notification, deleted: Deleted) -> None:
    """A notification with everything written under it; its consignments stay, unlinked."""
    for consent in notification.consents.all():
        consent.delete()
    notification.route.all().delete()
    notification.carriers.all().delete()
    notification.contracts.all().delete()
    notification.change_requests.all().delete()
    notification.guarantees.clear()
    Consignment.objects.filter(notification=notification).update(notification=None)
    deleted.notifications.append(notification.number)
    notification.delete()


@transaction.atomic
def delete_expired_documents(*, actor: User, today: dt.date) -> Deleted:
    """Delete the attachments, and the notifications under which nothing was ever dispatched,
    whose retention period (completion plus ONEFORONE_DOCUMENT_RETENTION_YEARS, at least five
    years) has ended. Signed custody records are permanent: a notification with a dispatched
    consignment, its movement documents and carrier legs are never deleted (the database
    refuses it)."""
    require_operator(actor)
    if today > timezone.localdate():
        raise DocumentError(gettext("retention is counted up to today at most; give today's date"))
    share_retention_with_database()
    deleted = Deleted()
    for attachment in Attachment.objects.select_related(
        "notification", "movement_document__consignment"
    ):
        if past(attachment_deletable_from(attachment), today):
            deleted.attachments.append(attachment.sha256)
            attachment.delete()
    for notification in Notification.objects.all():
        if past(deletable_from(notification_completed_on(notification)), today):
            if notification.movement_documents.exists() or notification.attachments.exists():
                continue  # signed custody under it (permanent), or a scan still kept
            _delete_notification(notification, deleted)
    audit.record(
        actor=actor,
        code="shipments.documents.retention_deleted",
        data={
            "today": today,
            "attachments": deleted.attachments,
            "notifications": deleted.notifications,
        },
    )
    return deleted
