"""The public registry: search, batches, units and the ledger's daily roots. No login.

Every page is rate limited per client address (scope ``public``, 120 a minute; the CSV downloads
``public-download``, 20 a minute); ``settings.RATE_LIMITS`` overrides either. What these pages
show and withhold is described in `public_queries.py` and docs/public-registry.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterable, Iterator
from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from oneforone.core import ledger as hashing
from oneforone.core.charts import PALETTE, Bar, horizontal_bars
from oneforone.core.ratelimit import rate_limited
from oneforone.registry import public_queries, serials
from oneforone.registry.models import Certificate, IssuanceBatch, LedgerEntry, LedgerRoot

MINUTE = dt.timedelta(minutes=1)
public_page = rate_limited("public", limit=120, window=MINUTE)
public_download = rate_limited("public-download", limit=20, window=MINUTE)

BATCHES_PER_PAGE = 25
ALLOCATIONS_PER_PAGE = 50
ROOTS_PER_PAGE = 30
_BATCH_NUMBER = re.compile(r"^(?:BATCH\s*)?#?\s*(\d{1,12})$")
_HASH = re.compile(r"^[0-9a-f]{64}$")
_SERIAL_LIKE = re.compile(r"^[O0]4[O0]")  # the prefix, or it typed with zeros


class NotFound(Exception):
    """What the search could not find, said for the person who searched."""


def _target_of(query: str) -> str:
    """The page a search leads to: a certificate, a batch (by number or consignment reference),
    or a unit or block; raises NotFound with a message saying what is wrong."""
    upper = query.upper()
    if upper.startswith("C-"):
        if public_queries.CERTIFICATE_CODE.match(upper) and (
            Certificate.objects.filter(code=upper).exists()
        ):
            return reverse("verify", args=[upper])
        raise NotFound(
            _(
                "No certificate %(query)s. Codes look like C-7K3M9Q2XPA: ten letters and digits "
                "without 0, 1, I or O."
            )
            % {"query": repr(query)}
        )
    if match := _BATCH_NUMBER.match(upper):
        if IssuanceBatch.objects.filter(pk=int(match.group(1))).exists():
            return reverse("registry-batch", args=[int(match.group(1))])
        raise NotFound(_("No batch %(number)s.") % {"number": match.group(1)})
    by_consignment = IssuanceBatch.objects.filter(consignment__reference__iexact=query).first()
    if by_consignment is not None:
        return reverse("registry-batch", args=[by_consignment.pk])
    try:
        block = serials.parse(query)
    except serials.SerialError as error:
        if _SERIAL_LIKE.match(upper) or upper.count(serials.SEPARATOR) >= 3:
            # Meant as a serial: say what is wrong with it.
            raise NotFound(str(error)) from None
        raise NotFound(
            _(
                "Nothing matches %(query)s: it is not a certificate code, a batch number, a "
                "consignment reference or a unit serial."
            )
            % {"query": repr(query)}
        ) from None
    try:
        public_queries.locate(block)
    except public_queries.UnitNotFound as error:
        raise NotFound(f"{str(error)[0].upper()}{str(error)[1:]}.") from None
    return reverse("registry-unit", args=[str(block)])


@public_page
def registry(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:200]
    error = ""
    if query:
        try:
            return redirect(_target_of(query))
        except NotFound as problem:
            error = str(problem)
    page = Paginator(public_queries.batches(), BATCHES_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "registry/public/registry.html",
        {"query": query, "error": error, "page": page},
    )


@public_page
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(public_queries.batches(), pk=pk)
    page = Paginator(public_queries.batch_allocations(batch), ALLOCATIONS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "registry/public/batch.html",
        {
            "batch": batch,
            "chart": _split_chart(batch),
            "cancellations": public_queries.cancellation_records(batch),
            "page": page,
            "allocations": public_queries.allocation_records(batch, page.object_list),
        },
    )


def _split_chart(batch: Any) -> Any:
    return horizontal_bars(
        [
            Bar(_("Allocated"), batch.allocated, PALETTE[0]),
            Bar(_("Reserved"), batch.reserved, PALETTE[3]),
            Bar(_("Cancelled"), batch.cancelled, PALETTE[2]),
            Bar(_("Available"), batch.available, PALETTE[4]),
        ],
        title=_("The %(units)s units of batch %(batch)s")
        % {"units": number_format(batch.quantity, force_grouping=True), "batch": batch.pk},
        unit=" " + _("units"),
    )


@public_page
def unit_detail(request: HttpRequest, serial: str) -> HttpResponse:
    """One unit's history, or a block's: a block serial shows every record touching the block."""
    try:
        block = serials.parse(serial)
        if serial != str(block):
            return redirect("registry-unit", serial=str(block))
        batch = public_queries.locate(block)
    except (serials.SerialError, public_queries.UnitNotFound) as error:
        return render(
            request,
            "registry/public/unit_error.html",
            {"serial": serial, "error": str(error)},
            status=400 if isinstance(error, serials.SerialError) else 404,
        )
    history = public_queries.unit_history(batch, block)
    return render(
        request,
        "registry/public/unit.html",
        {"history": history, "batch": batch, "serial": str(block)},
    )


@public_page
def ledger_roots(request: HttpRequest) -> HttpResponse:
    page = Paginator(LedgerRoot.objects.order_by("-day"), ROOTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "registry/public/ledger.html",
        # The page explains the hashing in the reader's language; the JSON keeps the English.
        {"page": page, "method": _(public_queries.METHOD)},
    )


@public_page
def ledger_roots_json(request: HttpRequest) -> JsonResponse:
    """Every published root, newest first; ``?day=YYYY-MM-DD`` for one day's."""
    roots = LedgerRoot.objects.order_by("-day")
    if day := request.GET.get("day"):
        try:
            roots = roots.filter(day=dt.date.fromisoformat(day))
        except ValueError:
            return JsonResponse(
                {
                    "code": "bad_day",
                    "message": _("day %(day)s is not a date YYYY-MM-DD") % {"day": repr(day)},
                },
                status=400,
            )
    return JsonResponse(public_queries.roots_json(roots), json_dumps_params={"indent": 2})


def _entry(entry_hash: str) -> LedgerEntry:
    if not _HASH.match(entry_hash):
        raise Http404(_("An entry hash is 64 lower-case hexadecimal characters"))
    return get_object_or_404(LedgerEntry, entry_hash=entry_hash)


@public_page
def ledger_entry(request: HttpRequest, entry_hash: str) -> HttpResponse:
    entry = _entry(entry_hash)
    document = public_queries.entry_json(entry)
    fields = document["fields"]
    return render(
        request,
        "registry/public/entry.html",
        {
            "entry": entry,
            "proof": document,
            "proof_ok": public_queries.proof_checks(entry.entry_hash, document["proof"]),
            "canonical": hashing.canonical_json(fields) if fields is not None else "",
            "units_block": _units_block(entry),
        },
    )


def _units_block(entry: LedgerEntry) -> str:
    if entry.units is None or entry.batch_id is None:
        return ""
    batch = IssuanceBatch.objects.only("origin_country", "vintage_year").get(pk=entry.batch_id)
    return batch.block_of(entry.units.lower, entry.units.upper)


@public_page
def ledger_entry_json(request: HttpRequest, entry_hash: str) -> JsonResponse:
    return JsonResponse(
        public_queries.entry_json(_entry(entry_hash)), json_dumps_params={"indent": 2}
    )


# --- CSV downloads --------------------------------------------------------------------------


class _Echo:
    """A file-like sink for csv.writer that hands each written line back."""

    def write(self, value: str) -> str:
        return value


def _cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula is quoted (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _csv_response(filename: str, header: list[str], rows: Iterable[list[Any]]) -> HttpResponseBase:
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([_cell(v) for v in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@public_download
def batches_csv(request: HttpRequest) -> HttpResponseBase:
    """Every batch with its unit figures, streamed (a server-side cursor, 1,000 rows a fetch)."""
    columns = public_queries.BATCH_COLUMNS
    rows = (
        [row[c] for c in columns]
        for row in map(public_queries.batch_row, public_queries.batches().iterator(1000))
    )
    return _csv_response("oneforone-batches.csv", columns, rows)


BLOCK_COLUMNS = [
    "record",
    "block",
    "first_unit",
    "last_unit",
    "units",
    "status",
    "at",
    "ended_at",
    "partner",
    "certificates",
    "reason",
    "parent_block",
]


@public_download
def batch_csv(request: HttpRequest, pk: int) -> HttpResponseBase:
    """A batch's allocations (active and revoked) and cancellations, one block a line."""
    batch = get_object_or_404(IssuanceBatch, pk=pk)

    def rows() -> Iterator[list[Any]]:
        for record in public_queries.cancellation_records(batch):
            yield _block_row(record.as_json())
        for chunk in _chunks(public_queries.batch_allocations(batch), 2000):
            for record in public_queries.allocation_records(batch, chunk):
                yield _block_row(record.as_json())

    return _csv_response(f"oneforone-batch-{batch.pk}.csv", BLOCK_COLUMNS, rows())


def _block_row(record: dict[str, Any]) -> list[Any]:
    record["certificates"] = " ".join(record["certificates"])
    return ["" if record[c] is None else record[c] for c in BLOCK_COLUMNS]


def _chunks(rows: QuerySet[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for row in rows.iterator(chunk_size=size):
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
