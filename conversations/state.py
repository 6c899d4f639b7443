"""Where each person is in a conversation: one row per (channel, chat, user), locked for the whole turn."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from jobs_core.model.base import Base, utcnow

IDLE = "idle"


class ConversationState(Base):
    """The flow and step a person is at, what they typed so far, their language, and a version.

    The version grows with every turn that changes the state; step buttons carry it, so a button from an
    earlier question is recognised as stale instead of being applied to the wrong step.
    """

    __tablename__ = "conversation_state"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # In a group (the moderators' chat) every member has their own state; in a private chat user = chat.
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    flow: Mapped[str] = mapped_column(String(24), default="start")
    step: Mapped[str] = mapped_column(String(40), default=IDLE)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    language: Mapped[str | None] = mapped_column(String(8))
    started: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
