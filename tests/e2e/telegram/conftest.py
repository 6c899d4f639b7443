"""The Telegram adapter through HTTP: our webhook route on a TestServer, the real aiogram Bot against the
fake Bot API server, PostgreSQL for the rest."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.telegram import BotPacer, TelegramDeps, make_bot, setup_telegram
from bots.telegram.models import TelegramUpdate
from bots.telegram.webhook import DEPS, SECRET_HEADER, WEBHOOK_PATH
from conversations.outbox import OutboxMessage
from conversations.replies import AskPhone, Button, Incoming, JobCard, Reply, Text, Voice
from jobs_core.model import AuditEntry
from jobs_core.model.base import utcnow
from jobs_core.services.people import relative_for
from jobs_core.uow import UnitOfWork
from tests.fakes.telegram_api import FakeTelegramAPI

TOKEN = "123456789:AAFakeTokenForTheBongPheakTests_x"
SECRET = "s3cret-token_for-tests"


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI() as api:
        yield api


@pytest.fixture
def voice_files(tmp_path: Path) -> dict[str, Path]:
    ogg = tmp_path / "job-1.ogg"
    ogg.write_bytes(b"OggS\x00\x02" + b"opus-job-1" * 50)
    mp3 = tmp_path / "job-1.mp3"
    mp3.write_bytes(b"ID3\x03" + b"mp3-job-1" * 50)
    return {"ogg": ogg, "mp3": mp3}


@dataclass
class StandInDialog:
    """A small dialog for adapter tests: records what came in, writes one audit row per turn (in the
    update's transaction), answers predictably."""

    voice: Voice
    seen: list[Incoming] = field(default_factory=list)
    fail_next: int = 0

    async def __call__(self, incoming: Incoming, sessions: async_sessionmaker[AsyncSession]) -> Sequence[Reply]:
        self.seen.append(incoming)
        async with UnitOfWork(sessions) as uow:
            relative = await relative_for(uow, "telegram", incoming.user_id, name=incoming.user_name)
            uow.audit(f"relative:{relative.id}", "dialog.turn", "relative", relative.id, text=incoming.text or "")
            await uow.commit()
        if self.fail_next:
            self.fail_next -= 1
            raise RuntimeError("the dialog broke")
        return self.answer(incoming)

    def answer(self, incoming: Incoming) -> list[Reply]:
        share = Button("📤 Share", "job:1:share", kind="share")
        if incoming.action == "jobs":
            return [
                JobCard(1, "Sewing machine operators, $210/month", self.voice, ((Button("Apply", "job:1:apply"),),))
            ]
        if incoming.action == "voice":
            return [self.voice]
        if incoming.action is not None:
            if incoming.action.startswith("@"):
                return [Text("That button belongs to an earlier question.")]
            return [Text("This button is no longer valid.")]
        if incoming.contact_phone:
            return [Text(f"Thanks, {incoming.contact_phone}")]
        if incoming.voice is not None:
            return [Text(f"Got your recording ({incoming.voice.stat().st_size} bytes)")]
        if incoming.other_media:
            return [Text("Please send text or press a button.")]
        text = incoming.text or ""
        if text == "/start":
            return [Text("Welcome! Choose:", ((Button("🔎 Jobs", "jobs"), share),))]
        if text == "phone":
            return [AskPhone("Your phone number?", ((Button("Skip", "skip"),),))]
        if text == "long":
            return [Text("ក" * 5000)]
        return [Text(f"You said: {text[:200]}" if text.strip() else "Please type something.")]


@pytest.fixture
def dialog(voice_files: dict[str, Path]) -> StandInDialog:
    return StandInDialog(Voice("audio-job-1", voice_files["ogg"], voice_files["mp3"], caption="Job 1"))


@pytest.fixture
async def bot(fake_api: FakeTelegramAPI) -> AsyncIterator[Bot]:
    bot = make_bot(TOKEN, fake_api.base_url)
    yield bot
    await bot.session.close()


def quick_pacer() -> BotPacer:
    """Telegram's per-chat and per-group waits at a fiftieth: a flow test sends dozens of messages to one chat
    and would otherwise wait a second for each. The limits themselves are held by the default pacer in
    test_pacing, test_outbox and the many-processes test."""
    return BotPacer(chat_interval=0.021, group_per_minute=1000)


@pytest.fixture
def deps(
    bot: Bot, session_factory: async_sessionmaker[AsyncSession], dialog: StandInDialog, tmp_path: Path
) -> TelegramDeps:
    return TelegramDeps(
        bot=bot,
        session_factory=session_factory,
        dialog=dialog,
        secret=SECRET,
        download_dir=tmp_path / "downloads",
        pacer=BotPacer(),
    )


@pytest.fixture
async def client(deps: TelegramDeps) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    """The webhook app as a serve process runs it: it joins the sender election and, alone, becomes the sender."""
    app = web.Application()
    setup_telegram(app, deps)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def post_update(
    client: TestClient[web.Request, web.Application],
    update: dict[str, Any],
    secret: str | None = SECRET,
    *,
    delivered: bool = True,
) -> int:
    """POST the update; after a 200, wait (``delivered``) until the sender has sent what is due: the replies
    leave after the webhook's answer."""
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    response = await client.post(WEBHOOK_PATH, json=update, headers=headers)
    await response.read()
    if response.status == 200 and delivered:
        sessions = getattr(client, "sessions", None) or client.server.app[DEPS].session_factory
        await all_sent(sessions)
    return response.status


async def due_messages(sessions: async_sessionmaker[AsyncSession]) -> int:
    """Telegram outbox rows due now and neither sent nor given up (claimed ones included)."""
    due = (
        OutboxMessage.channel == "telegram",
        OutboxMessage.sent_at.is_(None),
        OutboxMessage.failed.is_(False),
        OutboxMessage.not_before <= utcnow(),
    )
    return await count(sessions, OutboxMessage, *due)


async def all_sent(sessions: async_sessionmaker[AsyncSession], within: float = 60.0) -> None:
    """Wait until the sender has sent (and recorded) every message due now."""
    async with asyncio.timeout(within):
        while True:
            if not await due_messages(sessions):
                return
            await asyncio.sleep(0.02)


async def count(sessions: async_sessionmaker[AsyncSession], model: Any, *where: Any) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def handled_updates(sessions: async_sessionmaker[AsyncSession]) -> int:
    return await count(sessions, TelegramUpdate)


async def turns(sessions: async_sessionmaker[AsyncSession]) -> int:
    return await count(sessions, AuditEntry, AuditEntry.action == "dialog.turn")
