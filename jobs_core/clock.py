"""Cambodian local time: stored datetimes are UTC, days and months are counted in Asia/Phnom_Penh."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

PHNOM_PENH = ZoneInfo("Asia/Phnom_Penh")


def local(at: datetime) -> datetime:
    """The same instant on a Phnom Penh clock, for showing to people."""
    return at.astimezone(PHNOM_PENH)


def local_date(at: datetime) -> date:
    """The Phnom Penh calendar day ``at`` falls on: "today" for start dates, the year for ages.

    Never ``at.date()`` on a UTC time: from 00:00 to 07:00 in Phnom Penh that is still yesterday.
    """
    return local(at).date()


def start_of_local_day(at: datetime) -> datetime:
    """Midnight in Phnom Penh of the day ``at`` falls on (caps like "per day" use this)."""
    return datetime.combine(local_date(at), time(0), tzinfo=PHNOM_PENH)


def month_of(at: datetime) -> date:
    """First day of the Phnom Penh month ``at`` falls in."""
    return local_date(at).replace(day=1)
