"""API v1: bulk uploads of registrations (CSV or XLSX), imported in the background.

POST /uploads takes the file and the mode and answers at once with the upload's status (202);
GET /uploads/{id} follows its progress; GET /uploads/{id}/report is the per-line report (CSV).
The same file sent twice is recognised (409, with the earlier upload); a failed or interrupted
upload continues with POST /uploads/{id}/resume.

Authentication is the API's (the key in `request.auth`): a partner's key acts for its
organisation, as the member who created the key.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.urls import NoReverseMatch, reverse
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile
from ninja.params import Path as PathParam

from oneforone.accounts.models import ApiKey
from oneforone.accounts.permissions import NotAllowed
from oneforone.core.apitools import ApiError, ErrorOut, PageQuery, error_item, keyset_page
from oneforone.partners import upload_actions
from oneforone.partners.models import Upload, UploadMode
from oneforone.partners.queries import uploads_of

router = Router(tags=["uploads"])


class UploadOut(Schema):
    id: int
    name: str = Field(description="the file's name as uploaded")
    format: str = Field(description="csv or xlsx")
    mode: str = Field(description="all_or_nothing or accept_valid")
    status: str = Field(
        description="queued, validating, importing, then done, rejected (nothing recorded: see "
        "failure and the report) or failed (the import broke: resume it)"
    )
    interrupted: bool = Field(description="validating or importing, but nobody is running it")
    rows_total: int | None = Field(description="lines of the file, once read")
    rows_validated: int
    rows_accepted: int
    rows_rejected: int
    rows_conflicts: int = Field(
        description="devices already registered for compensation (by you or anyone): recorded, "
        "held for review, not owed twice"
    )
    registrations_total: int | None
    registrations_done: int
    percent: int = Field(description="progress of the whole upload, 0 to 100")
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    failure: str
    report_url: str | None = Field(description="the per-line report (CSV), once finished")


class AlreadyUploadedOut(Schema):
    code: str = "already_uploaded"
    message: str
    errors: list[dict[str, Any]] = Field(default_factory=list)
    upload: UploadOut = Field(description="the earlier upload of the same file")


class UploadPage(Schema):
    items: list[UploadOut]
    next_cursor: str | None


UploadId = Annotated[int, PathParam(ge=1, le=2**63 - 1)]


def percent(upload: Upload) -> int:
    """Validating counts as the first half (the line count is known only at its end), writing
    as the second."""
    if upload.finished:
        return 100
    if upload.registrations_total:
        return 50 + 50 * upload.registrations_done // upload.registrations_total
    return 0


def upload_out(upload: Upload, *, api: bool = True) -> dict[str, Any]:
    """What the API and the page's progress poll show of an upload."""
    report = None
    if upload.finished and upload.status != "failed":
        name = "api-1:upload_report" if api else "partner-upload-report"
        try:
            report = reverse(name, kwargs={"upload_id": upload.pk})
        except NoReverseMatch:  # the router is not mounted under this name (tests mount it alone)
            report = None
    return {
        "id": upload.pk,
        "name": upload.original_name,
        "format": upload.format,
        "mode": upload.mode,
        "status": upload.status,
        "interrupted": upload_actions.is_interrupted(upload),
        "rows_total": upload.rows_total,
        "rows_validated": upload.rows_validated,
        "rows_accepted": upload.rows_accepted,
        "rows_rejected": upload.rows_rejected,
        "rows_conflicts": upload.rows_conflicts,
        "registrations_total": upload.registrations_total,
        "registrations_done": upload.registrations_done,
        "percent": percent(upload),
        "created_at": upload.created_at,
        "started_at": upload.started_at,
        "finished_at": upload.finished_at,
        "failure": upload.failure,
        "report_url": report,
    }


def _key(request: HttpRequest) -> ApiKey:
    key = getattr(request, "auth", None)
    if not isinstance(key, ApiKey):
        raise ApiError(401, "unauthenticated", "send your API key in the X-API-Key header")
    return key


def _uploads(request: HttpRequest) -> QuerySet[Upload]:
    return uploads_of(_key(request).organisation)


def _upload(request: HttpRequest, upload_id: int) -> Upload:
    upload = _uploads(request).filter(pk=upload_id).first()
    if upload is None:
        raise ApiError(404, "not_found", f"you have no upload {upload_id}")
    return upload


@router.post(
    "/uploads",
    response={202: UploadOut, 400: ErrorOut, 403: ErrorOut, 409: AlreadyUploadedOut},
    summary="Upload a file of registrations",
    description=(
        "A CSV (UTF-8) or XLSX file with the header `reference,category,quantity` (one "
        "registration a line) or `reference,category,imei` / `serial` (one device a line), up to "
        "1,000,000 lines. `mode`: `all_or_nothing` records the file only if every line is right; "
        "`accept_valid` records the right lines and reports the others."
    ),
)
def create_upload(
    request: HttpRequest,
    file: File[UploadedFile],
    mode: Form[str] = UploadMode.ACCEPT_VALID,
) -> Status[dict[str, Any]]:
    key = _key(request)
    try:
        upload = upload_actions.create_upload(
            actor=key.created_by,
            partner=key.organisation,
            file=file,
            name=file.name or "upload",
            mode=mode,
        )
    except upload_actions.AlreadyUploaded as exc:
        return Status(
            409,
            {
                "code": "already_uploaded",
                "message": str(exc),
                "errors": [],
                "upload": upload_out(exc.upload),
            },
        )
    except upload_actions.UploadRefused as exc:
        raise ApiError(
            400, "upload_refused", str(exc), [error_item("upload_refused", str(exc), "file")]
        ) from None
    except NotAllowed as exc:
        raise ApiError(403, "forbidden", str(exc)) from None
    upload.refresh_from_db()
    return Status(202, upload_out(upload))


@router.get("/uploads", response=UploadPage, summary="Your uploads, oldest first, a page at a time")
def list_uploads(request: HttpRequest, page: Query[PageQuery]) -> dict[str, Any]:
    rows, next_cursor = keyset_page(
        _uploads(request), key=(("id", int),), cursor=page.cursor, limit=page.limit
    )
    return {"items": [upload_out(u) for u in rows], "next_cursor": next_cursor}


@router.get(
    "/uploads/{upload_id}",
    response={200: UploadOut, 404: ErrorOut},
    summary="An upload's status and progress",
)
def get_upload(request: HttpRequest, upload_id: UploadId) -> dict[str, Any]:
    return upload_out(_upload(request, upload_id))


@router.post(
    "/uploads/{upload_id}/resume",
    response={202: UploadOut, 404: ErrorOut, 409: ErrorOut},
    summary="Resume a failed or interrupted upload from where it stopped",
)
def resume_upload(request: HttpRequest, upload_id: UploadId) -> Status[dict[str, Any]]:
    key = _key(request)
    upload = _upload(request, upload_id)
    try:
        upload = upload_actions.resume_upload(actor=key.created_by, upload=upload)
    except (upload_actions.UploadRefused, NotAllowed) as exc:
        raise ApiError(409, "not_resumable", str(exc)) from None
    upload.refresh_from_db()
    return Status(202, upload_out(upload))


@router.get(
    "/uploads/{upload_id}/report",
    response={200: None, 404: ErrorOut, 409: ErrorOut},
    summary="The per-line report (CSV: line, reference, outcome, reason)",
    url_name="upload_report",
)
def upload_report(request: HttpRequest, upload_id: UploadId) -> HttpResponseBase:
    upload = _upload(request, upload_id)
    response = report_response(upload)
    if response is None:
        raise ApiError(409, "not_finished", f"upload {upload.pk} is {upload.status}: wait for it")
    return response


def report_response(upload: Upload) -> HttpResponseBase | None:
    """The stored report, or (not stored yet) one made from the file as it is sent."""
    if not upload.finished or upload.status == "failed":
        return None
    filename = f"upload-{upload.pk}-report.csv"
    if upload.report:
        return FileResponse(
            upload.report.open("rb"), as_attachment=True, filename=filename, content_type="text/csv"
        )
    response = StreamingHttpResponse(
        (_csv_line(row) for row in upload_actions.report_lines(upload)), content_type="text/csv"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _csv_line(row: list[str]) -> str:
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer).writerow(row)
    return buffer.getvalue()
