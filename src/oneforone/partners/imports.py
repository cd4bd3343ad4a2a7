"""Reading a partner's CSV of registrations: every problem reported with its line, nothing half-done.

Two layouts, which may be mixed in one file:
- one registration per line: reference,category,quantity
- one device per line: reference,category and an `imei` or `serial` column (or both columns, one
  of them filled per line); the lines of one reference form one registration of that many devices.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field

from pydantic import ValidationError

from oneforone.partners.identifiers import DeviceKind
from oneforone.partners.schemas import DeviceId, RegistrationRow

DEVICE_COLUMNS = [DeviceKind.IMEI.value, DeviceKind.SERIAL.value]


@dataclass(frozen=True)
class RowError:
    line: int  # 1-based line in the file; 0 for a problem with the file as a whole
    message: str
    field: str = ""

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        return f"{where}: {self.message}"


@dataclass
class _DeviceGroup:
    """The device lines of one reference, becoming one registration."""

    line: int  # its first line: where problems of the registration as a whole are reported
    category: str
    programme: str | None
    devices: list[DeviceId] = field(default_factory=list)


@dataclass
class ParsedFile:
    rows: list[tuple[int, RegistrationRow]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    _groups: dict[str, _DeviceGroup] = field(default_factory=dict)
    _identifiers: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


MAX_REPORTED_ERRORS = 200


def parse_registrations_csv(data: bytes, *, max_bytes: int, max_rows: int) -> ParsedFile:
    result = ParsedFile()
    text = _decode(data, max_bytes, result)
    if text is None:
        return result
    reader = csv.reader(io.StringIO(text, newline=""))
    header = _read_header(reader, result)
    if header is None:
        return result
    read = 0
    for row in _rows(reader, result):
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if read >= max_rows:
            result.errors.append(RowError(line, f"more than {max_rows:,} rows; split the file"))
            break
        read += 1
        _parse_row(line, header, row, result)
        if len(result.errors) >= MAX_REPORTED_ERRORS:
            result.errors.append(RowError(line, "too many errors; stopped reading here"))
            break
    _close_groups(result)
    if result.ok and not result.rows:
        result.errors.append(RowError(0, "the file has a header but no rows"))
    return result


def _rows(reader: Iterator[list[str]], result: ParsedFile) -> Iterator[list[str]]:
    """The rows, ending with an error for the line the csv module cannot read (e.g. a huge field)."""
    try:
        yield from reader
    except csv.Error as exc:
        line = getattr(reader, "line_num", 0)
        result.errors.append(RowError(line, f"cannot read this line: {exc}"))


def _decode(data: bytes, max_bytes: int, result: ParsedFile) -> str | None:
    if not data.strip():
        result.errors.append(
            RowError(
                0,
                "the file is empty; expected a header line "
                f"({','.join(RegistrationRow.columns())}) and rows",
            )
        )
        return None
    if len(data) > max_bytes:
        result.errors.append(
            RowError(
                0,
                f"the file is {len(data) / 1e6:.1f} MB; the limit here is "
                f"{max_bytes / 1e6:.0f} MB: split it or use the API",
            )
        )
        return None
    if b"\x00" in data:
        result.errors.append(
            RowError(
                0,
                "this is not a text file (it contains NUL bytes); export the sheet as CSV (UTF-8)",
            )
        )
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        result.errors.append(RowError(line, "the file is not UTF-8 text; save it as CSV (UTF-8)"))
        return None


def _read_header(reader: Iterator[list[str]], result: ParsedFile) -> list[str] | None:
    try:
        header = [cell.strip().lower() for cell in next(reader)]
    except (StopIteration, csv.Error) as exc:
        result.errors.append(RowError(1, f"cannot read the header line: {exc}"))
        return None
    expected = RegistrationRow.columns()
    required = [c for c in expected if c != "quantity" or not set(DEVICE_COLUMNS) & set(header)]
    missing = [c for c in required if c not in header]
    unknown = [
        c for c in header if c not in expected + RegistrationRow.optional_columns() + DEVICE_COLUMNS
    ]
    duplicated = sorted({c for c in header if header.count(c) > 1})
    problems = []
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column(s) {', '.join(unknown)}")
    if duplicated:
        problems.append(f"repeated column(s) {', '.join(duplicated)}")
    if problems:
        result.errors.append(
            RowError(
                1,
                "; ".join(problems) + f"; expected {','.join(expected)} "
                f"(or {' and/or '.join(DEVICE_COLUMNS)} instead of quantity: one device a line)",
            )
        )
        return None
    return header


def _parse_row(line: int, header: list[str], row: list[str], result: ParsedFile) -> None:
    if len(row) != len(header):
        result.errors.append(
            RowError(line, f"{len(row)} fields where the header has {len(header)}")
        )
        return
    cells = dict(zip(header, row, strict=True))
    identifiers = {c: cells[c].strip() for c in DEVICE_COLUMNS if cells.get(c, "").strip()}
    if identifiers:
        _parse_device_row(line, cells, identifiers, result)
        return
    if set(DEVICE_COLUMNS) & set(header) and not cells.get("quantity", "").strip():
        result.errors.append(
            RowError(line, "give the device's imei or serial, or a quantity", "quantity")
        )
        return
    fields = {
        c: v
        for c, v in cells.items()
        if c not in DEVICE_COLUMNS and (v.strip() or c != "programme")
    }
    try:
        parsed = RegistrationRow.model_validate(fields)
    except ValidationError as exc:
        for error in exc.errors():
            column = ".".join(str(part) for part in error["loc"])
            value = cells.get(column, "")
            result.errors.append(RowError(line, f"{column} {value!r}: {error['msg']}", column))
        return
    result.rows.append((line, parsed))


def _parse_device_row(
    line: int, cells: dict[str, str], identifiers: dict[str, str], result: ParsedFile
) -> None:
    """One device line; never repeats the identifier in a message (it must not reach a log)."""
    if len(identifiers) > 1:
        result.errors.append(
            RowError(line, "give either an imei or a serial on a line, not both", "serial")
        )
        return
    [(column, value)] = identifiers.items()
    quantity = cells.get("quantity", "").strip()
    if quantity not in ("", "1"):
        result.errors.append(
            RowError(
                line,
                f"quantity {quantity!r}: a line with an {column} is one device; leave quantity empty",
                "quantity",
            )
        )
        return
    try:
        parsed = RegistrationRow.model_validate(
            {
                "reference": cells.get("reference", ""),
                "category": cells.get("category", ""),
                "programme": cells.get("programme") or None,
                "devices": [{column: value}],
            }
        )
    except ValidationError as exc:
        for error in exc.errors():
            if error["loc"][:1] == ("devices",):
                message = error["msg"].removeprefix("Value error, ")
                result.errors.append(RowError(line, f"{column}: {message}", column))
            else:
                name = ".".join(str(part) for part in error["loc"])
                shown = cells.get(name, "")
                result.errors.append(RowError(line, f"{name} {shown!r}: {error['msg']}", name))
        return
    [device] = parsed.devices or []
    first = result._identifiers.setdefault((device.kind, device.value), line)
    if first != line:
        result.errors.append(
            RowError(line, f"{column}: the same {device.kind.label} as line {first}", column)
        )
        return
    group = result._groups.setdefault(
        parsed.reference, _DeviceGroup(line, parsed.category, parsed.programme)
    )
    if group.category != parsed.category:
        result.errors.append(
            RowError(
                line,
                f"category {parsed.category!r}: the devices of {parsed.reference!r} are "
                f"{group.category!r} (line {group.line}); one registration has one category",
                "category",
            )
        )
        return
    if group.programme != parsed.programme:
        result.errors.append(
            RowError(
                line,
                f"programme {parsed.programme or ''!r}: the devices of {parsed.reference!r} are "
                f"in {group.programme or ''!r} (line {group.line}); one registration has one "
                "programme",
                "programme",
            )
        )
        return
    group.devices.append(device)


def _close_groups(result: ParsedFile) -> None:
    """Each reference's device lines become one registration, at its first line."""
    for reference, group in result._groups.items():
        row = RegistrationRow.model_validate(
            {
                "reference": reference,
                "category": group.category,
                "programme": group.programme,
                "devices": group.devices,
            }
        )
        result.rows.append((group.line, row))
    result.rows.sort(key=lambda pair: pair[0])
    result._groups.clear()
