"""Replies of an update handled by the process that is the bot's sender are handed to its sender after the
commit (queued claimed, no NOTIFY, no claim query); what it cannot take goes back to the queue."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from aiogram.types import Update
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.telegram import BotPacer, SenderElection, TelegramDeps, TelegramOutboxSender, make_bot, setup_telegram
from bots.telegram.outbox import Queued
from bots.telegram.updates import UpdateProcessor
from bots.telegram.webhook import ELECTION, PROCESSOR
from conversations.outbox import URGENT, OutboxMessage, enqueue_claimed
from conversations.replies import Text
from jobs_core.model.base import utcnow
from tests.e2e.telegram.conftest import TOKEN, all_sent, post_update
from tests.e2e.test_whole_system import eventually
from tests.fakes.telegram_api import FakeTelegramAPI, message_update

CHAT = 616161


async def rows(sessions: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with sessions() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


class CountingSender(TelegramOutboxSender):
    """Counts its looks at the queue."""

    claims = 0

    async def _claim_some(self) -> int:
        self.claims += 1
        return await super()._claim_some()


async def test_the_sending_process_sends_its_own_updates_replies_once_in_order_without_looking_at_the_queue(
    deps: TelegramDeps, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    own = replace(deps, bot=make_bot(TOKEN, fake_api.base_url), pacer=BotPacer(chat_interval=0.02))
    app = web.Application()
    setup_telegram(app, own)
    # The sender looks at the queue when it starts, then not for ten minutes: only the hand-over can send.
    election = app[PROCESSOR].election
    assert election is not None
    election.make_sender = lambda: CountingSender(own, idle_delay=600)
    try:
        async with TestClient(TestServer(app)) as client:
            await eventually(lambda: app[ELECTION].sending_here, "this process sends", 30)
            for n, text in enumerate(["one", "phone", "three"]):
                assert await post_update(client, message_update(80 + n, CHAT, text), delivered=False) == 200
            await all_sent(session_factory, within=30)
            await asyncio.sleep(0.5)  # nothing more comes
    finally:
        await own.bot.session.close()
    sender = election.sender
    assert isinstance(sender, CountingSender)
    assert sender.claims == 1  # the look at startup: no NOTIFY woke it, no claim query found the replies
    texts = [c.params["text"] for c in fake_api.sent(CHAT)]
    assert texts == ["You said: one", "Your phone number?", "⬇️", "You said: three"]
    queued = await rows(session_factory)
    assert [r.dedupe_key for r in queued] == ["tg-update:80:0", "tg-update:81:0", "tg-update:82:0"]
    assert all(r.sent_at is not None and r.claimed_at is None and r.attempts == 1 for r in queued)


class RoleLost:
    """A process that was the sender when the update's transaction began and no longer is at its commit."""

    sending_here = True

    def take(self, rows: list[Queued]) -> list[Queued]:
        return rows


async def test_replies_the_sender_did_not_take_go_back_to_the_queue_and_wake_whoever_sends(
    deps: TelegramDeps, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    other = replace(deps, bot=make_bot(TOKEN, fake_api.base_url), pacer=BotPacer())
    election = SenderElection(other, sender=lambda: TelegramOutboxSender(other, idle_delay=600))
    stop = asyncio.Event()
    running = asyncio.create_task(election.run(stop))
    try:
        await eventually(lambda: election.sending_here, "the other process sends", 30)
        processor = UpdateProcessor(deps, RoleLost())  # type: ignore[arg-type]
        update = Update.model_validate(message_update(90, CHAT, "hello"), context={"bot": deps.bot})
        assert await processor.process(update)
        # Released at once (not left claimed for a sender that will never send it), and the other process's
        # sender, ten minutes from its next look, was woken.
        await all_sent(session_factory, within=30)
        await asyncio.sleep(0.5)
    finally:
        stop.set()
        await running
        await other.bot.session.close()
    assert [c.params["text"] for c in fake_api.sent(CHAT)] == ["You said: hello"]
    (row,) = await rows(session_factory)
    assert row.sent_at is not None and row.claimed_at is None and row.attempts == 1


async def test_a_claimed_reply_nobody_holds_is_sent_after_a_minute_and_a_fresh_claim_is_left_alone(
    deps: TelegramDeps, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    # Queued claimed by processes that then stopped being the sender and died before giving them back: one
    # two minutes ago (an orphan), one just now (perhaps still being sent by a sender that took it).
    async with session_factory() as session, session.begin():
        await enqueue_claimed(
            session,
            "telegram",
            [(str(CHAT), Text("orphan"), "k:orphan")],
            priority=URGENT,
            now=utcnow() - timedelta(minutes=2),
        )
        await enqueue_claimed(session, "telegram", [(str(CHAT + 1), Text("in hand"), "k:fresh")], priority=URGENT)
    sent = await TelegramOutboxSender(deps).drain()
    assert sent == 1
    assert [c.params["text"] for c in fake_api.sent()] == ["orphan"]
    fresh = [r for r in await rows(session_factory) if r.dedupe_key == "k:fresh"]
    assert fresh[0].claimed_at is not None and fresh[0].sent_at is None
