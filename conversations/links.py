"""The tables of linked chat accounts (see :mod:`conversations.linking`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from jobs_core.model.base import Base, utcnow


class LinkedAccount(Base):
    """A chat account (channel, user id) that speaks as another account's relative."""

    __tablename__ = "linked_accounts"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    relative_id: Mapped[int] = mapped_column(ForeignKey("relatives.id", ondelete="CASCADE"), index=True)
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)


class LinkCode(Base):
    """A code shown in one chat, to be typed in another; used once."""

    __tablename__ = "link_codes"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    relative_id: Mapped[int] = mapped_column(ForeignKey("relatives.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[datetime]
