"""Twilio and Somleng as they really behave, through the carrier simulator in each mode.

Somleng ignores the To filter when listing calls, has no answering-machine detection, sends one final status
callback with the SIP code, answers 422 when the account's balance is used up and holds calls beyond its
trunk's channels in its own queue.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select, update

from dialer.calls.placing import answer_url, claim_due, place, recover_orphans, release_held, settle_stale, status_url
from dialer.calls.scheduling import consume_events
from dialer.models import DialerUnreachableNumber
from dialer.providers.base import OutboundCall, ProviderCall
from dialer.simulator.carrier import Script, SimCall
from jobs_core.model import Call, CallPurpose, CallReason, CallStatus, Event
from tests.e2e.dialer.conftest import VoiceStack, hire
from tests.integration.dialer.support import add_employer, add_job, add_worker, phone


@pytest.fixture(params=["twilio", "somleng"])
def provider_mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def _pitches_due(stack: VoiceStack, numbers: list[int], script: Script | None = None) -> list[int]:
    """Consented workers and a newly published job: one pitch call each, due now; returns the worker ids."""
    employer = await add_employer(stack.sessions)
    job = await add_job(stack.sessions, employer)
    workers = []
    for n in numbers:
        worker, _ = await add_worker(stack.sessions, phone(n))
        workers.append(worker)
        stack.scripts[phone(n)] = script or Script(keys=["0"])
    async with stack.sessions() as session, session.begin():
        session.add(Event(kind="job.published", payload={"job_id": job}, created_at=stack.clock.now()))
    await consume_events(stack.sessions, stack.settings, stack.clock.now())
    return workers


async def _calls(stack: VoiceStack, worker_id: int | None = None) -> list[Call]:
    query = select(Call).order_by(Call.id)
    if worker_id is not None:
        query = query.where(Call.worker_id == worker_id)
    async with stack.sessions() as session:
        return list((await session.scalars(query)).all())


async def _events(stack: VoiceStack, kind: str) -> list[dict[str, object]]:
    async with stack.sessions() as session:
        return [e.payload for e in (await session.scalars(select(Event).where(Event.kind == kind))).all()]


async def test_orphan_recovery_adopts_its_own_call_whatever_the_provider_lists(stack: VoiceStack) -> None:
    """The dialer died after the provider took the call: recovery finds that call, not another worker's newer
    one (Somleng lists every call of the account), nor an older call to the same number, across pages."""
    mine, other = await _pitches_due(stack, [60, 61])
    stack.simulator.drive = False  # the calls stay queued at the provider: no callback carries their SID
    claimed = await claim_due(stack.sessions, stack.settings, stack.clock.now(), 10)
    by_worker = {c.worker_id: c for c in claimed}
    orphan = by_worker[mine]
    settings = stack.settings
    lost_sid = await stack.provider.create_call(
        OutboundCall(
            to=orphan.phone,
            from_=settings.from_number,
            url=answer_url(settings, orphan.call_id, orphan.attempt),
            status_callback=status_url(settings, orphan.call_id, orphan.attempt),
            machine_detection=False,
        )
    )
    # The other worker's call is placed after it and stored; then a page and more of other calls.
    other_sid = await place(by_worker[other], stack.provider, stack.sessions, settings, stack.clock.now())
    assert other_sid is not None
    lost = stack.simulator.calls[lost_sid]
    for n in range(60):
        filler = SimCall("CA" + uuid.uuid4().hex, phone(100 + n), settings.from_number, {}, [], lost.created_at)
        filler.created_at += timedelta(seconds=1 + n)
        stack.simulator.placed.append(filler)
    # An older call to the same number (before the claim) is not this placement.
    old = SimCall("CA" + uuid.uuid4().hex, orphan.phone, settings.from_number, {}, [], stack.clock.now())
    old.created_at -= timedelta(hours=1)
    stack.simulator.placed.append(old)

    stack.clock.advance(minutes=1)
    assert await recover_orphans(stack.provider, stack.sessions, settings, stack.clock.now()) == 1
    calls = {c.worker_id: c for c in await _calls(stack)}
    assert calls[mine].provider_sid == lost_sid and calls[mine].status is CallStatus.QUEUED
    assert calls[other].provider_sid == other_sid
    assert stack.simulator.calls[lost_sid].to == orphan.phone
    # Asked again later, nothing changes and nothing breaks.
    stack.clock.advance(minutes=1)
    assert await recover_orphans(stack.provider, stack.sessions, settings, stack.clock.now()) == 0


async def test_an_orphan_whose_number_got_no_call_is_due_again_not_given_anothers(stack: VoiceStack) -> None:
    mine, other = await _pitches_due(stack, [62, 63])
    stack.simulator.drive = False
    claimed = await claim_due(stack.sessions, stack.settings, stack.clock.now(), 10)
    by_worker = {c.worker_id: c for c in claimed}
    # Only the other worker's call reached the provider; ours was lost on the way.
    assert await place(by_worker[other], stack.provider, stack.sessions, stack.settings, stack.clock.now())
    stack.clock.advance(minutes=1)
    assert await recover_orphans(stack.provider, stack.sessions, stack.settings, stack.clock.now()) == 1
    [call] = await _calls(stack, mine)
    assert (call.status, call.attempts, call.provider_sid) == (CallStatus.PENDING, 0, None)


async def test_a_balance_error_mid_run_pauses_and_burns_no_call(stack: VoiceStack) -> None:
    workers = await _pitches_due(stack, [64, 65, 66, 67, 68])
    assert len(await stack.dial(limit=2)) == 2
    stack.simulator.out_of_balance = True  # Somleng: 422 insufficient balance; Twilio: 20005 not active
    assert len(await stack.dial()) == 3
    calls = [c for w in workers for c in await _calls(stack, w)]
    assert sorted((c.status, c.attempts) for c in calls) == sorted(
        [(CallStatus.COMPLETED, 1)] * 2 + [(CallStatus.PENDING, 0)] * 3
    )
    assert REGISTRY.get_sample_value("bongpheak_voice_placing_paused") == 1
    [paused] = await _events(stack, "voice.paused")
    assert ("balance" if stack.somleng else "20005") in str(paused["reason"])
    assert await stack.dial() == []  # paused: nothing claimed until the next probe

    stack.simulator.out_of_balance = False  # topped up
    for _ in range(4):
        stack.clock.advance(minutes=3)
        await stack.dial()
    assert len(await _events(stack, "voice.resumed")) == 1
    calls = [c for w in workers for c in await _calls(stack, w)]
    assert [(c.status, c.attempts) for c in calls] == [(CallStatus.COMPLETED, 1)] * 5


async def test_a_checkin_reaching_voicemail_is_retried(stack: VoiceStack) -> None:
    worker = await hire(stack, phone(69))
    stack.scripts[phone(69)] = Script(outcome="machine")
    await stack.dial()
    stack.clock.advance(days=7)
    await stack.dial()
    first = (await _calls(stack, worker))[0]
    assert first.purpose is CallPurpose.CHECKIN
    assert (first.status, first.reason, first.attempts) == (CallStatus.RETRY_WAIT, CallReason.MACHINE, 1)
    # The next try reaches the worker, who says all is well.
    stack.scripts[phone(69)] = Script(keys=["1"])
    stack.clock.advance(minutes=10)
    await stack.dial()
    first = (await _calls(stack, worker))[0]
    assert (first.status, first.attempts, first.flow_state["decided"]) == (CallStatus.COMPLETED, 2, "well")


async def test_a_checkin_with_no_key_pressed_is_retried_without_amd(stack: VoiceStack) -> None:
    worker = await hire(stack, phone(70))
    stack.scripts[phone(70)] = Script(keys=[])  # a person who says nothing, or a voicemail Somleng cannot tell
    await stack.dial()
    stack.clock.advance(days=7)
    await stack.dial()
    first = (await _calls(stack, worker))[0]
    if stack.somleng:
        assert (first.status, first.reason) == (CallStatus.RETRY_WAIT, CallReason.MACHINE)
    else:
        assert first.status is CallStatus.COMPLETED  # Twilio's AMD said human: it was heard


async def test_temporary_sip_failures_and_provider_cancels_are_retried(stack: VoiceStack) -> None:
    off, canceled = await _pitches_due(stack, [71, 72])
    stack.scripts[phone(71)] = Script(outcome="failed", sip=480)  # switched off, out of coverage
    stack.scripts[phone(72)] = Script(outcome="canceled")  # the provider gave up on it (SIP 487)
    await stack.dial()
    [off_call] = await _calls(stack, off)
    [canceled_call] = await _calls(stack, canceled)
    expected_off = CallReason.NO_ANSWER if stack.somleng else CallReason.FAILED  # Somleng: 480 is no-answer
    assert (off_call.status, off_call.reason) == (CallStatus.RETRY_WAIT, expected_off)
    assert (canceled_call.status, canceled_call.reason) == (CallStatus.RETRY_WAIT, CallReason.NO_ANSWER)
    assert off_call.next_attempt_at == stack.clock.now() + timedelta(minutes=10)


async def test_a_number_that_does_not_exist_is_not_called_again_and_the_relative_hears(stack: VoiceStack) -> None:
    [worker] = await _pitches_due(stack, [73], Script(outcome="failed", sip=604))
    await stack.dial()
    [call] = await _calls(stack, worker)
    assert (call.status, call.reason) == (CallStatus.FAILED, CallReason.FAILED)
    async with stack.sessions() as session:
        marked = await session.get(DialerUnreachableNumber, worker)
    assert marked is not None and marked.sip_code == 604
    [told] = await _events(stack, "call.unreachable")
    assert told["worker_id"] == worker
    # A later call to that worker is canceled at the claim, never placed.
    placed = len(stack.simulator.placed)
    await _pitches_due(stack, [])
    async with stack.sessions() as session, session.begin():
        session.add(Event(kind="worker.consented", payload={"worker_id": worker}, created_at=stack.clock.now()))
    stack.clock.advance(minutes=1)
    await stack.dial()
    later = (await _calls(stack, worker))[1:]
    assert later and all(c.status is CallStatus.CANCELED for c in later)
    assert len(stack.simulator.placed) == placed


@pytest.mark.parametrize("provider_mode", ["twilio"])
async def test_a_machine_verdict_after_a_key_press_is_ignored(stack: VoiceStack) -> None:
    [worker] = await _pitches_due(stack, [74], Script(keys=["1", "1"], late_amd="machine_end_beep"))
    await stack.dial()
    [call] = await _calls(stack, worker)
    assert call.status is CallStatus.COMPLETED and [k["digits"] for k in call.keys] == ["1", "1"]
    assert not stack.simulator.placed[0].hangup_requested
    assert len(await _events(stack, "call.applied")) == 1


@pytest.mark.parametrize("provider_mode", ["somleng"])
async def test_a_call_held_in_the_providers_queue_is_canceled_there_and_due_again(stack: VoiceStack) -> None:
    first, held = await _pitches_due(stack, [75, 76])
    stack.simulator.channels = 1  # the trunk's one channel
    stack.scripts[phone(75)] = Script(keys=["0"], ring_seconds=3)
    now = stack.clock.now()
    claimed = sorted(await claim_due(stack.sessions, stack.settings, now, 10), key=lambda c: c.worker_id)
    for c in claimed:
        assert await place(c, stack.provider, stack.sessions, stack.settings, now)
    [waiting] = stack.simulator.held()
    stack.clock.advance(minutes=6)
    assert await release_held(stack.provider, stack.sessions, stack.settings, stack.clock.now()) == 1
    await stack.simulator.settle()
    assert waiting.status == "canceled" and waiting.dialed_at is None  # it never rang
    [held_call] = await _calls(stack, held)
    assert (held_call.status, held_call.attempts, held_call.provider_sid) == (CallStatus.PENDING, 0, None)
    assert held_call.next_attempt_at is not None and held_call.next_attempt_at > stack.clock.now()
    [first_call] = await _calls(stack, first)
    assert first_call.status is CallStatus.COMPLETED


async def test_404_on_every_try_means_the_number_does_not_exist(stack: VoiceStack) -> None:
    [worker] = await _pitches_due(stack, [77], Script(outcome="failed", sip=404))
    await stack.dial()
    [call] = await _calls(stack, worker)
    assert (call.status, call.attempts) == (CallStatus.RETRY_WAIT, 1)  # maybe only switched off: tried again
    stack.clock.advance(minutes=10)
    await stack.dial()
    stack.clock.advance(days=1)  # the daily cap moved the third try to the next day
    await stack.dial()
    [call] = await _calls(stack, worker)
    assert (call.status, call.attempts) == (CallStatus.FAILED, 3)
    assert [p["worker_id"] for p in await _events(stack, "call.unreachable")] == [worker]
    assert await _events(stack, "call.missed") == []  # the relatives hear the one message that helps


@pytest.mark.parametrize("provider_mode", ["somleng"])
async def test_near_closing_time_a_held_call_is_canceled_and_due_next_morning(stack: VoiceStack) -> None:
    stack.clock.at = stack.clock.at.replace(hour=12, minute=52)  # 19:52 in Phnom Penh
    first, held = await _pitches_due(stack, [78, 79])
    stack.simulator.channels = 1
    stack.scripts[phone(78)] = Script(keys=["0"], ring_seconds=3)
    now = stack.clock.now()
    for c in sorted(await claim_due(stack.sessions, stack.settings, now, 10), key=lambda c: c.worker_id):
        assert await place(c, stack.provider, stack.sessions, stack.settings, now)
    stack.clock.advance(minutes=1)  # held for a minute only, but calling hours end in 7
    assert await release_held(stack.provider, stack.sessions, stack.settings, stack.clock.now()) == 1
    await stack.simulator.settle()
    [held_call] = await _calls(stack, held)
    assert (held_call.status, held_call.attempts) == (CallStatus.PENDING, 0)
    assert held_call.next_attempt_at == stack.clock.at.replace(hour=1, minute=0) + timedelta(days=1)  # 08:00
    [first_call] = await _calls(stack, first)
    assert first_call.status is CallStatus.COMPLETED  # the call that had the channel went on


class _AdoptedElsewhere:
    """The real provider client; while one orphan is asked about, another dialer stores the SID it will find on
    a different call and commits only once our sweep is writing (the unique index makes our write fail)."""

    def __init__(self, stack: VoiceStack, sid: str, other_call: int) -> None:
        self.real = stack.provider
        self.stack, self.sid, self.other_call = stack, sid, other_call
        self.tasks: list[asyncio.Task[None]] = []

    async def calls_to(self, number: str, since: datetime) -> list[ProviderCall]:
        found = await self.real.calls_to(number, since)
        if any(c.sid == self.sid for c in found) and not self.tasks:
            holding = asyncio.Event()
            self.tasks.append(asyncio.create_task(self._adopt(holding)))
            await holding.wait()
        return found

    async def _adopt(self, holding: asyncio.Event) -> None:
        async with self.stack.sessions() as session, session.begin():
            await session.execute(update(Call).where(Call.id == self.other_call).values(provider_sid=self.sid))
            holding.set()
            await asyncio.sleep(0.5)  # our sweep checks the SID is unknown, then waits on the index for this

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


async def test_a_unique_violation_while_adopting_does_not_stop_the_sweep(stack: VoiceStack) -> None:
    mine, other, lost_too = await _pitches_due(stack, [80, 81, 82])
    stack.simulator.drive = False
    by_worker = {c.worker_id: c for c in await claim_due(stack.sessions, stack.settings, stack.clock.now(), 10)}
    orphan, settings = by_worker[mine], stack.settings
    sid = await stack.provider.create_call(
        OutboundCall(
            to=orphan.phone,
            from_=settings.from_number,
            url=answer_url(settings, orphan.call_id, orphan.attempt),
            status_callback=status_url(settings, orphan.call_id, orphan.attempt),
            machine_detection=False,
        )
    )
    provider = _AdoptedElsewhere(stack, sid, by_worker[other].call_id)
    stack.clock.advance(minutes=1)
    settled = await recover_orphans(provider, stack.sessions, settings, stack.clock.now())  # type: ignore[arg-type]
    await asyncio.gather(*provider.tasks)
    [mine_call] = await _calls(stack, mine)
    [lost_call] = await _calls(stack, lost_too)
    assert (mine_call.status, mine_call.provider_sid) == (CallStatus.QUEUED, None)  # asked again after its mark
    assert (lost_call.status, lost_call.attempts) == (CallStatus.PENDING, 0)  # the sweep went on
    assert settled >= 1


@pytest.mark.parametrize("provider_mode", ["somleng"])
async def test_a_call_somleng_drops_without_a_callback_is_retried_by_the_stale_sweep(stack: VoiceStack) -> None:
    [worker] = await _pitches_due(stack, [83], Script(outcome="dropped"))  # no trunk matched: no callback at all
    await stack.dial()
    [call] = await _calls(stack, worker)
    assert call.status is CallStatus.QUEUED and call.provider_sid is not None
    stack.clock.advance(minutes=21)
    assert await settle_stale(stack.provider, stack.sessions, stack.settings, stack.clock.now()) == 1
    [call] = await _calls(stack, worker)
    assert (call.status, call.reason, call.attempts) == (CallStatus.RETRY_WAIT, CallReason.NO_ANSWER, 1)
