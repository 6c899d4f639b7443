"""A chat driven through conversations.handle(), on the real database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations.dialog import handle
from conversations.replies import AskPhone, AskVoice, Incoming, JobCard, Reply, Text, Voice
from conversations.state import ConversationState
from conversations.turn import DialogDeps
from media.composer import PitchJob
from tests.builders import Builder

MODERATOR = "900"
MODERATORS_GROUP = "-1001"


async def fake_audio(job: PitchJob, language: str) -> Voice:
    """A voice note without ffmpeg: enough to see that cards carry one."""
    return Voice(audio_id=f"{language}-{job.sector}-{job.province_code}", ogg=None, mp3=None)


def reply_text(reply: Reply) -> str:
    if isinstance(reply, Voice):
        return reply.caption
    return reply.text


def buttons_of(replies: Sequence[Reply]) -> list[tuple[str, str]]:
    found = []
    for reply in replies:
        for row in getattr(reply, "buttons", ()):
            found.extend((b.label, b.action) for b in row)
    return found


class Chat:
    """One person in one chat; remembers the last replies so tests can press their buttons."""

    def __init__(self, deps: DialogDeps, user_id: str, *, chat_id: str | None = None, in_group: bool = False):
        self.deps = deps
        self.user_id = user_id
        self.chat_id = chat_id or user_id
        self.in_group = in_group
        self.last: list[Reply] = []

    def incoming(self, **fields: Any) -> Incoming:
        return Incoming(
            channel="telegram",
            chat_id=self.chat_id,
            user_id=self.user_id,
            user_name="Dara",
            in_group=self.in_group,
            **fields,
        )

    async def send(self, text: str | None = None, **fields: Any) -> list[Reply]:
        self.last = await handle(self.incoming(text=text, **fields), self.deps)
        return self.last

    async def press(self, label: str) -> list[Reply]:
        """Press the button of the last replies whose label contains ``label``."""
        actions = [action for text, action in buttons_of(self.last) if label in text]
        assert actions, f"no button {label!r} in {buttons_of(self.last)}"
        return await self.send(action=actions[0])

    async def act(self, action: str) -> list[Reply]:
        return await self.send(action=action)

    @property
    def text(self) -> str:
        return "\n".join(reply_text(r) for r in self.last)

    def labels(self) -> list[str]:
        return [label for label, _ in buttons_of(self.last)]

    def cards(self) -> list[JobCard]:
        return [r for r in self.last if isinstance(r, JobCard)]

    def kinds(self) -> list[type]:
        return [type(r) for r in self.last]

    async def state(self) -> ConversationState | None:
        async with self.deps.session_factory() as session:
            return await session.scalar(
                select(ConversationState).filter_by(channel="telegram", chat_id=self.chat_id, user_id=self.user_id)
            )

    async def start(self, language: str = "en") -> None:
        await self.send("/start")
        await self.act(f"lang:{language}")


@pytest.fixture
def deps(session_factory: async_sessionmaker[AsyncSession], now: datetime) -> DialogDeps:
    return DialogDeps(
        session_factory=session_factory,
        clock=lambda: now,
        moderator_ids=frozenset({MODERATOR}),
        audio=fake_audio,
        clip_normaliser=fake_normaliser,
    )


async def fake_normaliser(upload: Path) -> Path:
    if upload.suffix == ".bad":
        from media.employer_clip import EmployerClipRejected

        raise EmployerClipRejected("too_long", "31 s")
    return upload.with_suffix(".wav")


@pytest.fixture
def build(session_factory: async_sessionmaker[AsyncSession], now: datetime) -> Builder:
    return Builder(session_factory, now)


@pytest.fixture
def chat(deps: DialogDeps) -> Chat:
    return Chat(deps, "7001")


__all__ = ["MODERATOR", "MODERATORS_GROUP", "AskPhone", "AskVoice", "Chat", "Text"]
