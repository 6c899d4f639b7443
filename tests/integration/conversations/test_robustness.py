"""Two updates of one chat at once, and random input at every step: no crash, no corrupted state."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from conversations.dialog import STEPS
from conversations.state import IDLE, ConversationState
from conversations.turn import DialogDeps
from tests.builders import Builder
from tests.integration.conversations.conftest import MODERATOR, Chat, reply_text


async def test_two_updates_at_once_run_one_after_the_other(deps: DialogDeps) -> None:
    chat = Chat(deps, "7001")
    await chat.start()
    await chat.act("nom")
    before = await chat.state()
    assert before is not None
    first, second = await asyncio.gather(chat.send("Sophea"), Chat(deps, "7001").send("Dara"))
    after = await chat.state()
    assert after is not None
    # One answer became the name; the other arrived at the phone question and was refused as a phone number.
    assert after.version == before.version + 1 and after.step == "nominate.phone"
    assert after.data["name"] in ("Sophea", "Dara")
    refused = [r for r in (first, second) if "phone number" in "\n".join(reply_text(x) for x in r).lower()]
    assert len(refused) == 2  # the accepted one asks for the phone, the refused one explains and asks again


async def test_two_presses_of_one_keyboard_at_once_apply_once(deps: DialogDeps) -> None:
    chat = Chat(deps, "7001")
    await chat.start()
    await chat.act("nom")
    for answer in ("Sophea", "012 345 678"):
        await chat.send(answer)
    await chat.press("Friend")
    await chat.press("Man")
    await chat.send("1990")
    await chat.press("Kampot")
    actions = {
        label: action
        for reply in chat.last
        for row in reply.buttons
        for b in row
        for label, action in [(b.label, b.action)]
    }  # type: ignore[union-attr]
    garment = next(a for label, a in actions.items() if "Garment" in label)
    building = next(a for label, a in actions.items() if "Construction" in label)
    results = await asyncio.gather(*(Chat(deps, "7001").act(a) for a in (garment, building) * 3))
    state = await chat.state()
    assert state is not None and len(state.data["sectors"]) == 1  # the rest were stale, not silently merged
    stale = [r for r in results if "earlier question" in "\n".join(reply_text(x) for x in r)]
    assert len(stale) == 5


async def test_many_chats_at_once(deps: DialogDeps) -> None:
    chats = [Chat(deps, str(9000 + i)) for i in range(12)]
    await asyncio.gather(*(c.start() for c in chats))
    await asyncio.gather(*(c.act("nom") for c in chats))
    await asyncio.gather(*(c.send(f"Name {i}") for i, c in enumerate(chats)))
    for i, c in enumerate(chats):
        state = await c.state()
        assert state is not None and state.step == "nominate.phone" and state.data["name"] == f"Name {i}"


# ------------------------------------------------------------------------------------------------ fuzzing

KHMER = st.text(alphabet=st.characters(min_codepoint=0x1780, max_codepoint=0x17FF), max_size=40)
EMOJI = st.text(alphabet=st.sampled_from("😀🎉👪🇰🇭💼✅❌\u200b\u200d\ufe0f"), max_size=20)
TEXT = st.one_of(
    st.text(max_size=60),
    KHMER,
    EMOJI,
    st.from_regex(r"[0-9០-៩ +\-:.]{0,20}", fullmatch=True),
    st.sampled_from(["", " ", "\x00", "x" * 5000, "១" * 300, "/", "/start@bot", "-1", "0", "99999999999999"]),
)
INPUT = st.one_of(
    TEXT.map(lambda text: {"text": text}),
    st.text(max_size=80).map(lambda action: {"action": action}),
    st.builds(lambda: {"other_media": True}),
    st.builds(lambda: {"voice": Path("/nonexistent/voice.ogg")}),
    st.from_regex(r"\+?[0-9០-៩ ]{0,16}", fullmatch=True).map(lambda phone: {"contact_phone": phone}),
    st.from_regex(r"@[0-9]{1,3}:[a-z:0-9\-]{0,12}", fullmatch=True).map(lambda action: {"action": action}),
)


async def _walk(chat: Chat, moves: list[dict[str, Any]], found: dict[str, tuple[Chat, dict[str, Any]]]) -> None:
    """Make the moves, keeping a snapshot of the state at each step met for the first time."""
    for move in moves:
        if "press" in move:
            await chat.press(move["press"])
        else:
            await chat.send(**move)
        state = await chat.state()
        assert state is not None and "went wrong" not in chat.text, (move, chat.text)
        if state.step != IDLE and state.step not in found:
            found[state.step] = (chat, {"step": state.step, "data": dict(state.data), "version": state.version})


async def _at_every_step(deps: DialogDeps, build: Builder) -> list[tuple[Chat, dict[str, Any]]]:
    """A snapshot of a real conversation waiting at each step of every flow."""
    from jobs_core.company import read_company
    from jobs_core.services.employers import hold_registration
    from jobs_core.services.jobs import SubmitJob, submit_job

    live_job = await build.published()
    employer_id = await build.employer(external_id="e-fuzz")
    pending_job = await build.draft(employer_id)
    await submit_job(SubmitJob(pending_job, employer_id, "employer"), build.uow())
    found: dict[str, tuple[Chat, dict[str, Any]]] = {}

    relative = Chat(deps, "f-relative")
    await relative.start()
    await _walk(
        relative,
        [
            {"action": "nom"},
            {"text": "Sophea"},
            {"text": "012 345 678"},
            {"press": "Friend"},
            {"press": "Man"},
            {"text": "1990"},
            {"press": "Kampot"},
            {"press": "Garment"},
            {"press": "Done"},
            {"press": "Skip"},  # no greeting
            {"press": "Yes"},
            {"action": "browse"},
            {"press": "Kandal"},
            {"action": "alert"},
            {"press": "Kandal"},
            {"action": f"job:{live_job}:apply"},
            {"action": f"job:{live_job}:report"},
            {"press": "fee"},
        ],
        found,
    )
    company = Chat(deps, "f-employer")
    await company.start()
    post = [
        {"action": "post"},
        {"text": "Cooks"},
        {"press": "Garment"},
    ]
    await _walk(
        company,
        [
            {"action": "emp"},
            {"text": "Co"},
            {"text": "023 880 112"},
            {"press": "Kandal"},
            {"press": "agency"},
            {"text": "MOL-1"},
            *post,
            {"press": "Abroad"},
            *post,
            {"press": "In Cambodia"},
            {"press": "Kandal"},
            {"press": "Skip"},
            {"press": "Skip"},
            {"text": "100"},
            {"press": "US dollars"},
            {"press": "per month"},
            {"text": "7-4"},  # read as 07:00-16:00, and asked
            {"press": "Yes"},
            {"press": "Skip"},
            {"text": "3"},
            {"press": "Men and women"},
            {"press": "Skip"},
            {"press": "Done"},
            {"press": "Skip"},
            {"press": "Skip"},
            {"press": "Skip"},
        ],
        found,
    )
    # A company typed on the website, opened in the chat by its link: the Confirm question.
    token = await hold_registration(
        read_company({"name": "Web Co", "phone": "023 880 113", "province": "Kandal", "kind": "employer"}), build.uow()
    )
    website = Chat(deps, "f-website")
    await website.start()
    await _walk(website, [{"text": f"/start reg_{token}"}], found)
    moderator = Chat(deps, MODERATOR)
    await moderator.start()
    await _walk(moderator, [{"action": f"mj:{pending_job}:c"}, {"action": f"me:{employer_id}:r"}], found)
    assert sorted(found) == sorted(STEPS)  # every step of every flow
    return [found[step] for step in sorted(found)]


async def _restore(chat: Chat, snapshot: dict[str, Any]) -> None:
    async with chat.deps.session_factory() as session:
        await session.execute(
            update(ConversationState)
            .filter_by(channel="telegram", chat_id=chat.chat_id, user_id=chat.user_id)
            .values(step=snapshot["step"], data=snapshot["data"], version=snapshot["version"])
        )
        await session.commit()


_prepared: dict[int, list[tuple[Chat, dict[str, Any]]]] = {}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.integers(min_value=0, max_value=len(STEPS) - 1), fields=INPUT)
async def test_random_input_at_every_step_never_breaks_anything(
    deps: DialogDeps, build: Builder, which: int, fields: dict[str, Any]
) -> None:
    if id(deps) not in _prepared:
        _prepared.clear()
        _prepared[id(deps)] = await _at_every_step(deps, build)
    chat, snapshot = _prepared[id(deps)][which]
    await _restore(chat, snapshot)
    replies = await chat.send(**fields)
    assert replies, fields
    text = "\n".join(reply_text(r) for r in replies)
    assert "went wrong" not in text and "មានបញ្ហាកើតឡើង" not in text, (snapshot["step"], fields, text)
    assert all(len(reply_text(r)) <= 4096 for r in replies)
    state = await chat.state()
    assert state is not None
    unchanged = (state.step, state.data, state.version) == (snapshot["step"], snapshot["data"], snapshot["version"])
    moved_on = state.version == snapshot["version"] + 1 and (state.step in STEPS or state.step == IDLE)
    assert unchanged or moved_on, (snapshot["step"], fields, state.step)


async def test_a_failure_after_the_domain_change_undoes_it_and_keeps_the_state(
    deps: DialogDeps, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from sqlalchemy import func, select

    from conversations.flows import nominate
    from jobs_core.model import Event, Worker
    from jobs_core.services import people

    real = people.nominate_worker

    async def nominate_then_fail(*args: Any, **kwargs: Any) -> Any:
        await real(*args, **kwargs)
        raise RuntimeError("the disk is full")

    chat = Chat(deps, "7001")
    await chat.start()
    await chat.act("nom")
    for answer in ("Sophea", "012 345 678"):
        await chat.send(answer)
    await chat.press("Friend")
    await chat.press("Woman")
    await chat.send("1990")
    await chat.press("Kampot")
    await chat.press("Done")
    await chat.press("Skip")  # no greeting
    before = await chat.state()
    monkeypatch.setattr(nominate.people, "nominate_worker", nominate_then_fail)
    await chat.press("Yes, they agreed")
    assert "Sorry, something went wrong" in chat.text
    assert "the disk is full" in caplog.text
    after = await chat.state()
    assert before is not None and after is not None
    assert (after.step, after.data, after.version) == (before.step, before.data, before.version)
    async with deps.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Worker)) == 0
        assert (
            await session.scalar(select(func.count()).select_from(Event).where(Event.kind == "worker.nominated")) == 0
        )
    monkeypatch.setattr(nominate.people, "nominate_worker", real)
    await chat.press("Yes, they agreed")  # the same button works once the failure is gone
    assert "We added Sophea" in chat.text
