"""Which domain events a consumer has handled, so several consumers read one event table independently.

``events.handled_at`` is a single flag and cannot serve two readers: the notifier here and the dialer both
consume ``job.published``. Each consumer records what it handled as (consumer, event_id) rows instead and
claims unhandled events with ``FOR UPDATE SKIP LOCKED``; the row is written in the same transaction as the
consumer's own effects (outbox rows, calls), so an event is handled exactly once per consumer.

So that a claim does not look through every event ever written, each consumer keeps a floor
(``event_floors``): every event below it is handled. The floor only passes events older than ``SETTLE``:
ids are given out before commit, so a younger id may still belong to a transaction in flight, and an
event committed late must not end up below the floor unseen.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import BigInteger, ForeignKey, String, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from jobs_core.model import Event
from jobs_core.model.base import Base, utcnow


class HandledEvent(Base):
    __tablename__ = "handled_events"

    consumer: Mapped[str] = mapped_column(String(24), primary_key=True)
    event_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    handled_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when handling failed; the event is still marked handled so one bad event never jams the queue.
    error: Mapped[str | None] = mapped_column(String(500))


SETTLE = timedelta(minutes=5)  # far longer than any transaction that writes events


class EventFloor(Base):
    """Every event with an id below ``below_id`` is handled by ``consumer``."""

    __tablename__ = "event_floors"

    consumer: Mapped[str] = mapped_column(String(24), primary_key=True)
    below_id: Mapped[int] = mapped_column(BigInteger, default=0)


def _unhandled(consumer: str) -> ColumnElement[bool]:
    done = select(HandledEvent.event_id).where(HandledEvent.consumer == consumer, HandledEvent.event_id == Event.id)
    return ~done.exists()


async def floor_of(session: AsyncSession, consumer: str) -> int:
    """The consumer's floor: every event below it is handled."""
    return await session.scalar(select(EventFloor.below_id).where(EventFloor.consumer == consumer)) or 0


async def claim_events(session: AsyncSession, consumer: str, limit: int = 100) -> list[Event]:
    """Events ``consumer`` has not handled, oldest first, locked (others skip them) until the commit."""
    floor = await floor_of(session, consumer)
    rows = await session.scalars(
        select(Event)
        .where(Event.id >= floor, _unhandled(consumer))
        .order_by(Event.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(rows.all())


async def raise_floor(session: AsyncSession, consumer: str, now: datetime, settle: timedelta = SETTLE) -> int:
    """Move the consumer's floor up to its oldest unhandled event, only over settled events; returns it."""
    floor = await floor_of(session, consumer)
    settled_below = await session.scalar(
        select(func.max(Event.id) + 1).where(Event.id >= floor, Event.created_at < now - settle)
    )
    if settled_below is None:
        return floor
    oldest_unhandled = await session.scalar(
        select(func.min(Event.id)).where(Event.id >= floor, Event.id < settled_below, _unhandled(consumer))
    )
    new_floor = max(floor, oldest_unhandled or settled_below)
    if new_floor != floor:
        await session.execute(
            insert(EventFloor)
            .values(consumer=consumer, below_id=new_floor)
            .on_conflict_do_update(index_elements=["consumer"], set_={"below_id": new_floor})
        )
    return new_floor


def mark_handled(session: AsyncSession, consumer: str, event: Event, at: datetime, error: str | None = None) -> None:
    """Record that ``consumer`` handled ``event`` (in the caller's transaction)."""
    session.add(HandledEvent(consumer=consumer, event_id=event.id, handled_at=at, error=error[:500] if error else None))
