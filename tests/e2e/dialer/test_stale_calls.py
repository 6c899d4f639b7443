"""Calls whose final status callback was lost are closed from the provider's record of them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from dialer.calls.placing import settle_stale
from dialer.simulator.carrier import Script, SimCall
from jobs_core.model import Call, CallAttempt, CallReason, CallStatus, Consent, Event
from tests.e2e.dialer.conftest import VoiceStack
from tests.integration.dialer.support import add_employer, add_job, add_worker, phone


def lose_final_callbacks(stack: VoiceStack, monkeypatch: pytest.MonkeyPatch) -> None:
    """The carrier's last status callback of every call never reaches us."""
    send = stack.simulator._status

    async def lossy(call: SimCall, event: str, **extra: str) -> None:
        if event != "completed":
            await send(call, event, **extra)

    monkeypatch.setattr(stack.simulator, "_status", lossy)


async def _call(stack: VoiceStack) -> Call:
    async with stack.sessions() as session:
        call = await session.scalar(select(Call))
        assert call is not None
        return call


async def _attempt_outcome(stack: VoiceStack, call: Call) -> Any:
    async with stack.sessions() as session:
        return await session.scalar(select(CallAttempt.outcome).where(CallAttempt.call_id == call.id))


async def _sweep(stack: VoiceStack, after: timedelta) -> int:
    return await settle_stale(stack.provider, stack.sessions, stack.settings, stack.clock.now() + after)


async def test_answered_call_without_its_final_callback_is_completed(
    stack: VoiceStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    lose_final_callbacks(stack, monkeypatch)
    employer = await add_employer(stack.sessions)
    job = await add_job(stack.sessions, employer)
    await add_worker(stack.sessions, phone(51))
    stack.scripts[phone(51)] = Script(keys=["0"])
    async with stack.sessions() as session, session.begin():
        session.add(Event(kind="job.published", payload={"job_id": job}, created_at=stack.clock.now()))
    await stack.dial()
    stuck = await _call(stack)
    assert stuck.status is CallStatus.IN_PROGRESS and stuck.provider_sid is not None
    assert stack.simulator.placed[0].status == "completed"
    # Not yet: a call may simply still be running.
    assert await _sweep(stack, timedelta(minutes=5)) == 0
    assert (await _call(stack)).status is CallStatus.IN_PROGRESS
    assert await _sweep(stack, stack.settings.stale_call_after + timedelta(seconds=1)) == 1
    closed = await _call(stack)
    assert closed.status is CallStatus.COMPLETED and closed.ended_at is not None
    assert await _attempt_outcome(stack, closed) == "completed"
    # Once closed it is not asked about again.
    assert await _sweep(stack, timedelta(hours=2)) == 0


async def test_unanswered_call_without_its_final_callback_goes_on_the_ladder(
    stack: VoiceStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    lose_final_callbacks(stack, monkeypatch)
    worker, nomination = await add_worker(stack.sessions, phone(52), consent=Consent.PENDING)
    stack.scripts[phone(52)] = Script(outcome="no-answer")
    async with stack.sessions() as session, session.begin():
        session.add(
            Event(
                kind="worker.nominated",
                payload={"worker_id": worker, "nomination_id": nomination},
                created_at=stack.clock.now(),
            )
        )
    await stack.dial()
    assert (await _call(stack)).status is CallStatus.QUEUED  # rang, then nothing more was heard
    later = stack.settings.stale_call_after + timedelta(minutes=1)
    assert await _sweep(stack, later) == 1
    call = await _call(stack)
    assert (call.status, call.reason) == (CallStatus.RETRY_WAIT, CallReason.NO_ANSWER)
    assert call.next_attempt_at == stack.clock.now() + later + timedelta(minutes=10)


async def test_a_call_the_provider_does_not_know_is_failed_and_one_still_running_is_left(
    stack: VoiceStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    lose_final_callbacks(stack, monkeypatch)
    employer = await add_employer(stack.sessions)
    job = await add_job(stack.sessions, employer)
    for n in (53, 54):
        await add_worker(stack.sessions, phone(n))
        stack.scripts[phone(n)] = Script(keys=["0"])
    async with stack.sessions() as session, session.begin():
        session.add(Event(kind="job.published", payload={"job_id": job}, created_at=stack.clock.now()))
    await stack.dial()
    by_number = {c.to: c for c in stack.simulator.placed}
    del stack.simulator.calls[by_number[phone(53)].sid]  # gone from the provider's records
    by_number[phone(54)].status = "in-progress"  # a very long call
    assert await _sweep(stack, stack.settings.stale_call_after + timedelta(seconds=1)) == 1
    async with stack.sessions() as session:
        calls = {c.provider_sid: c for c in (await session.scalars(select(Call))).all()}
    lost, running = calls[by_number[phone(53)].sid], calls[by_number[phone(54)].sid]
    assert (lost.status, lost.reason) == (CallStatus.FAILED, CallReason.FAILED)
    assert running.status is CallStatus.IN_PROGRESS
