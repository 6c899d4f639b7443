"""The outbox sender against the fake Bot API: pacing, 429, 403, restarts."""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.telegram import BotPacer, TelegramDeps, TelegramOutboxSender
from conversations.outbox import OutboxMessage, enqueue
from conversations.replies import Button, JobCard, Text, Voice
from jobs_core.model import Relative
from tests.builders import Builder
from tests.fakes.telegram_api import ApiCall, FakeTelegramAPI


async def queue(sessions: async_sessionmaker[AsyncSession], items: list[tuple[int, str]]) -> None:
    async with sessions() as session, session.begin():
        for n, (chat, text) in enumerate(items):
            await enqueue(session, "telegram", str(chat), Text(text, ((Button("Open", "job:1"),),)), f"t:{n}:{chat}")


async def rows(sessions: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with sessions() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


def gaps_per_chat(calls: list[ApiCall]) -> dict[str, list[float]]:
    times: dict[str, list[float]] = defaultdict(list)
    for call in calls:
        if call.chat_id is not None:
            times[call.chat_id].append(call.at)
    return {chat: [b - a for a, b in itertools.pairwise(ts)] for chat, ts in times.items()}


async def test_no_chat_gets_two_messages_within_a_second(
    deps: TelegramDeps, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    items = [(1001, "a1"), (1001, "a2"), (1001, "a3"), (1002, "b1"), (1002, "b2")]
    items += [(2000 + i, f"x{i}") for i in range(20)]
    await queue(session_factory, items)
    sender = TelegramOutboxSender(deps, workers=6)
    assert await sender.drain() == 25
    calls = fake_api.sent()
    assert len(calls) == 25
    for chat, gaps in gaps_per_chat(calls).items():
        assert all(g >= 1.0 for g in gaps), (chat, gaps)
    assert [c.params["text"] for c in fake_api.sent(1001)] == ["a1", "a2", "a3"]  # one chat keeps its order
    assert all(r.sent_at is not None and r.attempts == 1 for r in await rows(session_factory))


async def test_a_429_pauses_the_whole_bot_for_retry_after(
    deps: TelegramDeps, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await queue(session_factory, [(3000 + i, f"m{i}") for i in range(6)])
    fake_api.rate_limit_next(2, "sendMessage")
    assert await TelegramOutboxSender(deps, workers=3).drain() == 6
    limited = next(c for c in fake_api.calls if c.status == 429)
    after = [c for c in fake_api.calls_of("sendMessage") if c.at > limited.at]
    assert len(after) == 6 and all(c.ok for c in after)
    # Nobody sent in the pause, to any chat, except the sends already under way when the 429 came back (the
    # chats go concurrently: at most one per other worker).
    in_pause = [c for c in after if c.at - limited.at < 1.95]
    assert len(in_pause) <= 2, in_pause
    assert deps.pacer.pauses == 1


async def test_a_blocked_chat_marks_the_relative_unreachable_and_the_row_failed(
    deps: TelegramDeps, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession], now: object
) -> None:
    builder = Builder(session_factory, now)  # type: ignore[arg-type]
    relative_id = await builder.relative(external_id="4001")
    fake_api.block(4001)
    await queue(session_factory, [(4001, "alert"), (4002, "other")])
    sender = TelegramOutboxSender(deps, workers=2)
    assert await sender.drain() == 1
    blocked, other = await rows(session_factory)
    assert blocked.failed and blocked.sent_at is None and "blocked" in (blocked.error or "")
    assert other.sent_at is not None
    async with session_factory() as session:
        relative = await session.get(Relative, relative_id)
    assert relative is not None and relative.unreachable
    assert await sender.drain() == 0  # never tried again
    assert len(fake_api.calls_of("sendMessage", chat_id=4001)) == 1


async def test_a_restart_resumes_without_sending_anything_twice(
    deps: TelegramDeps, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await queue(session_factory, [(5000 + i % 10, f"m{i}") for i in range(30)])  # 3 per chat: takes ~2 s
    stop = asyncio.Event()
    first = TelegramOutboxSender(deps, workers=4, idle_delay=0.05)
    running = asyncio.create_task(first.run(stop))
    await asyncio.sleep(0.8)
    stop.set()  # a deploy: the process stops between messages
    await running
    assert 0 < first.sent < 30
    second = TelegramOutboxSender(
        TelegramDeps(**{**deps.__dict__, "pacer": BotPacer()}),
        workers=4,  # a new process: a new pacer
    )
    assert await second.drain() == 30 - first.sent
    texts = [c.params["text"] for c in fake_api.sent()]
    assert sorted(texts) == sorted(f"m{i}" for i in range(30))
    assert all(r.sent_at is not None for r in await rows(session_factory))


async def test_two_senders_never_take_the_same_row(
    deps: TelegramDeps, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await queue(session_factory, [(6000 + i, f"m{i}") for i in range(40)])
    one, two = TelegramOutboxSender(deps, workers=4), TelegramOutboxSender(deps, workers=4)
    sent = await asyncio.gather(one.drain(), two.drain())
    assert sum(sent) == 40
    assert sorted(c.params["text"] for c in fake_api.sent()) == sorted(f"m{i}" for i in range(40))


async def test_a_job_card_alert_uploads_its_voice_once(
    deps: TelegramDeps, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    ogg = tmp_path / "v.ogg"
    ogg.write_bytes(b"OggS-alert")
    card = JobCard(9, "New job: guards", Voice("audio-9", ogg, None), ((Button("Apply", "job:9:apply"),),))
    async with session_factory() as session, session.begin():
        for chat in (7001, 7002, 7003):
            await enqueue(session, "telegram", str(chat), card, f"card:9:{chat}")
    assert await TelegramOutboxSender(deps, workers=1).drain() == 3
    voices = fake_api.calls_of("sendVoice")
    assert [bool(c.files) for c in voices] == [True, False, False]


async def test_an_unreadable_row_is_failed_not_retried_forever(
    deps: TelegramDeps, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session, session.begin():
        session.add(OutboxMessage(channel="telegram", chat_id="8001", payload={"type": "hologram"}, dedupe_key="bad:1"))
    assert await TelegramOutboxSender(deps).drain() == 0
    [row] = await rows(session_factory)
    assert row.failed and "unreadable" in (row.error or "")
    assert fake_api.calls == []
