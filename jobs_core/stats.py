"""Monthly figures, the ones Bong Pheak reported: active relatives per channel, jobs, applications, calls, hires."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import ColumnElement, DateTime, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from jobs_core.clock import PHNOM_PENH
from jobs_core.model import (
    Application,
    ApplicationStatus,
    AuditEntry,
    Call,
    CallAttempt,
    Job,
    Relative,
    RelativeActivity,
)


@dataclass
class MonthStats:
    month: date
    active_relatives: dict[str, int] = field(default_factory=dict)
    jobs_published: int = 0
    applications: dict[str, int] = field(default_factory=dict)
    calls_placed: int = 0
    calls_answered: int = 0
    hires: int = 0
    shares: dict[str, int] = field(default_factory=dict)  # jobs shared, by the sharer's channel

    def as_dict(self) -> dict[str, object]:
        return {
            "month": self.month.strftime("%Y-%m"),
            "active_relatives": self.active_relatives,
            "jobs_published": self.jobs_published,
            "applications": self.applications,
            "calls_placed": self.calls_placed,
            "calls_answered": self.calls_answered,
            "hires": self.hires,
            "shares": self.shares,
        }


def _month(column: ColumnElement[datetime] | InstrumentedAttribute[datetime | None]) -> ColumnElement[datetime]:
    """First day of the Phnom Penh month of a timestamptz column."""
    return func.date_trunc("month", func.timezone(str(PHNOM_PENH), column), type_=DateTime)


async def monthly_stats(session: AsyncSession) -> list[MonthStats]:
    """Every month with any activity, oldest first."""
    months: dict[date, MonthStats] = defaultdict(lambda: MonthStats(date.min))

    def at(value: object) -> MonthStats:
        key = value.date() if hasattr(value, "date") else value
        assert isinstance(key, date)
        stats = months[key]
        stats.month = key
        return stats

    for month, channel, count in await session.execute(
        select(RelativeActivity.month, Relative.channel, func.count())
        .join(Relative, Relative.id == RelativeActivity.relative_id)
        .group_by(RelativeActivity.month, Relative.channel)
    ):
        at(month).active_relatives[channel.value] = count
    published = _month(Job.published_at)
    for month, count in await session.execute(
        select(published, func.count()).where(Job.published_at.is_not(None)).group_by(published)
    ):
        at(month).jobs_published = count
    # An application counts when the worker said yes; one still awaiting them (or never confirmed) does not.
    confirmed = _month(Application.confirmed_at)
    for month, channel, count in await session.execute(
        select(confirmed, Application.channel, func.count())
        .where(Application.confirmed_at.is_not(None))
        .group_by(confirmed, Application.channel)
    ):
        at(month).applications[channel.value] = count
    # Every try counts as a call placed (a retried call is several); answered is counted once per call.
    placed = _month(CallAttempt.placed_at)
    for month, count in await session.execute(select(placed, func.count()).group_by(placed)):
        at(month).calls_placed = count
    answered = _month(Call.answered_at)
    # An answering machine picks up too (the provider says in-progress): the try it answered ends as "machine".
    voicemail = (
        select(CallAttempt.call_id)
        .where(CallAttempt.call_id == Call.id, CallAttempt.attempt == Call.attempts, CallAttempt.outcome == "machine")
        .exists()
    )
    for month, count in await session.execute(
        select(answered, func.count()).where(Call.answered_at.is_not(None), ~voicemail).group_by(answered)
    ):
        at(month).calls_answered = count
    hired = _month(Application.status_changed_at)
    for month, count in await session.execute(
        select(hired, func.count()).where(Application.status == ApplicationStatus.HIRED).group_by(hired)
    ):
        at(month).hires = count
    # A share is audited by the channel it happened in (a Telegram inline share, a Messenger m.me link that
    # brought someone to a job); the actor is "<channel>:<id>".
    shared, sharer = _month(AuditEntry.at), func.split_part(AuditEntry.actor, ":", 1)
    for month, via, count in await session.execute(
        select(shared, sharer, func.count()).where(AuditEntry.action == "job.shared").group_by(shared, sharer)
    ):
        at(month).shares[str(via)] = count
    return [months[m] for m in sorted(months)]
