"""Turning domain events into call rows: consent calls, job pitches, callbacks, post-hire check-ins and
outcome calls.

The dialer is consumer ``"dialer"`` of the one event log (``jobs_core.event_log``): its ``{kind: handler}``
table is ``HANDLERS``; claims, retries with backoff and dead letters are the log's business.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, Select, delete, func, literal, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.calls.hours import CallingHours
from dialer.settings import DialerSettings
from jobs_core.event_log import Consumer, Handler, consume_once
from jobs_core.matching import eligible_workers_query, jobs_fitting_worker
from jobs_core.model import (
    Application,
    ApplicationStatus,
    Call,
    CallPurpose,
    CallRequest,
    CallStatus,
    Consent,
    Event,
    Job,
    JobPitch,
    JobStatus,
    Nomination,
    Worker,
)

log = logging.getLogger(__name__)

CONSUMER = "dialer"
# How long a relative's "call my family member about this job" waits for the worker's consent.
CALL_REQUEST_WINDOW = timedelta(days=30)
OPEN_STATUSES = (CallStatus.PENDING, CallStatus.RETRY_WAIT, CallStatus.QUEUED, CallStatus.IN_PROGRESS)


async def latest_nomination(session: AsyncSession, worker_id: int) -> int | None:
    """The most recent nomination of a worker: its relative is named as the recommender."""
    return await session.scalar(
        select(Nomination.id)
        .where(Nomination.worker_id == worker_id)
        .order_by(Nomination.created_at.desc(), Nomination.id.desc())
        .limit(1)
    )


def new_call(
    worker_id: int,
    purpose: CallPurpose,
    at: datetime,
    now: datetime,
    *,
    job_ids: Sequence[int] = (),
    nomination_id: int | None = None,
    application_id: int | None = None,
) -> Call:
    return Call(
        worker_id=worker_id,
        purpose=purpose,
        job_ids=list(job_ids),
        nomination_id=nomination_id,
        application_id=application_id,
        status=CallStatus.PENDING,
        attempts=0,
        next_attempt_at=at,
        keys=[],
        flow_state={},
        created_at=now,
    )


async def schedule_consent_call(
    session: AsyncSession, worker_id: int, nomination_id: int | None, now: datetime, hours: CallingHours
) -> int | None:
    """A consent call for a worker whose consent is still to be asked, unless one is already open."""
    worker = await session.get(Worker, worker_id, with_for_update=True)
    if worker is None or worker.consent not in (Consent.PENDING, Consent.DECLINED):
        return None
    open_call = await session.scalar(
        select(Call.id).where(
            Call.worker_id == worker_id, Call.purpose == CallPurpose.CONSENT, Call.status.in_(OPEN_STATUSES)
        )
    )
    if open_call is not None:
        return None
    call = new_call(worker_id, CallPurpose.CONSENT, hours.next_open(now), now, nomination_id=nomination_id)
    session.add(call)
    await session.flush()
    return call.id


async def schedule_pitches_for_worker(
    session: AsyncSession, worker_id: int, now: datetime, settings: DialerSettings, hours: CallingHours
) -> list[int]:
    """Calls pitching the live jobs a newly consented worker matches (a few jobs per call)."""
    worker = await session.get(Worker, worker_id, with_for_update=True)
    if worker is None or worker.consent is not Consent.CONSENTED:
        return []
    pitched = select(JobPitch.job_id).where(JobPitch.worker_id == worker_id)
    # Applications relatives made for this worker wait for their 1: those jobs are pitched even if heard before.
    awaiting = await awaiting_jobs(session, worker_id)
    # Jobs a relative asked us to call about come first, whether or not they match the worker's profile.
    requested = await requested_jobs(session, worker_id, now)
    live_requested = list(
        (
            await session.scalars(
                select(Job.id).where(
                    Job.id.in_(requested),
                    Job.status == JobStatus.PUBLISHED,
                    (Job.expires_at.is_(None)) | (Job.expires_at > now),
                    Job.id.not_in(pitched) | Job.id.in_(awaiting or [0]),
                )
            )
        ).all()
    )
    job_ids = list(
        (
            await session.scalars(
                select(Job.id)
                .where(*jobs_fitting_worker(worker, now), Job.id.not_in(pitched), Job.id.not_in(live_requested or [0]))
                .order_by(Job.published_at.desc(), Job.id.desc())
                .limit(settings.jobs_per_call * 3)
            )
        ).all()
    )
    return await _pitch_calls(
        session,
        worker_id,
        live_requested + job_ids,
        now,
        settings,
        hours,
        again=[j for j in live_requested if j in awaiting],
    )


async def awaiting_jobs(session: AsyncSession, worker_id: int) -> list[int]:
    """Jobs with an application a relative made for this worker, still waiting for the worker's 1."""
    rows = await session.scalars(
        select(Application.job_id).where(
            Application.worker_id == worker_id, Application.status == ApplicationStatus.AWAITING_WORKER
        )
    )
    return list(rows.all())


async def requested_jobs(session: AsyncSession, worker_id: int, now: datetime) -> list[int]:
    """Jobs relatives asked us to call this worker about (recently), newest request first."""
    rows = await session.scalars(
        select(CallRequest.job_id)
        .where(CallRequest.worker_id == worker_id, CallRequest.created_at >= now - CALL_REQUEST_WINDOW)
        .order_by(CallRequest.id.desc())
    )
    return list(dict.fromkeys(rows.all()))


async def schedule_requested_call(
    session: AsyncSession, payload: dict[str, Any], now: datetime, settings: DialerSettings, hours: CallingHours
) -> list[int]:
    """A relative asked us to call a family member about one job: pitch it if they consented, else ask first.

    Consent still comes first: a worker not yet asked gets the consent call, and the requested job is pitched
    once they press 1 (``schedule_pitches_for_worker`` reads the request). Opted-out workers are never called.
    When the relative applied for them (``application_id``), the pitch asks the worker to confirm with 1; it is
    made even if the job was pitched before, unless a call carrying it is already on its way.
    """
    worker_id, job_id = int(payload["worker_id"]), int(payload["job_id"])
    nomination_id = payload.get("nomination_id")
    worker = await session.get(Worker, worker_id)
    if worker is None or worker.consent is Consent.OPTED_OUT:
        return []
    if worker.consent is not Consent.CONSENTED:
        call_id = await schedule_consent_call(session, worker_id, nomination_id, now, hours)
        return [call_id] if call_id is not None else []
    job = await session.get(Job, job_id)
    if job is None or not job.is_live(now):
        return []
    again = [job_id] if job_id in await awaiting_jobs(session, worker_id) else []
    if again:
        on_its_way = await session.scalar(
            select(Call.id).where(
                Call.worker_id == worker_id,
                Call.status.in_(OPEN_STATUSES),
                Call.purpose.in_((CallPurpose.JOB_PITCH, CallPurpose.CALLBACK)),
                Call.job_ids.contains([job_id]),
            )
        )
        if on_its_way is not None:
            return []
    return await _pitch_calls(
        session,
        worker_id,
        [job_id],
        now,
        settings,
        hours,
        again=again,
        nomination_id=nomination_id,
        application_id=payload.get("application_id") if again else None,
    )


async def _pitch_calls(
    session: AsyncSession,
    worker_id: int,
    job_ids: Sequence[int],
    now: datetime,
    settings: DialerSettings,
    hours: CallingHours,
    purpose: CallPurpose = CallPurpose.JOB_PITCH,
    at: datetime | None = None,
    again: Sequence[int] = (),
    nomination_id: int | None = None,
    application_id: int | None = None,
) -> list[int]:
    """Record one pitch per job (ever) and group the new ones into calls of ``jobs_per_call`` jobs.

    Jobs in ``again`` (an application awaiting the worker's 1) are called about even if pitched before.
    """
    fresh: list[int] = []
    for job_id in job_ids:
        inserted = await session.scalar(
            insert(JobPitch)
            .values(job_id=job_id, worker_id=worker_id, created_at=now)
            .on_conflict_do_nothing(index_elements=["job_id", "worker_id"])
            .returning(JobPitch.id)
        )
        if inserted is not None or (job_id in again and job_id not in fresh):
            fresh.append(job_id)
    if nomination_id is None:
        nomination_id = await latest_nomination(session, worker_id)
    call_ids = []
    step = max(1, settings.jobs_per_call)
    for start in range(0, len(fresh), step):
        chunk = fresh[start : start + step]
        call = new_call(
            worker_id,
            purpose,
            hours.next_open(at or now),
            now,
            job_ids=chunk,
            nomination_id=nomination_id,
            application_id=application_id,
        )
        session.add(call)
        await session.flush()
        await session.execute(
            update(JobPitch).where(JobPitch.worker_id == worker_id, JobPitch.job_id.in_(chunk)).values(call_id=call.id)
        )
        call_ids.append(call.id)
    return call_ids


def _latest_nomination_of(worker_id: Any) -> Any:
    """Scalar subquery: the worker's most recent nomination (an index probe on nominations(worker_id, ...))."""
    return (
        select(Nomination.id)
        .where(Nomination.worker_id == worker_id)
        .order_by(Nomination.created_at.desc(), Nomination.id.desc())
        .limit(1)
        .scalar_subquery()
    )


async def schedule_job(
    session: AsyncSession, job_id: int, now: datetime, settings: DialerSettings, hours: CallingHours
) -> int:
    """Pitch a newly published job to every eligible consented worker, in one set-based statement.

    The workers are ``jobs_core.matching.eligible_workers_query`` (the one definition of who fits a job),
    without its daily cap: the claim enforces that by moving a capped call to the next day. One call per
    worker for this job (jobs are grouped into one call when a worker consents or asks for a callback).
    ``job_pitches`` keeps one row per job per worker, ever (ON CONFLICT DO NOTHING), so a second run or a
    concurrent one schedules nobody twice.

    Linear in the workers: "already pitched" is a hashed NOT IN over this job's pitches, evaluated once. (A
    correlated NOT EXISTS here was planned as a nested loop re-reading ``job_pitches`` while the same
    statement filled it: quadratic, 155 s for 100,000 workers.) Call ids are drawn first so each pitch row
    points at its call; the foreign key is checked at the end of the statement.
    """
    job = await session.get(Job, job_id)
    if job is None or not job.is_live(now):
        return 0
    scheduled = int((await session.execute(pitch_job_statement(job, now, hours))).scalar_one())
    log.info("job %s: %s pitch calls scheduled", job.id, scheduled)
    return scheduled


async def reschedule_reinstated_job(
    session: AsyncSession, job_id: int, now: datetime, settings: DialerSettings, hours: CallingHours
) -> int:
    """A listing back on line after a dismissed report: the pitches it lost while suspended are scheduled again.

    A pitch call whose only job was suspended was canceled before it rang (``attempts`` 0); its
    ``job_pitches`` row is let go so that ``schedule_job`` pitches the job to that worker again, together with
    everyone who came to fit it meanwhile. Pitches that rang are kept: nobody hears a job twice.
    """
    never_rang = select(Call.id).where(Call.status == CallStatus.CANCELED, Call.attempts == 0)
    await session.execute(delete(JobPitch).where(JobPitch.job_id == job_id, JobPitch.call_id.in_(never_rang)))
    return await schedule_job(session, job_id, now, settings, hours)


def pitch_job_statement(job: Job, now: datetime, hours: CallingHours) -> Select[int]:
    """The single statement behind ``schedule_job``: inserts pitches and calls, selects how many calls."""
    # The daily cap is the claim's business (a capped call waits for the next day); scheduling must not leave
    # out a worker who happens to be at today's cap, or they would never hear of the job.
    eligible = eligible_workers_query(job, now, daily_cap=None).subquery("eligible")
    call_id = func.nextval(func.pg_get_serial_sequence("calls", "id"))
    new_pitches = (
        insert(JobPitch)
        .from_select(
            ["job_id", "worker_id", "call_id", "created_at"],
            select(literal(job.id), eligible.c.id, call_id, literal(now, DateTime(timezone=True))),
        )
        .on_conflict_do_nothing(index_elements=["job_id", "worker_id"])
        .returning(JobPitch.worker_id, JobPitch.call_id)
        .cte("new_pitches")
    )
    created = (
        insert(Call)
        .from_select(
            [
                "id",
                "worker_id",
                "purpose",
                "job_ids",
                "nomination_id",
                "status",
                "attempts",
                "next_attempt_at",
                "keys",
                "flow_state",
                "created_at",
            ],
            select(
                new_pitches.c.call_id,
                new_pitches.c.worker_id,
                literal(CallPurpose.JOB_PITCH, Call.purpose.type),
                literal([job.id], JSONB),
                _latest_nomination_of(new_pitches.c.worker_id),
                literal(CallStatus.PENDING, Call.status.type),
                literal(0),
                literal(hours.next_open(now), DateTime(timezone=True)),
                literal([], JSONB),
                literal({}, JSONB),
                literal(now, DateTime(timezone=True)),
            ),
        )
        .returning(Call.id)
        .cte("created")
    )
    return select(func.count()).select_from(created)


async def schedule_checkins(
    session: AsyncSession,
    application_id: int,
    hired_at: datetime,
    now: datetime,
    settings: DialerSettings,
    hours: CallingHours,
) -> list[int]:
    """Post-hire check-in calls some days after the hire (7 and 30 by default), only to a worker who agreed to
    calls (and, through the application, said yes to this job)."""
    application = await session.get(Application, application_id)
    if application is None or application.worker_id is None or application.confirmed_at is None:
        return []
    worker = await session.get(Worker, application.worker_id)
    if worker is None or worker.consent is not Consent.CONSENTED:
        return []
    nomination_id = await latest_nomination(session, application.worker_id)
    ids = []
    for days in settings.checkin_after_days:
        call = new_call(
            application.worker_id,
            CallPurpose.CHECKIN,
            hours.next_open(hired_at + timedelta(days=days)),
            now,
            application_id=application.id,
            job_ids=[application.job_id],
            nomination_id=nomination_id,
        )
        session.add(call)
        await session.flush()
        ids.append(call.id)
    return ids


async def schedule_outcome_call(
    session: AsyncSession, application_id: int, now: datetime, hours: CallingHours
) -> int | None:
    """A short call telling a consented worker the outcome of their application (asked for by
    ``application.outcome_call_requested``), at the next opening of the calling hours; one per application,
    whatever the number of requests."""
    application = await session.get(Application, application_id)
    if application is None or application.worker_id is None:
        return None
    worker = await session.get(Worker, application.worker_id, with_for_update=True)
    if worker is None or worker.consent is not Consent.CONSENTED:
        return None
    made = await session.scalar(
        select(Call.id).where(Call.application_id == application_id, Call.purpose == CallPurpose.OUTCOME)
    )
    if made is not None:
        return None
    call = new_call(
        worker.id,
        CallPurpose.OUTCOME,
        hours.next_open(now),
        now,
        job_ids=[application.job_id],
        application_id=application.id,
        nomination_id=await latest_nomination(session, worker.id),
    )
    session.add(call)
    await session.flush()
    return call.id


async def schedule_callback(
    session: AsyncSession,
    worker_id: int,
    job_ids: Sequence[int],
    at: datetime,
    now: datetime,
    hours: CallingHours,
    nomination_id: int | None = None,
) -> int:
    """A callback the worker asked for (or rang us for): the given jobs, at ``at`` moved into calling hours."""
    if nomination_id is None:
        nomination_id = await latest_nomination(session, worker_id)
    call = new_call(
        worker_id, CallPurpose.CALLBACK, hours.next_open(at), now, job_ids=job_ids, nomination_id=nomination_id
    )
    session.add(call)
    await session.flush()
    return call.id


@dataclass(frozen=True)
class Scheduling:
    """What the dialer's event handlers need besides the session and the event."""

    settings: DialerSettings
    hours: CallingHours
    now: datetime


async def _on_nominated(session: AsyncSession, event: Event, s: Scheduling) -> None:
    payload = event.payload or {}
    await schedule_consent_call(session, int(payload["worker_id"]), payload.get("nomination_id"), s.now, s.hours)


async def _on_consented(session: AsyncSession, event: Event, s: Scheduling) -> None:
    await schedule_pitches_for_worker(session, int(event.payload["worker_id"]), s.now, s.settings, s.hours)


async def _on_published(session: AsyncSession, event: Event, s: Scheduling) -> None:
    await schedule_job(session, int(event.payload["job_id"]), s.now, s.settings, s.hours)


async def _on_reinstated(session: AsyncSession, event: Event, s: Scheduling) -> None:
    await reschedule_reinstated_job(session, int(event.payload["job_id"]), s.now, s.settings, s.hours)


async def _on_call_requested(session: AsyncSession, event: Event, s: Scheduling) -> None:
    await schedule_requested_call(session, event.payload or {}, s.now, s.settings, s.hours)


async def _on_hired(session: AsyncSession, event: Event, s: Scheduling) -> None:
    application_id = int(event.payload["application_id"])
    await schedule_checkins(session, application_id, event.created_at, s.now, s.settings, s.hours)


async def _on_outcome_call_requested(session: AsyncSession, event: Event, s: Scheduling) -> None:
    await schedule_outcome_call(session, int(event.payload["application_id"]), s.now, s.hours)


HANDLERS: dict[str, Handler[Scheduling]] = {
    "worker.nominated": _on_nominated,
    "worker.consented": _on_consented,
    "job.published": _on_published,
    "job.reinstated": _on_reinstated,
    "job.call_requested": _on_call_requested,
    "application.hired": _on_hired,
    "application.outcome_call_requested": _on_outcome_call_requested,
}
SCHEDULER = Consumer(CONSUMER, HANDLERS)


async def consume_events(
    sessions: async_sessionmaker[AsyncSession], settings: DialerSettings, now: datetime, limit: int = 200
) -> int:
    """Schedule calls for new events; returns how many events were claimed. Safe with several dialers.

    A handler that raises (a deadlock with another dialer, a bug) is retried with backoff and, after the
    last try, dead-lettered with an alarm (``jobs_core.event_log``); it is never silently passed over.
    """
    return await consume_once(sessions, SCHEDULER, Scheduling(settings, CallingHours.of(settings), now), now, limit)


def live_job_ids(jobs: Iterable[Job], now: datetime) -> list[int]:
    return [job.id for job in jobs if job.is_live(now)]
