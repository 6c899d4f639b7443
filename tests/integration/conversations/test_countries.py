"""An employer's job abroad: the country from buttons (or typed, in Khmer or English), so the pitch names it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations.cards import place
from jobs_core.model import Job
from media.composer import compose_pitch
from media.listing_pitch import pitch_job
from tests.integration.conversations.conftest import Chat, buttons_of
from tests.integration.conversations.test_employer import register


async def press_value(chat: Chat, value: str) -> None:
    """Press the button answering the open question with ``value``, whatever the language of its label."""
    actions = [
        action for _label, action in buttons_of(chat.last) if action.startswith("@") and action.endswith(f":{value}")
    ]
    assert actions, f"no button for {value!r} in {buttons_of(chat.last)}"
    await chat.act(actions[0])


async def to_the_country_question(chat: Chat, language: str = "en") -> None:
    await chat.start()
    await register(chat)
    if language != "en":
        await chat.act(f"lang:{language}")
    await chat.act("post")
    await chat.send("Farm workers")
    await press_value(chat, "agriculture")
    await press_value(chat, "abroad")


async def country_typed(chat: Chat) -> str | None:
    state = await chat.state()
    assert state is not None and state.step == "job.description", state.step if state else None
    return state.data.get("country")


async def test_khmer_employers_choose_the_country_from_khmer_buttons(chat: Chat) -> None:
    await to_the_country_question(chat, "km")
    labels = chat.labels()
    for khmer in ("ថៃ", "កូរ៉េ", "ម៉ាឡេស៊ី", "ជប៉ុន"):
        assert khmer in labels
    assert "🌏 ប្រទេសផ្សេងទៀត" in labels  # "another country": typed
    await chat.press("ថៃ")
    assert await country_typed(chat) == "Thailand"


async def test_a_country_typed_in_khmer_is_stored_by_the_name_the_pitch_knows(chat: Chat) -> None:
    await to_the_country_question(chat)
    await chat.send("កូរ៉េ")
    assert await country_typed(chat) == "South Korea"


async def test_another_country_is_typed_and_kept_as_typed(chat: Chat) -> None:
    await to_the_country_question(chat)
    await chat.press("Another country")
    assert "Type the name of the country" in chat.text
    await chat.send("Qatar")
    assert await country_typed(chat) == "Qatar"


async def test_a_khmer_country_typed_after_other_is_still_recognised(chat: Chat) -> None:
    await to_the_country_question(chat, "km")
    await press_value(chat, "other")
    await chat.send("ប្រទេស ម៉ាឡេស៊ី")
    assert await country_typed(chat) == "Malaysia"


async def test_a_photo_at_the_country_question_is_asked_again_in_the_persons_language(chat: Chat) -> None:
    await to_the_country_question(chat)
    await chat.send(other_media=True)
    assert "Please choose a country, or type its name." in chat.text
    assert "Thailand" in chat.labels()
    state = await chat.state()
    assert state is not None and state.step == "job.country"


async def test_the_listing_made_with_a_khmer_country_is_pitched_with_that_country(
    chat: Chat, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await to_the_country_question(chat)
    await chat.send("ម៉ាឡេស៊ី")
    await chat.press("Skip")  # description
    await chat.send("$300/month")
    await chat.send("7-16")
    await chat.press("Skip")  # days
    await chat.send("5")
    await chat.press("Men and women")
    await chat.press("Skip")  # ages
    await chat.press("Done")
    await chat.press("Skip")  # start
    await chat.press("Skip")  # contact
    await chat.press("Skip")  # voice
    async with session_factory() as session:
        job = await session.scalar(select(Job))
        assert job is not None and job.country == "Malaysia"
    keys = compose_pitch(pitch_job(job, with_clip=False), "km").keys
    assert "country.malaysia" in keys


def test_a_card_names_the_country_in_the_readers_language() -> None:
    assert place(Job(country="Thailand"), "km") == "ថៃ"
    assert place(Job(country="ថៃ"), "en") == "Thailand"  # typed in Khmer before countries came from buttons
    assert place(Job(country="Qatar"), "km") == "Qatar"
