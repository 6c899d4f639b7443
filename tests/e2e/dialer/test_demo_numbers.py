"""The dialer never rings a demo number, on any database: the call is canceled before the carrier hears of it."""

from __future__ import annotations

from sqlalchemy import select

from dialer.simulator.carrier import Script
from jobs_core.model import Call, CallPurpose, CallStatus, Consent, DemoData, Event
from jobs_core.phones import demo_phone
from tests.e2e.dialer.conftest import VoiceStack
from tests.integration.dialer.support import add_employer, add_job, add_worker, phone


async def test_calls_to_the_demo_range_are_canceled_even_on_a_real_database(stack: VoiceStack) -> None:
    async with stack.sessions() as session:
        assert await session.get(DemoData, 1) is None  # not a demo database
    employer = await add_employer(stack.sessions)
    await add_job(stack.sessions, employer)
    demo_pending, demo_nomination = await add_worker(stack.sessions, demo_phone(11), consent=Consent.PENDING)
    demo_consented, _ = await add_worker(stack.sessions, demo_phone(12), consent=Consent.CONSENTED)
    real, real_nomination = await add_worker(stack.sessions, phone(1), consent=Consent.PENDING)
    stack.scripts[phone(1)] = Script(keys=["0"])
    async with stack.sessions() as session, session.begin():
        now = stack.clock.now()
        session.add(
            Event(
                kind="worker.nominated",
                payload={"worker_id": demo_pending, "nomination_id": demo_nomination},
                created_at=now,
            )
        )
        session.add(Event(kind="worker.consented", payload={"worker_id": demo_consented}, created_at=now))
        session.add(
            Event(
                kind="worker.nominated", payload={"worker_id": real, "nomination_id": real_nomination}, created_at=now
            )
        )

    await stack.dial()

    # The real number was rung (the stack works); neither demo number ever reached the carrier.
    assert [c.to for c in stack.simulator.placed] == [phone(1)]
    async with stack.sessions() as session:
        calls = {c.worker_id: c for c in (await session.scalars(select(Call))).all()}
    for worker in (demo_pending, demo_consented):
        assert calls[worker].status is CallStatus.CANCELED
        assert calls[worker].flow_state == {"canceled": "demo_number"}
        assert calls[worker].attempts == 0
    assert calls[demo_pending].purpose is CallPurpose.CONSENT
    assert calls[demo_consented].purpose is CallPurpose.JOB_PITCH
