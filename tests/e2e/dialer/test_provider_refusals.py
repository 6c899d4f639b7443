"""The provider refusing our account pauses placing and the calls wait; call events are logged by call id only."""

from __future__ import annotations

import collections
import logging

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from dialer.calls.placing import claim_due, place, recover_orphans
from dialer.calls.scheduling import consume_events
from dialer.simulator.carrier import Script
from jobs_core.model import Call, CallAttempt, CallPurpose, CallStatus, Consent, Event
from tests.e2e.dialer.conftest import TOKEN, VoiceStack
from tests.integration.dialer.support import add_employer, add_job, add_worker, phone


async def _due_pitches(stack: VoiceStack, numbers: list[int], keys: list[str | None] | None = None) -> None:
    """Consented workers and a newly published job: one pitch call each, due now."""
    employer = await add_employer(stack.sessions)
    job = await add_job(stack.sessions, employer)
    for n in numbers:
        await add_worker(stack.sessions, phone(n))
        stack.scripts[phone(n)] = Script(keys=keys or ["0"])
    async with stack.sessions() as session, session.begin():
        session.add(Event(kind="job.published", payload={"job_id": job}, created_at=stack.clock.now()))


async def _calls(stack: VoiceStack) -> list[Call]:
    async with stack.sessions() as session:
        return list((await session.scalars(select(Call).order_by(Call.id))).all())


async def _attempt_rows(stack: VoiceStack) -> int:
    async with stack.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(CallAttempt)) or 0)


def _paused() -> float | None:
    return REGISTRY.get_sample_value("bongpheak_voice_placing_paused")


async def test_refused_credentials_pause_placing_and_the_calls_wait(
    stack: VoiceStack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await _due_pitches(stack, [50, 51, 52])
    stack.simulator.auth_token = "rotated-by-someone"  # our token is refused now: HTTP 401, code 20003
    assert len(await stack.dial()) == 3
    calls = await _calls(stack)
    assert [(c.status, c.attempts, c.reason) for c in calls] == [(CallStatus.PENDING, 0, None)] * 3
    assert await _attempt_rows(stack) == 0  # the tries do not count against the daily cap or the ladder
    assert stack.simulator.refused == 3 and stack.simulator.placed == []
    assert _paused() == 1
    alarms = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(alarms) == 1 and "refused the account" in alarms[0] and "20003" in alarms[0]

    # Paused: a call due right now (a new worker's consent call) is not even claimed.
    worker, nomination = await add_worker(stack.sessions, phone(53), consent=Consent.PENDING)
    stack.scripts[phone(53)] = Script(keys=["1"])
    async with stack.sessions() as session, session.begin():
        session.add(
            Event(
                kind="worker.nominated",
                payload={"worker_id": worker, "nomination_id": nomination},
                created_at=stack.clock.now(),
            )
        )
    assert await stack.dial() == []
    assert stack.simulator.refused == 3

    # Every two minutes one call tries the account; still refused, it waits again.
    stack.clock.advance(minutes=3)
    assert len(await stack.dial()) == 1
    assert await stack.dial() == []
    assert stack.simulator.refused == 4 and _paused() == 1

    # Fixed: the next try gets through, the alarm clears and the rest follows.
    stack.simulator.auth_token = TOKEN
    stack.clock.advance(minutes=3)
    assert len(await stack.dial()) == 1
    assert _paused() == 0
    for _ in range(3):
        stack.clock.advance(minutes=3)
        await stack.dial()
    first_four = (await _calls(stack))[:4]
    assert {c.purpose for c in first_four} == {CallPurpose.JOB_PITCH, CallPurpose.CONSENT}
    assert all(c.status is CallStatus.COMPLETED and c.attempts == 1 for c in first_four)
    per_call = collections.Counter(int(c.query()["call"]) for c in stack.simulator.placed)
    assert set(per_call.values()) == {1}
    assert await _attempt_rows(stack) == len(stack.simulator.placed)
    assert not [c for c in await _calls(stack) if c.status is CallStatus.FAILED]


async def test_a_caller_id_the_provider_rejects_pauses_placing_too(stack: VoiceStack) -> None:
    await _due_pitches(stack, [55, 56])
    stack.simulator.caller_ids = {"+85523999999"}  # our From number is not one of the account's: 21212
    await stack.dial()
    assert [(c.status, c.attempts) for c in await _calls(stack)] == [(CallStatus.PENDING, 0)] * 2
    assert stack.simulator.refused == 2 and _paused() == 1
    stack.simulator.caller_ids = None
    stack.clock.advance(minutes=3)
    assert len(await stack.dial()) == 1
    assert _paused() == 0


async def test_a_number_the_provider_refuses_fails_that_call_only(
    stack: VoiceStack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await _due_pitches(stack, [57, 58])
    stack.simulator.invalid_numbers = {phone(57)}  # 21217, its message naming the number
    await stack.dial()
    refused, reached = await _calls(stack)
    assert (refused.status, reached.status) == (CallStatus.FAILED, CallStatus.COMPLETED)
    assert _paused() == 0
    assert not [r for r in caplog.records if phone(57)[1:] in r.getMessage()]


async def test_call_events_are_logged_by_call_id_and_never_with_a_phone(
    stack: VoiceStack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await _due_pitches(stack, [59, 60], keys=["4", "0"])
    now = stack.clock.now()
    await consume_events(stack.sessions, stack.settings, now)
    heard, orphan = await claim_due(stack.sessions, stack.settings, now, 10)
    await place(heard, stack.provider, stack.sessions, stack.settings, now)
    await stack.simulator.settle()
    # The other claim never reached the provider: the recovery sweep asks it for calls *to that number*.
    stack.clock.advance(minutes=1)
    assert await recover_orphans(stack.provider, stack.sessions, stack.settings, stack.clock.now()) == 1

    messages = [r.getMessage() for r in caplog.records]
    call = f"call {heard.call_id} attempt 1"
    for event in ("placed as CA", "answered", "key 4 at menu", "key 0 at menu", "ended: completed"):
        assert [m for m in messages if m.startswith(call) and event in m], event
    assert [m for m in messages if f"call {orphan.call_id} was never placed" in m]
    for number in (phone(59), phone(60)):
        assert not [m for m in messages if number[1:] in m or number[4:] in m]
    # twilio's HTTP client would log each request's URL (with To=) and headers: it stays quiet.
    assert not [r for r in caplog.records if r.name.startswith("twilio")]
