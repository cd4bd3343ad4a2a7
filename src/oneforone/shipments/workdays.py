"""Working days per country: weekends and public holidays as the `holidays` package defines them.

A working day is a day that is neither in the country's weekend nor one of its public holidays.
Calendars are built once per (country, year) and kept; arithmetic that crosses a year end reads the
next (or previous) year's calendar as it goes.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays

ONE_DAY = dt.timedelta(days=1)


class UnknownCalendar(ValueError):
    """A country the `holidays` package has no calendar for."""


@lru_cache(maxsize=512)
def _calendar(country: str, year: int) -> tuple[frozenset[int], frozenset[dt.date]]:
    """The weekend days (Monday = 0) and the public holidays of a country in one year."""
    try:
        calendar = holidays.country_holidays(country, years=year)
    except NotImplementedError as error:
        raise UnknownCalendar(f"no public-holiday calendar for country {country!r}") from error
    return frozenset(calendar.weekend), frozenset(calendar.keys())


def holiday_name(day: dt.date, country: str) -> str | None:
    """The name of the public holiday on `day` in `country`, if it is one."""
    return holidays.country_holidays(country, years=day.year).get(day)


def is_working_day(day: dt.date, country: str) -> bool:
    weekend, public_holidays = _calendar(country.upper(), day.year)
    return day.weekday() not in weekend and day not in public_holidays


def _step(start: dt.date, n: int, country: str, direction: int) -> dt.date:
    day, remaining = start, n
    while remaining > 0:
        day += ONE_DAY * direction
        if is_working_day(day, country):
            remaining -= 1
    return day


def add_working_days(start: dt.date, n: int, country: str) -> dt.date:
    """The n-th working day after `start` (`start` itself never counts; n = 0 gives `start`)."""
    if n < 0:
        return subtract_working_days(start, -n, country)
    return _step(start, n, country, 1)


def subtract_working_days(start: dt.date, n: int, country: str) -> dt.date:
    """The n-th working day before `start` (`start` itself never counts; n = 0 gives `start`)."""
    if n < 0:
        return add_working_days(start, -n, country)
    return _step(start, n, country, -1)


def working_days_between(start: dt.date, end: dt.date, country: str) -> int:
    """Working days after `start` up to and including `end`; negative when `end` comes first."""
    if end < start:
        return -working_days_between(end, start, country)
    count, day = 0, start
    while day < end:
        day += ONE_DAY
        count += is_working_day(day, country)
    return count
