"""Reads behind the shipment documents: who may see a notification, its movement documents,
and until when the retention rules keep each document."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext

from oneforone.accounts.models import Organisation, OrganisationKind
from oneforone.shipments.models import Attachment, MovementDocument, Notification

# The legal floor (Regulation (EU) 2024/1157, Article 20: documents kept at least five years);
# the setting may lengthen it, never shorten it.
MINIMUM_RETENTION_YEARS = 5
# The kinds that read every notification: the back office and the verifiers.
READ_ALL_KINDS = (OrganisationKind.OPERATOR, OrganisationKind.AUDITOR)
# The kinds that take part in shipments; partners never see shipment data.
SHIPMENT_KINDS = (
    OrganisationKind.OPERATOR,
    OrganisationKind.AUDITOR,
    OrganisationKind.COLLECTION_PARTNER,
    OrganisationKind.CARRIER,
    OrganisationKind.RECYCLER,
)


def retention_years() -> int:
    years = int(getattr(settings, "ONEFORONE_DOCUMENT_RETENTION_YEARS", MINIMUM_RETENTION_YEARS))
    return max(years, MINIMUM_RETENTION_YEARS)


def share_retention_with_database() -> None:
    """Tell this connection's retention triggers the configured period (they use the legal
    floor when a session has not said)."""
    tell_new_connections(None, connection)


def visible_notifications(organisation: Organisation | None) -> QuerySet[Notification]:
    """Every notification for operators and auditors; for a shipment party, those naming it
    (notifier, consignee, generator, facility, carrier) or moving its consignments."""
    notifications = Notification.objects.all()
    if organisation is None or organisation.kind not in SHIPMENT_KINDS:
        return notifications.none()
    if organisation.kind in READ_ALL_KINDS:
        return notifications
    party = (
        Q(notifier=organisation)
        | Q(consignee=organisation)
        | Q(generator=organisation)
        | Q(facility=organisation)
        | Q(carriers__carrier=organisation)
        | Q(consignments__origin_hub__organisation=organisation)
        | Q(consignments__carrier=organisation)
        | Q(consignments__recycler=organisation)
    )
    return notifications.filter(pk__in=Notification.objects.filter(party).values("pk"))


def notification_for(organisation: Organisation | None, number: str) -> Notification:
    """The notification with this number if the organisation may see it; 404 otherwise."""
    notification = visible_notifications(organisation).filter(number=number).first()
    if notification is None:
        raise Http404(gettext("No notification with this number is visible to you."))
    return notification


def movement_documents(notification: Notification) -> QuerySet[MovementDocument]:
    return notification.movement_documents.select_related(
        "consignment__carrier", "consignment__recycler", "consignment__origin_hub"
    ).order_by("serial")


def notification_completed_on(notification: Notification) -> dt.date | None:
    """The day the last shipment under the notification was treated; None while one is still
    untreated. A notification that never moved anything is complete at its last departure."""
    dates: list[dt.date] = []
    for consignment in notification.consignments.select_related("treatment"):
        treatment = getattr(consignment, "treatment", None)
        if treatment is None:
            return None
        dates.append(treatment.completed_on)
    return max(dates) if dates else notification.last_departure


def movement_completed_on(document: MovementDocument) -> dt.date | None:
    treatment = getattr(document.consignment, "treatment", None)
    return treatment.completed_on if treatment is not None else None


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a common year
        return day.replace(year=day.year + years, day=28)


def deletable_from(completed_on: dt.date | None) -> dt.date | None:
    """The first day a document may be deleted: completion plus the retention period; None
    (kept) while not complete. The database's retention triggers apply the same rule."""
    if completed_on is None:
        return None
    return add_years(completed_on, retention_years())


def attachment_deletable_from(attachment: Attachment) -> dt.date | None:
    if attachment.movement_document is not None:
        return deletable_from(movement_completed_on(attachment.movement_document))
    return deletable_from(notification_completed_on(attachment.notification))


def tell_new_connections(sender: object, connection: BaseDatabaseWrapper, **kwargs: object) -> None:
    """Every connection Django opens carries the configured retention period to the triggers."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('oneforone.document_retention_years', %s, false)",
            [str(retention_years())],
        )
