"""Working days per country: weekends and public holidays from the `holidays` package, across
year ends, Easter, Eid and the 2026-12-09 code change day."""

from __future__ import annotations

import datetime as dt

import pytest

from oneforone.shipments.workdays import (
    UnknownCalendar,
    add_working_days,
    holiday_name,
    is_working_day,
    subtract_working_days,
    working_days_between,
)

# No table is read here; the mark lets the suite's autouse fixtures (which re-seed tables) run
# when this file runs alone.
pytestmark = pytest.mark.django_db

D = dt.date
ROUTE_COUNTRIES = ("GH", "NG", "CM", "NL", "BE")


@pytest.mark.parametrize("country", ROUTE_COUNTRIES)
def test_saturday_and_sunday_are_the_weekend(country: str) -> None:
    assert not is_working_day(D(2026, 11, 28), country)  # Saturday
    assert not is_working_day(D(2026, 11, 29), country)  # Sunday
    assert is_working_day(D(2026, 11, 30), country)  # Monday
    # Friday 2026-11-27 + 1 working day skips the weekend.
    assert add_working_days(D(2026, 11, 27), 1, country) == D(2026, 11, 30)
    assert subtract_working_days(D(2026, 11, 30), 1, country) == D(2026, 11, 27)


def test_a_country_with_another_weekend_uses_its_own() -> None:
    """Israel's weekend is Friday and Saturday in the `holidays` package; Sunday works."""
    assert not is_working_day(D(2026, 11, 27), "IL")  # Friday
    assert is_working_day(D(2026, 11, 29), "IL")  # Sunday
    assert add_working_days(D(2026, 11, 26), 1, "IL") == D(2026, 11, 29)


@pytest.mark.parametrize(
    ("country", "after_christmas_eve"),
    [
        ("GH", D(2026, 12, 28)),  # 25 Christmas, 26 Boxing Day (a Saturday)
        ("NG", D(2026, 12, 29)),  # Boxing Day observed on Monday 28
        ("CM", D(2026, 12, 28)),  # 25 only
        ("NL", D(2026, 12, 28)),  # 25 and 26 (Saturday)
        ("BE", D(2026, 12, 28)),  # 25 only
    ],
)
def test_christmas_per_country(country: str, after_christmas_eve: dt.date) -> None:
    assert not is_working_day(D(2026, 12, 25), country)
    assert add_working_days(D(2026, 12, 24), 1, country) == after_christmas_eve


@pytest.mark.parametrize(
    ("country", "working_days"),
    [("GH", 5), ("NG", 4), ("CM", 5), ("NL", 5), ("BE", 5)],
)
def test_year_end_2026_12_24_to_2027_01_04(country: str, working_days: int) -> None:
    """Weekdays after 24 December up to 4 January: 25, 28, 29, 30, 31 December, 1 and 4 January;
    Christmas and New Year are holidays everywhere, Nigeria also observes Boxing Day on the 28th."""
    assert working_days_between(D(2026, 12, 24), D(2027, 1, 4), country) == working_days
    assert working_days_between(D(2027, 1, 4), D(2026, 12, 24), country) == -working_days
    assert add_working_days(D(2026, 12, 24), working_days, country) == D(2027, 1, 4)
    assert subtract_working_days(D(2027, 1, 4), working_days, country) == D(2026, 12, 24)


def test_year_end_reads_the_next_years_calendar() -> None:
    """Ghana's Constitution Day (7 January 2027) is in the next year's calendar."""
    assert holiday_name(D(2027, 1, 7), "GH") == "Constitution Day"
    assert add_working_days(D(2026, 12, 31), 4, "GH") == D(2027, 1, 8)
    assert add_working_days(D(2026, 12, 31), 4, "NL") == D(2027, 1, 7)
    assert subtract_working_days(D(2027, 1, 4), 1, "BE") == D(2026, 12, 31)


@pytest.mark.parametrize(
    ("country", "two_before"),
    [
        ("GH", D(2026, 4, 1)),  # Good Friday 3 April and Easter Monday 6 April are holidays
        ("NG", D(2026, 4, 1)),
        ("NL", D(2026, 4, 1)),
        ("BE", D(2026, 4, 2)),  # Easter Monday only, Good Friday is worked
        ("CM", D(2026, 4, 2)),  # Good Friday only, Easter Monday is worked
    ],
)
def test_easter_per_country(country: str, two_before: dt.date) -> None:
    assert subtract_working_days(D(2026, 4, 7), 2, country) == two_before


@pytest.mark.parametrize("country", ["GH", "NG", "BE", "NL"])
def test_easter_monday_is_a_holiday(country: str) -> None:
    assert not is_working_day(D(2026, 4, 6), country)
    assert is_working_day(D(2026, 4, 6), "CM")


@pytest.mark.parametrize(
    ("country", "eid_days", "two_after_18_march"),
    [
        ("NG", [D(2026, 3, 19), D(2026, 3, 20)], D(2026, 3, 24)),  # Id el Fitr and its holiday
        ("GH", [D(2026, 3, 20)], D(2026, 3, 23)),  # Eid-ul-Fitr
        ("CM", [D(2026, 3, 20)], D(2026, 3, 23)),  # Eid al-Fitr (estimated)
        ("NL", [], D(2026, 3, 20)),
        ("BE", [], D(2026, 3, 20)),
    ],
)
def test_eid_al_fitr_2026(
    country: str, eid_days: list[dt.date], two_after_18_march: dt.date
) -> None:
    for day in eid_days:
        assert not is_working_day(day, country), holiday_name(day, country)
    assert add_working_days(D(2026, 3, 18), 2, country) == two_after_18_march


def test_eid_al_adha_2026_in_nigeria_ghana_and_cameroon() -> None:
    assert not is_working_day(D(2026, 5, 28), "NG")  # Id el Kabir (estimated)
    assert not is_working_day(D(2026, 5, 29), "NG")
    assert not is_working_day(D(2026, 5, 27), "GH")  # Eid-ul-Adha
    assert not is_working_day(D(2026, 5, 27), "CM")  # Eid al-Adha (estimated)
    assert add_working_days(D(2026, 5, 27), 1, "NG") == D(2026, 6, 1)


@pytest.mark.parametrize("country", ROUTE_COUNTRIES)
def test_the_battery_code_change_day_is_an_ordinary_working_day(country: str) -> None:
    """2026-12-09 (a Wednesday) changes the List of Waste battery codes, not the calendar."""
    assert is_working_day(D(2026, 12, 9), country)
    assert add_working_days(D(2026, 12, 8), 1, country) == D(2026, 12, 9)
    assert add_working_days(D(2026, 12, 7), 3, country) == D(2026, 12, 10)
    assert working_days_between(D(2026, 12, 8), D(2026, 12, 10), country) == 2


def test_zero_and_negative_periods() -> None:
    day = D(2026, 12, 26)  # a Saturday: zero working days from it is itself
    assert add_working_days(day, 0, "BE") == day
    assert add_working_days(D(2026, 12, 30), -2, "BE") == D(2026, 12, 28)
    assert subtract_working_days(D(2026, 12, 28), -2, "BE") == D(2026, 12, 30)


def test_an_unknown_country_is_refused() -> None:
    with pytest.raises(UnknownCalendar, match="no public-holiday calendar for country 'XX'"):
        is_working_day(D(2026, 12, 9), "XX")
