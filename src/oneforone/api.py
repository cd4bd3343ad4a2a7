"""API v1: the NinjaAPI that assembles the routers, with what every endpoint shares.

- Authentication: a partner's key in ``X-API-Key``; a ``read`` key may only read.
- Rate limits per key (scopes ``api-key-read`` and ``api-key-write`` in ``RATE_LIMITS``).
- ``Idempotency-Key`` on every POST (oneforone.core.idempotency), applied to every operation of
  every router mounted here, also routers added later.
- One error body for every error (oneforone.core.apitools.ErrorOut), through the exception
  handlers below.
The endpoints themselves live in the apps' routers.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import URLPattern, URLResolver
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import APIKeyHeader

from oneforone.accounts.models import ApiKey, OrganisationKind
from oneforone.accounts.permissions import NotAllowed, require_member
from oneforone.accounts.queries import api_key_for
from oneforone.collection.api import router as collection_router
from oneforone.core import idempotency, ratelimit
from oneforone.core.apitools import ApiError, ErrorItem, ErrorOut, error_item, error_response
from oneforone.core.schema_messages import schema_error_message
from oneforone.impact.api import router as impact_router
from oneforone.partners.api import router as partner_router
from oneforone.partners.upload_api import router as upload_router
from oneforone.registry.certificate_api import router as certificate_router
from oneforone.registry.device_api import router as device_router
from oneforone.registry.public_api import router as public_router
from oneforone.shipments.api import router as shipments_router
from oneforone.shipments.document_api import router as shipment_documents_router

logger = logging.getLogger(__name__)

KEY_HEADER = "X-API-Key"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Per key; RATE_LIMITS["api-key-read"] / ["api-key-write"] override them.
READ_LIMIT = (1200, timedelta(minutes=1))
WRITE_LIMIT = (120, timedelta(minutes=1))


def any_request_key(request: HttpRequest) -> ApiKey | None:
    """The key the request carries (valid, not revoked, not expired), of any organisation: a
    partner's, or a collection partner's for its hub devices. Looked up once per request."""
    if not hasattr(request, "_oneforone_any_key"):
        raw = request.headers.get(KEY_HEADER)
        request._oneforone_any_key = api_key_for(raw) if raw else None  # type: ignore[attr-defined]
    return request._oneforone_any_key  # type: ignore[attr-defined]


def request_key(request: HttpRequest) -> ApiKey | None:
    """The partner key the request carries, if it is a partner's."""
    key = any_request_key(request)
    if key is not None and key.organisation.kind != OrganisationKind.PARTNER:
        return None
    return key


class PartnerKey(APIKeyHeader):
    param_name = KEY_HEADER

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiKey | None:
        api_key = request_key(request)
        if api_key is None:
            return None
        if request.method not in SAFE_METHODS:
            if not api_key.can_write:
                raise ApiError(
                    403,
                    "insufficient_scope",
                    f"key {api_key.display_prefix} may only read; use a key with the write scope",
                )
            try:
                require_member(api_key.created_by, api_key.organisation, write=True)
            except NotAllowed as exc:
                raise ApiError(
                    403,
                    "forbidden",
                    f"{exc}: the key acts for the person who created it; an administrator "
                    "should create a new key",
                ) from None
        return api_key


def _idempotency_scope(request: HttpRequest) -> str:
    key = any_request_key(request)
    return f"key:{key.pk}" if key else f"ip:{ratelimit.client_ip(request)}"


def _rate_limited(run: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Count every request of a key, before anything else runs."""

    @functools.wraps(run)
    def limited(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        key = any_request_key(request)
        if key is not None:
            scope, (limit, window) = (
                ("api-key-read", READ_LIMIT)
                if request.method in SAFE_METHODS
                else ("api-key-write", WRITE_LIMIT)
            )
            limit, window = ratelimit.configured_limits().get(scope, (limit, window))
            decision = ratelimit.hit(f"{scope}:{key.prefix}", limit=limit, window=window)
            if not decision.allowed:
                return error_response(
                    429,
                    "rate_limited",
                    f"too many requests with key {key.display_prefix}: {limit} per "
                    f"{int(window.total_seconds())} seconds; retry after "
                    f"{decision.retry_after_seconds} seconds",
                    headers={"Retry-After": str(decision.retry_after_seconds)},
                )
        return run(request, *args, **kwargs)

    return limited


def _json_not_allowed(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Ninja answers a method a path does not take with an empty 405: give the error body."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        if response.status_code != 405 or not response.has_header("Allow"):
            return response
        return error_response(
            405,
            "method_not_allowed",
            f"{request.method} is not allowed here; use {response['Allow']}",
            headers={"Allow": response["Allow"]},
        )

    return wrapper


class OneForOneAPI(NinjaAPI):
    """NinjaAPI whose URLs and OpenAPI document carry what every operation shares."""

    def _get_urls(self) -> list[URLResolver | URLPattern]:
        patterns = super()._get_urls()
        for pattern in patterns:
            if isinstance(pattern, URLPattern):
                pattern.callback = _json_not_allowed(pattern.callback)
        return patterns

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(*args, **kwargs)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.setdefault("ErrorItem", ErrorItem.model_json_schema())
        error_schema = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
        error_schema.pop("$defs", None)
        components.setdefault("ErrorOut", error_schema)
        error_ref = {
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
        }

        def error(description: str) -> dict[str, Any]:
            return {"description": description, **error_ref}

        for path_item in schema["paths"].values():
            for method, operation in path_item.items():
                # ninja keys responses by int; JSON keys are strings: one key per status.
                responses = {str(k): v for k, v in operation.get("responses", {}).items()}
                operation["responses"] = responses
                responses.setdefault("422", error("The request is not valid: see `errors`."))
                responses.setdefault(
                    "429", error("Too many requests (per key, or per address without one).")
                )
                if operation.get("security"):
                    responses.setdefault("401", error("No valid API key in `X-API-Key`."))
                if method != "post":
                    continue
                if operation.get("security"):
                    responses.setdefault("403", error("The key may only read."))
                operation.setdefault("parameters", []).append(
                    {
                        "name": idempotency.HEADER,
                        "in": "header",
                        "required": False,
                        "description": (
                            "Any unique string (a UUID, say). A retry with the same key and body "
                            "gets the first answer (with `Idempotent-Replayed: true`) instead of "
                            "acting twice; kept 24 hours."
                        ),
                        "schema": {"type": "string", "pattern": idempotency.KEY_PATTERN},
                        "example": "5f0c6a1e-0b8e-4d8a-9d7c-2f1e0a6b9c31",
                    }
                )
                responses.setdefault("400", error("The Idempotency-Key is not valid."))
                in_use = "A request with this Idempotency-Key is still running: retry later."
                if "409" in responses:
                    responses["409"]["description"] += f". Or: {in_use}"
                else:
                    responses["409"] = error(in_use)
        return schema


api = OneForOneAPI(
    title="oneforone API",
    version="1",
    description=(
        "Register the devices you sell, buy or lease; each is compensated by one certified "
        "recycled end-of-life phone. Authenticate with the `X-API-Key` header (keys are created "
        "in the partner portal and shown once). Every error has the body "
        '`{"code", "message", "errors": [{"code", "message", "field", "line"}]}`; lists are '
        "paged with `cursor` and `next_cursor`; every POST takes an `Idempotency-Key`. "
        "See docs/api.md."
    ),
    auth=PartnerKey(),
    openapi_url="/openapi.json",
    docs_url="/docs",
)
# "view" mode: around ninja's whole handling of the request (authentication, validation, the
# endpoint), for every router, including those mounted after this line.
# Each wraps the one before: the rate limit counts first, then the Idempotency-Key is claimed.
api.add_decorator(idempotency.idempotent(_idempotency_scope), mode="view")
api.add_decorator(_rate_limited, mode="view")

api.add_router("/", device_router)
api.add_router("/", partner_router)
api.add_router("/", certificate_router)
api.add_router("/", impact_router)
api.add_router("/", upload_router)
# Hub devices of collection partners, with their own keys (see collection/api.py).
api.add_router("/collection/", collection_router)
# The public registry (no key): batches, units, ledger roots; see registry/public_api.py.
api.add_router("/public/", public_router)
# Shipment parties' keys: code lists and the EU export (see shipments/document_api.py).
api.add_router("/shipments/", shipment_documents_router)
# Shipment parties' keys: consignments, movement documents, revision requests.
api.add_router("/shipments/", shipments_router)


# One error body everywhere -------------------------------------------------------------------


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return exc.response()


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return error_response(
        422,
        "validation_error",
        "the request is not valid: see `errors` for each problem",
        [validation_item(e) for e in exc.errors],
    )


BATCH_FIELD = "registrations"


def validation_item(error: dict[str, Any]) -> dict[str, Any]:
    """A pydantic error as an error item: `field` inside the body (or the query parameter),
    `line` the 1-based item of a batch."""
    location = [str(part) for part in error.get("loc", ())]
    if location and location[0] == "body":
        location = location[2:]  # "body" and the name of the payload argument
    elif location and location[0] in ("query", "path", "header", "cookie"):
        location = location[1:]
    line = None
    if len(location) >= 2 and location[0] == BATCH_FIELD and location[1].isdigit():
        line = int(location[1]) + 1
        location = location[2:]
    message = schema_error_message(error)
    return error_item(str(error.get("type", "invalid")), message, ".".join(location) or None, line)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(
        401,
        "unauthenticated",
        f"send a valid API key in the {KEY_HEADER} header; keys are created by an administrator "
        "on the partner portal's API keys page (a revoked or expired key no longer works)",
    )


_HTTP_CODES = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return error_response(
        exc.status_code, _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}"), str(exc)
    )


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(404, "not_found", str(exc) or "not found")


@api.exception_handler(NotAllowed)
def _not_allowed(request: HttpRequest, exc: NotAllowed) -> HttpResponse:
    return error_response(403, "forbidden", str(exc))


@api.exception_handler(Exception)
def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("API error on %s %s", request.method, request.path, exc_info=exc)
    return error_response(
        500,
        "server_error",
        "something went wrong on our side; retry with the same Idempotency-Key (it runs "
        "once), or write to the operator if it persists",
    )
