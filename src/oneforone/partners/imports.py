"""Reading a partner's CSV of registrations: every problem reported with its line, nothing half-done."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field

from pydantic import ValidationError

from oneforone.partners.schemas import RegistrationRow


@dataclass(frozen=True)
class RowError:
    line: int  # 1-based line in the file; 0 for a problem with the file as a whole
    message: str
    field: str = ""

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        return f"{where}: {self.message}"


@dataclass
class ParsedFile:
    rows: list[tuple[int, RegistrationRow]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

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
    for row in _rows(reader, result):
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(result.rows) + len(result.errors) >= max_rows:
            result.errors.append(RowError(line, f"more than {max_rows:,} rows; split the file"))
            break
        _parse_row(line, header, row, result)
        if len(result.errors) >= MAX_REPORTED_ERRORS:
            result.errors.append(RowError(line, "too many errors; stopped reading here"))
            break
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
    missing = [c for c in expected if c not in header]
    unknown = [c for c in header if c not in expected]
    duplicated = sorted({c for c in header if header.count(c) > 1})
    problems = []
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column(s) {', '.join(unknown)}")
    if duplicated:
        problems.append(f"repeated column(s) {', '.join(duplicated)}")
    if problems:
        result.errors.append(RowError(1, "; ".join(problems) + f"; expected {','.join(expected)}"))
        return None
    return header


def _parse_row(line: int, header: list[str], row: list[str], result: ParsedFile) -> None:
    if len(row) != len(header):
        result.errors.append(
            RowError(line, f"{len(row)} fields where the header has {len(header)}")
        )
        return
    try:
        parsed = RegistrationRow.model_validate(dict(zip(header, row, strict=True)))
    except ValidationError as exc:
        for error in exc.errors():
            column = ".".join(str(part) for part in error["loc"])
            value = dict(zip(header, row, strict=True)).get(column, "")
            result.errors.append(RowError(line, f"{column} {value!r}: {error['msg']}", column))
        return
    result.rows.append((line, parsed))
