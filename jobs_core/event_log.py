"""One event log, read by many consumers: each claims, retries and dead-letters on its own.

A consumer is data: a name, a ``{kind: handler}`` table and, optionally, a ``prepare`` hook.

    SCHEDULER = Consumer("dialer", {"job.published": on_published, "worker.nominated": on_nominated})
    claimed = await consume_once(sessions, SCHEDULER, context, now)

One round of ``consume_once``:

1. *Enrol*: every event of the consumer's kinds above its floor gets a mark (``event_marks``), in a short
   transaction of its own.
2. *Prepare* (optional): the due events are read, the read is closed, and ``prepare(events, context)`` runs
   with no transaction open: slow work (rendering voice notes) happens there, never under a lock.
3. *Claim*: due marks are locked ``FOR UPDATE SKIP LOCKED``: another process of the same consumer skips them,
   and other consumers lock marks of their own, so nobody waits for anybody. Each handler runs in a savepoint
   of the claim transaction. Success marks the event handled together with the handler's writes. An exception
   rolls the savepoint back and records the failure on the mark (tries, error, next try after an exponential
   backoff); the event is never marked handled by a failure. After ``max_attempts`` failures the event is
   dead-lettered: ``dead_at`` is set and an ``event.dead_lettered`` event is emitted in the same transaction
   (the notifier posts it to the moderators' chat; ``dead_letters`` feeds the app's metrics).
4. *Floor*: once caught up, the consumer's floor rises over the settled events that need nothing more from
   it, so enrolment never looks through the whole history, and the handled marks below it are forgotten.
   The floor only passes events older than ``SETTLE``: ids are given out before commit, so a younger id may
   still belong to a transaction in flight, and an event committed late must not end up below the floor
   unseen.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, delete, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs_core.backoff import exponential, one_line
from jobs_core.model import Event, EventFloor, EventMark

log = logging.getLogger(__name__)

DEAD_LETTERED = "event.dead_lettered"
SETTLE = timedelta(minutes=5)  # far longer than any transaction that writes events
MAX_ATTEMPTS = 8
RETRY_FIRST = timedelta(seconds=30)
RETRY_CAP = timedelta(hours=1)  # 30 s, 1, 2, 4, 8, 16, 32 min: the 8th failure, ~1 h after the first, is final

C = TypeVar("C")
# What a consumer does with one event of a kind, inside the claim transaction (its writes commit with the mark).
Handler = Callable[[AsyncSession, Event, C], Awaitable[None]]
# Slow work for a batch about to be claimed, with no transaction open; it leaves its results in the context.
Prepare = Callable[[Sequence[Event], C], Awaitable[None]]


@dataclass(frozen=True)
class Consumer(Generic[C]):
    name: str
    handlers: Mapping[str, Handler[C]]
    prepare: Prepare[C] | None = None
    max_attempts: int = MAX_ATTEMPTS
    retry_first: timedelta = RETRY_FIRST
    retry_cap: timedelta = RETRY_CAP

    @property
    def kinds(self) -> list[str]:
        return sorted(self.handlers)

    def retry_delay(self, failures: int) -> timedelta:
        seconds = exponential(failures, self.retry_first.total_seconds(), self.retry_cap.total_seconds())
        return timedelta(seconds=seconds)


async def consume_once(
    sessions: async_sessionmaker[AsyncSession], consumer: Consumer[C], context: C, now: datetime, batch: int = 100
) -> int:
    """Handle (or fail) up to ``batch`` due events of ``consumer``; returns how many it claimed."""
    await enrol(sessions, consumer, limit=batch * 10)
    claimed: list[tuple[int, Event]] = []
    only: list[int] | None = None
    if consumer.prepare is not None:
        # What nobody is handling right now (marks claimed elsewhere are skipped); the read ends before prepare.
        async with sessions() as session, session.begin():
            due = _due_events(consumer, now).limit(batch).with_for_update(of=EventMark, read=True, skip_locked=True)
            events = list((await session.scalars(due)).all())
        if events:
            await consumer.prepare(events, context)
        only = [event.id for event in events]  # what was prepared, and nothing that arrived meanwhile
    if only is None or only:
        async with sessions() as session, session.begin():
            claimed = await _claim(session, consumer, now, batch, only)
            for attempts, event in claimed:
                await _handle(session, consumer, context, event, attempts + 1, now)
    if len(claimed) < batch:  # caught up: a good moment to stop scanning what is long handled
        async with sessions() as session, session.begin():
            await raise_floor(session, consumer, now)
    return len(claimed)


async def _handle(
    session: AsyncSession, consumer: Consumer[C], context: C, event: Event, attempt: int, now: datetime
) -> None:
    event_id, kind = event.id, event.kind
    this = (EventMark.consumer == consumer.name, EventMark.event_id == event_id)
    try:
        async with session.begin_nested():
            await consumer.handlers[kind](session, event, context)
    except Exception as error:
        await _failed(session, consumer, event_id, kind, attempt, error, now)
        return
    await session.execute(update(EventMark).where(*this).values(attempts=attempt, handled_at=now, next_attempt_at=None))


async def _failed(
    session: AsyncSession,
    consumer: Consumer[Any],
    event_id: int,
    kind: str,
    attempt: int,
    error: Exception,
    now: datetime,
) -> None:
    """Record a failed try: retried after a backoff, or dead-lettered with an alarm after the last try."""
    text = one_line(error)
    this = (EventMark.consumer == consumer.name, EventMark.event_id == event_id)
    if attempt < consumer.max_attempts:
        retry_at = now + consumer.retry_delay(attempt)
        # The first failure gets its traceback; the retries only a line each.
        log.warning(
            "%s: event %s (%s) failed (try %d of %d), retried at %s: %s",
            consumer.name,
            event_id,
            kind,
            attempt,
            consumer.max_attempts,
            retry_at.isoformat(timespec="seconds"),
            text,
            exc_info=error if attempt == 1 else None,
        )
        values: dict[str, Any] = {"attempts": attempt, "last_error": text, "next_attempt_at": retry_at}
        await session.execute(update(EventMark).where(*this).values(**values))
        return
    log.error(
        "%s: event %s (%s) dead-lettered after %d tries: %s",
        consumer.name,
        event_id,
        kind,
        attempt,
        text,
        exc_info=error,
    )
    await session.execute(
        update(EventMark).where(*this).values(attempts=attempt, last_error=text, next_attempt_at=None, dead_at=now)
    )
    if kind != DEAD_LETTERED:  # an alarm that cannot be delivered must not raise an alarm about itself, forever
        payload = {"consumer": consumer.name, "event_id": event_id, "kind": kind, "attempts": attempt, "error": text}
        session.add(Event(kind=DEAD_LETTERED, payload=payload, created_at=now))


async def enrol(sessions: async_sessionmaker[AsyncSession], consumer: Consumer[Any], limit: int = 1000) -> int:
    """Give every event of the consumer's kinds above its floor a mark (due now); returns how many were new.

    Its own short transaction: two processes enrolling the same event wait for each other only that long.
    """
    async with sessions() as session, session.begin():
        floor = await floor_of(session, consumer.name)
        unmarked = (
            select(literal(consumer.name), Event.id, literal(0))
            .where(Event.id >= floor, Event.kind.in_(consumer.kinds), ~_marked(consumer.name))
            .order_by(Event.id)
            .limit(limit)
        )
        result = await session.execute(
            insert(EventMark).from_select(["consumer", "event_id", "attempts"], unmarked).on_conflict_do_nothing()
        )
        return int(getattr(result, "rowcount", 0) or 0)


def _marked(consumer: str) -> Any:
    return select(EventMark.event_id).where(EventMark.consumer == consumer, EventMark.event_id == Event.id).exists()


def _waiting(consumer: Consumer[Any]) -> tuple[ColumnElement[bool], ...]:
    """Marks still owed a try: neither handled nor dead (of a kind the consumer still handles)."""
    return (
        EventMark.consumer == consumer.name,
        EventMark.handled_at.is_(None),
        EventMark.dead_at.is_(None),
        Event.kind.in_(consumer.kinds),
    )


def _due_events(consumer: Consumer[Any], now: datetime) -> Any:
    return (
        select(Event)
        .join(EventMark, EventMark.event_id == Event.id)
        .where(*_waiting(consumer), or_(EventMark.next_attempt_at.is_(None), EventMark.next_attempt_at <= now))
        .order_by(Event.id)
    )


async def _claim(
    session: AsyncSession, consumer: Consumer[Any], now: datetime, limit: int, only: Collection[int] | None
) -> list[tuple[int, Event]]:
    """Due events with their tries so far, oldest first; their marks locked (others skip them) until commit."""
    query = _due_events(consumer, now).add_columns(EventMark.attempts)
    if only is not None:
        query = query.where(Event.id.in_(only))
    rows = await session.execute(query.limit(limit).with_for_update(of=EventMark, skip_locked=True))
    return [(attempts, event) for event, attempts in rows.all()]


async def floor_of(session: AsyncSession, consumer: str) -> int:
    """The consumer's floor: every event below it needs nothing more from the consumer."""
    return await session.scalar(select(EventFloor.below_id).where(EventFloor.consumer == consumer)) or 0


async def raise_floor(session: AsyncSession, consumer: Consumer[Any], now: datetime, settle: timedelta = SETTLE) -> int:
    """Move the floor up to the oldest event still owed a try, only over settled events; returns it."""
    floor = await floor_of(session, consumer.name)
    settled_below = await session.scalar(
        select(func.max(Event.id) + 1).where(Event.id >= floor, Event.created_at < now - settle)
    )
    if settled_below is None:
        return floor
    waiting = await session.scalar(
        select(func.min(EventMark.event_id))
        .join(Event, Event.id == EventMark.event_id)
        .where(*_waiting(consumer), EventMark.event_id >= floor)
    )
    unmarked = await session.scalar(
        select(func.min(Event.id)).where(
            Event.id >= floor, Event.id < settled_below, Event.kind.in_(consumer.kinds), ~_marked(consumer.name)
        )
    )
    new_floor = min(below for below in (settled_below, waiting, unmarked) if below is not None)
    if new_floor <= floor:
        return floor
    await session.execute(
        insert(EventFloor)
        .values(consumer=consumer.name, below_id=new_floor)
        .on_conflict_do_update(
            index_elements=["consumer"], set_={"below_id": func.greatest(EventFloor.below_id, new_floor)}
        )
    )
    # Dead marks stay: they are the record of what was given up (and what the alarm counts).
    await session.execute(
        delete(EventMark).where(
            EventMark.consumer == consumer.name, EventMark.event_id < new_floor, EventMark.handled_at.is_not(None)
        )
    )
    return new_floor


async def is_handled(session: AsyncSession, consumer: str, event_id: int) -> bool:
    """Has ``consumer`` handled the event (or passed it by with its floor, as not its business)?"""
    mark = await session.get(EventMark, (consumer, event_id))
    if mark is not None:
        return mark.handled_at is not None
    return event_id < await floor_of(session, consumer)


async def dead_letters(session: AsyncSession) -> dict[str, int]:
    """How many events each consumer gave up on (what the metrics show and an operator looks into)."""
    rows = await session.execute(
        select(EventMark.consumer, func.count()).where(EventMark.dead_at.is_not(None)).group_by(EventMark.consumer)
    )
    return {consumer: int(count) for consumer, count in rows.all()}
