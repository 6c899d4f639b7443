"""The monthly figures count a call picked up by an answering machine as placed, never as answered."""

from __future__ import annotations

from sqlalchemy import select

from dialer.simulator.carrier import Script
from jobs_core.model import Call, CallReason, CallStatus, Event
from jobs_core.stats import monthly_stats
from tests.e2e.dialer.conftest import VoiceStack
from tests.integration.dialer.support import add_employer, add_job, add_worker, phone


async def test_a_voicemail_pickup_is_not_an_answered_call(stack: VoiceStack) -> None:
    employer = await add_employer(stack.sessions)
    job = await add_job(stack.sessions, employer)
    voicemail, _ = await add_worker(stack.sessions, phone(80))
    person, _ = await add_worker(stack.sessions, phone(81))
    stack.scripts[phone(80)] = Script(outcome="machine")
    stack.scripts[phone(81)] = Script(keys=["0"])
    async with stack.sessions() as session, session.begin():
        session.add(Event(kind="job.published", payload={"job_id": job}, created_at=stack.clock.now()))
    await stack.dial()
    async with stack.sessions() as session:
        calls = {c.worker_id: c for c in (await session.scalars(select(Call))).all()}
        [month] = await monthly_stats(session)
    # The machine did pick up (the provider said in-progress), and the call waits for another try.
    assert (calls[voicemail].status, calls[voicemail].reason) == (CallStatus.RETRY_WAIT, CallReason.MACHINE)
    assert calls[voicemail].answered_at is not None
    assert calls[person].status is CallStatus.COMPLETED
    assert (month.calls_placed, month.calls_answered) == (2, 1)
