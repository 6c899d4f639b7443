"""Replies rendered as Bot API calls: inline keyboards, the contact button, voice notes uploaded once.

Used by the outbox sender only (:mod:`bots.telegram.outbox`): the webhook stores replies, it never sends them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TypeVar

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter
from aiogram.types import (
    BufferedInputFile,
    ForceReply,
    FSInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.telegram.chats import ChatMemory
from bots.telegram.models import TelegramFile
from bots.telegram.pacing import BotPacer
from conversations.channel import TELEGRAM
from conversations.replies import AskPhone, AskVoice, Button, Edit, JobCard, Keyboard, QrCode, Reply, Text, Voice
from jobs_core.khqr import qr_png
from jobs_core.model import Channel, Relative
from jobs_core.services import people
from jobs_core.uow import UnitOfWork

log = logging.getLogger(__name__)

TEXT_LIMIT = TELEGRAM.text_length  # the channel port's figure (UTF-16 units here)
CAPTION_LIMIT = 1024
CONTACT_LABEL = "📱 ផ្ញើលេខទូរស័ព្ទរបស់ខ្ញុំ / Send my number"
MORE_CHOICES = "⬇️"
VOICE_FORBIDDEN = "VOICE_MESSAGES_FORBIDDEN"
MEMORY_FILE_IDS = 10_000
# Bad Requests of editMessageText meaning "this message cannot be edited": the new words are sent instead.
NOT_EDITABLE = ("message to edit not found", "there is no text in the message to edit", "message can't be edited")
T = TypeVar("T")
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply | None


class ChatUnreachable(Exception):
    """Telegram answered 403: the person blocked the bot (or left the group); stop sending to this chat."""


class RepliesDelayed(Exception):
    """429s held the replies back longer than the caller can wait."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited for {retry_after:.0f} s")
        self.retry_after = retry_after


def utf16_len(text: str) -> int:
    """Telegram counts message lengths in UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Cut ``text`` into messages of at most ``limit`` units, at a line break or space where there is one."""
    chunks: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        cut, size = 0, 0
        for index, char in enumerate(rest):
            size += 2 if ord(char) > 0xFFFF else 1
            if size > limit:
                cut = index
                break
        window = rest[:cut]
        at = max(window.rfind("\n"), window.rfind(" "))
        if at > cut // 2:
            cut = at + 1
        chunks.append(rest[:cut].rstrip() or rest[:cut])
        rest = rest[cut:].lstrip("\n")
    if rest.strip() or not chunks:
        chunks.append(rest)
    return chunks


_JOB_NUMBER = re.compile(r"\d+")


def share_query(button: Button, job_id: int | None) -> str:
    """The inline query a share button opens: ``#<job id>``, which inline mode answers with that job."""
    if job_id is None:
        found = _JOB_NUMBER.search(button.action)
        job_id = int(found.group()) if found else None
    return f"#{job_id}" if job_id is not None else ""


def inline_keyboard(buttons: Keyboard, job_id: int | None = None) -> InlineKeyboardMarkup | None:
    rows: list[list[InlineKeyboardButton]] = []
    for row in buttons:
        rendered: list[InlineKeyboardButton] = []
        for button in row:
            if button.kind == "url" and button.url:
                rendered.append(InlineKeyboardButton(text=button.label, url=button.url))
            elif button.kind == "share":
                rendered.append(
                    InlineKeyboardButton(text=button.label, switch_inline_query=share_query(button, job_id))
                )
            else:
                # Telegram refuses empty callback_data; an action-less button still needs something to send.
                rendered.append(InlineKeyboardButton(text=button.label, callback_data=button.action or "noop"))
        if rendered:
            rows.append(rendered)
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def contact_keyboard() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=CONTACT_LABEL, request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


class TelegramRenderer:
    """Sends one chat's replies in order through the pacer; knows Telegram's errors and what they mean.

    The Telegram side of the channel port (:class:`conversations.channel.ChannelAdapter`)."""

    capabilities = TELEGRAM

    def __init__(self, bot: Bot, pacer: BotPacer, chats: ChatMemory, *, max_wait: float = 20.0) -> None:
        self.bot = bot
        self.pacer = pacer
        self.max_wait = max_wait
        # Chats refusing voice notes (learnt from the 400) and chats showing the "send my number" keyboard:
        # in telegram_chats, so the next sender knows them too.
        self.chats = chats
        # audio_id → file_id, in front of the telegram_files table. Safe to lose and to hold differently in
        # two processes: a file_id never changes for a bot, so any entry any process holds is right; a miss
        # costs one SELECT; an entry Telegram stops accepting is forgotten (here and in the table) on its 400
        # and uploaded again, so a stale copy elsewhere heals the same way.
        self._file_ids: dict[str, str] = {}

    async def deliver(
        self,
        chat_id: str,
        replies: Sequence[Reply],
        session_factory: async_sessionmaker[AsyncSession],
        *,
        per_chat: bool = False,
    ) -> bool:
        """Send ``replies`` in order; False (and the relative marked unreachable) if the chat blocked the bot."""
        try:
            for reply in replies:
                await self._render(chat_id, reply, session_factory, per_chat)
        except ChatUnreachable:
            await self.mark_unreachable(chat_id, session_factory)
            return False
        return True

    # ------------------------------------------------------------------ one call, paced

    async def _call(self, chat_id: str, per_chat: bool, send: Callable[[], Awaitable[T]]) -> T:
        waited = 0.0
        while True:
            waited += self.pacer.paused_for
            if waited > self.max_wait:
                raise RepliesDelayed(self.pacer.paused_for)
            await self.pacer.acquire(chat_id, per_chat=per_chat)
            try:
                try:
                    return await send()
                finally:
                    self.pacer.answered(chat_id)
            except TelegramRetryAfter as error:
                log.warning("telegram 429: pausing the bot for %s s", error.retry_after)
                self.pacer.pause(error.retry_after)
            except TelegramForbiddenError as error:
                raise ChatUnreachable(error.message) from error

    async def _send_text(self, chat_id: str, text: str, markup: Markup, per_chat: bool) -> None:
        chunks = split_text(text or MORE_CHOICES)
        removes_keyboard = markup is None and chat_id in self.chats.keyboard_shown
        if removes_keyboard:
            markup = ReplyKeyboardRemove()
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            await self._call(
                chat_id,
                per_chat,
                lambda chunk=chunk, last=last: self.bot.send_message(  # type: ignore[misc]
                    chat_id, chunk, reply_markup=markup if last else None
                ),
            )
        if removes_keyboard:
            # Forgotten once the removal was sent (a failed send leaves it to the next message).
            await self.chats.show_keyboard(chat_id, False)

    async def _edit_text(self, chat_id: str, reply: Edit, per_chat: bool) -> None:
        """editMessageText on the bot's earlier message; a message that cannot be edited gets the words anew."""
        markup = inline_keyboard(reply.buttons)
        if not reply.message_id.isdigit():
            await self._send_text(chat_id, reply.text, markup, per_chat)
            return
        text = split_text(reply.text)[0]
        message_id = int(reply.message_id)
        try:
            if reply.buttons_only:
                # A toggle: the words stay, only the keyboard changes (editMessageReplyMarkup).
                await self._call(
                    chat_id,
                    per_chat,
                    lambda: self.bot.edit_message_reply_markup(
                        chat_id=chat_id, message_id=message_id, reply_markup=markup
                    ),
                )
            else:
                await self._call(
                    chat_id,
                    per_chat,
                    lambda: self.bot.edit_message_text(
                        text=text, chat_id=chat_id, message_id=message_id, reply_markup=markup
                    ),
                )
        except TelegramBadRequest as error:
            if "message is not modified" in error.message:
                return  # the same words and buttons already: someone decided it twice
            if not any(reason in error.message for reason in NOT_EDITABLE):
                raise
            log.info("message %s cannot be edited (%s); sending the words anew", reply.message_id, error.message)
            await self._send_text(chat_id, reply.text, markup, per_chat)

    # ------------------------------------------------------------------ replies

    async def _render(
        self, chat_id: str, reply: Reply, session_factory: async_sessionmaker[AsyncSession], per_chat: bool
    ) -> None:
        if isinstance(reply, Text) and reply.force_reply and not reply.buttons:
            # A typed answer is wanted: in a group with privacy mode on, only a reply to the bot reaches it.
            await self._send_text(chat_id, reply.text, ForceReply(force_reply=True), per_chat)
        elif isinstance(reply, Text | AskVoice):
            await self._send_text(chat_id, reply.text, inline_keyboard(reply.buttons), per_chat)
        elif isinstance(reply, Edit):
            await self._edit_text(chat_id, reply, per_chat)
        elif isinstance(reply, AskPhone):
            # Remembered before the send: a keyboard maybe shown is removed needlessly at worst, never left.
            await self.chats.show_keyboard(chat_id, True)
            await self._send_text(chat_id, reply.text, contact_keyboard(), per_chat)
            if reply.buttons:
                # One message carries one keyboard: the flow's own buttons follow under a pointer (an inline
                # keyboard, which does not remove the contact keyboard).
                await self._send_text(chat_id, MORE_CHOICES, inline_keyboard(reply.buttons), per_chat)
        elif isinstance(reply, Voice):
            await self._send_voice(
                chat_id, reply, reply.caption, inline_keyboard(reply.buttons), None, session_factory, per_chat
            )
        elif isinstance(reply, JobCard):
            markup = inline_keyboard(reply.buttons or (reply.voice.buttons if reply.voice else ()), reply.job_id)
            if reply.voice is None:
                await self._send_text(chat_id, reply.text, markup, per_chat)
            else:
                await self._send_voice(
                    chat_id, reply.voice, reply.text, markup, reply.job_id, session_factory, per_chat
                )
        elif isinstance(reply, QrCode):
            await self._send_qr(chat_id, reply, per_chat)
        else:  # pragma: no cover - the Reply union is closed
            raise TypeError(f"not a reply: {reply!r}")

    async def _send_qr(self, chat_id: str, reply: QrCode, per_chat: bool) -> None:
        """A QR code as a photo (drawn here: a PNG of a few hundred bytes), the caption and buttons under it."""
        caption = reply.caption
        if caption and utf16_len(caption) > CAPTION_LIMIT:
            await self._send_text(chat_id, caption, None, per_chat)
            caption = ""
        photo = BufferedInputFile(qr_png(reply.content), filename="khqr.png")
        markup = inline_keyboard(reply.buttons)
        await self._call(
            chat_id,
            per_chat,
            lambda: self.bot.send_photo(chat_id, photo, caption=caption or None, reply_markup=markup),
        )

    async def _send_voice(
        self,
        chat_id: str,
        voice: Voice,
        caption: str,
        markup: InlineKeyboardMarkup | None,
        job_id: int | None,
        session_factory: async_sessionmaker[AsyncSession],
        per_chat: bool,
    ) -> None:
        if caption and utf16_len(caption) > CAPTION_LIMIT:
            await self._send_text(chat_id, caption, None, per_chat)
            caption = ""
        if chat_id in self.chats.voice_forbidden:
            await self._send_audio(chat_id, voice, caption, markup, per_chat)
            return
        try:
            cached = await self._cached_file_id(session_factory, voice.audio_id)
            if cached is not None:
                try:
                    await self._call(
                        chat_id,
                        per_chat,
                        lambda: self.bot.send_voice(chat_id, cached, caption=caption or None, reply_markup=markup),
                    )
                    return
                except TelegramBadRequest as error:
                    if VOICE_FORBIDDEN in error.message:
                        raise
                    # The stored file_id no longer works (another bot token, a purged file): upload again.
                    log.warning("cached voice %s refused (%s); uploading again", voice.audio_id, error.message)
                    await self._forget(session_factory, voice.audio_id)
            if voice.ogg is None:
                await self._send_audio(chat_id, voice, caption, markup, per_chat)
                return
            ogg = voice.ogg
            message = await self._call(
                chat_id,
                per_chat,
                lambda: self.bot.send_voice(
                    chat_id,
                    FSInputFile(ogg, filename=f"{voice.audio_id[:40]}.ogg"),
                    caption=caption or None,
                    reply_markup=markup,
                ),
            )
            await self._remember(session_factory, voice.audio_id, message, job_id)
        except TelegramBadRequest as error:
            if VOICE_FORBIDDEN not in error.message:
                raise
            await self.chats.forbid_voice(chat_id)
            await self._send_audio(chat_id, voice, caption, markup, per_chat)

    async def _send_audio(
        self, chat_id: str, voice: Voice, caption: str, markup: InlineKeyboardMarkup | None, per_chat: bool
    ) -> None:
        """For chats that refuse voice notes: the same recording as an audio file, else just the words."""
        path: Path | None = voice.mp3 or voice.ogg
        if path is None:
            await self._send_text(chat_id, caption, markup, per_chat)
            return
        audio = path
        await self._call(
            chat_id,
            per_chat,
            lambda: self.bot.send_audio(
                chat_id, FSInputFile(audio), caption=caption or None, reply_markup=markup, title="Bong Pheak"
            ),
        )

    # ------------------------------------------------------------------ file_id cache and reachability

    async def _cached_file_id(self, session_factory: async_sessionmaker[AsyncSession], audio_id: str) -> str | None:
        if audio_id in self._file_ids:
            return self._file_ids[audio_id]
        async with session_factory() as session:
            found = await session.scalar(select(TelegramFile.file_id).where(TelegramFile.audio_id == audio_id))
            await session.commit()
        if found is not None:
            self._remember_in_memory(audio_id, found)
        return found

    def _remember_in_memory(self, audio_id: str, file_id: str) -> None:
        if len(self._file_ids) >= MEMORY_FILE_IDS:
            self._file_ids.pop(next(iter(self._file_ids)))
        self._file_ids[audio_id] = file_id

    async def _remember(
        self, session_factory: async_sessionmaker[AsyncSession], audio_id: str, message: Message, job_id: int | None
    ) -> None:
        if message.voice is None:
            return
        self._remember_in_memory(audio_id, message.voice.file_id)
        async with session_factory() as session:
            await session.execute(
                insert(TelegramFile)
                .values(
                    audio_id=audio_id,
                    file_id=message.voice.file_id,
                    file_unique_id=message.voice.file_unique_id,
                    job_id=job_id,
                )
                .on_conflict_do_nothing(index_elements=["audio_id"])
            )
            await session.commit()

    async def _forget(self, session_factory: async_sessionmaker[AsyncSession], audio_id: str) -> None:
        self._file_ids.pop(audio_id, None)
        async with session_factory() as session:
            await session.execute(delete(TelegramFile).where(TelegramFile.audio_id == audio_id))
            await session.commit()

    async def mark_unreachable(self, chat_id: str, session_factory: async_sessionmaker[AsyncSession]) -> None:
        await mark_unreachable(chat_id, session_factory)


async def mark_unreachable(chat_id: str, session_factory: async_sessionmaker[AsyncSession]) -> None:
    """A private chat's id is the user's: the relative with that Telegram id is no longer reachable."""
    log.info("telegram chat %s blocked the bot", chat_id)
    async with session_factory() as session:
        relative_id = await session.scalar(
            select(Relative.id).where(Relative.channel == Channel.TELEGRAM, Relative.external_id == chat_id)
        )
        await session.commit()
    if relative_id is not None:
        await people.mark_unreachable(UnitOfWork(session_factory), relative_id)
