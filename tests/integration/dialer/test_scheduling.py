"""schedule_job: one set-based statement pitching a newly published job to every worker who fits it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.calls.hours import CallingHours
from dialer.calls.scheduling import schedule_job
from dialer.settings import DialerSettings
from jobs_core.model import Call, CallAttempt, CallPurpose, CallStatus, Consent, JobPitch, Nomination, Relative, Worker
from jobs_core.model.people import Channel, Relationship
from tests.integration.dialer.support import NOW, add_employer, add_job, add_worker, phone

SETTINGS = DialerSettings()
HOURS = CallingHours.of(SETTINGS)


async def _schedule(sessions: async_sessionmaker[AsyncSession], job: int, now: datetime = NOW) -> int:
    async with sessions() as session, session.begin():
        return await schedule_job(session, job, now, SETTINGS, HOURS)


async def test_every_fitting_consented_worker_gets_one_call_and_one_pitch(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    employer = await add_employer(session_factory)
    job = await add_job(session_factory, employer, province="12", sector="manufacturing")
    fits = [(await add_worker(session_factory, phone(n)))[0] for n in range(1, 4)]
    await add_worker(session_factory, phone(10), province="03")  # elsewhere
    await add_worker(session_factory, phone(11), consent=Consent.PENDING)  # not asked yet
    await add_worker(session_factory, phone(12), consent=Consent.OPTED_OUT)
    other_sector, _ = await add_worker(session_factory, phone(13))
    async with session_factory() as session, session.begin():
        worker = await session.get(Worker, other_sector)
        assert worker is not None
        worker.sectors = ["construction"]
    assert await _schedule(session_factory, job) == 3
    async with session_factory() as session:
        calls = list((await session.scalars(select(Call).order_by(Call.worker_id))).all())
        pitches = {p.worker_id: p for p in (await session.scalars(select(JobPitch))).all()}
        nominations = {n.worker_id: n.id for n in (await session.scalars(select(Nomination))).all()}
    assert [c.worker_id for c in calls] == fits
    for call in calls:
        assert (call.purpose, call.status, call.job_ids, call.attempts) == (
            CallPurpose.JOB_PITCH,
            CallStatus.PENDING,
            [job],
            0,
        )
        assert call.next_attempt_at == NOW and call.keys == [] and call.flow_state == {}
        assert pitches[call.worker_id].call_id == call.id and pitches[call.worker_id].job_id == job
        assert call.nomination_id == nominations[call.worker_id]


async def test_the_latest_nomination_names_the_recommender(session_factory: async_sessionmaker[AsyncSession]) -> None:
    employer = await add_employer(session_factory)
    job = await add_job(session_factory, employer)
    worker, first = await add_worker(session_factory, phone(1))
    async with session_factory() as session, session.begin():
        relative = Relative(channel=Channel.TELEGRAM, external_id="tg-later", name="Vanna")
        session.add(relative)
        await session.flush()
        later = Nomination(
            worker_id=worker,
            relative_id=relative.id,
            relation=Relationship.FRIEND,
            created_at=datetime.now(UTC) + timedelta(days=1),
        )
        session.add(later)
        await session.flush()
        later_id = later.id
    assert await _schedule(session_factory, job) == 1
    async with session_factory() as session:
        call = await session.scalar(select(Call))
    assert call is not None and call.nomination_id == later_id != first


async def test_scheduling_twice_pitches_nobody_twice(session_factory: async_sessionmaker[AsyncSession]) -> None:
    employer = await add_employer(session_factory)
    job = await add_job(session_factory, employer)
    for n in range(1, 4):
        await add_worker(session_factory, phone(n))
    assert await _schedule(session_factory, job) == 3
    await add_worker(session_factory, phone(4))
    assert await _schedule(session_factory, job) == 1  # only the newcomer
    assert await _schedule(session_factory, job) == 0
    async with session_factory() as session:
        assert len((await session.scalars(select(Call))).all()) == 4


async def test_a_worker_at_todays_call_cap_still_hears_of_the_job_later(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    employer = await add_employer(session_factory)
    job = await add_job(session_factory, employer)
    worker, _ = await add_worker(session_factory, phone(1))
    async with session_factory() as session, session.begin():
        for attempt in (1, 2):
            call = Call(worker_id=worker, purpose=CallPurpose.CHECKIN, status=CallStatus.COMPLETED, attempts=attempt)
            session.add(call)
            await session.flush()
            session.add(CallAttempt(call_id=call.id, attempt=attempt, worker_id=worker, placed_at=NOW))
    # The claim moves the call to tomorrow (the daily cap); scheduling must not drop the worker.
    assert await _schedule(session_factory, job) == 1


async def test_outside_calling_hours_the_calls_wait_for_the_morning(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    employer = await add_employer(session_factory)
    evening = NOW + timedelta(hours=11)  # 21:00 in Phnom Penh
    job = await add_job(session_factory, employer, now=evening)
    await add_worker(session_factory, phone(1))
    assert await _schedule(session_factory, job, evening) == 1
    async with session_factory() as session:
        call = await session.scalar(select(Call))
    assert call is not None and call.next_attempt_at == NOW + timedelta(days=1) - timedelta(hours=2)


async def test_a_job_no_longer_live_schedules_nothing(session_factory: async_sessionmaker[AsyncSession]) -> None:
    employer = await add_employer(session_factory)
    job = await add_job(session_factory, employer)
    await add_worker(session_factory, phone(1))
    assert await _schedule(session_factory, job, NOW + timedelta(days=31)) == 0
    assert await _schedule(session_factory, 10**6) == 0
