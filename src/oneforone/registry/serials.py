"""The human form of unit serial numbers: O4O-{country}-{vintage year}-{number, 10 digits}."""

from __future__ import annotations

import re
from dataclasses import dataclass

PREFIX = "O4O"
NUMBER_DIGITS = 10
_SERIAL = re.compile(r"^O4O-([A-Z]{2})-(\d{4})-(\d{10})(?:-(\d{10}))?$")


class SerialError(ValueError):
    pass


@dataclass(frozen=True)
class Block:
    country: str
    year: int
    first: int
    last: int

    @property
    def quantity(self) -> int:
        return self.last - self.first + 1


def format_serial(country: str, year: int, number: int) -> str:
    if not 1 <= number < 10**NUMBER_DIGITS:
        raise SerialError(f"unit number {number} is outside 1..{10**NUMBER_DIGITS - 1}")
    return f"{PREFIX}-{country}-{year:04d}-{number:0{NUMBER_DIGITS}d}"


def format_block(country: str, year: int, first: int, last: int) -> str:
    if last < first:
        raise SerialError(f"block ends ({last}) before it starts ({first})")
    if first == last:
        return format_serial(country, year, first)
    return f"{format_serial(country, year, first)}-{last:0{NUMBER_DIGITS}d}"


def parse(text: str) -> Block:
    """Parse a serial or a block; raises SerialError saying what is wrong."""
    match = _SERIAL.match(text.strip().upper())
    if not match:
        raise SerialError(
            f"{text!r} is not a unit serial: expected O4O-CC-YYYY-NNNNNNNNNN "
            "or a block O4O-CC-YYYY-NNNNNNNNNN-NNNNNNNNNN"
        )
    country, year, first, last = match.groups()
    block = Block(country, int(year), int(first), int(last or first))
    if block.first < 1 or block.last < block.first:
        raise SerialError(f"{text!r}: a block must run from a lower to a higher number, from 1")
    return block
