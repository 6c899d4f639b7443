"""For the demo, demo numbers ring the carrier simulator, and nothing else: only when the voice API is on a
loopback host and the database holds demo data. A real provider never hears of them, even from a demo database
(and on a database without demo data they are refused as before: tests/e2e/dialer/test_demo_numbers.py)."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select

from dialer.calls.placing import claim_due
from dialer.calls.scheduling import consume_events
from dialer.simulator.carrier import Script
from jobs_core.model import Call, CallStatus, Consent, DemoData, Event
from jobs_core.model.base import utcnow
from jobs_core.model.demo import DEMO_ROW
from jobs_core.phones import demo_phone
from tests.e2e.dialer.conftest import VoiceStack
from tests.integration.dialer.support import add_worker


async def _demo_worker_nominated(stack: VoiceStack, n: int) -> int:
    async with stack.sessions() as session, session.begin():
        session.add(DemoData(id=DEMO_ROW, seeded_at=utcnow()))
    worker, nomination = await add_worker(stack.sessions, demo_phone(n), consent=Consent.PENDING)
    async with stack.sessions() as session, session.begin():
        session.add(
            Event(
                kind="worker.nominated",
                payload={"worker_id": worker, "nomination_id": nomination},
                created_at=stack.clock.now(),
            )
        )
    return worker


async def test_a_demo_number_rings_the_simulator_on_a_demo_database(stack: VoiceStack) -> None:
    worker = await _demo_worker_nominated(stack, 21)
    stack.scripts[demo_phone(21)] = Script(keys=["1"])

    await stack.dial()

    assert [c.to for c in stack.simulator.placed] == [demo_phone(21)]
    async with stack.sessions() as session:
        call = (await session.scalars(select(Call).where(Call.worker_id == worker))).one()
    assert call.status is CallStatus.COMPLETED


async def test_a_demo_number_never_reaches_a_provider_elsewhere(stack: VoiceStack) -> None:
    worker = await _demo_worker_nominated(stack, 22)
    real = dataclasses.replace(stack.settings, api_base_url="https://api.twilio.com")

    await consume_events(stack.sessions, real, stack.clock.now())
    assert await claim_due(stack.sessions, real, stack.clock.now(), 10) == []

    async with stack.sessions() as session:
        call = (await session.scalars(select(Call).where(Call.worker_id == worker))).one()
    assert call.status is CallStatus.CANCELED
    assert call.flow_state == {"canceled": "demo_number"}
    assert stack.simulator.placed == []
