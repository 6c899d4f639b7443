"""The Messenger adapter's own tables: events received (stored, then processed), uploaded audio's
attachment ids, what we know of each person's messaging window and notification opt-in."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from jobs_core.model.base import Base, utcnow


class MessengerEvent(Base):
    """One webhook event, keyed by what Messenger redelivers it under (a message's ``mid``, a postback's
    ``mid`` or sender+timestamp): a second delivery finds the row and is dropped. Stored at once, processed
    after the webhook answered (``handled_at``)."""

    __tablename__ = "messenger_events"
    __table_args__ = (Index("ix_messenger_events_pending", "psid", "sent_at", postgresql_where="handled_at IS NULL"),)

    event_key: Mapped[str] = mapped_column(String(160), primary_key=True)
    psid: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[int] = mapped_column(BigInteger)  # the event's own timestamp (ms): a person's order
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    handled_at: Mapped[datetime | None]
    # Failed attempts; after MAX_TRIES the event is given up (handled, with ``error``) so the person's later
    # events are not held behind it for ever.
    tries: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(500))


class MessengerAttachment(Base):
    """A rendered audio (content-addressed ``audio_id``) uploaded with ``is_reusable``: sent by id after."""

    __tablename__ = "messenger_attachments"

    audio_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    attachment_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MessengerPerson(Base):
    """A page-scoped id's messaging window (its last message to us) and notification-messages opt-in."""

    __tablename__ = "messenger_people"

    psid: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_message_at: Mapped[datetime | None]
    notification_token: Mapped[str | None] = mapped_column(String(255))
    notification_frequency: Mapped[str | None] = mapped_column(String(16))
    token_expires_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
