"""Reading a partner's file of registrations (CSV or XLSX): every problem reported with its line.

Two layouts, which may be mixed in one file:
- one registration per line: the columns of `RegistrationRow.columns()` (reference,category,quantity)
- one device per line: the same columns with an `imei` or `serial` column instead of quantity (or
  both columns, one of them filled per line); the lines of one reference form one registration of
  that many devices.

Every line is validated by the API's pydantic schema (RegistrationRow, DeviceId), but without the
per-line overheads a million-line file cannot afford, each shown unnecessary:
- the registration columns of device lines repeat (hundreds of lines share a reference): they are
  validated once per distinct value, as a RegistrationRow of one device, and the result reused;
- devices are validated in batches by one `TypeAdapter(list[DeviceId])` call, not one model call
  per line;
- a device is kept as the keyed hash of its identifier (what is stored) and its kind, not as a
  model: the hash also finds the same device twice in the file.
"""

from __future__ import annotations

import csv
import io
import operator
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext
from pydantic import TypeAdapter, ValidationError

from oneforone.core.schema_messages import schema_error_message
from oneforone.partners.identifiers import DeviceKind, identifier_hasher, kind_name
from oneforone.partners.schemas import DeviceId, RegistrationRow

DEVICE_COLUMNS = [DeviceKind.IMEI.value, DeviceKind.SERIAL.value]
MAX_REPORTED_ERRORS = 200
_DEVICES = TypeAdapter(list[DeviceId])
_BATCH = 20_000


@dataclass(frozen=True)
class RowError:
    line: int  # 1-based line in the file; 0 for a problem with the file as a whole
    message: str
    field: str = ""

    def __str__(self) -> str:
        if self.line:
            return gettext("line %(line)s: %(message)s") % {
                "line": self.line,
                "message": self.message,
            }
        return gettext("file: %(message)s") % {"message": self.message}


@dataclass
class Entry:
    """One registration of the file: a registration line, or the device lines of one reference."""

    line: int  # its first line: where problems of the registration as a whole are reported
    row: RegistrationRow  # for device lines: quantity = the devices, `devices` left out
    lines: list[int] = field(default_factory=list)  # device lines, in position order
    kinds: list[str] = field(default_factory=list)
    hashes: list[str] = field(default_factory=list)

    @property
    def all_lines(self) -> list[int]:
        return self.lines or [self.line]


class FileRefused(Exception):
    """The file as a whole cannot be read (empty, too large, not text, wrong header)."""

    def __init__(self, error: RowError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass
class ParsedFile:
    entries: list[Entry] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    lines: int = 0  # data lines read (blank lines skipped)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def rows(self) -> list[tuple[int, RegistrationRow]]:
        return [(e.line, e.row) for e in self.entries]


# Reading ---------------------------------------------------------------------------------------


def decode(data: bytes, max_bytes: int) -> str:
    if not data.strip():
        raise FileRefused(
            RowError(
                0,
                gettext("the file is empty; expected a header line (%(columns)s) and rows")
                % {"columns": ",".join(RegistrationRow.columns())},
            )
        )
    if len(data) > max_bytes:
        raise FileRefused(
            RowError(
                0,
                gettext(
                    "the file is %(size)s MB; the limit here is %(limit)s MB: split it or use the API"
                )
                % {
                    "size": number_format(len(data) / 1e6, decimal_pos=1),
                    "limit": number_format(max_bytes / 1e6, decimal_pos=0),
                },
            )
        )
    if b"\x00" in data:
        raise FileRefused(
            RowError(
                0,
                gettext(
                    "this is not a text file (it contains NUL bytes); export the sheet as CSV "
                    "(UTF-8)"
                ),
            )
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FileRefused(
            RowError(line, gettext("the file is not UTF-8 text; save it as CSV (UTF-8)"))
        ) from None


def csv_lines(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line, cells); a line the csv module cannot read (a stray quote, a huge field) refuses the
    file: what follows it cannot be told apart reliably."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as exc:
        raise FileRefused(
            RowError(
                reader.line_num,
                gettext("cannot read this line: %(problem)s; fix it and upload again")
                % {"problem": exc},
            )
        ) from None


def xlsx_lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) of the first sheet, read by python-calamine (a Rust reader: streams a
    million-row sheet in seconds where openpyxl takes minutes). A number typed in a cell (an IMEI
    Excel shows as 4.90154E+14) comes back as a float: whole numbers are given back as digits."""
    from python_calamine import CalamineWorkbook

    try:
        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
    except Exception as exc:  # calamine raises its own error types for a broken or foreign file
        raise FileRefused(
            RowError(
                0,
                gettext("this is not an Excel workbook (.xlsx) we can read: %(problem)s")
                % {"problem": exc},
            )
        ) from None
    first = sheet.start[0] + 1 if sheet.start else 1
    for offset, row in enumerate(sheet.iter_rows()):
        yield first + offset, [_cell(value) for value in row]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# Validating --------------------------------------------------------------------------------------


def check_header(cells: list[str]) -> list[str]:
    """The lower-cased header, or FileRefused saying what is wrong with it."""
    header = [cell.strip().lower() for cell in cells]
    expected = RegistrationRow.columns()
    required = [c for c in expected if c != "quantity" or not set(DEVICE_COLUMNS) & set(header)]
    optional = set(RegistrationRow.model_fields) - {"devices"}
    missing = [c for c in required if c not in header]
    unknown = [c for c in header if c not in [*expected, *optional, *DEVICE_COLUMNS]]
    duplicated = sorted({c for c in header if header.count(c) > 1})
    problems = []
    if missing:
        problems.append(gettext("missing column(s) %(columns)s") % {"columns": ", ".join(missing)})
    if unknown:
        problems.append(gettext("unknown column(s) %(columns)s") % {"columns": ", ".join(unknown)})
    if duplicated:
        problems.append(
            gettext("repeated column(s) %(columns)s") % {"columns": ", ".join(duplicated)}
        )
    if problems:
        raise FileRefused(
            RowError(
                1,
                gettext(
                    "%(problems)s; expected %(columns)s (or %(imei)s and/or %(serial)s instead of "
                    "quantity: one device a line)"
                )
                % {
                    "problems": "; ".join(problems),
                    "columns": ",".join(expected),
                    "imei": DEVICE_COLUMNS[0],
                    "serial": DEVICE_COLUMNS[1],
                },
            )
        )
    return header


_OPTIONAL = frozenset(RegistrationRow.optional_columns())


def _given(column: str, value: str) -> bool:
    """An optional column left empty on a line is not given (e.g. no programme: the default)."""
    return column not in _OPTIONAL or bool(value.strip())


# A device line waiting for its batch's validation: (line, column, value, group), the group being
# the registration's fields (None: the line is already wrong). A plain tuple: a million of them.
_Pending = tuple[int, str, str, tuple[Any, ...] | None]


class LineValidator:
    """Validates lines one by one (after the header); `finish()` gives the file's registrations.

    Lines come in order; errors are kept in line order. `max_errors` stops early (None: never,
    as an upload in "accept the valid rows" mode reports every line)."""

    def __init__(self, header: list[str], *, max_errors: int | None = None) -> None:
        self.header = header
        self.max_errors = max_errors
        self.result = ParsedFile()
        self._has_devices = bool(set(DEVICE_COLUMNS) & set(header))
        self._fields = [c for c in header if c not in (*DEVICE_COLUMNS, "quantity")]
        self._checked: dict[tuple[str, ...], tuple[Any, ...] | list[RowError]] = {}
        self._groups: dict[tuple[Any, ...], Entry] = {}
        self._by_reference: dict[str, Entry] = {}
        self._seen: dict[str, int] = {}
        self._pending: list[_Pending] = []
        self._hash = identifier_hasher()
        self._device_indexes = [(c, header.index(c)) for c in DEVICE_COLUMNS if c in header]
        self._quantity = header.index("quantity") if "quantity" in header else None
        field_indexes = [header.index(c) for c in self._fields]
        self._key: Callable[[list[str]], tuple[str, ...]] = lambda row: tuple(
            row[i] for i in field_indexes
        )
        if len(field_indexes) > 1:  # reference and category at least: one C call per line
            self._key = operator.itemgetter(*field_indexes)

    @property
    def full(self) -> bool:
        return self.max_errors is not None and len(self.result.errors) >= self.max_errors

    def feed(self, line: int, row: list[str]) -> None:
        """One line. Device lines (nearly all lines of a big file) take a path without per-line
        dictionaries: the columns are found by position."""
        if not "".join(row).strip():
            return
        self.result.lines += 1
        if len(row) != len(self.header):
            self._error(
                line,
                gettext("%(fields)s fields where the header has %(columns)s")
                % {"fields": len(row), "columns": len(self.header)},
            )
            return
        found = [(c, value) for c, i in self._device_indexes if (value := row[i].strip())]
        if found:
            self._device_line(line, row, found)
        elif self._has_devices and (self._quantity is None or not row[self._quantity].strip()):
            self._error(
                line, gettext("give the device's imei or serial, or a quantity"), "quantity"
            )
        else:
            self._registration_line(line, dict(zip(self.header, row, strict=True)))

    def finish(self) -> ParsedFile:
        self._flush()
        result = self.result
        result.entries.sort(key=lambda e: e.line)
        for entry in self._groups.values():
            entry.row.quantity = len(entry.hashes)
        result.errors.sort(key=lambda e: e.line)
        return result

    def _error(self, line: int, message: str, column: str = "") -> None:
        self.result.errors.append(RowError(line, message, column))

    @staticmethod
    def _schema_errors(cells: dict[str, str], exc: ValidationError) -> list[RowError]:
        """The schema's errors by column, each with the value given (a registration column's,
        never an identifier: device columns are validated apart)."""
        errors = []
        for error in exc.errors():
            column = ".".join(str(part) for part in error["loc"])
            errors.append(
                RowError(
                    0,
                    f"{column} {cells.get(column, '')!r}: {schema_error_message(error)}",
                    column,
                )
            )
        return errors

    def _registration_line(self, line: int, cells: dict[str, str]) -> None:
        fields = {c: v for c, v in cells.items() if c not in DEVICE_COLUMNS and _given(c, v)}
        try:
            parsed = RegistrationRow.model_validate(fields)
        except ValidationError as exc:
            for error in self._schema_errors(cells, exc):
                self._error(line, error.message, error.field)
            return
        self.result.entries.append(Entry(line, parsed))

    def _device_line(self, line: int, row: list[str], identifiers: list[tuple[str, str]]) -> None:
        """One device line; never repeats the identifier in a message (it must not reach a log)."""
        if len(identifiers) > 1:
            self._error(
                line, gettext("give either an imei or a serial on a line, not both"), "serial"
            )
            return
        [(column, value)] = identifiers
        quantity = "" if self._quantity is None else row[self._quantity].strip()
        if quantity not in ("", "1"):
            self._error(
                line,
                gettext(
                    "quantity %(quantity)s: a line with an %(column)s is one device; leave "
                    "quantity empty"
                )
                % {"quantity": repr(quantity), "column": column},
                "quantity",
            )
            return
        key = self._key(row)
        checked = self._checked.get(key)
        if checked is None:
            cells = dict(zip(self.header, row, strict=True))
            try:
                valid = RegistrationRow.model_validate(
                    {c: cells[c] for c in self._fields if _given(c, cells[c])} | {"quantity": 1}
                )
            except ValidationError as exc:
                checked = self._schema_errors(cells, exc)
            else:
                checked = tuple(getattr(valid, c) for c in self._fields)
            self._checked[key] = checked
        group: tuple[Any, ...] | None = None
        if isinstance(checked, list):
            self.result.errors.extend(RowError(line, e.message, e.field) for e in checked)
        else:
            group = checked
        self._pending.append((line, column, value, group))
        if len(self._pending) >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        """Validate the pending devices in one schema call, then group them in line order."""
        pending, self._pending = self._pending, []
        if not pending:
            return
        items = [{column: value} for _, column, value, _ in pending]
        bad: dict[int, str] = {}
        devices: list[DeviceId | None]
        try:
            devices = list(_DEVICES.validate_python(items))
        except ValidationError as exc:
            for error in exc.errors():
                index = error["loc"][0]
                assert isinstance(index, int)
                bad.setdefault(index, schema_error_message(error))
            good = [i for i in range(len(items)) if i not in bad]
            valid = iter(_DEVICES.validate_python([items[i] for i in good]))
            devices = [None if i in bad else next(valid) for i in range(len(items))]
        for index, ((line, column, _, group), device) in enumerate(
            zip(pending, devices, strict=True)
        ):
            if device is None:
                self._error(line, f"{column}: {bad[index]}", column)
            elif group is not None:
                self._add_device(line, column, group, device)

    def _add_device(self, line: int, kind: str, group: tuple[Any, ...], device: DeviceId) -> None:
        # The device was validated from its one column, `kind`: the column's name is the kind's
        # value (a plain str, cheaper a million times than the enum's properties).
        hashed = self._hash(kind, device.value)
        first = self._seen.setdefault(hashed, line)
        if first != line:
            self._error(
                line,
                gettext("%(column)s: the same %(kind)s as line %(line)s")
                % {"column": kind, "kind": kind_name(device.kind), "line": first},
                kind,
            )
            return
        entry = self._groups.get(group)
        if entry is None:
            values = dict(zip(self._fields, group, strict=True))
            reference = values["reference"]
            other = self._by_reference.get(reference)
            if other is not None:
                # The same reference with other registration fields: name the first that differs.
                name, value = next(
                    (c, values[c]) for c in self._fields if getattr(other.row, c) != values[c]
                )
                del self._seen[hashed]
                self._error(
                    line,
                    gettext(
                        "%(column)s %(value)s: the devices of %(reference)s are %(other)s (line "
                        "%(line)s); one registration has one %(column)s"
                    )
                    % {
                        "column": name,
                        "value": repr(value),
                        "reference": repr(reference),
                        "other": repr(getattr(other.row, name)),
                        "line": other.line,
                    },
                    name,
                )
                return
            entry = Entry(line, RegistrationRow.model_construct(**values, quantity=0))
            self._groups[group] = entry
            self._by_reference[reference] = entry
            self.result.entries.append(entry)
        entry.lines.append(line)
        entry.kinds.append(kind)
        entry.hashes.append(hashed)


def validate_lines(
    lines: Iterable[tuple[int, list[str]]], *, max_rows: int, max_errors: int | None
) -> ParsedFile:
    """The header, then every line; FileRefused for a problem with the file as a whole."""
    iterator = iter(lines)
    first = next(iterator, None)
    if first is None:
        raise FileRefused(
            RowError(1, gettext("cannot read the header line: the file has no lines"))
        )
    validator = LineValidator(check_header(first[1]), max_errors=max_errors)
    for line, row in iterator:
        if validator.result.lines >= max_rows and any(cell.strip() for cell in row):
            validator.finish()
            raise FileRefused(
                RowError(
                    line,
                    gettext("more than %(rows)s rows; split the file")
                    % {"rows": number_format(max_rows, force_grouping=True)},
                )
            )
        validator.feed(line, row)
        if validator.full:
            validator.finish()
            validator.result.errors.append(
                RowError(line, gettext("too many errors; stopped reading here"))
            )
            return validator.result
    result = validator.finish()
    if result.ok and not result.entries and not result.lines:
        raise FileRefused(RowError(0, gettext("the file has a header but no rows")))
    return result


def parse_registrations_csv(
    data: bytes, *, max_bytes: int, max_rows: int, max_errors: int | None = MAX_REPORTED_ERRORS
) -> ParsedFile:
    """A whole CSV in memory, validated; a problem with the file as a whole is its one error."""
    try:
        text = decode(data, max_bytes)
        return validate_lines(csv_lines(text), max_rows=max_rows, max_errors=max_errors)
    except FileRefused as exc:
        return ParsedFile(errors=[exc.error])
