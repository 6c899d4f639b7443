"""Sends the ``outbox`` rows of the Telegram channel at Telegram's pace: claim, commit, send, settle.

1. Claim: due rows are marked taken (``claimed_at``) in a short transaction, a batch at a time, and committed:
   no row lock is held while sending. Chats with a message in flight are left out of the claim, so one chat's
   messages go one after another, in queue order.
2. Send: every claimed chat is sent to by its own task, in order, through the process's :class:`BotPacer`;
   chats go concurrently. There is one sender per bot across all processes (:mod:`bots.telegram.leader`), so
   the in-memory pacer is exact: 30 msg/s per bot, 1 msg/s per chat, 20/min per group, 429 pauses.
3. Settle: outcomes (sent, retry later, given up) are written in batches, one short transaction per batch.

Replies of an update handled in this process while it is the sender skip the claim: the update's transaction
queues them already claimed, and once it has committed they are handed to the sender (:meth:`take`), rows and
replies as they are, without a query or a read back. The rows in the database are the record either way: what
a sender holds is claimed there, so nobody else sends it, and a dead sender's rows are released by the next.

The one window: a message Telegram accepted whose "sent" mark was not yet committed when the process died is
sent again by the next sender (:meth:`TelegramOutboxSender.recover` releases the dead sender's claims). It
is bounded by what was in flight: the claimed batch's sends of the last settle interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramNetworkError, TelegramServerError
from sqlalchemy import BigInteger, Table, any_, bindparam, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncEngine

from bots.telegram.chats import ChatMemory
from bots.telegram.deps import TelegramDeps
from bots.telegram.render import RepliesDelayed, TelegramRenderer
from conversations.outbox import (
    OutboxMessage,
    claim_due_rows,
    deserialize_reply,
    release_claims,
    release_stale_claims,
)
from conversations.replies import Reply
from jobs_core.backoff import Backoff
from jobs_core.model.base import utcnow

log = logging.getLogger(__name__)

CHANNEL = "telegram"
MAX_ATTEMPTS = 8
STOP_GRACE = 5.0  # seconds a stopping sender waits for the sends under way
SETTLE_EVERY = 0.02  # seconds outcomes wait to be written together (a crash re-sends at most these)
ORPHANS_AFTER = 60.0  # seconds after which a claimed row nobody holds is released (see take)


@dataclass(slots=True)
class Queued:
    """An ``outbox`` row in the sender's hands (claimed in the database): read by a claim (``payload``), or handed
    over by the update that queued it (``given``, the reply itself: nothing to read back or parse)."""

    id: int
    chat_id: str
    priority: int
    not_before: datetime
    attempts: int = 0
    payload: dict[str, Any] | None = None
    given: Reply | None = None

    @property
    def reply(self) -> Reply:
        if self.given is not None:
            return self.given
        if self.payload is None:
            raise ValueError("no payload")
        return deserialize_reply(self.payload)


def _queue_order(row: Queued) -> tuple[int, datetime, int]:
    return (row.priority, row.not_before, row.id)


def engine_of(deps: TelegramDeps) -> AsyncEngine:
    """The engine behind the adapter's sessions."""
    engine = deps.session_factory.kw.get("bind")
    if not isinstance(engine, AsyncEngine):
        raise TypeError("the Telegram adapter needs a session factory bound to an AsyncEngine")
    return engine


def autocommit(deps: TelegramDeps) -> AsyncEngine:
    """The adapter's engine with connections in autocommit mode: a one-statement write is its own transaction,
    which saves the BEGIN and COMMIT round trips (asyncpg sends each on its own)."""
    return engine_of(deps).execution_options(isolation_level="AUTOCOMMIT")


def backoff(attempts: int) -> timedelta:
    """Wait before retrying a message that failed for a passing reason: 5 s, 10 s, 20 s … up to 10 min."""
    return timedelta(seconds=min(600, 5 * 2 ** max(0, attempts - 1)))


@dataclass
class Outcome:
    """What became of one claimed row: sent, retried at ``retry_at``, or given up (``error`` says why)."""

    row_id: int
    attempts: int
    sent: bool = False
    error: str | None = None
    retry_at: datetime | None = None
    give_up: bool = False
    release: bool = False  # not tried (stopping): claimable again, no attempt counted


class TelegramOutboxSender:
    """``await sender.run(stop)`` while this process is the bot's sender; ``await sender.drain()`` sends
    what is due and returns (tests, benchmarks, a one-off command).

    ``workers``: how many chats are sent to at once; ``batch``: rows claimed per transaction.
    """

    def __init__(
        self,
        deps: TelegramDeps,
        *,
        workers: int = 64,
        batch: int = 200,
        idle_delay: float = 0.5,
        renderer: TelegramRenderer | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.deps = deps
        self.workers = workers
        self.batch = batch
        self.idle_delay = idle_delay
        # A 429 met while sending pauses the bot; waiting long is fine here (nobody holds a transaction).
        self.renderer = renderer or TelegramRenderer(
            deps.bot, deps.pacer, ChatMemory(deps.session_factory), max_wait=120.0
        )
        # Outages are logged once for the sender, and claiming slows down.
        self.backoff = backoff or Backoff("telegram outbox", logger=log)
        self.sent = 0
        self.failed = 0
        self._engine = engine_of(deps)
        self._autocommit = autocommit(deps)
        self._chats: dict[str, asyncio.Task[None]] = {}  # chats being sent to now
        self._backlog: dict[str, list[Queued]] = {}  # claimed chats waiting for room, most urgent first
        self._held: dict[str, float] = {}  # chat → loop time before which its rows wait (a postponed row)
        # Ids of the rows this sender holds, from claim or hand-over until their outcome is written: a row is
        # never taken twice, even when a claim finds a handed-over row whose "sent" is not yet written.
        self._holding: set[int] = set()
        self._outcomes: list[Outcome] = []
        self._outcome_ready = asyncio.Event()
        self._room = asyncio.Event()
        self._stop: asyncio.Event | None = None  # the running pump's, while it accepts rows (see take)
        self._more_due = False  # the last claim was a full batch: claim again as soon as there is room
        self._next_claim = 0.0  # loop time of the next look at the queue when nothing wakes the sender
        self._next_orphan_check = 0.0

    # ------------------------------------------------------------------ entry points

    async def recover(self) -> int:
        """Release rows an earlier sender claimed and never settled (it died); called on taking over."""
        async with self.deps.session_factory() as session, session.begin():
            released = await release_claims(session, CHANNEL)
        if released:
            log.warning("telegram outbox: %d messages left in flight by the previous sender are sent again", released)
        return released

    async def run(self, stop: asyncio.Event, wake: asyncio.Event | None = None) -> None:
        """Send until ``stop`` is set; ``wake`` (set on NOTIFY) makes it look for new rows at once, else it
        looks every ``idle_delay`` seconds."""
        await self.renderer.chats.load()
        await self._pump(stop, wake or asyncio.Event(), until_empty=False)

    async def drain(self) -> int:
        """Send everything due now; returns how many were sent."""
        before = self.sent
        await self.renderer.chats.load()
        await self._pump(asyncio.Event(), asyncio.Event(), until_empty=True)
        return self.sent - before

    # ------------------------------------------------------------------ hand-over

    @property
    def accepting(self) -> bool:
        """Running: rows handed over now are sent by this sender."""
        return self._stop is not None and not self._stop.is_set()

    def take(self, rows: Iterable[Queued]) -> list[Queued]:
        """Rows an update of this process queued already claimed (``conversations.outbox.enqueue_claimed``),
        handed over after its commit; returns those not taken, which the caller releases: all of them when
        this sender is not running (not yet, or any more), and a chat's rows while the chat is held back."""
        if self._stop is None or not self.accepting:
            return list(rows)
        now = asyncio.get_running_loop().time()
        refused: list[Queued] = []
        for row in rows:
            if self._held.get(row.chat_id, 0.0) > now:
                refused.append(row)  # the chat waits for a postponed row: this one waits with it, in the queue
            elif row.id not in self._holding:
                self._holding.add(row.id)
                self._backlog.setdefault(row.chat_id, []).append(row)
        self._start_chats(self._stop)
        return refused

    # ------------------------------------------------------------------ the pump

    async def _pump(self, stop: asyncio.Event, wake: asyncio.Event, *, until_empty: bool) -> None:
        settler = asyncio.create_task(self._settle_loop(), name="telegram-outbox-settle")
        loop = asyncio.get_running_loop()
        self._stop = stop
        self._next_claim = loop.time()
        try:
            while not stop.is_set():
                self._start_chats(stop)
                # The queue is read on a NOTIFY (another process queued replies), when the last claim was a
                # full batch and there is room again, or every ``idle_delay`` (retries come due, a lost NOTIFY).
                # Not each time a chat finishes: this process's own replies come by hand-over, not by a claim.
                # ``drain`` reads it whenever it runs out of work, so it ends with nothing due left.
                due = wake.is_set() or loop.time() >= self._next_claim
                room = len(self._backlog) < self.workers and (self._more_due or until_empty)
                if due or room:
                    wake.clear()
                    try:
                        claimed = await self._claim_some()
                    except Exception as error:
                        await self.backoff.pause(error, stop)
                        continue
                    self.backoff.succeeded()
                    self._next_claim = loop.time() + self.idle_delay
                    self._start_chats(stop)
                    if claimed and len(self._backlog) < self.workers and (self._more_due or until_empty):
                        continue  # more may be due
                if until_empty and not self._chats and not self._backlog:
                    if not self._held or min(self._held.values()) > loop.time() + 5:
                        break
                await self._wait_for_work(stop, wake, max(0.0, self._next_claim - loop.time()))
        finally:
            self._stop = None  # hand-overs from now on are refused (their rows released by the caller)
            # Chats stop before their next message; one stuck in a long 429 pause is cut short (its rows stay
            # claimed until the next sender's recover()).
            if self._chats:
                await asyncio.wait(list(self._chats.values()), timeout=STOP_GRACE)
            for task in list(self._chats.values()):
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
            settler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await settler
            # Claimed, never tried: claimable again at once.
            self._outcomes.extend(Outcome(m.id, m.attempts, release=True) for ms in self._backlog.values() for m in ms)
            self._backlog.clear()
            await self._settle_now()

    async def _wait_for_work(self, stop: asyncio.Event, wake: asyncio.Event, within: float) -> None:
        """Until a NOTIFY, a chat's task ending (its next rows, or room to claim), or ``within`` seconds."""
        self._room.clear()
        waiters = [asyncio.ensure_future(e.wait()) for e in (stop, wake, self._room)]
        try:
            await asyncio.wait(waiters, timeout=within, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    def _start_chats(self, stop: asyncio.Event) -> None:
        """Give claimed chats a task each, most urgent first, while fewer than ``workers`` are under way; a chat
        already being sent to keeps its new rows in the backlog until its task ends (one chat, one at a time)."""
        if not self._backlog or len(self._chats) >= self.workers:
            return
        for chat_id in [c for c in self._backlog if c not in self._chats]:
            if len(self._chats) >= self.workers:
                break
            messages = self._backlog.pop(chat_id)
            messages.sort(key=_queue_order)
            self._chats[chat_id] = asyncio.create_task(self._send_chat(chat_id, messages, stop))

    async def _claim_some(self) -> int:
        """Claim a batch of due rows (one statement, its own transaction) into the backlog, by chat; how many
        were claimed. Chats held back or inside Telegram's per-chat window are left in the queue; chats in
        hand are not (their new rows join the backlog and follow the ones under way)."""
        now = asyncio.get_running_loop().time()
        for chat in [c for c, until in self._held.items() if until <= now]:
            del self._held[chat]
        skip = set(self._held) | set(self.deps.pacer.busy_chats())
        skip -= set(self._chats) | set(self._backlog)
        at = utcnow()
        async with self._autocommit.connect() as connection:
            if now >= self._next_orphan_check:
                self._next_orphan_check = now + ORPHANS_AFTER
                orphans = await release_stale_claims(
                    connection, CHANNEL, at - timedelta(seconds=ORPHANS_AFTER), self._holding
                )
                if orphans:
                    log.warning("telegram outbox: %d claimed messages nobody held are sent again", orphans)
            rows = await claim_due_rows(connection, CHANNEL, at, self.batch, list(skip))
        self._more_due = len(rows) >= self.batch
        fresh = 0
        for row in rows:
            if row.id in self._holding:
                continue  # handed over already, its outcome not yet written: the settle clears this claim
            self._holding.add(row.id)
            fresh += 1
            queued = Queued(row.id, row.chat_id, row.priority, row.not_before, row.attempts, payload=row.payload)
            self._backlog.setdefault(row.chat_id, []).append(queued)
        if fresh:
            # Most urgent chat first (by its first row), each chat's rows in queue order.
            for messages in self._backlog.values():
                messages.sort(key=_queue_order)
            self._backlog = dict(sorted(self._backlog.items(), key=lambda item: _queue_order(item[1][0])))
        return fresh

    async def _send_chat(self, chat_id: str, messages: list[Queued], stop: asyncio.Event) -> None:
        """One chat's claimed rows, in order; after a postponed row the rest wait with it (order is kept)."""
        try:
            postponed: datetime | None = None
            for message in messages:
                if stop.is_set():
                    self._record(Outcome(message.id, message.attempts, release=True))
                elif postponed is not None:
                    self._record(Outcome(message.id, message.attempts, retry_at=postponed))
                else:
                    outcome = await self._send(message)
                    self._record(outcome)
                    if outcome.retry_at is not None:
                        postponed = outcome.retry_at
            if postponed is not None:
                wait = max(0.0, (postponed - utcnow()).total_seconds())
                self._held[chat_id] = asyncio.get_running_loop().time() + wait
                # Rows of this chat that came in meanwhile wait with it, behind it (order is kept).
                for message in self._backlog.pop(chat_id, []):
                    self._record(Outcome(message.id, message.attempts, retry_at=postponed))
        finally:
            del self._chats[chat_id]
            self._room.set()

    def _record(self, outcome: Outcome) -> None:
        self._outcomes.append(outcome)
        self._outcome_ready.set()

    async def _send(self, message: Queued) -> Outcome:
        attempts = message.attempts + 1
        try:
            reply = message.reply
        except (KeyError, ValueError, TypeError) as error:
            self.failed += 1
            return Outcome(message.id, attempts, error=f"unreadable payload: {error}", give_up=True)
        try:
            reachable = await self.renderer.deliver(message.chat_id, [reply], self.deps.session_factory, per_chat=True)
        except RepliesDelayed as error:
            return Outcome(
                message.id, attempts, error=str(error), retry_at=utcnow() + timedelta(seconds=error.retry_after)
            )
        except (TelegramNetworkError, TelegramServerError) as error:
            give_up = attempts >= MAX_ATTEMPTS
            self.failed += give_up
            return Outcome(
                message.id,
                attempts,
                error=f"{type(error).__name__}: {error.message}",
                retry_at=None if give_up else utcnow() + backoff(attempts),
                give_up=give_up,
            )
        except (TelegramBadRequest, TelegramAPIError) as error:
            # Chat not found, message malformed…: sending it again would fail the same way.
            self.failed += 1
            return Outcome(message.id, attempts, error=f"{type(error).__name__}: {error.message}", give_up=True)
        if not reachable:
            self.failed += 1
            return Outcome(message.id, attempts, error="blocked: the person blocked the bot (403)", give_up=True)
        self.sent += 1
        return Outcome(message.id, attempts, sent=True)

    # ------------------------------------------------------------------ settling

    async def _settle_loop(self) -> None:
        while True:
            await self._outcome_ready.wait()
            await asyncio.sleep(SETTLE_EVERY)  # let the outcomes of other chats join this transaction
            try:
                await self._settle_now()
            except Exception as error:  # the outcomes stay queued; the next round writes them
                log.warning("telegram outbox: settling failed (%s); retrying", error)
                await asyncio.sleep(1.0)

    async def _settle_now(self) -> None:
        self._outcome_ready.clear()
        if not self._outcomes:
            return
        outcomes, self._outcomes = self._outcomes, []
        try:
            await self._write(outcomes)
        except BaseException:
            self._outcomes[:0] = outcomes
            self._outcome_ready.set()
            raise
        self._holding.difference_update(o.row_id for o in outcomes)

    async def _write(self, outcomes: list[Outcome]) -> None:
        """All outcomes in one transaction: one statement for the sent rows (the usual case) and for the
        released ones, one per failure. A single statement goes in autocommit mode (it is its own
        transaction: no BEGIN and COMMIT round trips)."""
        at = utcnow()
        sent = [o.row_id for o in outcomes if o.sent]
        released = [o.row_id for o in outcomes if o.release]
        statements: list[tuple[Any, dict[str, Any]]] = []
        if sent:
            statements.append((_SETTLE_SENT, {"ids": sent, "at": at}))
        if released:
            statements.append((_SETTLE_RELEASED, {"ids": released}))
        for o in outcomes:
            if o.sent or o.release:
                continue
            values: dict[str, object] = {"attempts": o.attempts, "claimed_at": None}
            if o.error is not None:
                values["error"] = o.error[:500]
            if o.give_up or o.retry_at is None:
                values["failed"] = True
            else:
                values["not_before"] = o.retry_at
            statements.append((update(_OUTBOX).where(_OUTBOX.c.id == o.row_id).values(**values), {}))
        if len(statements) == 1:
            async with self._autocommit.connect() as connection:
                await connection.execute(*statements[0])
            return
        async with self._engine.begin() as connection:
            for statement, params in statements:
                await connection.execute(statement, params)


# Built once: SQLAlchemy caches a statement's compiled form by its structure, but building it and computing
# that key costs on every call.
_OUTBOX: Table = OutboxMessage.__table__  # type: ignore[assignment]
_SETTLE_SENT = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == any_(bindparam("ids", type_=ARRAY(BigInteger))))
    .values(sent_at=bindparam("at"), attempts=_OUTBOX.c.attempts + 1, error=None, claimed_at=None)
)
_SETTLE_RELEASED = (
    update(_OUTBOX).where(_OUTBOX.c.id == any_(bindparam("ids", type_=ARRAY(BigInteger)))).values(claimed_at=None)
)
