"""What the sender learnt about chats, kept in ``telegram_chats`` so the next sender knows it too.

Only the one sender of the bot (see :mod:`bots.telegram.leader`) reads or changes these facts, so its memory
is exact while it sends: it loads the table when it starts and writes every change through at once. When
leadership moves, the new sender loads what the old one wrote. A change written just before a crash can be
lost with the crash; the cost is one refused voice note (then learnt again) or one "send my number" keyboard
left on the person's screen.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.telegram.models import TelegramChat
from jobs_core.model.base import utcnow


class ChatMemory:
    """``voice_forbidden``: the chat's privacy settings refuse voice notes (audio files go instead);
    ``keyboard_shown``: the chat shows the contact keyboard, removed with the next plain message."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.session_factory = session_factory
        self.voice_forbidden: set[str] = set()
        self.keyboard_shown: set[str] = set()

    async def load(self) -> None:
        """Read what earlier senders learnt (a sender calls this when it starts)."""
        async with self.session_factory() as session:
            rows = await session.execute(
                select(TelegramChat.chat_id, TelegramChat.voice_forbidden, TelegramChat.contact_keyboard_shown).where(
                    or_(TelegramChat.voice_forbidden, TelegramChat.contact_keyboard_shown)
                )
            )
            found = list(rows)
            await session.commit()
        self.voice_forbidden = {chat for chat, forbidden, _shown in found if forbidden}
        self.keyboard_shown = {chat for chat, _forbidden, shown in found if shown}

    async def forbid_voice(self, chat_id: str) -> None:
        if chat_id not in self.voice_forbidden:
            self.voice_forbidden.add(chat_id)
            await self._write(chat_id, voice_forbidden=True)

    async def show_keyboard(self, chat_id: str, shown: bool) -> None:
        if (chat_id in self.keyboard_shown) == shown:
            return
        if shown:
            self.keyboard_shown.add(chat_id)
        else:
            self.keyboard_shown.discard(chat_id)
        await self._write(chat_id, contact_keyboard_shown=shown)

    async def _write(self, chat_id: str, **flags: bool) -> None:
        async with self.session_factory() as session, session.begin():
            await session.execute(
                insert(TelegramChat)
                .values(
                    chat_id=chat_id,
                    voice_forbidden=flags.get("voice_forbidden", False),
                    contact_keyboard_shown=flags.get("contact_keyboard_shown", False),
                    updated_at=utcnow(),
                )
                .on_conflict_do_update(index_elements=["chat_id"], set_={**flags, "updated_at": utcnow()})
            )
