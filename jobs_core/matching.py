"""Who should hear about a job: consented workers to call, and relatives whose alerts match.

One SQL statement per question so it stays fast at national scale (see bench/bench_matching.py and
docs/performance.md): the partial index on consented workers by (province, id), carrying the filtered columns,
yields a province's workers in id order so a batch stops early; "already pitched" is a hashed anti-join on
this job's few pitches, and the daily cap an index probe per candidate.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from jobs_core.clock import local_date, start_of_local_day
from jobs_core.errors import NotFound
from jobs_core.model import (
    CallAttempt,
    Consent,
    GenderPreference,
    Job,
    JobPitch,
    JobStatus,
    Relative,
    Subscription,
    Worker,
)

DEFAULT_DAILY_CALL_CAP = 2


def eligible_workers_query(
    job: Job,
    now: datetime,
    daily_cap: int | None = DEFAULT_DAILY_CALL_CAP,
    limit: int | None = None,
    after_id: int = 0,
) -> Select[int]:
    """Ids of consented workers who fit the job, were never pitched it and are under today's call cap.

    In id order from ``after_id``, so callers page through a big province in batches (keyset paging).
    ``daily_cap=None`` leaves today's calls out (scheduling, where the cap is applied when a call is placed).
    """
    query = select(Worker.id).where(Worker.consent == Consent.CONSENTED, Worker.id > after_id)
    if job.province_code is not None:
        query = query.where(Worker.province_code == job.province_code)
    # `sectors = '{}'` rather than `cardinality(sectors) = 0`: the same rows, but the planner estimates it from the
    # column statistics instead of a default guess, and so picks the id-ordered index scan.
    query = query.where(or_(Worker.sectors.contains([job.sector_code]), Worker.sectors == []))
    if job.gender is not GenderPreference.ANY:
        query = query.where(Worker.gender == job.gender.value)
    # Age in years this calendar year (in Phnom Penh): birth year is all we ask relatives for.
    this_year = local_date(now).year
    if job.min_age is not None:
        query = query.where(Worker.birth_year <= this_year - job.min_age)
    if job.max_age is not None:
        query = query.where(Worker.birth_year >= this_year - job.max_age)
    pitched = select(JobPitch.worker_id).where(JobPitch.job_id == job.id)
    # Checked per candidate with an index probe: cheaper than counting all of today's calls on every query.
    calls_today = (
        select(func.count())
        .select_from(CallAttempt)
        .where(CallAttempt.worker_id == Worker.id, CallAttempt.placed_at >= start_of_local_day(now))
        .scalar_subquery()
    )
    query = query.where(Worker.id.not_in(pitched))
    if daily_cap is not None:
        query = query.where(calls_today < daily_cap)
    query = query.order_by(Worker.id)
    return query.limit(limit) if limit is not None else query


async def eligible_workers(
    session: AsyncSession,
    job_id: int,
    now: datetime,
    daily_cap: int = DEFAULT_DAILY_CALL_CAP,
    limit: int | None = 1000,
    after_id: int = 0,
) -> list[int]:
    """The next batch of workers the dialer may call about this job now (``limit=None``: all of them)."""
    job = await session.get(Job, job_id)
    if job is None:
        raise NotFound("job", job_id)
    if not job.is_live(now):
        return []
    return list((await session.scalars(eligible_workers_query(job, now, daily_cap, limit, after_id))).all())


def jobs_fitting_worker(worker: Worker, now: datetime) -> list[ColumnElement[bool]]:
    """SQL conditions on ``jobs`` for the live jobs a worker fits: the same rules as ``eligible_workers_query``,
    seen from the worker's side (kept here beside it so the two never drift apart)."""
    conditions: list[ColumnElement[bool]] = [
        Job.status == JobStatus.PUBLISHED,
        or_(Job.expires_at.is_(None), Job.expires_at > now),
        or_(Job.province_code.is_(None), Job.province_code == worker.province_code),
        or_(Job.gender == GenderPreference.ANY, Job.gender == GenderPreference(worker.gender.value)),
        or_(Job.min_age.is_(None), Job.min_age <= local_date(now).year - worker.birth_year),
        or_(Job.max_age.is_(None), Job.max_age >= local_date(now).year - worker.birth_year),
    ]
    if worker.sectors:
        conditions.append(Job.sector_code.in_(worker.sectors))
    return conditions


async def matching_subscribers(session: AsyncSession, job: Job) -> list[Relative]:
    """Reachable relatives with an alert for this job's province and sector (None in a subscription = any)."""
    match = exists().where(
        and_(
            Subscription.relative_id == Relative.id,
            or_(Subscription.province_code.is_(None), Subscription.province_code == job.province_code),
            or_(Subscription.sector_code.is_(None), Subscription.sector_code == job.sector_code),
        )
    )
    rows = await session.scalars(
        select(Relative)
        .where(match, Relative.unreachable.is_(False), Relative.stopped.is_(False))
        .order_by(Relative.id)
    )
    return list(rows.all())
