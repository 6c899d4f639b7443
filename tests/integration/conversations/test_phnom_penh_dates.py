"""At 01:00 in Phnom Penh it is already tomorrow: the chats judge dates and ages on the Phnom Penh calendar."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs_core.model import Worker
from tests.integration.conversations.conftest import Chat
from tests.integration.conversations.test_employer import register

# 18:00 UTC on 31 December 2026 is 01:00 on 1 January 2027 in Phnom Penh.
NEW_YEARS_NIGHT = datetime(2026, 12, 31, 18, 0, tzinfo=UTC)


@pytest.fixture
def now() -> datetime:
    return NEW_YEARS_NIGHT


async def test_yesterday_in_phnom_penh_is_refused_as_a_start_date(chat: Chat) -> None:
    await chat.start()
    await register(chat)
    await chat.act("post")
    await chat.send("Farm workers")
    await chat.press("Agriculture")
    await chat.press("Abroad")
    await chat.send("Thailand")
    await chat.press("Skip")  # description
    await chat.send("$300/month")  # pay
    await chat.send("7-16")  # hours
    await chat.press("Skip")  # days
    await chat.send("5")
    await chat.press("Men and women")
    await chat.press("Skip")  # ages
    await chat.press("Done")  # benefits
    assert "When does the work start?" in chat.text

    await chat.send("2026-12-31")  # today in UTC, yesterday in Phnom Penh
    assert "That day has passed" in chat.text
    assert (await chat.state()).step == "job.start"  # type: ignore[union-attr]
    await chat.send("2027-01-01")
    assert "How should workers contact you?" in chat.text


async def test_a_birth_year_is_an_age_on_the_phnom_penh_year(
    chat: Chat, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """Born in 2012: 15 in Phnom Penh's 2027, old enough to be nominated (still 14 by the UTC year)."""
    await chat.start()
    await chat.act("nom")
    await chat.send("Sophea")
    await chat.send("012 345 678")
    await chat.press("Brother or sister")
    await chat.press("Woman")
    await chat.send("2012")
    assert "at least 15" not in chat.text
    assert (await chat.state()).step == "nominate.province"  # type: ignore[union-attr]
    await chat.press("Kampong Cham")
    await chat.press("Done")
    await chat.press("Skip")  # no greeting
    await chat.press("Yes, they agreed")
    async with session_factory() as session:
        worker = await session.scalar(select(Worker))
    assert worker is not None and worker.birth_year == 2012
