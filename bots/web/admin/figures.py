"""The dashboard's tables: the monthly figures of ``bongpheak stats`` (read by the same function, so the two
cannot disagree) with what else the database knows per month, and the same counts by province and by sector.

Every table is a :class:`Table` of plain cells, shown as HTML, drawn as a chart and downloaded as CSV alike.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, DateTime, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from jobs_core import geo
from jobs_core.clock import PHNOM_PENH
from jobs_core.model import (
    Application,
    ApplicationStatus,
    AuditEntry,
    Consent,
    Currency,
    Job,
    Nomination,
    Sector,
    Worker,
)
from jobs_core.model.web import WebCount, WebVisitor
from jobs_core.pricing import Money
from jobs_core.services.billing import revenue_rows
from jobs_core.stats import monthly_stats

CHANNELS = ("telegram", "messenger", "ivr", "web")
MONTH_COLUMNS = (
    "month",
    *(f"relatives active: {c}" for c in ("telegram", "messenger")),
    "jobs published",
    "employers listing",
    *(f"applications: {c}" for c in CHANNELS),
    "nominations",
    "workers consented",
    "shares",
    "website visitors",  # distinct per day (the hash's salt changes daily), summed over the month's days
    "website job views",
    "website voice plays",
    "website shares",
    "calls placed",
    "calls answered",
    "hires",
)
PLACE_COLUMNS = ("jobs published", "employers listing", "applications", "hires")


@dataclass(frozen=True)
class Table:
    """Rows of figures: the first column names the row (a month, a province, a sector)."""

    name: str  # in URLs: /admin/figures/<name>.csv
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str | int, ...]]

    def column(self, title: str) -> list[str | int]:
        i = self.columns.index(title)
        return [row[i] for row in self.rows]


def _local_month(column: Any) -> ColumnElement[datetime]:
    """First day of the Phnom Penh month of a timestamptz column (as jobs_core.stats counts months)."""
    return func.date_trunc("month", func.timezone(str(PHNOM_PENH), column), type_=DateTime)


def _day(value: object) -> date:
    return value.date() if isinstance(value, datetime) else value  # type: ignore[return-value]


async def _per_month(session: AsyncSession, query: Select[datetime, int]) -> dict[date, int]:
    return {_day(month): count for month, count in await session.execute(query)}


async def monthly_table(session: AsyncSession) -> Table:
    """One row per month with any activity, oldest first."""
    stats = {m.month: m for m in await monthly_stats(session)}
    nominated = _local_month(Nomination.created_at)
    nominations = await _per_month(session, select(nominated, func.count()).group_by(nominated))
    consented_at = _local_month(Worker.consent_changed_at)
    consented = await _per_month(
        session,
        select(consented_at, func.count()).where(Worker.consent == Consent.CONSENTED).group_by(consented_at),
    )
    shared_at = _local_month(AuditEntry.at)
    shares = await _per_month(
        session, select(shared_at, func.count()).where(AuditEntry.action == "job.shared").group_by(shared_at)
    )
    published = _local_month(Job.published_at)
    employers = await _per_month(
        session,
        select(published, func.count(func.distinct(Job.employer_id)))
        .where(Job.published_at.is_not(None), Job.revision_of.is_(None))
        .group_by(published),
    )
    web_month = func.date_trunc("month", WebCount.day, type_=DateTime)
    web: dict[date, dict[str, int]] = {}
    for first_day, kind, total in await session.execute(
        select(web_month, WebCount.kind, func.sum(WebCount.count)).group_by(web_month, WebCount.kind)
    ):
        web.setdefault(_day(first_day), {})[kind] = int(total or 0)
    visit_month = func.date_trunc("month", WebVisitor.day, type_=DateTime)
    visitors = await _per_month(session, select(visit_month, func.count()).group_by(visit_month))
    rows: list[tuple[str | int, ...]] = []
    months = set(stats) | set(nominations) | set(consented) | set(shares) | set(employers) | set(web) | set(visitors)
    for month in sorted(months):
        m = stats.get(month)
        rows.append(
            (
                month.strftime("%Y-%m"),
                *((m.active_relatives.get(c, 0) if m else 0) for c in ("telegram", "messenger")),
                m.jobs_published if m else 0,
                employers.get(month, 0),
                *((m.applications.get(c, 0) if m else 0) for c in CHANNELS),
                nominations.get(month, 0),
                consented.get(month, 0),
                shares.get(month, 0),
                visitors.get(month, 0),
                *(web.get(month, {}).get(kind, 0) for kind in ("view", "play", "share")),
                m.calls_placed if m else 0,
                m.calls_answered if m else 0,
                m.hires if m else 0,
            )
        )
    return Table("monthly", "Per month", MONTH_COLUMNS, rows)


async def _by(session: AsyncSession, key: Any, month: date | None) -> dict[str, dict[str, int]]:
    """The place columns grouped by a job column (province or sector), for one month or all time."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(PLACE_COLUMNS, 0))

    def in_month(column: Any) -> list[ColumnElement[bool]]:
        return [_local_month(column) == month] if month is not None else []

    for value, jobs, employers in await session.execute(
        select(key, func.count(), func.count(func.distinct(Job.employer_id)))
        .where(Job.published_at.is_not(None), Job.revision_of.is_(None), *in_month(Job.published_at))
        .group_by(key)
    ):
        counts[value or "abroad"]["jobs published"] = jobs
        counts[value or "abroad"]["employers listing"] = employers
    for value, applications in await session.execute(
        select(key, func.count())
        .select_from(Application)
        .join(Job, Job.id == Application.job_id)
        .where(Application.confirmed_at.is_not(None), *in_month(Application.confirmed_at))
        .group_by(key)
    ):
        counts[value or "abroad"]["applications"] = applications
    for value, hires in await session.execute(
        select(key, func.count())
        .select_from(Application)
        .join(Job, Job.id == Application.job_id)
        .where(Application.status == ApplicationStatus.HIRED, *in_month(Application.status_changed_at))
        .group_by(key)
    ):
        counts[value or "abroad"]["hires"] = hires
    return counts


async def province_table(session: AsyncSession, month: date | None, language: str) -> Table:
    counts = await _by(session, Job.province_code, month)
    names = {p.code: p.name(language) for p in geo.provinces()}
    rows: list[tuple[str | int, ...]] = [
        (names.get(code, code), *(counts[code][c] for c in PLACE_COLUMNS)) for code in _ordered(counts, names)
    ]
    return Table("provinces", "By province", ("province", *PLACE_COLUMNS), rows)


async def sector_table(session: AsyncSession, month: date | None, language: str) -> Table:
    counts = await _by(session, Job.sector_code, month)
    names = {
        code: (km if language == "km" else en)
        for code, en, km in await session.execute(
            select(Sector.code, Sector.name_en, Sector.name_km).order_by(Sector.position)
        )
    }
    rows: list[tuple[str | int, ...]] = [
        (names.get(code, code), *(counts[code][c] for c in PLACE_COLUMNS)) for code in _ordered(counts, names)
    ]
    return Table("sectors", "By sector", ("sector", *PLACE_COLUMNS), rows)


def _ordered(counts: dict[str, dict[str, int]], names: dict[str, str]) -> Sequence[str]:
    """Places and sectors in their usual order, only those with anything to count."""
    known = [code for code in names if code in counts]
    return known + sorted(code for code in counts if code not in names)


async def revenue_table(session: AsyncSession) -> Table:
    """Money received from employers per month, by product and currency (paid listings; workers never pay).
    Amounts in the currency's units: dollars with cents, whole riel."""
    rows: list[tuple[str | int, ...]] = []
    for r in await revenue_rows(session):
        currency = Currency(r.currency)
        rows.append(
            (
                r.month.strftime("%Y-%m"),
                r.product,
                r.currency,
                str(Money(currency, r.paid_minor).major()),
                str(Money(currency, r.refunded_minor).major()),
            )
        )
    return Table("revenue", "Revenue per month", ("month", "product", "currency", "received", "refunded"), rows)


async def all_tables(session: AsyncSession, month: date | None, language: str) -> list[Table]:
    return [
        await monthly_table(session),
        await province_table(session, month, language),
        await sector_table(session, month, language),
        await revenue_table(session),
    ]
