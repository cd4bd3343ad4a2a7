"""What every API endpoint shares: the one error body and opaque cursor pagination.

Error body, for every 4xx and 5xx answer of the API::

    {"code": "validation_error", "message": "what went wrong and what to do",
     "errors": [{"code": "...", "message": "...", "field": "devices.0.imei", "line": 3}]}

``code`` is stable and meant for programs, ``message`` for people. ``errors`` lists the problems
one by one (empty when there is a single one); ``field`` is the dotted path of the value at fault
(list indices 0-based) and ``line`` the 1-based item of a batch, or null.

Cursors are keyset cursors: the sort key of the last item returned, so a page never repeats or
skips an item when rows are inserted meanwhile. They are opaque to clients (base64 of JSON).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Model, Q, QuerySet
from django.http import HttpResponse, JsonResponse
from ninja import Schema
from pydantic import Field

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100


class ErrorItem(Schema):
    code: str = Field(description="machine-readable, e.g. `missing`, `unknown_category`")
    message: str
    field: str | None = Field(
        default=None, description="dotted path of the value at fault, e.g. `devices.0.imei`"
    )
    line: int | None = Field(
        default=None, description="1-based item of a batch (or line of a file), when it applies"
    )


class ErrorOut(Schema):
    code: str = Field(description="machine-readable: see the table in docs/api.md")
    message: str = Field(description="for people: what went wrong and what to do")
    errors: list[ErrorItem] = Field(default_factory=list)

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "code": "validation_error",
                    "message": "the request is not valid: see errors",
                    "errors": [
                        {
                            "code": "value_error",
                            "message": "IMEI: the check digit is wrong",
                            "field": "devices.0.imei",
                            "line": 2,
                        }
                    ],
                }
            ]
        }
    }


class ApiError(Exception):
    """Raise from an endpoint (or its auth) to answer with the error body."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        errors: Iterable[dict[str, Any]] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = list(errors)
        self.headers = headers or {}

    def response(self) -> HttpResponse:
        return error_response(self.status, self.code, self.message, self.errors, self.headers)


def error_item(
    code: str, message: str, field: str | None = None, line: int | None = None
) -> dict[str, Any]:
    return {"code": code, "message": message, "field": field, "line": line}


def error_body(code: str, message: str, errors: Iterable[dict[str, Any]] = ()) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "errors": [
            error_item(e.get("code") or code, e.get("message") or "", e.get("field"), e.get("line"))
            for e in errors
        ],
    }


def error_response(
    status: int,
    code: str,
    message: str,
    errors: Iterable[dict[str, Any]] = (),
    headers: dict[str, str] | None = None,
) -> JsonResponse:
    response = JsonResponse(error_body(code, message, errors), status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


# Cursor pagination ----------------------------------------------------------------------------


class PageQuery(Schema):
    cursor: str | None = Field(
        None, max_length=500, description="`next_cursor` of the previous page; none: the first"
    )
    limit: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="items per page")


def _encode(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps([_encode(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, types: Sequence[type]) -> list[Any]:
    """The sort key in a cursor, each part of the given type; ApiError 422 if it is not one."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        parts = json.loads(raw)
        if not isinstance(parts, list) or len(parts) != len(types):
            raise ValueError("wrong length")
        values: list[Any] = []
        for part, kind in zip(parts, types, strict=True):
            if kind is dt.datetime:
                if not isinstance(part, str):
                    raise ValueError("not a time")
                moment = dt.datetime.fromisoformat(part)
                if moment.tzinfo is None:
                    raise ValueError("no time zone")
                values.append(moment.astimezone(dt.UTC))
            elif kind is int:
                if not isinstance(part, int) or isinstance(part, bool):
                    raise ValueError("not a number")
                if not -(2**63) <= part < 2**63:
                    raise ValueError("out of range")
                values.append(part)
            else:
                values.append(kind(part))
        return values
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, OverflowError):
        raise ApiError(
            422,
            "invalid_cursor",
            "this cursor was not given by this list; start again without `cursor` "
            "and follow `next_cursor`",
            [error_item("invalid_cursor", "not a cursor of this list", "cursor")],
        ) from None


def keyset_page[M: Model](
    queryset: QuerySet[M],
    *,
    key: Sequence[tuple[str, type]],
    cursor: str | None,
    limit: int,
) -> tuple[list[M], str | None]:
    """One page of `queryset` in ascending `key` order after `cursor`, and the next cursor.

    `key` is the sort key, e.g. (("created_at", dt.datetime), ("id", int)); its last field
    must be unique. The next cursor is None on the last page."""
    fields = [name for name, _ in key]
    queryset = queryset.order_by(*fields)
    if cursor:
        after = decode_cursor(cursor, [kind for _, kind in key])
        condition = Q()
        for depth in range(len(fields)):
            equal = {fields[i]: after[i] for i in range(depth)}
            condition |= Q(**equal, **{f"{fields[depth]}__gt": after[depth]})
        queryset = queryset.filter(condition)
    rows = list(queryset[: limit + 1])
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    return rows, encode_cursor([getattr(last, name) for name in fields])
