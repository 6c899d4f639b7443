"""A company held from the website's form until a chat account confirms it: once, within 24 hours, and never
for an account that already acts for a company (``jobs_core.services.employers``)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs_core.company import read_company
from jobs_core.errors import NotAllowed
from jobs_core.model import Employer, EmployerIdentity, Event
from jobs_core.services.employers import (
    ALREADY_EMPLOYER,
    LINK_EXPIRED,
    LINK_UNKNOWN,
    LINK_USED,
    ConfirmRegistration,
    confirm_registration,
    hold_registration,
    pending_registration,
)
from jobs_core.uow import UnitOfWork
from tests.builders import Builder

COMPANY = read_company({"name": "Mekong Build Co.", "phone": "023 880 112", "province": "12", "kind": "employer"})


async def count(sessions: async_sessionmaker[AsyncSession], model: type) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_held_company_is_confirmed_once_within_a_day(
    session_factory: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    def at(hours: float) -> UnitOfWork:
        return UnitOfWork(session_factory, now=now + timedelta(hours=hours))

    token = await hold_registration(COMPANY, at(0))
    held = await pending_registration(at(23.9), token)
    with pytest.raises(NotAllowed) as late:
        await confirm_registration(ConfirmRegistration(held.id, "telegram", "9001"), at(24))
    assert late.value.reason == LINK_EXPIRED
    employer_id = await confirm_registration(ConfirmRegistration(held.id, "telegram", "9001"), at(23.9))
    with pytest.raises(NotAllowed) as again:
        await confirm_registration(ConfirmRegistration(held.id, "telegram", "9002"), at(23.95))
    assert again.value.reason == LINK_USED
    with pytest.raises(NotAllowed) as shown:
        await pending_registration(at(23.95), token)
    assert shown.value.reason == LINK_USED
    with pytest.raises(NotAllowed) as unknown:
        await pending_registration(at(1), token + "x")
    assert unknown.value.reason == LINK_UNKNOWN
    async with session_factory() as session:
        employer = await session.get(Employer, employer_id)
        kinds = (await session.scalars(select(Event.kind))).all()
    assert employer is not None and employer.name == "Mekong Build Co."
    assert kinds == ["employer.registered"]  # the moderators' card, once


async def test_an_account_that_acts_for_a_company_cannot_confirm_another(
    session_factory: async_sessionmaker[AsyncSession], now: datetime, build: Builder
) -> None:
    await build.employer("Golden Thread Apparel", external_id="9003")
    token = await hold_registration(COMPANY, UnitOfWork(session_factory, now=now))
    held = await pending_registration(UnitOfWork(session_factory, now=now), token)
    with pytest.raises(NotAllowed) as refused:
        await confirm_registration(
            ConfirmRegistration(held.id, "telegram", "9003"), UnitOfWork(session_factory, now=now)
        )
    assert refused.value.reason == ALREADY_EMPLOYER
    assert await count(session_factory, Employer) == 1 and await count(session_factory, EmployerIdentity) == 1
    # Still usable by someone else.
    await pending_registration(UnitOfWork(session_factory, now=now), token)


async def test_unused_registrations_are_deleted_a_week_after_they_expired(
    session_factory: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    old = await hold_registration(COMPANY, UnitOfWork(session_factory, now=now - timedelta(days=8, hours=1)))
    recent = await hold_registration(COMPANY, UnitOfWork(session_factory, now=now - timedelta(days=2)))
    await hold_registration(COMPANY, UnitOfWork(session_factory, now=now))
    with pytest.raises(NotAllowed) as gone:
        await pending_registration(UnitOfWork(session_factory, now=now), old)
    assert gone.value.reason == LINK_UNKNOWN
    with pytest.raises(NotAllowed) as expired:
        await pending_registration(UnitOfWork(session_factory, now=now), recent)
    assert expired.value.reason == LINK_EXPIRED
