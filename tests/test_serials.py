"""Unit serial numbers: O4O-{country}-{vintage}-{number}, a block adds its last number."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oneforone.registry.serials import Block, SerialError, format_block, format_serial, parse


def test_a_serial_has_a_ten_digit_number() -> None:
    assert format_serial("GH", 2026, 120001) == "O4O-GH-2026-0000120001"


def test_a_block_names_its_first_and_last_units() -> None:
    assert format_block("GH", 2026, 120001, 125000) == "O4O-GH-2026-0000120001-0000125000"


def test_a_block_of_one_unit_is_written_as_a_serial() -> None:
    assert format_block("NG", 2025, 7, 7) == "O4O-NG-2025-0000000007"


def test_a_serial_parses_to_a_block_of_one() -> None:
    block = parse("O4O-GH-2026-0000120001")
    assert block == Block("GH", 2026, 120001, 120001)
    assert block.quantity == 1


def test_a_block_parses_with_its_quantity() -> None:
    block = parse("O4O-CM-2024-0000000001-0000005000")
    assert block == Block("CM", 2024, 1, 5000)
    assert block.quantity == 5000


def test_parsing_forgives_case_and_surrounding_spaces() -> None:
    assert parse("  o4o-gh-2026-0000000042 \n") == Block("GH", 2026, 42, 42)


countries = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2)
years = st.integers(min_value=2000, max_value=2999)
numbers = st.integers(min_value=1, max_value=10**10 - 1)


@given(country=countries, year=years, number=numbers)
def test_a_serial_round_trips(country: str, year: int, number: int) -> None:
    assert parse(format_serial(country, year, number)) == Block(country, year, number, number)


@given(country=countries, year=years, first=numbers, length=st.integers(0, 10**6))
def test_a_block_round_trips(country: str, year: int, first: int, length: int) -> None:
    last = min(first + length, 10**10 - 1)
    block = parse(format_block(country, year, first, last))
    assert block == Block(country, year, first, last)
    assert block.quantity == last - first + 1


@pytest.mark.parametrize(
    "text",
    [
        "",
        "O4O",
        "O4O-GH-2026",
        "O4O-GH-2026-120001",  # number not padded to 10 digits
        "O4O-GH-2026-00001200011",  # 11 digits
        "O4O-GHA-2026-0000120001",  # alpha-3 country
        "O4O-G1-2026-0000120001",
        "O4O-GH-26-0000120001",
        "XYZ-GH-2026-0000120001",
        "O4O-GH-2026-0000120001-",
        "O4O-GH-2026-0000120001-125000",
        "O4O_GH_2026_0000120001",
        "O4O-GH-2026-00001200O1",  # letter O for a zero
    ],
)
def test_a_malformed_serial_is_refused_saying_what_is_expected(text: str) -> None:
    with pytest.raises(SerialError) as refused:
        parse(text)
    message = str(refused.value)
    assert repr(text) in message
    assert "expected O4O-CC-YYYY-NNNNNNNNNN" in message


@pytest.mark.parametrize(
    "text",
    ["O4O-GH-2026-0000000000", "O4O-GH-2026-0000000010-0000000009"],
    ids=["unit zero", "block running backwards"],
)
def test_a_block_runs_upwards_from_unit_one(text: str) -> None:
    with pytest.raises(SerialError, match="from a lower to a higher number, from 1"):
        parse(text)


def test_serials_outside_the_ten_digit_range_are_refused() -> None:
    with pytest.raises(SerialError, match=r"outside 1\.\.9999999999"):
        format_serial("GH", 2026, 0)
    with pytest.raises(SerialError, match="outside"):
        format_serial("GH", 2026, 10**10)
    with pytest.raises(SerialError, match=r"ends .* before it starts"):
        format_block("GH", 2026, 10, 9)


def test_serial_error_is_a_value_error() -> None:
    assert issubclass(SerialError, ValueError)
