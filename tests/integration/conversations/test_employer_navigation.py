"""Employers can step back or stop at every question of registering and posting, and page through their listings."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations.state import IDLE
from jobs_core.model import Employer, Job
from tests.builders import Builder
from tests.integration.conversations.conftest import Chat
from tests.integration.conversations.test_employer import register

BACK, CANCEL = "↩️ Back", "✖️ Cancel"


async def count(session_factory: async_sessionmaker[AsyncSession], model: type[Job] | type[Employer]) -> int:
    async with session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_registering_goes_back_a_question_and_cancel_saves_no_company(
    chat: Chat, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await chat.start()
    await chat.act("emp")
    assert CANCEL in chat.labels() and BACK not in chat.labels()  # the first question: nothing to go back to
    await chat.send("Golden Thread Apparel")
    assert "What phone number" in chat.text and BACK in chat.labels()
    await chat.press(BACK)
    assert "What is the name of your company?" in chat.text
    await chat.send("Golden Thread Garments")
    await chat.send("023 880 112")
    await chat.press(CANCEL)
    assert "Cancelled. Nothing was saved." in chat.text
    assert await count(session_factory, Employer) == 0
    state = await chat.state()
    assert state is not None and state.step == IDLE


async def test_every_listing_question_has_back_and_cancel_and_back_keeps_the_walk(
    chat: Chat, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await chat.start()
    await register(chat)
    await chat.act("post")
    assert CANCEL in chat.labels() and BACK not in chat.labels()
    await chat.send("Sewing machine operators")
    assert {BACK, CANCEL} <= set(chat.labels())
    await chat.press("Garment")
    await chat.press("In Cambodia")
    await chat.press("Kandal")
    await chat.press("Ta Khmau")
    assert "Describe the work" in chat.text and {BACK, CANCEL} <= set(chat.labels())
    await chat.send("Sewing T-shirts in a clean factory.")
    assert "How much is the pay?" in chat.text
    await chat.press(BACK)  # the description again, to change it
    assert "Describe the work" in chat.text
    await chat.send("Sewing T-shirts and trousers.")
    await chat.send("$250/month")
    assert "hours" in chat.text.lower() and {BACK, CANCEL} <= set(chat.labels())
    await chat.press(CANCEL)  # nothing was saved yet: the draft is written at the contact question
    assert "Cancelled. Nothing was saved." in chat.text
    assert await count(session_factory, Job) == 0


async def test_stopping_after_the_draft_was_saved_says_where_it_is(
    chat: Chat, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await chat.start("km")
    await register_km(chat)
    await chat.act("post")
    await chat.send("កម្មករកាត់ដេរ")
    await chat.press("កាត់ដេរ")
    await chat.press("នៅកម្ពុជា")
    await chat.press("កណ្ដាល")
    await chat.press("តាខ្មៅ")
    await chat.send("ដេរអាវយឺត")
    await chat.send("$250/ខែ")
    await chat.send("7-16")
    await chat.send("៦")
    await chat.send("20")
    await chat.press("ប្រុស និងស្រី")
    await chat.press("រំលង")  # ages
    await chat.press("រួចរាល់")  # benefits
    await chat.press("រំលង")  # start
    await chat.press("រំលង")  # contact: the draft is saved here
    assert "↩️ ថយក្រោយ" in chat.labels()
    await chat.press("✖️ បោះបង់")
    assert "ការប្រកាសរបស់ខ្ញុំ" in chat.text
    async with session_factory() as session:
        job = await session.scalar(select(Job))
        assert job is not None and job.title == "កម្មករកាត់ដេរ"


async def register_km(chat: Chat) -> None:
    await chat.act("emp")
    await chat.send("រោងចក្រ មាស")
    await chat.send("023 880 112")
    await chat.press("ភ្នំពេញ")
    await chat.press("ក្រុមហ៊ុន ឬនិយោជក")


async def test_my_listings_show_a_count_and_page_with_more(chat: Chat, build: Builder) -> None:
    employer = await build.employer(external_id="7001")
    for n in range(12):
        await build.draft(employer, title=f"Listing {n}")
    await chat.start()
    await chat.act("listings")
    assert "Showing 1–10 of 12." in chat.text
    assert "Listing 11" in chat.text and "Listing 1\n" not in chat.text
    await chat.press("More")
    assert "Showing 11–12 of 12." in chat.text
    assert "More ▶️" not in chat.labels()
