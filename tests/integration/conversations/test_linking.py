"""Linking a Telegram and a Messenger account with a one-time code: one relative, shared family and alerts."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations.replies import Incoming
from conversations.turn import DialogDeps
from jobs_core.model import Relative
from tests.integration.conversations.conftest import Chat


class MessengerChat(Chat):
    def incoming(self, **fields: Any) -> Incoming:
        return Incoming(channel="messenger", chat_id=self.chat_id, user_id=self.user_id, user_name="Dara", **fields)


def code_in(text: str) -> str:
    found = re.search(r"/link (\d{6})", text)
    assert found, text
    return found.group(1)


async def test_a_code_shown_on_telegram_and_typed_on_messenger_shares_alerts_and_family(
    chat: Chat, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await chat.start()
    await chat.act("alerts")
    await chat.press("New alert")
    await chat.press("Kandal")
    await chat.press("Construction")
    await chat.send("/link")
    code = code_in(chat.text)
    facebook = MessengerChat(chat.deps, "psid-42")
    await facebook.start()
    await facebook.send(f"/link {code}")
    assert "Linked" in facebook.text
    await facebook.act("alerts")
    assert "Kandal · Construction" in facebook.text
    # The code was used once.
    other = MessengerChat(chat.deps, "psid-43")
    await other.start()
    await other.send(f"/link {code}")
    assert "not valid" in other.text
    async with session_factory() as session:
        relatives = (await session.scalars(select(Relative).where(Relative.external_id == "psid-42"))).all()
    assert relatives == []  # the Messenger account is the Telegram relative, not a second one


async def test_a_code_typed_in_the_same_app_a_wrong_or_an_expired_one_links_nothing(
    chat: Chat, deps: DialogDeps, now: datetime
) -> None:
    await chat.start()
    await chat.send("/link")
    code = code_in(chat.text)
    await chat.send(f"/link {code}")
    assert "other app" in chat.text and "Linked" not in chat.text
    facebook = MessengerChat(chat.deps, "psid-44")
    await facebook.start()
    await facebook.send("/link 000000" if code != "000000" else "/link 111111")
    assert "not valid" in facebook.text
    later = MessengerChat(replace(deps, clock=lambda: now + timedelta(minutes=16)), "psid-44")
    await later.send(f"/link {code}")
    assert "not valid" in later.text


async def test_in_khmer_the_code_is_explained_in_khmer(chat: Chat) -> None:
    await chat.start("km")
    await chat.send("/link")
    assert "លេខកូដភ្ជាប់" in chat.text and code_in(chat.text)
