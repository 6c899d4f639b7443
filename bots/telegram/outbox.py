"""Sends the ``outbox`` rows of the Telegram channel at Telegram's pace: claim, commit, send, settle.

1. Claim: due rows are marked taken (``claimed_at``) in a short transaction, a batch at a time, and committed:
   no row lock is held while sending. Chats with a message in flight are left out of the claim, so one chat's
   messages go one after another, in queue order.
2. Send: every claimed chat is sent to by its own task, in order, through the process's :class:`BotPacer`;
   chats go concurrently. There is one sender per bot across all processes (:mod:`bots.telegram.leader`), so
   the in-memory pacer is exact: 30 msg/s per bot, 1 msg/s per chat, 20/min per group, 429 pauses.
3. Settle: outcomes (sent, retry later, given up) are written in batches, one short transaction per batch.

The one window: a message Telegram accepted whose "sent" mark was not yet committed when the process died is
sent again by the next sender (:meth:`TelegramOutboxSender.recover` releases the dead sender's claims). It
is bounded by what was in flight: the claimed batch's sends of the last settle interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramNetworkError, TelegramServerError
from sqlalchemy import BigInteger, ColumnElement, any_, bindparam, update
from sqlalchemy.dialects.postgresql import ARRAY

from bots.telegram.chats import ChatMemory
from bots.telegram.deps import TelegramDeps
from bots.telegram.render import RepliesDelayed, TelegramRenderer
from conversations.outbox import OutboxMessage, claim_due, release_claims
from jobs_core.backoff import Backoff
from jobs_core.model.base import utcnow

log = logging.getLogger(__name__)

CHANNEL = "telegram"
MAX_ATTEMPTS = 8
STOP_GRACE = 5.0  # seconds a stopping sender waits for the sends under way
SETTLE_EVERY = 0.02  # seconds outcomes wait to be written together (a crash re-sends at most these)


def _queue_order(row: OutboxMessage) -> tuple[int, datetime, int]:
    return (row.priority, row.not_before, row.id)


def _one_of(row_ids: list[int]) -> ColumnElement[bool]:
    """Row ids as one array parameter: ``IN (…)`` with a parameter per id is a new statement text for each
    count, which PostgreSQL prepares anew (a round trip and a plan) and which pushes others out of the cache."""
    return OutboxMessage.id == any_(bindparam("ids", row_ids, type_=ARRAY(BigInteger)))


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
        self._chats: dict[str, asyncio.Task[None]] = {}  # chats being sent to now
        self._backlog: dict[str, list[OutboxMessage]] = {}  # claimed chats waiting for room, most urgent first
        self._held: dict[str, float] = {}  # chat → loop time before which its rows wait (a postponed row)
        self._outcomes: list[Outcome] = []
        self._outcome_ready = asyncio.Event()
        self._room = asyncio.Event()

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

    # ------------------------------------------------------------------ the pump

    async def _pump(self, stop: asyncio.Event, wake: asyncio.Event, *, until_empty: bool) -> None:
        settler = asyncio.create_task(self._settle_loop(), name="telegram-outbox-settle")
        try:
            while not stop.is_set():
                self._start_chats(stop)
                # Claim when the backlog runs low, and at once on a NOTIFY (replies someone waits for).
                if len(self._backlog) < self.workers or wake.is_set():
                    wake.clear()
                    try:
                        claimed = await self._claim_some()
                    except Exception as error:
                        await self.backoff.pause(error, stop)
                        continue
                    self.backoff.succeeded()
                    self._start_chats(stop)
                    if claimed and len(self._backlog) < self.workers:
                        continue  # more may be due
                if until_empty and not self._chats and not self._backlog:
                    if not self._held or min(self._held.values()) > asyncio.get_running_loop().time() + 5:
                        break
                await self._wait_for_work(stop, wake)
        finally:
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

    async def _wait_for_work(self, stop: asyncio.Event, wake: asyncio.Event) -> None:
        """Until a NOTIFY, a chat's task ending (room to claim, or its next row), or ``idle_delay``."""
        self._room.clear()
        waiters = [asyncio.ensure_future(e.wait()) for e in (stop, wake, self._room)]
        try:
            await asyncio.wait(waiters, timeout=self.idle_delay, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    def _start_chats(self, stop: asyncio.Event) -> None:
        """Give claimed chats a task each, most urgent first, while fewer than ``workers`` are under way."""
        while self._backlog and len(self._chats) < self.workers:
            chat_id = next(iter(self._backlog))
            messages = self._backlog.pop(chat_id)
            self._chats[chat_id] = asyncio.create_task(self._send_chat(chat_id, messages, stop))

    async def _claim_some(self) -> int:
        """Claim a batch of due rows (committed) into the backlog, by chat; how many were claimed."""
        now = asyncio.get_running_loop().time()
        for chat in [c for c, until in self._held.items() if until <= now]:
            del self._held[chat]
        skip = set(self._chats) | set(self._backlog) | set(self._held) | set(self.deps.pacer.busy_chats())
        at = utcnow()
        async with self.deps.session_factory() as session, session.begin():
            rows = await claim_due(session, CHANNEL, at, self.batch, skip)
        if not rows:
            return 0
        for row in rows:
            self._backlog.setdefault(row.chat_id, []).append(row)
        # Most urgent chat first (by its first row), each chat's rows in queue order.
        for messages in self._backlog.values():
            messages.sort(key=_queue_order)
        self._backlog = dict(sorted(self._backlog.items(), key=lambda item: _queue_order(item[1][0])))
        return len(rows)

    async def _send_chat(self, chat_id: str, messages: list[OutboxMessage], stop: asyncio.Event) -> None:
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
        finally:
            del self._chats[chat_id]
            self._room.set()

    def _record(self, outcome: Outcome) -> None:
        self._outcomes.append(outcome)
        self._outcome_ready.set()

    async def _send(self, message: OutboxMessage) -> Outcome:
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

    async def _write(self, outcomes: list[Outcome]) -> None:
        """All outcomes in one transaction: one statement for the sent rows (the usual case) and for the
        released ones, one per failure."""
        at = utcnow()
        sent = [o.row_id for o in outcomes if o.sent]
        released = [o.row_id for o in outcomes if o.release]
        async with self.deps.session_factory() as session, session.begin():
            if sent:
                await session.execute(
                    update(OutboxMessage)
                    .where(_one_of(sent))
                    .values(sent_at=at, attempts=OutboxMessage.attempts + 1, error=None, claimed_at=None)
                    .execution_options(synchronize_session=False)
                )
            if released:
                await session.execute(
                    update(OutboxMessage)
                    .where(_one_of(released))
                    .values(claimed_at=None)
                    .execution_options(synchronize_session=False)
                )
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
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == o.row_id)
                    .values(**values)
                    .execution_options(synchronize_session=False)
                )
