"""Business-time arithmetic across hours, nights, weekends, holidays and DST."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from automation.calendar import (
    Schedule,
    add_business_minutes,
    business_minutes_between,
    is_business_time,
    subtract_business_minutes,
)

LONDON = ZoneInfo("Europe/London")
OFFICE = Schedule(
    tz=LONDON,
    hours={d: [(time(9), time(17))] for d in range(5)},
    holidays=frozenset({date(2026, 12, 25), date(2026, 12, 28)}),
)


def at(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON)


@pytest.mark.parametrize(
    ("start", "minutes", "expected"),
    [
        (at(2026, 11, 23, 10, 0), 60, at(2026, 11, 23, 11, 0)),  # within the day
        (at(2026, 11, 23, 16, 30), 60, at(2026, 11, 24, 9, 30)),  # over the night
        (at(2026, 11, 23, 7, 0), 30, at(2026, 11, 23, 9, 30)),  # before opening
        (at(2026, 11, 27, 16, 0), 120, at(2026, 11, 30, 10, 0)),  # Friday → Monday
        (at(2026, 11, 28, 12, 0), 60, at(2026, 11, 30, 10, 0)),  # Saturday start
        (at(2026, 11, 23, 9, 0), 8 * 60, at(2026, 11, 23, 17, 0)),  # a whole day ends at close
        (at(2026, 12, 24, 16, 0), 120, at(2026, 12, 29, 10, 0)),  # holiday, weekend, holiday
    ],
)
def test_add_business_minutes(start, minutes, expected):
    assert add_business_minutes(OFFICE, start, minutes) == expected


@pytest.mark.parametrize(
    ("end", "minutes", "expected"),
    [
        (at(2026, 11, 23, 11, 0), 60, at(2026, 11, 23, 10, 0)),  # within the day
        (at(2026, 11, 24, 9, 30), 60, at(2026, 11, 23, 16, 30)),  # back over the night
        (at(2026, 11, 30, 10, 0), 120, at(2026, 11, 27, 16, 0)),  # Monday → Friday
        (at(2026, 11, 28, 12, 0), 0, at(2026, 11, 27, 17, 0)),  # Saturday: Friday's close
        (at(2026, 12, 29, 10, 0), 120, at(2026, 12, 24, 16, 0)),  # holiday, weekend, holiday
    ],
)
def test_subtract_business_minutes_undoes_adding_them(end, minutes, expected):
    start = subtract_business_minutes(OFFICE, end, minutes)
    assert start == expected
    if minutes:
        assert add_business_minutes(OFFICE, start, minutes) == end


def test_add_business_minutes_keeps_wall_clock_hours_across_dst():
    # Clocks go back on Sunday 25 Oct 2026: Friday 16:00 + 2h is Monday 10:00 local (GMT).
    due = add_business_minutes(OFFICE, at(2026, 10, 23, 16, 0), 120)
    assert due == at(2026, 10, 26, 10, 0)
    assert due.astimezone(UTC).hour == 10


def test_business_minutes_between_counts_only_open_time():
    assert business_minutes_between(OFFICE, at(2026, 11, 27, 16, 0), at(2026, 11, 30, 10, 0)) == 120
    assert (
        business_minutes_between(OFFICE, at(2026, 11, 30, 10, 0), at(2026, 11, 27, 16, 0)) == -120
    )
    assert business_minutes_between(OFFICE, at(2026, 12, 25, 9), at(2026, 12, 25, 17)) == 0


def test_an_empty_calendar_is_always_open():
    always = Schedule(tz=LONDON)
    assert add_business_minutes(always, at(2026, 11, 28, 23, 0), 90) == at(2026, 11, 29, 0, 30)
    assert subtract_business_minutes(always, at(2026, 11, 29, 0, 30), 90) == at(2026, 11, 28, 23)
    assert is_business_time(always, at(2026, 11, 28, 3, 0))


def test_is_business_time():
    assert is_business_time(OFFICE, at(2026, 11, 23, 9, 0))
    assert not is_business_time(OFFICE, at(2026, 11, 23, 17, 0))
    assert not is_business_time(OFFICE, at(2026, 11, 28, 12, 0))
    assert not is_business_time(OFFICE, at(2026, 12, 25, 12, 0))


def test_split_shifts_are_both_used():
    split = Schedule(tz=LONDON, hours={0: [(time(9), time(12)), (time(13), time(17))]})
    assert add_business_minutes(split, at(2026, 11, 23, 11, 30), 60) == at(2026, 11, 23, 13, 30)
