"""A partner's CSV of registrations: every problem is reported with its line, and nothing is half-done.

The file goes through a real upload in "all or nothing" mode (tests/test_uploads.py covers the
other mode, XLSX, progress, resuming and the report)."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
from django.conf import settings

from factories import World, imei, register
from oneforone.partners import upload_actions
from oneforone.partners.imports import ParsedFile, RowError, parse_registrations_csv
from oneforone.partners.models import Channel, Device, Registration, UploadMode, UploadStatus

HEADER = b"reference,category,quantity\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


def parse(data: bytes, *, max_bytes: int | None = None, max_rows: int | None = None) -> ParsedFile:
    return parse_registrations_csv(
        data,
        max_bytes=max_bytes or settings.UPLOAD_MAX_BYTES,
        max_rows=max_rows or settings.UPLOAD_MAX_ROWS,
    )


def import_csv(world: World, data: bytes) -> list[RowError] | list[Registration]:
    """Upload the file (all or nothing) and run its import: the registrations, or the errors."""
    try:
        upload = upload_actions.create_upload(
            actor=world.partner_admin,
            partner=world.partner,
            file=io.BytesIO(data),
            name="registrations.csv",
            mode=UploadMode.ALL_OR_NOTHING,
        )
    except upload_actions.UploadRefused as exc:
        return [RowError(0, str(exc))]
    upload_actions.run_upload(upload.pk)
    upload.refresh_from_db()
    if upload.status == UploadStatus.REJECTED:
        lines = upload_actions.report_errors(upload, limit=1000)
        return lines or [RowError(0, upload.failure)]
    assert upload.status == UploadStatus.DONE, upload.failure
    return list(Registration.objects.filter(channel=Channel.CSV).order_by("id"))


def messages(errors: list[RowError]) -> list[str]:
    return [str(e) for e in errors]


def test_a_good_file_registers_every_row(world: World) -> None:
    data = (
        "\ufeffReference, Category ,QUANTITY\r\nINV-1,phone,3\r\n\r\nINV-2, Laptop ,2\r\n".encode()
    )

    created = import_csv(world, data)

    assert [(r.reference, r.category.code, r.quantity) for r in created] == [
        ("INV-1", "phone", 3),
        ("INV-2", "laptop", 2),
    ]
    assert {r.channel for r in Registration.objects.all()} == {"csv"}
    assert sorted(Registration.objects.values_list("units_owed", flat=True)) == [3, 6]


def test_columns_may_come_in_any_order(db: None) -> None:
    parsed = parse(b"quantity,reference,category\n4,X-1,tablet\n")
    assert parsed.ok
    [(line, row)] = parsed.rows
    assert (line, row.reference, row.category, row.quantity) == (2, "X-1", "tablet", 4)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (b"reference,category\n", "missing column(s) quantity"),
        (b"reference,category,quantity,colour\n", "unknown column(s) colour"),
        (b"ref,cat,qty\n", "missing column(s) reference, category, quantity"),
        (b"reference,category,quantity,quantity\n", "repeated column(s) quantity"),
    ],
)
def test_wrong_columns_are_reported_on_the_header_line(header: bytes, expected: str) -> None:
    parsed = parse(header + b"A,phone,1\n")

    [error] = parsed.errors
    assert error.line == 1
    assert expected in error.message
    assert "expected reference,category,quantity" in error.message
    assert parsed.rows == []


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (b"A,phone,three", "quantity 'three'"),
        (b"A,phone,1.5", "quantity '1.5'"),
        (b"A,phone,0", "quantity '0'"),
        (b"A,phone,-2", "quantity '-2'"),
        (b"A,phone,", "quantity ''"),
        (b"A,phone,99999999999999999999", "quantity"),
        (b",phone,1", "reference ''"),
        (b"A,phone", "2 fields where the header has 3"),
        (b"A,phone,1,extra", "4 fields where the header has 3"),
    ],
)
def test_bad_values_are_reported_with_their_line_and_column(row: bytes, expected: str) -> None:
    parsed = parse(HEADER + b"OK-1,phone,1\n" + row + b"\n")

    [error] = parsed.errors
    assert error.line == 3
    assert expected in error.message
    assert str(error).startswith("line 3: ")


def test_an_unknown_category_is_reported_with_its_line_and_nothing_is_written(
    world: World,
) -> None:
    errors = import_csv(world, HEADER + b"A,phone,1\nB,toaster,2\nC,laptop,1\n")

    assert messages(errors) == [
        "line 3: unknown category 'toaster'; use one of laptop, phone, tablet"
    ]
    assert not Registration.objects.exists()


def test_a_reference_repeated_or_already_registered_is_refused_with_its_line(
    world: World,
) -> None:
    register(world, reference="OLD")
    before = Registration.objects.count()

    errors = import_csv(world, HEADER + b"NEW,phone,1\nOLD,phone,1\nNEW,phone,2\n")

    assert messages(errors) == [
        "line 3: reference 'OLD' is already registered",
        "line 4: reference 'NEW' repeats line 2",
    ]
    assert Registration.objects.count() == before


def test_an_empty_file_is_refused(world: World) -> None:
    for data in (b"", b"   \n\n", b"\n"):
        errors = import_csv(world, data)
        [error] = errors
        assert error.line == 0
        assert "the file is empty" in error.message
        assert "reference,category,quantity" in error.message
    assert not Registration.objects.exists()


def test_a_header_without_rows_is_refused(world: World) -> None:
    assert messages(import_csv(world, HEADER + b"\n,,\n")) == [
        "file: the file has a header but no rows"
    ]
    assert not Registration.objects.exists()


def test_twenty_megabytes_of_random_bytes_are_refused_with_a_clear_error(
    world: World, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.UPLOAD_MAX_BYTES = 5_000_000
    garbage = random.Random(20).randbytes(20_000_000)
    before = Registration.objects.count()

    [error] = import_csv(world, garbage)

    assert error.line == 0
    assert "20.0 MB" in error.message
    assert "split it" in error.message
    assert Registration.objects.count() == before


def test_random_bytes_under_the_size_limit_are_refused_as_not_text(world: World) -> None:
    garbage = random.Random(21).randbytes(20 * 1024 * 1024)

    parsed = parse(garbage, max_bytes=32 * 1024 * 1024)

    [error] = parsed.errors
    assert "not a text file" in error.message or "not UTF-8" in error.message
    assert parsed.rows == []


def test_a_file_in_another_encoding_is_refused_with_the_line(db: None) -> None:
    parsed = parse(HEADER + b"A,phone,1\nCaf\xe9-2,phone,1\n")

    [error] = parsed.errors
    assert error.line == 3
    assert "not UTF-8" in error.message


def test_a_binary_file_is_refused(db: None) -> None:
    [error] = parse(b"PK\x03\x04\x00\x00" + b"\x00" * 100).errors
    assert "not a text file" in error.message
    assert "export the sheet as CSV" in error.message


def test_too_many_rows_are_refused(db: None) -> None:
    data = HEADER + b"".join(b"R-%d,phone,1\n" % i for i in range(20))

    parsed = parse(data, max_rows=10)

    assert "more than 10 rows" in parsed.errors[-1].message
    assert not parsed.ok


def test_error_reporting_stops_after_many_errors(db: None) -> None:
    data = HEADER + b"".join(b"R-%d,phone,lots\n" % i for i in range(500))

    parsed = parse(data)

    assert len(parsed.errors) == 201
    assert parsed.errors[-1].message == "too many errors; stopped reading here"


def test_a_malformed_csv_quote_is_reported_not_raised(world: World) -> None:
    errors = import_csv(world, HEADER + b'"A,phone,1\nB,phone,2\n')
    assert errors
    assert all(isinstance(e, RowError) for e in errors)
    assert not Registration.objects.exists()


def test_a_field_too_large_for_the_csv_reader_is_reported_not_raised(world: World) -> None:
    errors = import_csv(world, HEADER + b"A," + b"x" * 200_000 + b",1\n")

    [error] = errors
    assert error.line == 2
    assert "cannot read this line" in error.message
    assert not Registration.objects.exists()


def test_a_nul_byte_anywhere_in_the_file_is_refused(world: World) -> None:
    data = HEADER + b"".join(b"R-%d,phone,1\n" % i for i in range(10_000)) + b"B\x00,phone,1\n"
    assert len(data) > 65_536

    [error] = import_csv(world, data)

    assert "NUL" in error.message
    assert not Registration.objects.exists()


# Device lines: one device a line, the lines of a reference forming one registration ------------


def test_device_lines_form_one_registration_per_reference(world: World) -> None:
    data = (
        "reference,category,imei,serial\n"
        f"PHONES,phone,{imei(1)},\n"
        f"LAPTOPS,laptop,,c02xk1abjg5h\n"
        f"PHONES,phone,{imei(2)[:2]}-{imei(2)[2:8]}-{imei(2)[8:]},\n"
        f"PHONES,Phone,{imei(3)},\n"
    ).encode()

    created = import_csv(world, data)

    assert [(r.reference, r.category.code, r.quantity) for r in created] == [
        ("PHONES", "phone", 3),
        ("LAPTOPS", "laptop", 1),
    ]
    phones = Registration.objects.get(reference="PHONES")
    assert [(d.position, d.kind, d.status) for d in phones.devices.all()] == [
        (1, "imei", "claimed"),
        (2, "imei", "claimed"),
        (3, "imei", "claimed"),
    ]
    assert phones.units_owed == 3
    assert Registration.objects.get(reference="LAPTOPS").units_owed == 3


def test_device_lines_and_quantity_lines_may_share_a_file(world: World) -> None:
    data = (
        f"reference,category,quantity,imei\nBULK,phone,40,\nLISTED,phone,,{imei(1)}\n"
        f"LISTED,phone,1,{imei(2)}\n"
    ).encode()

    created = import_csv(world, data)

    assert [(r.reference, r.quantity) for r in created] == [("BULK", 40), ("LISTED", 2)]


def test_a_device_already_claimed_is_registered_held_not_refused(world: World) -> None:
    register(world, imeis=[imei(2)])

    [registration] = import_csv(
        world, f"reference,category,imei\nR,phone,{imei(1)}\nR,phone,{imei(2)}\n".encode()
    )

    registration.refresh_from_db()
    assert [d.status for d in registration.devices.all()] == ["claimed", "held"]
    assert registration.units_owed == 1


def test_a_bad_check_digit_is_reported_with_its_line_and_nothing_is_written(world: World) -> None:
    wrong = imei(2)[:-1] + str((int(imei(2)[-1]) + 1) % 10)
    data = (
        f"reference,category,imei\nR,phone,{imei(1)}\nR,phone,{wrong}\nR,phone,{imei(3)}\n"
    ).encode()

    errors = import_csv(world, data)

    assert messages(errors) == [
        "line 3: imei: IMEI: the check digit (the last digit) does not match the other 14: "
        "a typing error?"
    ]
    assert wrong not in str(errors[0])
    assert not Registration.objects.exists()
    assert not Device.objects.exists()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f"R,phone,{imei(1)[:14]},", "line 3: imei: IMEI: 14 digits: the IMEI's 15th digit"),
        (f"R,phone,{imei(1)}0,", "line 3: imei: IMEI: 16 digits is an IMEISV"),
        (
            f"R,phone,{imei(2)},SN-0001",
            "line 3: give either an imei or a serial on a line, not both",
        ),
        ("R,phone,,ab", "line 3: serial: serial number: 2 characters; a serial number has 4 to 40"),
        (
            f"R,laptop,{imei(2)},",
            "line 3: category 'laptop': the devices of 'R' are 'phone' (line 2)",
        ),
        ("R,phone,,", "line 3: give the device's imei or serial, or a quantity"),
        (f"R,toaster,{imei(2)},", "line 3: category 'toaster'"),
    ],
    ids=["14 digits", "IMEISV", "both", "short serial", "two categories", "nothing", "category"],
)
def test_a_bad_device_line_is_reported_with_its_line(
    world: World, line: str, expected: str
) -> None:
    data = f"reference,category,imei,serial\nR,phone,{imei(1)},\n{line}\n".encode()

    errors = import_csv(world, data)

    assert len(errors) == 1, messages(errors)
    assert messages(errors)[0].startswith(expected)
    assert not Registration.objects.exists()


def test_the_same_device_twice_in_a_file_is_reported_on_its_second_line(world: World) -> None:
    data = (
        "reference,category,imei,serial\n"
        f"A,phone,{imei(1)},\nA,phone,,sn-1234\nB,phone,{imei(2)},\n"
        f"B,phone,{imei(1)[:4]} {imei(1)[4:]},\nC,phone,,SN-1234\n"
    ).encode()

    errors = import_csv(world, data)

    assert messages(errors) == [
        "line 5: imei: the same IMEI as line 2",
        "line 6: serial: the same serial number as line 3",
    ]
    assert not Registration.objects.exists()


def test_a_device_reference_already_registered_is_refused_at_its_first_line(world: World) -> None:
    register(world, reference="OLD")

    errors = import_csv(
        world, f"reference,category,imei\nNEW,phone,{imei(1)}\nOLD,phone,{imei(2)}\n".encode()
    )

    assert messages(errors) == ["line 3: reference 'OLD' is already registered"]
    assert not Device.objects.exists()


def test_a_device_file_needs_no_quantity_column_but_a_plain_one_does(db: None) -> None:
    assert parse(b"reference,category,serial\nR,phone,SN-0001\n").ok
    [error] = parse(b"reference,category,colour\nR,phone,red\n").errors
    assert "missing column(s) quantity; unknown column(s) colour" in error.message
    assert "(or imei and/or serial instead of quantity: one device a line)" in error.message
