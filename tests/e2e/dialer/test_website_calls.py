"""From the website to the phone: a visitor applies for themselves or asks us to call a family member; the
carrier simulator shows the worker's consent call first, and only their 1 makes an application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from dialer.simulator.carrier import Script
from jobs_core.model import Application, ApplicationStatus, Call, CallPurpose, Consent, Worker
from tests.e2e.dialer.conftest import VoiceStack
from tests.e2e.dialer.test_relative_greeting import record_renders
from tests.integration.web.support import Site, open_site


@pytest.fixture
async def site(stack: VoiceStack, now: datetime, tmp_path: Path) -> AsyncIterator[Site]:
    """The website on the same database as the voice stack."""
    async with open_site(stack.sessions, now, tmp_path) as opened:
        yield opened


PERSON = {"gender": "female", "birth_year": "1998", "province": "12", "agreed_to_calls": "yes"}


async def test_a_family_member_nominated_on_the_website_gets_the_consent_call(stack: VoiceStack, site: Site) -> None:
    job = await site.job()
    action, hidden = await site.form(f"/en/jobs/{job}", "family")
    await site.post(action, {**hidden, **PERSON, "name": "Dara", "phone": "097 765 4321", "relation": "sibling"})
    stack.scripts["+855977654321"] = Script(keys=["1"])
    await stack.dial()
    assert [c.to for c in stack.simulator.placed] == ["+855977654321"]
    async with stack.sessions() as session:
        [placed] = (await session.scalars(select(Call))).all()
        worker = await session.scalar(select(Worker))
    assert placed.purpose is CallPurpose.CONSENT
    assert worker is not None and worker.consent is Consent.CONSENTED


async def test_applying_on_the_website_is_confirmed_by_the_worker_on_the_phone(
    stack: VoiceStack, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered = record_renders(stack, monkeypatch)
    job = await site.job()
    action, hidden = await site.form(f"/en/jobs/{job}", "apply")
    await site.post(action, {**hidden, **PERSON, "name": "Sokha", "phone": "012 345 678"})
    # Consent first: yes to job calls.
    stack.scripts["+85512345678"] = Script(keys=["1"])
    await stack.dial()
    async with stack.sessions() as session:
        purposes = [c.purpose for c in (await session.scalars(select(Call).order_by(Call.id))).all()]
        application = await session.scalar(select(Application))
    assert purposes[0] is CallPurpose.CONSENT
    assert application is not None and application.status is ApplicationStatus.AWAITING_WORKER
    # The call says they gave us their own number on the website, not that someone recommended them.
    heard = {key for utterance in rendered.values() for key in utterance.keys}
    assert "ivr.recommended.self" in heard and not any(
        k.startswith("ivr.recommended.") and k != "ivr.recommended.self" for k in heard
    )
    # Then the job, and 1 confirms it: only now is it an application the employer sees.
    stack.scripts["+85512345678"] = Script(keys=["1", "1"])
    stack.clock.advance(seconds=1)
    await stack.dial()
    async with stack.sessions() as session:
        application = await session.scalar(select(Application))
    assert application is not None and application.status is ApplicationStatus.NEW
