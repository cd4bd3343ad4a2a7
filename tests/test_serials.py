"""Unit serial numbers: O4O-{country}-{vintage}-{number}-{check}; a block adds its last number.

The check character (ISO 7064 MOD 37,36) lets anyone validate a serial offline: a mistyped
character or two swapped neighbours never make another valid serial.
"""

from __future__ import annotations

import dataclasses
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.iso7064 import mod_37_36

from oneforone.registry.serials import (
    Block,
    SerialError,
    check_character,
    countries,
    format_block,
    format_serial,
    parse,
    validate,
)

EXPECTED_SHAPE = "expected O4O-CC-YYYY-NNNNNNNNNN-X or a block O4O-CC-YYYY-NNNNNNNNNN-NNNNNNNNNN-X"


def test_a_serial_has_a_ten_digit_number_and_a_check_character() -> None:
    assert format_serial("GH", 2026, 120001) == "O4O-GH-2026-0000120001-A"


def test_a_block_names_its_first_and_last_units_then_its_check_character() -> None:
    assert format_block("GH", 2026, 120001, 125000) == "O4O-GH-2026-0000120001-0000125000-Q"


def test_the_check_character_is_mod_37_36_over_the_compact_text_before_it() -> None:
    assert check_character("GH", 2026, 120001) == mod_37_36.calc_check_digit("O4OGH20260000120001")
    assert check_character("GH", 2026, 120001, 125000) == mod_37_36.calc_check_digit(
        "O4OGH202600001200010000125000"
    )
    assert mod_37_36.is_valid("O4OGH20260000120001A")


def test_a_block_of_one_unit_is_written_as_a_serial() -> None:
    assert format_block("NG", 2025, 7, 7) == format_serial("NG", 2025, 7)


def test_a_serial_parses_to_a_block_of_one() -> None:
    block = parse("O4O-GH-2026-0000120001-A")
    assert block == Block("GH", 2026, 120001, 120001)
    assert block.quantity == 1


def test_a_block_parses_with_its_quantity() -> None:
    block = parse("O4O-CM-2024-0000000001-0000005000-V")
    assert block == Block("CM", 2024, 1, 5000)
    assert block.quantity == 5000


def test_parsing_forgives_case_and_surrounding_spaces() -> None:
    assert parse("  o4o-gh-2026-0000000042-9 \n") == Block("GH", 2026, 42, 42)


def test_a_parsed_block_prints_as_its_canonical_text() -> None:
    assert str(parse(" o4o-gh-2026-0000120001-0000125000-q ")) == (
        "O4O-GH-2026-0000120001-0000125000-Q"
    )


def test_a_block_written_out_for_a_single_unit_is_accepted_and_printed_as_the_serial() -> None:
    text = f"O4O-NG-2025-0000000007-0000000007-{check_character('NG', 2025, 7, 7)}"
    assert parse(text) == Block("NG", 2025, 7, 7)
    assert str(parse(text)) == format_serial("NG", 2025, 7)


def test_validate_returns_none_for_a_valid_serial_and_the_message_otherwise() -> None:
    assert validate("O4O-GH-2026-0000120001-A") is None
    assert validate("O4O-GH-2026-0000120001-7") == (
        "'O4O-GH-2026-0000120001-7': check character is 7, expected A: the serial was mistyped"
    )


countries_ = st.sampled_from(sorted(countries()))
years = st.integers(min_value=2000, max_value=2100)
numbers = st.integers(min_value=1, max_value=10**10 - 1)


@given(country=countries_, year=years, number=numbers)
def test_a_serial_round_trips(country: str, year: int, number: int) -> None:
    text = format_serial(country, year, number)
    assert parse(text) == Block(country, year, number, number)
    assert parse(text.lower()) == Block(country, year, number, number)
    assert str(parse(text)) == text


@given(country=countries_, year=years, first=numbers, length=st.integers(0, 10**6))
def test_a_block_round_trips(country: str, year: int, first: int, length: int) -> None:
    last = min(first + length, 10**10 - 1)
    text = format_block(country, year, first, last)
    block = parse(text)
    assert block == Block(country, year, first, last)
    assert block.quantity == last - first + 1
    assert str(block) == text
    assert format_block(**dataclasses.asdict(block)) == text


def test_the_countries_are_the_249_iso_3166_codes() -> None:
    assert len(countries()) == 249
    assert {"GH", "NG", "CM", "BE", "DE", "FR", "US"} <= countries()
    # CLDR's regions, user-assigned and exceptionally reserved codes are not countries.
    assert not {"EU", "UN", "EZ", "ZZ", "XK", "QO", "AC", "TA", "IC"} & countries()


# Every mistyped character and every swap of two neighbours is refused.

VALID = [
    format_serial("GH", 2026, 120001),
    format_serial("CM", 2100, 9999999999),
    format_serial("NG", 2000, 1),
    format_block("GH", 2026, 120001, 125000),
    format_block("BJ", 2031, 8, 987654321),
]
SUBSTITUTES = string.digits + string.ascii_uppercase + "-"


def substitutions(text: str) -> list[str]:
    return [
        text[:i] + other + text[i + 1 :]
        for i, original in enumerate(text)
        for other in SUBSTITUTES
        if other != original
    ]


def transpositions(text: str) -> list[str]:
    return [
        text[:i] + text[i + 1] + text[i] + text[i + 2 :]
        for i in range(len(text) - 1)
        if text[i] != text[i + 1]
    ]


@pytest.mark.parametrize("serial", VALID)
def test_every_single_character_substitution_is_detected(serial: str) -> None:
    mistyped = substitutions(serial)
    assert len(mistyped) == len(serial) * (len(SUBSTITUTES) - 1)
    accepted = [text for text in mistyped if validate(text) is None]
    assert accepted == []


@pytest.mark.parametrize("serial", VALID)
def test_every_adjacent_transposition_is_detected(serial: str) -> None:
    swapped = transpositions(serial)
    assert swapped
    accepted = [text for text in swapped if validate(text) is None]
    assert accepted == []


@pytest.mark.parametrize("serial", VALID)
def test_a_mistyped_digit_in_a_number_is_caught_by_the_check_character(serial: str) -> None:
    """Where the numbers still make sense, only the check character can tell."""
    checked = 0
    for i in range(len("O4O-GH-2026-"), len(serial) - 2):
        for digit in string.digits.replace(serial[i], "") if serial[i] != "-" else "":
            mistyped = serial[:i] + digit + serial[i + 1 :]
            numbers = [int(part) for part in mistyped.split("-")[3:-1]]
            if numbers[0] == 0 or numbers != sorted(numbers):
                continue  # refused for its numbers already
            assert validate(mistyped) == (
                f"{mistyped!r}: check character is {serial[-1]}, expected "
                f"{mod_37_36.calc_check_digit(mistyped[:-2].replace('-', ''))}: "
                "the serial was mistyped"
            )
            checked += 1
    assert checked > 80


# Each malformed case says what is wrong and what was expected.


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", f"not a unit serial: {EXPECTED_SHAPE}"),
        ("O4O", f"not a unit serial: {EXPECTED_SHAPE}"),
        ("O4O-GH-2026", f"not a unit serial: {EXPECTED_SHAPE}"),
        ("O4O_GH_2026_0000120001_A", f"not a unit serial: {EXPECTED_SHAPE}"),
        ("O4O-GH-2026-0000120001-0000125000-0000125001-A", f"not a unit serial: {EXPECTED_SHAPE}"),
        ("O4O-GH-2026-0000120001", f"the check character is missing: {EXPECTED_SHAPE}"),
        (
            "O4O-GH-2026-0000120001-0000125000",
            f"the block's check character is missing: {EXPECTED_SHAPE}",
        ),
        ("XYZ-GH-2026-0000120001-A", "starts with 'XYZ', expected O4O (letter O, four, letter O)"),
        ("040-GH-2026-0000120001-A", "starts with '040', expected O4O (letter O, four, letter O)"),
        (
            "O4O-GHA-2026-0000120001-A",
            "country 'GHA' is not two letters, expected an ISO 3166-1 alpha-2 code such as GH",
        ),
        (
            "O4O-G1-2026-0000120001-A",
            "country 'G1' is not two letters, expected an ISO 3166-1 alpha-2 code such as GH",
        ),
        (
            "O4O-QQ-2026-0000120001-A",
            "country 'QQ' is not an ISO 3166-1 alpha-2 code, expected one such as GH",
        ),
        (
            "O4O-EU-2026-0000120001-A",
            "country 'EU' is not an ISO 3166-1 alpha-2 code, expected one such as GH",
        ),
        ("O4O-GH-26-0000120001-A", "year '26' is not four digits, expected YYYY such as 2026"),
        ("O4O-GH-1999-0000120001-A", "year 1999 is outside 2000..2100"),
        ("O4O-GH-2101-0000120001-A", "year 2101 is outside 2000..2100"),
        (
            "O4O-GH-2026-120001-A",
            "unit number '120001' is not 10 digits, expected it padded with zeros, e.g. 0000000001",
        ),
        (
            "O4O-GH-2026-00001200011-A",
            "unit number '00001200011' is not 10 digits, expected it padded with zeros, e.g. 0000000001",
        ),
        (
            "O4O-GH-2026-00001200O1-A",
            "unit number '00001200O1' is not 10 digits, expected it padded with zeros, e.g. 0000000001",
        ),
        (
            "O4O-GH-2026-0000120001-125000-A",
            "unit number '125000' is not 10 digits, expected it padded with zeros, e.g. 0000000001",
        ),
        ("O4O-GH-2026-0000000000-A", "unit number 0 is outside 1..9999999999"),
        (
            "O4O-GH-2026-0000000010-0000000009-A",
            "block ends at 9 before it starts at 10, expected the last number at or above the first",
        ),
        (
            "O4O-GH-2026-0000120001-",
            f"check character '' is not one letter or digit: {EXPECTED_SHAPE}",
        ),
        (
            "O4O-GH-2026-0000120001-AB",
            f"check character 'AB' is not one letter or digit: {EXPECTED_SHAPE}",
        ),
        (
            "O4O-GH-2026-0000120001-*",
            f"check character '*' is not one letter or digit: {EXPECTED_SHAPE}",
        ),
        (
            "O4O-GH-2026-0000120001-7",
            "check character is 7, expected A: the serial was mistyped",
        ),
        (
            "O4O-GH-2026-0000120001-0000125000-A",
            "check character is A, expected Q: the serial was mistyped",
        ),
    ],
)
def test_a_malformed_serial_is_refused_saying_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(SerialError) as refused:
        parse(text)
    assert str(refused.value) == f"{text!r}: {message}"
    assert validate(text) == str(refused.value)


def test_digits_from_other_scripts_are_not_digits() -> None:
    arabic_indic = "\u0660" * 9 + "\u0661"
    assert validate(f"O4O-GH-2026-{arabic_indic}-A") is not None


def test_the_message_quotes_the_text_without_its_surrounding_spaces() -> None:
    assert validate("  O4O-GH-2026-0000120001-7\n") == (
        "'O4O-GH-2026-0000120001-7': check character is 7, expected A: the serial was mistyped"
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("GH", 2026, 0), r"^unit number 0 is outside 1\.\.9999999999$"),
        (("GH", 2026, 10**10), r"^unit number 10000000000 is outside 1\.\.9999999999$"),
        (("GH", 1999, 1), r"^year 1999 is outside 2000\.\.2100$"),
        (("ZZ", 2026, 1), r"^country 'ZZ' is not an ISO 3166-1 alpha-2 code"),
        (("gh", 2026, 1), r"^country 'gh' is not an ISO 3166-1 alpha-2 code"),
    ],
)
def test_a_serial_that_would_not_parse_is_never_written(
    arguments: tuple[str, int, int], message: str
) -> None:
    with pytest.raises(SerialError, match=message):
        format_serial(*arguments)


def test_a_block_running_backwards_is_never_written() -> None:
    with pytest.raises(SerialError, match=r"^block ends at 9 before it starts at 10"):
        format_block("GH", 2026, 10, 9)
    with pytest.raises(SerialError, match="outside"):
        format_block("GH", 2026, 1, 10**10)


def test_serial_error_is_a_value_error() -> None:
    assert issubclass(SerialError, ValueError)
