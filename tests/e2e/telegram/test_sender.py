"""Replies leave after the commit, from one sender per bot whatever the number of serve processes."""

from __future__ import annotations

import asyncio
import bisect
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.telegram import BotPacer, SenderElection, TelegramDeps, TelegramOutboxSender, make_bot, setup_telegram
from bots.telegram.webhook import ELECTION
from conversations.outbox import OutboxMessage
from jobs_core.model.base import utcnow
from tests.e2e.telegram.conftest import (
    TOKEN,
    StandInDialog,
    all_sent,
    count,
    due_messages,
    handled_updates,
    post_update,
    turns,
)
from tests.e2e.test_whole_system import eventually
from tests.fakes.telegram_api import ApiCall, FakeTelegramAPI, callback_update, message_update

Client = TestClient[web.Request, web.Application]
CHAT = 515151


@asynccontextmanager
async def serve_process(deps: TelegramDeps, api: FakeTelegramAPI, *, send_outbox: bool = True) -> AsyncIterator[Client]:
    """What one ``bongpheak serve`` process runs for Telegram: its own Bot, its own pacer, the webhook app."""
    own = replace(deps, bot=make_bot(TOKEN, api.base_url), pacer=BotPacer())
    app = web.Application()
    setup_telegram(app, own, send_outbox=send_outbox)
    async with TestClient(TestServer(app)) as client:
        yield client


@asynccontextmanager
async def sender_process(deps: TelegramDeps, api: FakeTelegramAPI) -> AsyncIterator[SenderElection]:
    """A process that only runs the election (as a restarted serve process does before any update)."""
    election = SenderElection(replace(deps, bot=make_bot(TOKEN, api.base_url), pacer=BotPacer()))
    stop = asyncio.Event()
    task = asyncio.create_task(election.run(stop))
    try:
        yield election
    finally:
        stop.set()
        await task
        await election.deps.bot.session.close()


async def outbox_rows(sessions: async_sessionmaker[AsyncSession]) -> int:
    return await count(sessions, OutboxMessage)


def most_in_one_second(calls: list[ApiCall]) -> int:
    """The most sends any 1-second window saw."""
    times = sorted(c.at for c in calls)
    return max((bisect.bisect_left(times, t + 1.0) - i for i, t in enumerate(times)), default=0)


def closest_per_chat(calls: list[ApiCall]) -> float:
    """The shortest time between two sends to the same chat."""
    times: dict[str | None, list[float]] = defaultdict(list)
    for call in calls:
        times[call.chat_id].append(call.at)
    gaps = [b - a for ts in times.values() for a, b in zip(sorted(ts), sorted(ts)[1:], strict=False)]
    return min(gaps, default=float("inf"))


async def test_a_reply_stored_by_a_process_that_died_before_sending_is_sent_once_by_the_next_sender(
    deps: TelegramDeps, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    # The update is committed with its reply, and the process dies before any sender ran.
    async with serve_process(deps, fake_api, send_outbox=False) as client:
        assert await post_update(client, message_update(1, CHAT, "hello"), delivered=False) == 200
    assert fake_api.sent() == []
    assert await outbox_rows(session_factory) == 1 and await turns(session_factory) == 1
    # Another process becomes the sender: the reply goes out, once.
    async with sender_process(deps, fake_api):
        await all_sent(session_factory)
        await asyncio.sleep(1.5)  # a second look of the sender finds nothing more
    assert [c.params["text"] for c in fake_api.sent(CHAT)] == ["You said: hello"]


async def test_messages_a_dead_sender_had_claimed_are_sent_by_the_next_one(
    deps: TelegramDeps, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with serve_process(deps, fake_api, send_outbox=False) as client:
        for n in range(3):
            assert await post_update(client, message_update(10 + n, CHAT + n, f"m{n}"), delivered=False) == 200
    # The dead sender had claimed them (and may or may not have sent them: the documented window).
    async with session_factory() as session, session.begin():
        await session.execute(update(OutboxMessage).values(claimed_at=utcnow()))
    async with sender_process(deps, fake_api):
        await all_sent(session_factory)
    assert sorted(c.params["text"] for c in fake_api.sent()) == ["You said: m0", "You said: m1", "You said: m2"]


async def test_a_failed_update_stores_and_sends_nothing_and_its_retry_sends_once(
    client: Client, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession], dialog: StandInDialog
) -> None:
    dialog.fail_next = 1
    update = message_update(20, CHAT, "hello")
    assert await post_update(client, update) == 500
    assert await outbox_rows(session_factory) == 0
    await asyncio.sleep(1.0)  # the sender looks at least once meanwhile
    assert fake_api.sent() == []
    assert await post_update(client, update) == 200
    assert await post_update(client, update) == 200  # a redelivery after the reply went
    await asyncio.sleep(1.0)
    assert [c.params["text"] for c in fake_api.sent(CHAT)] == ["You said: hello"]
    assert await outbox_rows(session_factory) == 1


async def test_a_voice_message_whose_download_fails_is_a_500_and_writes_nothing(
    client: Client, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession], dialog: StandInDialog
) -> None:
    file_id, unique = fake_api.add_file(b"OggS" + b"\x02" * 300)
    voice = {"file_id": file_id, "file_unique_id": unique, "duration": 2, "mime_type": "audio/ogg"}
    fake_api.fail_next("getFile", 502, "Bad Gateway")
    update = message_update(30, CHAT, voice=voice)
    assert await post_update(client, update) == 500
    assert dialog.seen == []
    assert await handled_updates(session_factory) == 0 and await outbox_rows(session_factory) == 0
    assert fake_api.sent() == []
    assert await post_update(client, update) == 200  # Telegram's retry downloads it
    assert [c.params["text"] for c in fake_api.sent(CHAT)] == ["Got your recording (304 bytes)"]


async def test_two_serve_processes_have_one_sender_and_the_other_takes_over_when_it_stops(
    deps: TelegramDeps, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with serve_process(deps, fake_api) as first, serve_process(deps, fake_api) as second:
        first_election, second_election = first.server.app[ELECTION], second.server.app[ELECTION]
        await eventually(lambda: first_election.leading or second_election.leading, "a sender elected", 30)
        leader, other = (first, second) if first_election.leading else (second, first)
        # 80 chats write at once, through both processes: more than Telegram's 30 messages a second.
        updates = [message_update(100 + n, 800_000 + n, f"a{n}") for n in range(80)]
        updates += [message_update(200 + n, 800_000 + n, f"b{n}") for n in range(20)]  # a second one for 20
        posts = [post_update(leader if n % 2 else other, u, delivered=False) for n, u in enumerate(updates)]
        assert await asyncio.gather(*posts) == [200] * 100
        await all_sent(session_factory)
        assert other.server.app[ELECTION].sender is None  # never sent anything
        leader_sender = leader.server.app[ELECTION].sender
        assert leader_sender is not None and leader_sender.sent == 100

        # The leader stops (its lock goes with its connection): the other process takes over.
        await leader.close()
        await eventually(lambda: other.server.app[ELECTION].leading, "the other process took over", 30)
        more = [message_update(300 + n, 900_000 + n, f"c{n}") for n in range(10)]
        assert await asyncio.gather(*(post_update(other, u, delivered=False) for u in more)) == [200] * 10
        await all_sent(session_factory)
        new_sender = other.server.app[ELECTION].sender
        assert new_sender is not None and new_sender.sent == 10

    sends = fake_api.sent()
    texts = Counter(str(c.params["text"]) for c in sends)
    assert len(sends) == 110 and set(texts.values()) == {1}  # every reply once
    assert most_in_one_second(sends) <= 30
    assert closest_per_chat(sends) >= 1.0
    assert await due_messages(session_factory) == 0


async def test_the_contact_keyboard_is_removed_after_the_sender_changed(
    deps: TelegramDeps, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with serve_process(deps, fake_api) as client:
        assert await post_update(client, message_update(40, CHAT, "phone")) == 200
    async with serve_process(deps, fake_api) as client:  # a new process, a new sender: what it knows is in the database
        assert await post_update(client, message_update(41, CHAT, "hi")) == 200
    thanks = fake_api.sent(CHAT)[-1]
    assert thanks.params["text"] == "You said: hi" and thanks.params["reply_markup"] == {"remove_keyboard": True}


async def test_a_chat_refusing_voice_notes_is_remembered_by_the_next_sender(
    deps: TelegramDeps, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    fake_api.forbid_voice(CHAT)
    async with serve_process(deps, fake_api) as client:
        assert await post_update(client, callback_update(50, CHAT, "voice")) == 200
    async with serve_process(deps, fake_api) as client:
        assert await post_update(client, callback_update(51, CHAT, "voice")) == 200
    methods = [(c.method, c.status) for c in fake_api.calls_of("sendVoice", "sendAudio")]
    assert methods == [("sendVoice", 400), ("sendAudio", 200), ("sendAudio", 200)]


async def test_an_updates_replies_are_keyed_by_its_update_id_and_settled_once_sent(
    client: Client, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    assert await post_update(client, message_update(60, CHAT, "phone")) == 200
    async with session_factory() as session:
        rows = list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())
    assert [r.dedupe_key for r in rows] == ["tg-update:60:0"]
    assert all(r.sent_at is not None and r.claimed_at is None and r.attempts == 1 for r in rows)
    assert next(c.params["text"] for c in fake_api.sent(CHAT)) == "Your phone number?"


async def test_the_sender_is_woken_by_the_commit_not_by_its_next_look(
    deps: TelegramDeps, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    own = replace(deps, bot=make_bot(TOKEN, fake_api.base_url), pacer=BotPacer())
    election = SenderElection(own, sender=lambda: TelegramOutboxSender(own, idle_delay=600))
    stop = asyncio.Event()
    running = asyncio.create_task(election.run(stop))
    try:
        await eventually(lambda: election.leading, "elected", 30)
        async with serve_process(deps, fake_api, send_outbox=False) as client:
            assert await post_update(client, message_update(70, CHAT, "wake up"), delivered=False) == 200
            # Its next look is ten minutes away: only the NOTIFY sent at the update's commit can explain this.
            await all_sent(session_factory, within=30)
        assert [c.params["text"] for c in fake_api.sent(CHAT)] == ["You said: wake up"]
    finally:
        stop.set()
        await running
        await own.bot.session.close()
