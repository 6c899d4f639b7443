"""Calling hours in Phnom Penh time (UTC+7, no daylight saving): when the next call may go out."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from dialer.calls.hours import CallingHours
from dialer.settings import DialerSettings
from jobs_core.clock import PHNOM_PENH

HOURS = CallingHours(time(8, 0), time(20, 0))
KHMER_NEW_YEAR = frozenset({date(2026, 4, 14), date(2026, 4, 15), date(2026, 4, 16)})


def pp(day: date, clock: str) -> datetime:
    """A moment on the Phnom Penh clock, as the UTC datetime the dialer works with."""
    hour, minute = (int(part) for part in clock.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=PHNOM_PENH).astimezone(UTC)


TUESDAY = date(2026, 3, 10)
WEDNESDAY = date(2026, 3, 11)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (pp(TUESDAY, "06:30"), pp(TUESDAY, "08:00")),  # before hours: this morning's opening
        (pp(TUESDAY, "07:59"), pp(TUESDAY, "08:00")),
        (pp(TUESDAY, "08:00"), pp(TUESDAY, "08:00")),  # the opening itself is inside
        (pp(TUESDAY, "13:15"), pp(TUESDAY, "13:15")),  # inside: now
        (pp(TUESDAY, "19:59"), pp(TUESDAY, "19:59")),
        (pp(TUESDAY, "20:00"), pp(WEDNESDAY, "08:00")),  # the end is outside: tomorrow
        (pp(TUESDAY, "22:45"), pp(WEDNESDAY, "08:00")),
        (pp(TUESDAY, "23:59"), pp(WEDNESDAY, "08:00")),
        # Just after midnight in Phnom Penh is still the previous day in UTC (17:30 UTC on Tuesday): the
        # opening is the same *local* morning, not the next UTC day's.
        (pp(WEDNESDAY, "00:30"), pp(WEDNESDAY, "08:00")),
    ],
)
def test_next_open_before_inside_and_after_hours(at: datetime, expected: datetime) -> None:
    assert HOURS.next_open(at) == expected
    assert HOURS.next_open(at).tzinfo == UTC  # handed back in the caller's time zone
    assert HOURS.is_open(HOURS.next_open(at))


def test_midnight_is_counted_in_phnom_penh_not_utc() -> None:
    late_utc_evening = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)  # 06:30 on Wednesday in Phnom Penh
    assert not HOURS.is_open(late_utc_evening)
    assert HOURS.next_open(late_utc_evening) == datetime(2026, 3, 11, 1, 0, tzinfo=UTC)  # 08:00 there
    utc_midnight = datetime(2026, 3, 11, 0, 0, tzinfo=UTC)  # 07:00 in Phnom Penh
    assert HOURS.next_open(utc_midnight) == datetime(2026, 3, 11, 1, 0, tzinfo=UTC)
    noon_utc = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # 19:00 in Phnom Penh: open
    assert HOURS.is_open(noon_utc)
    assert not HOURS.is_open(noon_utc + timedelta(hours=1))


def test_a_holiday_is_skipped() -> None:
    hours = CallingHours(time(8, 0), time(20, 0), frozenset({WEDNESDAY}))
    assert not hours.is_open(pp(WEDNESDAY, "10:00"))
    assert hours.next_open(pp(TUESDAY, "21:00")) == pp(date(2026, 3, 12), "08:00")
    assert hours.next_open(pp(WEDNESDAY, "10:00")) == pp(date(2026, 3, 12), "08:00")
    assert hours.next_open(pp(WEDNESDAY, "00:10")) == pp(date(2026, 3, 12), "08:00")
    assert hours.next_open(pp(TUESDAY, "10:00")) == pp(TUESDAY, "10:00")  # the day before is untouched


def test_consecutive_holidays_are_all_skipped() -> None:
    hours = CallingHours(time(8, 0), time(20, 0), KHMER_NEW_YEAR)
    first_day_after = pp(date(2026, 4, 17), "08:00")
    assert hours.next_open(pp(date(2026, 4, 13), "20:30")) == first_day_after
    assert hours.next_open(pp(date(2026, 4, 14), "07:00")) == first_day_after
    assert hours.next_open(pp(date(2026, 4, 15), "12:00")) == first_day_after
    assert hours.next_open(pp(date(2026, 4, 16), "23:59")) == first_day_after
    assert hours.next_open(pp(date(2026, 4, 13), "19:00")) == pp(date(2026, 4, 13), "19:00")


def test_holidays_come_from_the_operators_settings() -> None:
    settings = DialerSettings.from_values(
        calling_hours_start="07:30", calling_hours_end="19:00", calling_holidays=["2026-04-14", " 2026-04-15 "]
    )
    hours = CallingHours.of(settings)
    assert hours.next_open(pp(date(2026, 4, 13), "19:00")) == pp(date(2026, 4, 16), "07:30")


def test_start_equal_to_end_means_any_time_but_holidays_still_count() -> None:
    always = CallingHours(time(0, 0), time(0, 0))
    assert always.next_open(pp(TUESDAY, "03:00")) == pp(TUESDAY, "03:00")
    holiday = CallingHours(time(0, 0), time(0, 0), frozenset({TUESDAY}))
    assert holiday.next_open(pp(TUESDAY, "03:00")) == pp(WEDNESDAY, "00:00")


@pytest.mark.parametrize(
    ("asked_at", "expected"),
    [
        (pp(TUESDAY, "10:00"), pp(WEDNESDAY, "10:00")),  # tomorrow at the same time
        (pp(TUESDAY, "19:59"), pp(WEDNESDAY, "19:59")),
        # A worker who rang us outside hours: tomorrow at that time is outside too → tomorrow's opening is
        # too early for "the same time", so the call waits for the first moment allowed after it.
        (pp(TUESDAY, "21:30"), pp(date(2026, 3, 12), "08:00")),
        (pp(TUESDAY, "06:00"), pp(WEDNESDAY, "08:00")),
    ],
)
def test_callback_tomorrow_at_the_same_time_is_moved_into_calling_hours(asked_at: datetime, expected: datetime) -> None:
    # What the menu's 3 asks for (dialer.ivr.flows): now + one day, moved into calling hours by schedule_callback.
    assert HOURS.next_open(asked_at + timedelta(days=1)) == expected


def test_callback_tomorrow_on_a_holiday_waits_for_the_next_working_morning() -> None:
    hours = CallingHours(time(8, 0), time(20, 0), KHMER_NEW_YEAR)
    assert hours.next_open(pp(date(2026, 4, 13), "15:00") + timedelta(days=1)) == pp(date(2026, 4, 17), "08:00")


def test_next_day_opening_after_the_daily_cap() -> None:
    assert HOURS.next_day_opening(pp(TUESDAY, "09:00")) == pp(WEDNESDAY, "08:00")
    # 00:30 local is already Wednesday there: the cap resets on Thursday.
    assert HOURS.next_day_opening(pp(WEDNESDAY, "00:30")) == pp(date(2026, 3, 12), "08:00")
    hours = CallingHours(time(8, 0), time(20, 0), KHMER_NEW_YEAR)
    assert hours.next_day_opening(pp(date(2026, 4, 13), "11:00")) == pp(date(2026, 4, 17), "08:00")


def test_start_of_day_is_phnom_penh_midnight() -> None:
    assert HOURS.start_of_day(pp(WEDNESDAY, "00:30")) == pp(WEDNESDAY, "00:00")
    assert HOURS.start_of_day(datetime(2026, 3, 10, 16, 59, tzinfo=UTC)) == pp(TUESDAY, "00:00")
    assert HOURS.start_of_day(datetime(2026, 3, 10, 17, 0, tzinfo=UTC)) == pp(WEDNESDAY, "00:00")
