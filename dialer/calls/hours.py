"""Calling hours in Phnom Penh time, with configured holidays skipped."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dialer.settings import DialerSettings
from jobs_core.clock import PHNOM_PENH


@dataclass(frozen=True)
class CallingHours:
    start: time
    end: time
    holidays: frozenset[date] = frozenset()
    zone: ZoneInfo = PHNOM_PENH

    @classmethod
    def of(cls, settings: DialerSettings) -> CallingHours:
        return cls(settings.calling_hours_start, settings.calling_hours_end, settings.holidays)

    def is_open(self, at: datetime) -> bool:
        """May a call be placed at this instant?"""
        here = at.astimezone(self.zone)
        if here.date() in self.holidays:
            return False
        # start == end means "any time of day" (tests and operators who schedule elsewhere).
        return self.start == self.end or self.start <= here.time() < self.end

    def next_open(self, at: datetime) -> datetime:
        """``at`` itself when calls are allowed then, else the next opening of calling hours."""
        if self.is_open(at):
            return at
        here = at.astimezone(self.zone)
        day = here.date() if here.time() < self.start else here.date() + timedelta(days=1)
        while day in self.holidays:
            day += timedelta(days=1)
        return datetime.combine(day, self.start, tzinfo=self.zone).astimezone(at.tzinfo)

    def next_day_opening(self, at: datetime) -> datetime:
        """The first opening on a later local day than ``at`` (a daily cap was reached)."""
        here = at.astimezone(self.zone)
        tomorrow = datetime.combine(here.date() + timedelta(days=1), time(0), tzinfo=self.zone)
        return self.next_open(tomorrow).astimezone(at.tzinfo)

    def start_of_day(self, at: datetime) -> datetime:
        return datetime.combine(at.astimezone(self.zone).date(), time(0), tzinfo=self.zone)
