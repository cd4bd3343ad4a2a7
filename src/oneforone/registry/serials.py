"""The human form of unit serial numbers, with a check character to validate them offline.

A serial is ``O4O-{country}-{vintage year}-{number, 10 digits}-{check}``, e.g.
``O4O-GH-2026-0000120001-A``; a block of units adds its last number before the check character:
``O4O-GH-2026-0000120001-0000125000-X``. The country is the ISO 3166-1 alpha-2 code of the
phones' origin, the year the vintage (2000..2100), the numbers the global unit sequence
(1..9,999,999,999). The check character is ISO 7064 MOD 37,36 (python-stdnum) over the compact
text of everything before it, e.g. ``O4OGH20260000120001``: it catches every single mistyped
character and every swap of two adjacent ones.

``parse`` forgives surrounding whitespace and lower case, and otherwise raises ``SerialError``
saying what is wrong and what was expected; ``validate`` returns that message instead.
``str(parse(text))`` is the canonical text.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from babel import Locale
from django.utils.translation import gettext
from stdnum.iso7064 import mod_37_36

from oneforone.core.money import active_locale

PREFIX = "O4O"
NUMBER_DIGITS = 10
MAX_NUMBER = 10**NUMBER_DIGITS - 1
FIRST_YEAR = 2000
LAST_YEAR = 2100
SEPARATOR = "-"

_SERIAL_SHAPE = "O4O-CC-YYYY-NNNNNNNNNN-X"
_BLOCK_SHAPE = "O4O-CC-YYYY-NNNNNNNNNN-NNNNNNNNNN-X"
_LETTERS = re.compile(r"[A-Z]{2}")
_CHECK_CHARACTER = re.compile(r"[0-9A-Z]")

# CLDR lists a few codes that ISO 3166-1 does not assign to a country: the user-assigned
# ranges (AA, QM..QZ, XA..XZ, ZZ; CLDR uses QO, XA, XB, XK, ZZ) and the exceptionally
# reserved codes (Ascension, the European Union, the United Nations, ...).
_EXCEPTIONALLY_RESERVED = frozenset(
    {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "FX", "IC", "SU", "TA", "UK", "UN"}
)


def _user_assigned(code: str) -> bool:
    return code in {"AA", "ZZ"} or code[0] == "X" or (code[0] == "Q" and code[1] >= "M")


def country_name(code: str) -> str:
    """The name of an ISO 3166 country code in the active language (the code itself if babel has
    none); stored and exported values keep the code."""
    return _country_name(code, active_locale())


@functools.cache
def _country_name(code: str, locale: str) -> str:
    return str(Locale(locale).territories.get(code, code))


def countries() -> frozenset[str]:
    """The ISO 3166-1 alpha-2 codes assigned to countries and territories (babel's CLDR data)."""
    return frozenset(
        code
        for code in Locale("en").territories
        if isinstance(code, str)
        and len(code) == 2
        and code.isalpha()
        and code not in _EXCEPTIONALLY_RESERVED
        and not _user_assigned(code)
    )


class SerialError(ValueError):
    pass


def _shape() -> dict[str, str]:
    return {
        "shape": gettext("%(serial)s or a block %(block)s")
        % {"serial": _SERIAL_SHAPE, "block": _BLOCK_SHAPE}
    }


@dataclass(frozen=True)
class Block:
    country: str
    year: int
    first: int
    last: int

    @property
    def quantity(self) -> int:
        return self.last - self.first + 1

    def __str__(self) -> str:
        return format_block(self.country, self.year, self.first, self.last)


def check_character(country: str, year: int, first: int, last: int | None = None) -> str:
    """The MOD 37,36 check character of a serial (``last`` None) or of a block."""
    return mod_37_36.calc_check_digit(_compact(country, year, first, last))


def format_serial(country: str, year: int, number: int) -> str:
    """``O4O-GH-2026-0000120001-A``; raises SerialError for values that would not parse."""
    _check_country(country)
    _check_year(year)
    _check_number(number)
    body = f"{PREFIX}-{country}-{year:04d}-{number:0{NUMBER_DIGITS}d}"
    return f"{body}-{check_character(country, year, number)}"


def format_block(country: str, year: int, first: int, last: int) -> str:
    """``O4O-GH-2026-0000120001-0000125000-X``; a block of one unit is written as its serial."""
    if first == last:
        return format_serial(country, year, first)
    _check_country(country)
    _check_year(year)
    _check_number(first)
    _check_number(last)
    _check_order(first, last)
    body = f"{PREFIX}-{country}-{year:04d}-{first:0{NUMBER_DIGITS}d}-{last:0{NUMBER_DIGITS}d}"
    return f"{body}-{check_character(country, year, first, last)}"


def parse(text: str) -> Block:
    """Parse a serial or a block; raises SerialError saying what is wrong and what was expected."""
    cleaned = text.strip().upper()
    try:
        return _parse(cleaned)
    except SerialError as error:
        raise SerialError(
            gettext("%(text)s: %(problem)s") % {"text": repr(text.strip()), "problem": error}
        ) from None


def validate(text: str) -> str | None:
    """None for a valid serial or block, else the message saying what is wrong."""
    try:
        parse(text)
    except SerialError as error:
        return str(error)
    return None


def _parse(text: str) -> Block:
    parts = text.split(SEPARATOR)
    if len(parts) not in (5, 6):
        if len(parts) == 4 and _is_number(parts[-1]):
            raise SerialError(
                gettext("the check character is missing: expected %(shape)s") % _shape()
            )
        raise SerialError(gettext("not a unit serial: expected %(shape)s") % _shape())
    if len(parts) == 5 and _is_number(parts[-1]):
        raise SerialError(
            gettext("the block's check character is missing: expected %(shape)s") % _shape()
        )
    prefix, country, year_text, *number_texts, check = parts
    if prefix != PREFIX:
        raise SerialError(
            gettext("starts with %(prefix)s, expected %(expected)s (letter O, four, letter O)")
            % {"prefix": repr(prefix), "expected": PREFIX}
        )
    if not _LETTERS.fullmatch(country):
        raise SerialError(
            gettext(
                "country %(country)s is not two letters, expected an ISO 3166-1 alpha-2 code "
                "such as GH"
            )
            % {"country": repr(country)}
        )
    if not _is_digits(year_text, 4):
        raise SerialError(
            gettext("year %(year)s is not four digits, expected YYYY such as 2026")
            % {"year": repr(year_text)}
        )
    for number_text in number_texts:
        if not _is_number(number_text):
            raise SerialError(
                gettext(
                    "unit number %(number)s is not %(digits)s digits, expected it padded with "
                    "zeros, e.g. %(example)s"
                )
                % {
                    "number": repr(number_text),
                    "digits": NUMBER_DIGITS,
                    "example": f"{1:0{NUMBER_DIGITS}d}",
                }
            )
    if not _CHECK_CHARACTER.fullmatch(check):
        raise SerialError(
            gettext("check character %(check)s is not one letter or digit: expected %(shape)s")
            % {"check": repr(check), **_shape()}
        )
    year = int(year_text)
    first, last = int(number_texts[0]), int(number_texts[-1])
    _check_country(country)
    _check_year(year)
    _check_number(first)
    _check_number(last)
    _check_order(first, last)
    expected = check_character(country, year, first, last if len(number_texts) == 2 else None)
    if check != expected:
        raise SerialError(
            gettext("check character is %(check)s, expected %(expected)s: the serial was mistyped")
            % {"check": check, "expected": expected}
        )
    return Block(country, year, first, last)


def _compact(country: str, year: int, first: int, last: int | None) -> str:
    numbers = f"{first:0{NUMBER_DIGITS}d}" + ("" if last is None else f"{last:0{NUMBER_DIGITS}d}")
    return f"{PREFIX}{country}{year:04d}{numbers}"


def _is_digits(text: str, length: int) -> bool:
    return len(text) == length and text.isascii() and text.isdigit()


def _is_number(text: str) -> bool:
    return _is_digits(text, NUMBER_DIGITS)


def _check_country(country: str) -> None:
    if country not in countries():
        raise SerialError(
            gettext(
                "country %(country)s is not an ISO 3166-1 alpha-2 code, expected one such as GH"
            )
            % {"country": repr(country)}
        )


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise SerialError(
            gettext("year %(year)s is outside %(first)s..%(last)s")
            % {"year": year, "first": FIRST_YEAR, "last": LAST_YEAR}
        )


def _check_number(number: int) -> None:
    if not 1 <= number <= MAX_NUMBER:
        raise SerialError(
            gettext("unit number %(number)s is outside 1..%(last)s")
            % {"number": number, "last": MAX_NUMBER}
        )


def _check_order(first: int, last: int) -> None:
    if last < first:
        raise SerialError(
            gettext(
                "block ends at %(last)s before it starts at %(first)s, expected the last number "
                "at or above the first"
            )
            % {"last": last, "first": first}
        )
