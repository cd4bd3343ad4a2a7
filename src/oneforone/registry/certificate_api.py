"""API v1: a partner's certificates, their snapshots and PDFs."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema
from ninja.params import Path as PathParam

from oneforone.accounts.models import ApiKey
from oneforone.accounts.queries import system_user
from oneforone.core.apitools import ApiError, ErrorOut, PageQuery, keyset_page
from oneforone.registry import actions
from oneforone.registry.certificate_pdf import verification_url
from oneforone.registry.models import Certificate

router = Router(tags=["certificates"])

Code = Annotated[
    str, PathParam(max_length=20, pattern=r"^[A-Za-z0-9-]+$", examples=["C-7KQ2M9XW4P"])
]
CertificateStatus = Literal["current", "superseded", "withdrawn"]


class CertificateSummaryOut(Schema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "code": "C-7KQ2M9XW4P",
                    "registration_id": 42,
                    "registration_reference": "INV-2026-00042",
                    "version": 1,
                    "status": "current",
                    "issued_at": "2026-11-27T12:00:00+00:00",
                    "withdrawn_at": None,
                    "superseded_by": None,
                    "snapshot_sha256": "9f2c…",
                    "verify_url": "https://registry.example/verify/C-7KQ2M9XW4P/",
                    "pdf_url": "/api/v1/certificates/C-7KQ2M9XW4P/pdf",
                }
            ]
        }
    }

    code: str
    registration_id: int
    registration_reference: str
    version: int = Field(description="1, then 2, ... after each correction")
    status: CertificateStatus = Field(
        description="current; withdrawn (no longer holds); superseded (a later version replaced it)"
    )
    issued_at: dt.datetime
    withdrawn_at: dt.datetime | None
    superseded_by: str | None = Field(description="code of the version that replaced it")
    snapshot_sha256: str
    verify_url: str = Field(description="the public page anyone can check it on")
    pdf_url: str


class CertificateOut(CertificateSummaryOut):
    snapshot: dict[str, Any] = Field(description="the frozen facts the certificate states")
    withdrawal_reason: str | None


class CertificateFilters(PageQuery):
    status: CertificateStatus | None = None
    registration_id: int | None = Field(None, ge=1, le=2**63 - 1)


class CertificatePage(Schema):
    items: list[CertificateSummaryOut]
    next_cursor: str | None


def _certificates(request: HttpRequest) -> QuerySet[Certificate]:
    key = request.auth  # type: ignore[attr-defined]
    assert isinstance(key, ApiKey)
    return Certificate.objects.filter(registration__partner=key.organisation).select_related(
        "registration", "withdrawal", "superseded_by"
    )


def _status(certificate: Certificate) -> CertificateStatus:
    if getattr(certificate, "superseded_by", None) is not None:
        return "superseded"
    if getattr(certificate, "withdrawal", None) is not None:
        return "withdrawn"
    return "current"


def _summary(certificate: Certificate) -> dict[str, Any]:
    withdrawal = getattr(certificate, "withdrawal", None)
    successor = getattr(certificate, "superseded_by", None)
    return {
        "code": certificate.code,
        "registration_id": certificate.registration.pk,
        "registration_reference": certificate.registration.reference,
        "version": certificate.version,
        "status": _status(certificate),
        "issued_at": certificate.issued_at,
        "withdrawn_at": withdrawal.withdrawn_at if withdrawal else None,
        "superseded_by": successor.code if successor else None,
        "snapshot_sha256": certificate.snapshot_sha256,
        "verify_url": verification_url(certificate),
        "pdf_url": f"/api/v1/certificates/{certificate.code}/pdf",
    }


@router.get(
    "/certificates",
    response={200: CertificatePage},
    summary="Your certificates, oldest first, a page at a time",
)
def list_certificates(request: HttpRequest, filters: Query[CertificateFilters]) -> dict[str, Any]:
    status, registration_id = filters.status, filters.registration_id
    certificates = _certificates(request)
    if status == "current":
        certificates = certificates.filter(withdrawal__isnull=True)
    elif status == "withdrawn":
        certificates = certificates.filter(withdrawal__isnull=False, superseded_by__isnull=True)
    elif status == "superseded":
        certificates = certificates.filter(superseded_by__isnull=False)
    if registration_id is not None:
        certificates = certificates.filter(registration_id=registration_id)
    page, next_cursor = keyset_page(
        certificates,
        key=(("issued_at", dt.datetime), ("id", int)),
        cursor=filters.cursor,
        limit=filters.limit,
    )
    return {"items": [_summary(c) for c in page], "next_cursor": next_cursor}


def _certificate(request: HttpRequest, code: str) -> Certificate:
    certificate = _certificates(request).filter(code=code).first()
    if certificate is None:
        raise ApiError(404, "not_found", f"no certificate {code} among your certificates")
    return certificate


@router.get(
    "/certificates/{code}",
    response={200: CertificateOut, 404: ErrorOut},
    summary="One of your certificates with its frozen snapshot",
)
def get_certificate(request: HttpRequest, code: Code) -> dict[str, Any]:
    certificate = _certificate(request, code)
    withdrawal = getattr(certificate, "withdrawal", None)
    return {
        **_summary(certificate),
        "snapshot": certificate.snapshot,
        "withdrawal_reason": withdrawal.reason if withdrawal else None,
    }


@router.get(
    "/certificates/{code}/pdf",
    summary="The certificate as PDF",
    description="The same bytes every time (rendered once, kept with its SHA-256).",
    openapi_extra={
        "responses": {
            "200": {
                "description": "the PDF",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            },
            "404": {
                "description": "not one of your certificates",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}
                },
            },
        }
    },
)
def get_certificate_pdf(request: HttpRequest, code: Code) -> HttpResponse:
    certificate = _certificate(request, code)
    document = actions.render_certificate_document(actor=system_user(), certificate=certificate)
    response = HttpResponse(bytes(document.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="oneforone-{certificate.code}.pdf"'
    response["ETag"] = f'"{document.sha256}"'
    return response
