"""Document pages: the code lists, the notification and movement document PDFs, the EU export,
and the attachments (signed scans) with their SHA-256."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from oneforone.accounts.decorators import member_of_kind
from oneforone.accounts.models import Membership, OrganisationKind
from oneforone.accounts.permissions import NotAllowed
from oneforone.core.text import as_sentence
from oneforone.shipments import document_actions, document_pdf
from oneforone.shipments.diwass import export_json
from oneforone.shipments.document_actions import DocumentError, max_attachment_bytes
from oneforone.shipments.documents import movement_documents, notification_for
from oneforone.shipments.models import Attachment, Code, CodeList, MovementDocument, Notification
from oneforone.shipments.queries import consignment_for

# Partners never see shipment data; everyone taking part in shipments does.
shipment_page = member_of_kind(
    OrganisationKind.COLLECTION_PARTNER,
    OrganisationKind.CARRIER,
    OrganisationKind.RECYCLER,
    OrganisationKind.OPERATOR,
    OrganisationKind.AUDITOR,
    write=True,
)
CHANGE_WINDOW_DAYS = 90


# --- Code lists ----------------------------------------------------------------------------------


class ValidOnForm(forms.Form):
    on = forms.DateField(
        required=False,
        label=gettext_lazy("Valid on"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("the date of the document you are filling in"),
    )
    code_list = forms.ChoiceField(
        choices=[("", gettext_lazy("all lists")), *CodeList.choices],
        required=False,
        label=gettext_lazy("List"),
        widget=forms.Select(attrs={"style": "width:100%"}),
    )
    usable_only = forms.BooleanField(
        required=False, label=gettext_lazy("only codes usable on that date")
    )


@dataclass(frozen=True)
class Row:
    entry: Code
    usable: bool
    changes_soon: str  # "" or what changes within the window


def is_valid_on(entry: Code, on: dt.date) -> bool:
    return (entry.valid_from is None or entry.valid_from <= on) and (
        entry.valid_to is None or entry.valid_to >= on
    )


def upcoming_change(entry: Code, today: dt.date) -> str:
    """What happens to the entry within the next 90 days, if anything."""
    horizon = today + dt.timedelta(days=CHANGE_WINDOW_DAYS)
    if entry.valid_from is not None and today < entry.valid_from <= horizon:
        return gettext("in force from %(date)s") % {"date": f"{entry.valid_from:%Y-%m-%d}"}
    if entry.valid_to is not None and today <= entry.valid_to < horizon:
        ends = f"{entry.valid_to:%Y-%m-%d}"
        if entry.replaced_by:
            return gettext("ends after %(date)s, replaced by %(code)s") % {
                "date": ends,
                "code": entry.replaced_by,
            }
        return gettext("ends after %(date)s") % {"date": ends}
    return ""


@shipment_page
def code_lists(request: HttpRequest, membership: Membership) -> HttpResponse:
    today = timezone.localdate()
    form = ValidOnForm(request.GET or None)
    chosen = form.cleaned_data if form.is_valid() else {}
    on = chosen.get("on") or today
    entries = Code.objects.order_by("code_list", "code", "valid_from")
    if chosen.get("code_list"):
        entries = entries.filter(code_list=chosen["code_list"])
    lists: dict[str, list[Row]] = {}
    changes: list[Row] = []
    for entry in entries:
        row = Row(entry, is_valid_on(entry, on), upcoming_change(entry, today))
        if row.changes_soon:
            changes.append(row)
        if row.usable or not chosen.get("usable_only"):
            lists.setdefault(entry.code_list, []).append(row)
    return render(
        request,
        "shipments/codes.html",
        {
            "form": form,
            "on": on,
            "today": today,
            "window": CHANGE_WINDOW_DAYS,
            "lists": [(CodeList(key).label, key, rows) for key, rows in lists.items()],
            "changes": changes,
        },
    )


# --- PDFs and the export -------------------------------------------------------------------------


def pdf_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def safe_name(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in text)


@shipment_page
def notification_pdf(request: HttpRequest, membership: Membership, number: str) -> HttpResponse:
    notification = notification_for(membership.organisation, number)
    return pdf_response(
        document_pdf.notification_pdf(notification), f"notification-{safe_name(number)}.pdf"
    )


@shipment_page
def movement_document_pdf(
    request: HttpRequest, membership: Membership, reference: str
) -> HttpResponse:
    consignment = consignment_for(membership.organisation, reference)
    try:
        document = consignment.movement_document
    except ObjectDoesNotExist:
        raise Http404(
            gettext(
                "This consignment has no movement document yet; it gets one when it is "
                "dispatched under a notification."
            )
        ) from None
    return pdf_response(
        document_pdf.movement_document_pdf(document),
        f"movement-{safe_name(document.notification.number)}-{document.serial}.pdf",
    )


@shipment_page
def export(request: HttpRequest, membership: Membership, number: str) -> HttpResponse:
    notification = notification_for(membership.organisation, number)
    response = HttpResponse(
        json.dumps(export_json(notification), indent=2, ensure_ascii=False),
        content_type="application/json",
    )
    response["Content-Disposition"] = f'inline; filename="export-{safe_name(number)}.json"'
    return response


# --- Attachments ---------------------------------------------------------------------------------


class AttachmentForm(forms.Form):
    title = forms.CharField(
        max_length=200,
        label=gettext_lazy("Title"),
        help_text=gettext_lazy("e.g. signed movement document 2/4"),
    )
    movement_document = forms.ModelChoiceField(
        queryset=MovementDocument.objects.none(),
        required=False,
        empty_label=gettext_lazy("the notification itself"),
        label=gettext_lazy("Belongs to"),
        widget=forms.Select(attrs={"style": "width:100%"}),
    )
    file = forms.FileField(label=gettext_lazy("File"), help_text=gettext_lazy("PDF, PNG or JPEG"))

    def __init__(self, *args: object, notification: Notification, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["movement_document"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = movement_documents(notification)
        field.label_from_instance = lambda doc: (  # type: ignore[method-assign,assignment]
            gettext("movement document %(serial)s/%(shipments)s (%(reference)s)")
            % {
                "serial": doc.serial,
                "shipments": notification.intended_shipments,
                "reference": doc.consignment.reference,
            }
        )


def attachments_context(
    membership: Membership, notification: Notification, form: AttachmentForm | None = None
) -> dict[str, object]:
    """What shipments/_attachments.html needs; the notification page includes it too."""
    can_attach = membership.can_write and membership.organisation.kind != OrganisationKind.AUDITOR
    return {
        "notification": notification,
        "attachments": notification.attachments.select_related(
            "movement_document", "uploaded_by"
        ).defer("content"),
        "documents": movement_documents(notification),
        "attachment_form": (form or AttachmentForm(notification=notification))
        if can_attach
        else None,
        "max_bytes": max_attachment_bytes(),
    }


@shipment_page
def attachments(request: HttpRequest, membership: Membership, number: str) -> HttpResponse:
    notification = notification_for(membership.organisation, number)
    form = None
    status = 200
    if request.method == "POST":
        form = AttachmentForm(request.POST, request.FILES, notification=notification)
        if form.is_valid():
            try:
                attachment = document_actions.attach_document(
                    actor=membership.user,
                    notification=notification,
                    movement_document=form.cleaned_data["movement_document"],
                    title=form.cleaned_data["title"],
                    file=form.cleaned_data["file"],
                )
            except (DocumentError, NotAllowed) as error:
                form.add_error(None, as_sentence(error))
            else:
                messages.success(
                    request,
                    gettext("Attached %(filename)s; its SHA-256 is %(sha256)s.")
                    % {"filename": attachment.filename, "sha256": attachment.sha256},
                )
                return redirect(reverse("shipments-attachments", args=[notification.number]))
        status = 400
    return render(
        request,
        "shipments/attachments.html",
        attachments_context(membership, notification, form),
        status=status,
    )


@shipment_page
def attachment_download(
    request: HttpRequest, membership: Membership, number: str, pk: int
) -> HttpResponse:
    notification = notification_for(membership.organisation, number)
    attachment = Attachment.objects.filter(notification=notification, pk=pk).first()
    if attachment is None:
        raise Http404(gettext("No such attachment on this notification."))
    data = bytes(attachment.content)
    if hashlib.sha256(data).hexdigest() != attachment.sha256:
        return HttpResponse(
            gettext(
                "The stored file no longer matches its SHA-256 %(sha256)s; do not rely on it and "
                "tell the operator, who keeps the original scan."
            )
            % {"sha256": attachment.sha256},
            status=409,
            content_type="text/plain",
        )
    response = HttpResponse(data, content_type=attachment.content_type)
    response["Content-Disposition"] = f'attachment; filename="{safe_name(attachment.filename)}"'
    response["X-Content-SHA256"] = attachment.sha256
    return response
