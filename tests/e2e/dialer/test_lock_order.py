"""A worker's missed call racing the dialer's claim of that worker's waiting pitch call.

The two meet on the same rows: the worker and their due call. Taken in opposite orders they deadlock, and
PostgreSQL aborts one of them: a failed claim, or a missed call whose callback is lost. Each round lines the
two up on a held worker row (so the race is not left to chance), in both arrival orders.
"""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import select, text

from dialer.calls.placing import claim_due
from dialer.calls.scheduling import consume_events
from jobs_core.model import Call, CallPurpose, CallStatus, Event, Worker
from tests.e2e.dialer.conftest import VoiceStack
from tests.integration.dialer.support import add_employer, add_job, add_worker, phone

OUR_NUMBER = "+85523000000"
ROUNDS = 6
PROVINCES = ["01", "02", "03", "04", "05", "06", "07", "08", "09", "10"]

WAITING_ON_LOCKS = text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


async def _a_worker_with_a_due_pitch(stack: VoiceStack, n: int, province: str) -> tuple[int, int]:
    """A consented worker whose pitch call about a live job (in a province of its own) is due now."""
    employer = await add_employer(stack.sessions)
    job = await add_job(stack.sessions, employer, province=province)
    worker, _ = await add_worker(stack.sessions, phone(n), province=province)
    async with stack.sessions() as session, session.begin():
        session.add(Event(kind="job.published", payload={"job_id": job}, created_at=stack.clock.now()))
    await consume_events(stack.sessions, stack.settings, stack.clock.now())
    return worker, job


async def _settled(stack: VoiceStack, *tasks: asyncio.Future[object]) -> None:
    """Wait until every task has either finished or is waiting for a row lock."""
    for _ in range(2000):
        # A new transaction each time: the statistics views keep one snapshot per transaction.
        async with stack.sessions() as session:
            waiting = int(await session.scalar(WAITING_ON_LOCKS) or 0)
        if waiting >= sum(not task.done() for task in tasks):
            return
        await asyncio.sleep(0.005)
    pytest.fail("the two paths never met on the worker's row")


@pytest.mark.parametrize("missed_call_first", [True, False])
async def test_a_missed_call_and_the_claim_never_deadlock_and_the_callback_is_kept(
    stack: VoiceStack, caplog: pytest.LogCaptureFixture, missed_call_first: bool
) -> None:
    caplog.set_level(logging.WARNING)
    now = stack.clock.now()
    for round_ in range(ROUNDS // 2):
        n = 100 * int(missed_call_first) + round_
        worker, job = await _a_worker_with_a_due_pitch(stack, n, PROVINCES[round_])
        missed_call = stack.simulator.incoming_call(stack.app_url + "/voice/incoming", phone(n), OUR_NUMBER)
        claim = claim_due(stack.sessions, stack.settings, now, 10)
        first, second = (missed_call, claim) if missed_call_first else (claim, missed_call)
        async with stack.sessions() as gate, gate.begin():
            # Another transaction holds the worker's row, so both paths queue on it in a known order.
            await gate.execute(select(Worker.id).where(Worker.id == worker).with_for_update())
            first_task: asyncio.Future[object] = asyncio.ensure_future(first)
            await _settled(stack, first_task)
            second_task: asyncio.Future[object] = asyncio.ensure_future(second)
            await _settled(stack, first_task, second_task)
        outcomes = await asyncio.gather(first_task, second_task, return_exceptions=True)

        errors = [o for o in outcomes if isinstance(o, BaseException)]
        assert errors == [], f"round {round_}: {errors}"
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
        twiml = outcomes[0] if missed_call_first else outcomes[1]
        assert "<Reject" in str(twiml)
        async with stack.sessions() as session:
            calls = list((await session.scalars(select(Call).where(Call.worker_id == worker))).all())
        # The worker hears about the job: from the callback they asked for, or from the pitch call being placed
        # right now (when the claim got there first, there is nothing left to call back about).
        callbacks = [c for c in calls if c.purpose is CallPurpose.CALLBACK and c.status is CallStatus.PENDING]
        placing = [c for c in calls if c.purpose is CallPurpose.JOB_PITCH and c.status is CallStatus.QUEUED]
        assert len(callbacks) + len(placing) == 1, [(c.purpose, c.status) for c in calls]
        assert (callbacks or placing)[0].job_ids == [job]
