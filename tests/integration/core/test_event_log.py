"""The one event log: per-consumer marks, retries with backoff, dead letters, concurrent claims."""

from __future__ import annotations

import asyncio
import collections
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.calls import scheduling
from dialer.calls.scheduling import consume_events
from dialer.settings import DialerSettings
from jobs_core.event_log import DEAD_LETTERED, Consumer, consume_once, is_handled
from jobs_core.model import Call, CallPurpose, Event, EventMark
from tests.integration.dialer.support import NOW, add_employer, add_job, add_worker, phone

Seen = collections.Counter[int]


async def _emit(sessions: async_sessionmaker[AsyncSession], kind: str, n: int, at: datetime) -> list[int]:
    async with sessions() as session, session.begin():
        events = [Event(kind=kind, payload={"n": i}, created_at=at) for i in range(n)]
        session.add_all(events)
        await session.flush()
        return [e.id for e in events]


def _counting(name: str, kind: str = "thing.happened") -> tuple[Consumer[Seen], Seen]:
    seen: Seen = collections.Counter()

    async def handle(session: AsyncSession, event: Event, context: Seen) -> None:
        context[event.id] += 1
        await asyncio.sleep(0.002)  # let a concurrent round of the same consumer run meanwhile

    return Consumer(name, {kind: handle}), seen


async def _mark(sessions: async_sessionmaker[AsyncSession], consumer: str, event_id: int) -> EventMark | None:
    async with sessions() as session:
        return await session.get(EventMark, (consumer, event_id))


async def test_two_consumers_each_handle_an_event_once(session_factory: async_sessionmaker[AsyncSession]) -> None:
    ids = await _emit(session_factory, "thing.happened", 3, NOW)
    (alerts, alerted), (calls, called) = _counting("alerts"), _counting("calls")
    assert await consume_once(session_factory, alerts, alerted, NOW) == 3
    assert await consume_once(session_factory, calls, called, NOW) == 3
    for consumer, context in ((alerts, alerted), (calls, called)):  # again: nothing left for either
        assert await consume_once(session_factory, consumer, context, NOW) == 0
    assert alerted == called == {i: 1 for i in ids}


async def test_concurrent_rounds_of_one_consumer_never_handle_an_event_twice(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    ids = await _emit(session_factory, "thing.happened", 300, NOW)
    consumer, seen = _counting("alerts")
    claimed_by: list[int] = [0, 0, 0]

    async def process(index: int) -> None:  # one "process": its own sessions, rounds until nothing is left
        while claimed := await consume_once(session_factory, consumer, seen, NOW, batch=10):
            claimed_by[index] += claimed

    await asyncio.gather(*(process(i) for i in range(3)))
    assert seen == {i: 1 for i in ids}
    assert sum(claimed_by) == len(ids)
    assert sum(1 for n in claimed_by if n) >= 2  # the rounds did overlap: the claims were shared


async def test_a_failing_handler_is_retried_after_backoff_and_never_marked_handled_meanwhile(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    [event_id] = await _emit(session_factory, "thing.happened", 1, NOW)
    tries: list[datetime] = []

    async def flaky(session: AsyncSession, event: Event, now: datetime) -> None:
        tries.append(now)
        session.add(Event(kind="thing.followed", payload={}, created_at=now))  # rolled back with the failure
        if len(tries) == 1:
            raise ConnectionResetError("the other side hung up")

    consumer = Consumer("alerts", {"thing.happened": flaky}, retry_first=timedelta(seconds=30))
    assert await consume_once(session_factory, consumer, NOW, NOW) == 1
    mark = await _mark(session_factory, "alerts", event_id)
    assert mark is not None and mark.handled_at is None and mark.attempts == 1
    assert mark.last_error == "ConnectionResetError: the other side hung up"
    assert mark.next_attempt_at == NOW + timedelta(seconds=30)
    later = NOW + timedelta(seconds=29)
    assert await consume_once(session_factory, consumer, later, later) == 0  # not before the backoff
    retry = NOW + timedelta(seconds=30)
    assert await consume_once(session_factory, consumer, retry, retry) == 1
    assert tries == [NOW, retry]
    async with session_factory() as session:
        assert await is_handled(session, "alerts", event_id)
        followed = (await session.scalars(select(Event.created_at).where(Event.kind == "thing.followed"))).all()
    assert followed == [retry]  # the failed try left nothing behind


async def test_after_the_last_try_an_event_is_dead_lettered_with_an_alarm_event(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    [event_id] = await _emit(session_factory, "thing.happened", 1, NOW)

    async def broken(session: AsyncSession, event: Event, context: None) -> None:
        raise KeyError("job_id")

    consumer = Consumer("alerts", {"thing.happened": broken}, max_attempts=3)
    now = NOW
    for _ in range(3):
        assert await consume_once(session_factory, consumer, None, now) == 1
        now += timedelta(hours=1)  # past any backoff
    assert await consume_once(session_factory, consumer, None, now + timedelta(days=1)) == 0  # never again
    mark = await _mark(session_factory, "alerts", event_id)
    assert mark is not None and mark.attempts == 3 and mark.dead_at is not None and mark.handled_at is None
    async with session_factory() as session:
        alarms = (await session.scalars(select(Event.payload).where(Event.kind == DEAD_LETTERED))).all()
        assert not await is_handled(session, "alerts", event_id)
    assert alarms == [
        {
            "consumer": "alerts",
            "event_id": event_id,
            "kind": "thing.happened",
            "attempts": 3,
            "error": "KeyError: 'job_id'",
        }
    ]


async def test_a_published_job_whose_scheduling_fails_once_still_gets_its_pitch_calls(
    session_factory: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, a failed ``job.published`` was marked handled anyway: nobody was ever pitched that job."""
    employer = await add_employer(session_factory)
    job = await add_job(session_factory, employer)
    worker, _ = await add_worker(session_factory, phone(1))
    real = scheduling.schedule_job
    failures = ["deadlock detected"]

    async def once_deadlocked(*args: object, **kwargs: object) -> int:
        if failures:
            raise RuntimeError(failures.pop())
        return await real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(scheduling, "schedule_job", once_deadlocked)
    await _emit_published(session_factory, job)
    settings = DialerSettings()
    await consume_events(session_factory, settings, NOW)
    assert await _pitches(session_factory, worker) == []
    await consume_events(session_factory, settings, NOW + timedelta(minutes=1))  # the retry is due
    assert await _pitches(session_factory, worker) == [[job]]


async def _emit_published(sessions: async_sessionmaker[AsyncSession], job_id: int) -> None:
    async with sessions() as session, session.begin():
        session.add(Event(kind="job.published", payload={"job_id": job_id}, created_at=NOW))


async def _pitches(sessions: async_sessionmaker[AsyncSession], worker_id: int) -> list[list[int]]:
    async with sessions() as session:
        calls = await session.scalars(
            select(Call).where(Call.worker_id == worker_id, Call.purpose == CallPurpose.JOB_PITCH)
        )
        return [call.job_ids for call in calls.all()]


async def test_a_statement_failing_in_one_handler_does_not_stop_the_rest_of_the_batch(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    first, second = await _emit(session_factory, "thing.happened", 2, NOW)

    async def divide(session: AsyncSession, event: Event, context: None) -> None:
        await session.execute(text("SELECT 1 / :n"), {"n": event.payload["n"]})  # n = 0 for the first event

    consumer = Consumer("alerts", {"thing.happened": divide})
    assert await consume_once(session_factory, consumer, None, NOW) == 2
    failed, handled = await _mark(session_factory, "alerts", first), await _mark(session_factory, "alerts", second)
    assert failed is not None and failed.handled_at is None and "division by zero" in (failed.last_error or "")
    assert handled is not None and handled.handled_at == NOW
