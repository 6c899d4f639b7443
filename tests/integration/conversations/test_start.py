"""Start: language, menu, help, /stop and /start, people who never pressed /start."""

from __future__ import annotations

from sqlalchemy import select

from conversations.replies import Text
from jobs_core.model import Relative
from tests.integration.conversations.conftest import Chat


async def test_a_stranger_is_asked_to_press_start_and_nothing_is_stored(chat: Chat) -> None:
    await chat.send("hello")
    assert "press Start" in chat.text or "ចាប់ផ្ដើម" in chat.text
    assert ("▶️ ចាប់ផ្ដើម", "start") in [(label, action) for label, action in zip(chat.labels(), ["start"], strict=False)]
    state = await chat.state()
    assert state is not None and not state.started and state.version == 0
    await chat.act("job:1:apply")
    assert "ចាប់ផ្ដើម" in chat.text
    assert (await chat.state()).version == 0  # type: ignore[union-attr]


async def test_start_asks_the_language_then_shows_the_menu_in_it(chat: Chat) -> None:
    await chat.send("/start")
    assert chat.labels() == ["ភាសាខ្មែរ", "English"]
    await chat.act("lang:en")
    assert "What would you like to do?" in chat.text
    assert "👪 Help a family member find work" in chat.labels()
    state = await chat.state()
    assert state is not None and state.started and state.language == "en"
    await chat.send("/start")
    assert "Welcome to Bong Pheak" in chat.text  # the language is remembered


async def test_khmer_is_the_default(chat: Chat) -> None:
    await chat.start("km")
    assert "តើអ្នកចង់ធ្វើអ្វី?" in chat.text
    await chat.send("/help")
    assert "1297" in chat.text and "117" in chat.text  # Latin digits: chat apps make them tappable


async def test_help_has_the_hotlines(chat: Chat) -> None:
    await chat.start()
    before = await chat.state()
    await chat.send("/help")
    assert "1297" in chat.text and "117" in chat.text and "/stop" in chat.text
    after = await chat.state()
    assert before is not None and after is not None and after.version == before.version


async def test_language_can_change_in_the_middle_of_a_question(chat: Chat) -> None:
    await chat.start()
    await chat.act("nom")
    assert "What is your family member's name?" in chat.text
    await chat.send("/language")
    assert "English" in chat.labels()
    await chat.act("lang:km")
    assert "សមាជិកគ្រួសាររបស់អ្នកឈ្មោះអ្វី?" in chat.text  # the same question, now in Khmer
    state = await chat.state()
    assert state is not None and state.step == "nominate.name" and state.language == "km"
    await chat.send("Sophea")
    assert "លេខទូរស័ព្ទ" in chat.text


async def test_stop_marks_the_relative_stopped_and_start_brings_them_back(chat: Chat, session_factory) -> None:  # type: ignore[no-untyped-def]
    await chat.start()
    await chat.act("rel")
    await chat.send("/stop")
    assert "not get any more messages" in chat.text
    async with session_factory() as session:
        relative = await session.scalar(select(Relative).where(Relative.external_id == "7001"))
        assert relative is not None and relative.stopped
    await chat.send("/start")
    async with session_factory() as session:
        relative = await session.scalar(select(Relative).where(Relative.external_id == "7001"))
        assert relative is not None and not relative.stopped


async def test_unknown_commands_and_idle_text_get_a_short_answer(chat: Chat) -> None:
    await chat.start()
    await chat.send("/frobnicate")
    assert "do not know that command" in chat.text
    await chat.send("what jobs do you have")
    assert "did not understand" in chat.text and "What would you like to do?" in chat.text
    await chat.send(other_media=True)
    assert all(isinstance(r, Text) for r in chat.last)


async def test_a_forged_button_is_refused(chat: Chat) -> None:
    await chat.start()
    version = (await chat.state()).version  # type: ignore[union-attr]
    for action in ("nonsense", "lang:fr", "job:abc", "jobs:99:x", "@1:yes", "lst:1:apps", "appst:1:hired", "mj:1:a"):
        await chat.act(action)
        assert chat.last, action
        assert "went wrong" not in chat.text, action
    assert (await chat.state()).version == version  # type: ignore[union-attr]
