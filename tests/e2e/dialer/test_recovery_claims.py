"""The recovery sweeps ask the provider with no transaction open: a callback arriving meanwhile wins, and a
dialer that dies between its claim and its settling leaves the call to another one once its mark expires."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from dialer.calls.placing import (
    ClaimedCall,
    answer_url,
    check_lease,
    claim_due,
    recover_orphans,
    settle_stale,
    status_url,
)
from dialer.calls.scheduling import consume_events
from dialer.providers.base import OutboundCall, ProviderCall
from dialer.providers.twilio import TwilioProvider
from dialer.simulator.carrier import Script, SimCall
from jobs_core.model import Call, CallAttempt, CallReason, CallStatus, Consent, Event
from tests.e2e.dialer.conftest import VoiceStack
from tests.integration.dialer.support import add_worker, phone


@dataclass
class HeldCallbacks:
    """The carrier's status callbacks, held back until the test lets them through."""

    send: Callable[..., Awaitable[None]]
    held: list[tuple[SimCall, str, dict[str, str]]] = field(default_factory=list)

    async def hold(self, call: SimCall, event: str, **extra: str) -> None:
        self.held.append((call, event, extra))

    async def release(self) -> None:
        held, self.held = self.held, []
        for call, event, extra in held:
            await self.send(call, event, **extra)


def hold_callbacks(stack: VoiceStack, monkeypatch: pytest.MonkeyPatch) -> HeldCallbacks:
    callbacks = HeldCallbacks(stack.simulator._status)
    monkeypatch.setattr(stack.simulator, "_status", callbacks.hold)
    return callbacks


class Provider:
    """The real provider client, with something happening while the dialer waits for the provider's answer."""

    def __init__(self, real: TwilioProvider, meanwhile: Callable[[], Awaitable[None]]) -> None:
        self.real = real
        self.meanwhile = meanwhile
        self.asked = 0

    async def calls_to(self, number: str, since: datetime) -> list[ProviderCall]:
        self.asked += 1
        await self.meanwhile()
        return await self.real.calls_to(number, since)

    async def fetch(self, sid: str) -> ProviderCall | None:
        self.asked += 1
        await self.meanwhile()
        return await self.real.fetch(sid)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


class Killed(BaseException):
    """The dialer process died (nothing below it runs, nothing catches it)."""


async def _consent_call_due(stack: VoiceStack, n: int, script: Script) -> None:
    worker, nomination = await add_worker(stack.sessions, phone(n), consent=Consent.PENDING)
    stack.scripts[phone(n)] = script
    async with stack.sessions() as session, session.begin():
        session.add(
            Event(
                kind="worker.nominated",
                payload={"worker_id": worker, "nomination_id": nomination},
                created_at=stack.clock.now(),
            )
        )
    await consume_events(stack.sessions, stack.settings, stack.clock.now())


async def _placed_without_its_sid(stack: VoiceStack) -> ClaimedCall:
    """The dialer claimed the call and the provider placed it, but the dialer died before storing the SID."""
    [claimed] = await claim_due(stack.sessions, stack.settings, stack.clock.now(), 10)
    settings = stack.settings
    await stack.provider.create_call(
        OutboundCall(
            to=claimed.phone,
            from_=settings.from_number,
            url=answer_url(settings, claimed.call_id, claimed.attempt),
            status_callback=status_url(settings, claimed.call_id, claimed.attempt),
            machine_detection=False,
        )
    )
    await stack.simulator.settle()
    return claimed


async def _call(stack: VoiceStack) -> Call:
    async with stack.sessions() as session:
        call = await session.scalar(select(Call))
        assert call is not None
        return call


async def _attempts(stack: VoiceStack) -> list[tuple[int, str | None, str | None]]:
    async with stack.sessions() as session:
        rows = await session.execute(
            select(CallAttempt.attempt, CallAttempt.provider_sid, CallAttempt.outcome).order_by(CallAttempt.attempt)
        )
        return [tuple(r) for r in rows.all()]  # type: ignore[misc]


async def test_a_status_callback_arriving_while_an_orphan_is_checked_wins(
    stack: VoiceStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    callbacks = hold_callbacks(stack, monkeypatch)
    await _consent_call_due(stack, 70, Script(outcome="no-answer", ring_seconds=0.01))
    await _placed_without_its_sid(stack)
    [placed] = stack.simulator.placed
    assert placed.status == "no-answer" and callbacks.held  # rang out; we heard nothing yet

    async def callbacks_arrive() -> None:
        # The webhook must not wait for the sweep: the sweep holds no lock while it asks the provider.
        async with asyncio.timeout(10):
            await callbacks.release()

    provider = Provider(stack.provider, callbacks_arrive)
    stack.clock.advance(minutes=1)
    settled = await recover_orphans(provider, stack.sessions, stack.settings, stack.clock.now())  # type: ignore[arg-type]
    assert provider.asked == 1 and settled == 0  # the callback settled it first
    call = await _call(stack)
    assert (call.status, call.reason, call.attempts) == (CallStatus.RETRY_WAIT, CallReason.NO_ANSWER, 1)
    assert call.provider_sid == placed.sid and call.checking_until is None
    assert await _attempts(stack) == [(1, placed.sid, "no-answer")]


async def test_a_final_callback_arriving_while_a_stale_call_is_checked_wins(
    stack: VoiceStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    callbacks = hold_callbacks(stack, monkeypatch)
    await _consent_call_due(stack, 71, Script(outcome="busy", ring_seconds=0.01))
    await stack.dial()
    [placed] = stack.simulator.placed
    assert (await _call(stack)).status is CallStatus.QUEUED  # the SID is stored; no callback heard

    async def callbacks_arrive() -> None:
        async with asyncio.timeout(10):
            await callbacks.release()
        placed.status = "failed"  # what the provider answered differs from the callback: the callback wins

    provider = Provider(stack.provider, callbacks_arrive)
    later = stack.clock.now() + stack.settings.stale_call_after + timedelta(seconds=1)
    settled = await settle_stale(provider, stack.sessions, stack.settings, later)  # type: ignore[arg-type]
    assert provider.asked == 1 and settled == 0
    call = await _call(stack)
    assert (call.status, call.reason) == (CallStatus.RETRY_WAIT, CallReason.BUSY)
    assert call.checking_until is None


async def test_a_dialer_dying_between_claim_and_settle_leaves_the_orphan_to_another_after_its_mark(
    stack: VoiceStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    hold_callbacks(stack, monkeypatch)  # never released: only the sweep can settle the call
    await _consent_call_due(stack, 72, Script(outcome="no-answer", ring_seconds=0.01))
    await _placed_without_its_sid(stack)
    [placed] = stack.simulator.placed

    async def killed() -> None:
        raise Killed

    first = Provider(stack.provider, killed)
    stack.clock.advance(minutes=1)
    with pytest.raises(Killed):
        await recover_orphans(first, stack.sessions, stack.settings, stack.clock.now())  # type: ignore[arg-type]
    call = await _call(stack)
    assert call.status is CallStatus.QUEUED and call.provider_sid is None and call.checking_until is not None

    async def nothing() -> None:
        return None

    # Another dialer, while the mark holds: the call is not asked about twice at once.
    second = Provider(stack.provider, nothing)
    now = stack.clock.now() + timedelta(seconds=5)
    assert await recover_orphans(second, stack.sessions, stack.settings, now) == 0  # type: ignore[arg-type]
    assert second.asked == 0
    # Once the mark expired the dead dialer's claim is taken over, and the call found at the provider.
    now = stack.clock.now() + check_lease(stack.settings, 1) + timedelta(seconds=1)
    assert await recover_orphans(second, stack.sessions, stack.settings, now) == 1  # type: ignore[arg-type]
    call = await _call(stack)
    assert (call.status, call.reason, call.provider_sid) == (CallStatus.RETRY_WAIT, CallReason.NO_ANSWER, placed.sid)
    assert await _attempts(stack) == [(1, placed.sid, "no-answer")]


async def test_a_dialer_dying_while_checking_a_stale_call_leaves_it_to_another_after_its_mark(
    stack: VoiceStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    hold_callbacks(stack, monkeypatch)
    await _consent_call_due(stack, 73, Script(outcome="busy", ring_seconds=0.01))
    await stack.dial()

    async def killed() -> None:
        raise Killed

    async def nothing() -> None:
        return None

    later = stack.clock.now() + stack.settings.stale_call_after + timedelta(seconds=1)
    with pytest.raises(Killed):
        await settle_stale(Provider(stack.provider, killed), stack.sessions, stack.settings, later)  # type: ignore[arg-type]
    second = Provider(stack.provider, nothing)
    assert await settle_stale(second, stack.sessions, stack.settings, later) == 0  # type: ignore[arg-type]
    assert second.asked == 0 and (await _call(stack)).status is CallStatus.QUEUED
    later += check_lease(stack.settings, 1) + timedelta(seconds=1)
    assert await settle_stale(second, stack.sessions, stack.settings, later) == 1  # type: ignore[arg-type]
    call = await _call(stack)
    assert (call.status, call.reason, call.checking_until) == (CallStatus.RETRY_WAIT, CallReason.BUSY, None)
