"""Domain events (job published, application made, …) written in the same transaction as the change, and
what each consumer did with them.

An event is read by several consumers (the notifier, the dialer's scheduler), each at its own pace, so
nothing about handling lives on the event itself: every consumer keeps its own marks and its own floor
(``jobs_core.event_log`` claims, retries and dead-letters with them).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from jobs_core.model.base import Base, utcnow


class Event(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EventMark(Base):
    """One consumer's progress on one event: waiting (for its first try or a retry), handled, or dead.

    The row is also the consumer's lock on the event: claims take it ``FOR UPDATE SKIP LOCKED``, so two
    processes of one consumer never handle an event twice, and two consumers never wait for each other.
    """

    __tablename__ = "event_marks"
    __table_args__ = (
        Index(
            "ix_event_marks_waiting", "consumer", "event_id", postgresql_where="handled_at IS NULL AND dead_at IS NULL"
        ),
        Index("ix_event_marks_dead", "consumer", postgresql_where="dead_at IS NOT NULL"),
    )

    consumer: Mapped[str] = mapped_column(String(24), primary_key=True)
    event_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    attempts: Mapped[int] = mapped_column(default=0)  # failed tries (and the successful one, if any)
    last_error: Mapped[str | None] = mapped_column(String(500))
    next_attempt_at: Mapped[datetime | None]  # None: due now (never tried); else when the retry is due
    handled_at: Mapped[datetime | None]
    dead_at: Mapped[datetime | None]  # given up after too many failures; an alarm went out


class EventFloor(Base):
    """Every event with an id below ``below_id`` is handled by ``consumer`` (or dead, or not its business)."""

    __tablename__ = "event_floors"

    consumer: Mapped[str] = mapped_column(String(24), primary_key=True)
    below_id: Mapped[int] = mapped_column(BigInteger, default=0)
