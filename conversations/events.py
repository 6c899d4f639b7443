"""Which domain events a consumer has handled, so several consumers read one event table independently.

``events.handled_at`` is a single flag and cannot serve two readers: the notifier here and the dialer both
consume ``job.published``. Each consumer records what it handled as (consumer, event_id) rows instead and
claims unhandled events with ``FOR UPDATE SKIP LOCKED``; the row is written in the same transaction as the
consumer's own effects (outbox rows, calls), so an event is handled exactly once per consumer.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from jobs_core.model import Event
from jobs_core.model.base import Base, utcnow


class HandledEvent(Base):
    __tablename__ = "handled_events"

    consumer: Mapped[str] = mapped_column(String(24), primary_key=True)
    event_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    handled_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when handling failed; the event is still marked handled so one bad event never jams the queue.
    error: Mapped[str | None] = mapped_column(String(500))


async def claim_events(session: AsyncSession, consumer: str, limit: int = 100) -> list[Event]:
    """Events ``consumer`` has not handled, oldest first, locked (others skip them) until the commit."""
    done = select(HandledEvent.event_id).where(HandledEvent.consumer == consumer, HandledEvent.event_id == Event.id)
    rows = await session.scalars(
        select(Event).where(~done.exists()).order_by(Event.id).limit(limit).with_for_update(skip_locked=True)
    )
    return list(rows.all())


def mark_handled(session: AsyncSession, consumer: str, event: Event, at: datetime, error: str | None = None) -> None:
    """Record that ``consumer`` handled ``event`` (in the caller's transaction)."""
    session.add(HandledEvent(consumer=consumer, event_id=event.id, handled_at=at, error=error[:500] if error else None))
