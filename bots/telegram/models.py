"""The Telegram adapter's own tables: updates already handled, uploaded voice notes' file_ids, what the sender
learnt about chats."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from jobs_core.model.base import Base, utcnow


class TelegramUpdate(Base):
    """An update_id whose processing committed; Telegram redelivers on any non-2xx, this makes it once."""

    __tablename__ = "telegram_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class TelegramFile(Base):
    """A rendered audio (content-addressed ``audio_id``) already uploaded: later sends reuse ``file_id``."""

    __tablename__ = "telegram_files"

    audio_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    file_id: Mapped[str] = mapped_column(String(255))
    file_unique_id: Mapped[str] = mapped_column(String(128))
    # Set when the audio is a job's voice note, so inline mode can offer it by file_id.
    job_id: Mapped[int | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TelegramCallbackQuery(Base):
    """A pressed button, by its callback query id: answered once and handled once, whatever update carries it.

    The row is committed before answerCallbackQuery (so a redelivery is never answered again); ``handled`` is
    set in the transaction that processes it (so a failed attempt is processed again on Telegram's retry).
    """

    __tablename__ = "telegram_callback_queries"

    query_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    handled: Mapped[bool] = mapped_column(default=False)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class TelegramChat(Base):
    """What the sender learnt about a chat and must remember whoever sends next (leadership moves between
    processes): the chat refuses voice notes; the chat shows the "send my number" keyboard, to be removed
    with the next plain message."""

    __tablename__ = "telegram_chats"

    chat_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    voice_forbidden: Mapped[bool] = mapped_column(default=False)
    contact_keyboard_shown: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
