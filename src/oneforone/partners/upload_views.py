"""The partner's upload pages: send a file, follow its import, read and download its report.

The import runs in the background (partners.upload_actions); the detail page polls a small JSON
status endpoint to move its progress bar, and without JavaScript refreshes itself instead.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext, gettext_lazy

from oneforone.accounts.decorators import member_of_kind
from oneforone.accounts.models import Membership, OrganisationKind
from oneforone.accounts.permissions import NotAllowed
from oneforone.partners import upload_actions
from oneforone.partners.imports import DEVICE_COLUMNS
from oneforone.partners.models import Upload, UploadMode, UploadStatus
from oneforone.partners.queries import current_categories, uploads_of
from oneforone.partners.schemas import RegistrationRow
from oneforone.partners.upload_api import percent, report_response, upload_out

partner_page = member_of_kind(OrganisationKind.PARTNER, write=True)
STATUS_BADGES: dict[str, str] = {
    UploadStatus.QUEUED: "",
    UploadStatus.VALIDATING: "warn",
    UploadStatus.IMPORTING: "warn",
    UploadStatus.DONE: "ok",
    UploadStatus.FAILED: "err",
    UploadStatus.REJECTED: "err",
}


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV or Excel file"),
        error_messages={
            "required": gettext_lazy("Choose the CSV or XLSX file of your registrations.")
        },
    )
    mode = forms.ChoiceField(
        choices=UploadMode.choices,
        initial=UploadMode.ACCEPT_VALID,
        widget=forms.RadioSelect,
        label=gettext_lazy("If some lines are wrong"),
    )


@partner_page
def upload_form(request: HttpRequest, membership: Membership) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    earlier: Upload | None = None
    if request.method == "POST" and form.is_valid():
        file = form.cleaned_data["file"]
        try:
            upload = upload_actions.create_upload(
                actor=request.user,  # type: ignore[arg-type]
                partner=membership.organisation,
                file=file,
                name=file.name,
                mode=form.cleaned_data["mode"],
            )
        except upload_actions.AlreadyUploaded as exc:
            earlier = exc.upload
        except (upload_actions.UploadRefused, NotAllowed) as exc:
            form.add_error("file", str(exc))
        else:
            messages.success(
                request,
                gettext("Upload %(number)s received: importing in the background.")
                % {"number": upload.pk},
            )
            return redirect("partner-upload-detail", upload_id=upload.pk)
    return render(
        request,
        "partners/upload.html",
        {
            "form": form,
            "earlier": earlier,
            "columns": ",".join(RegistrationRow.columns()),
            "device_columns": ",".join(["reference", "category", *DEVICE_COLUMNS]),
            "categories": sorted(current_categories()),
            "max_mb": settings.UPLOAD_MAX_BYTES // 1_000_000,
            "max_rows": settings.UPLOAD_MAX_ROWS,
        },
    )


@partner_page
def upload_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    page = Paginator(uploads_of(membership.organisation), 50).get_page(request.GET.get("page"))
    rows = [{"upload": u, "badge": STATUS_BADGES[u.status], "percent": percent(u)} for u in page]
    return render(request, "partners/uploads.html", {"page": page, "rows": rows})


def _upload(membership: Membership, upload_id: int) -> Upload:
    upload = uploads_of(membership.organisation).filter(pk=upload_id).first()
    if upload is None:
        raise Http404(gettext("No such upload of yours"))
    return upload


@partner_page
def upload_detail(request: HttpRequest, membership: Membership, upload_id: int) -> HttpResponse:
    upload = _upload(membership, upload_id)
    if request.method == "POST" and "resume" in request.POST:
        try:
            upload_actions.resume_upload(actor=request.user, upload=upload)  # type: ignore[arg-type]
        except (upload_actions.UploadRefused, NotAllowed) as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                gettext("Upload %(number)s continues from where it stopped.")
                % {"number": upload.pk},
            )
        return redirect("partner-upload-detail", upload_id=upload.pk)
    status = upload_out(upload, api=False)
    return render(
        request,
        "partners/upload_detail.html",
        {
            "upload": upload,
            "status": status,
            "badge": STATUS_BADGES[upload.status],
            "errors": upload_actions.report_errors(upload),
            "resumable": upload.status == UploadStatus.FAILED or status["interrupted"],
        },
    )


@partner_page
def upload_status(request: HttpRequest, membership: Membership, upload_id: int) -> JsonResponse:
    return JsonResponse(upload_out(_upload(membership, upload_id), api=False))


@partner_page  # a file is streamed: the decorator takes any HttpResponseBase
def upload_report(request: HttpRequest, membership: Membership, upload_id: int) -> HttpResponseBase:
    response = report_response(_upload(membership, upload_id))
    if response is None:
        raise Http404(gettext("The report is ready once the upload is done"))
    return response
