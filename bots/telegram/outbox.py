"""Sends the ``outbox`` rows of the Telegram channel at Telegram's pace.

Each message is claimed in its own transaction (``FOR UPDATE SKIP LOCKED``), sent, marked sent and committed
at once: nothing is marked sent before Telegram accepted it, and a restart resumes with what is unsent.
The one window: if the process dies after Telegram accepted a message and before the commit, that message
is sent again after the restart (at-least-once; the row's ``dedupe_key`` keeps its cause from queueing it
twice). Pacing (30/s, 1/s per chat, 20/min per group, 429 pauses) is per process: run one sender per bot.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramNetworkError, TelegramServerError
from sqlalchemy import select

from bots.telegram.deps import TelegramDeps
from bots.telegram.render import RepliesDelayed, TelegramRenderer
from conversations.outbox import OutboxMessage, mark_failed, mark_sent
from jobs_core.backoff import Backoff
from jobs_core.model.base import utcnow

log = logging.getLogger(__name__)

CHANNEL = "telegram"
MAX_ATTEMPTS = 8


def backoff(attempts: int) -> timedelta:
    """Wait before retrying a message that failed for a passing reason: 5 s, 10 s, 20 s … up to 10 min."""
    return timedelta(seconds=min(600, 5 * 2 ** max(0, attempts - 1)))


class TelegramOutboxSender:
    """``await sender.run(stop)`` in the server; ``await sender.drain()`` sends what is due and returns."""

    def __init__(
        self,
        deps: TelegramDeps,
        *,
        workers: int = 8,
        idle_delay: float = 0.5,
        renderer: TelegramRenderer | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.deps = deps
        self.workers = workers
        self.idle_delay = idle_delay
        # A 429 met while sending an alert pauses the bot; waiting long is fine here (nobody is waiting).
        self.renderer = renderer or TelegramRenderer(deps.bot, deps.pacer, max_wait=120.0)
        self._in_flight: set[str] = set()
        # Shared by the workers: an outage is logged once for the sender, and they all slow down together.
        self.backoff = backoff or Backoff("telegram outbox", logger=log)
        self.sent = 0
        self.failed = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Send until ``stop`` is set; idle workers look for due rows every ``idle_delay`` seconds."""
        await asyncio.gather(*(self._worker(stop) for _ in range(self.workers)))

    async def drain(self) -> int:
        """Send everything due now (tests, benchmarks, a one-off command); returns how many were sent."""
        before = self.sent

        async def until_empty() -> None:
            while (outcome := await self._send_one()) != "empty":
                if outcome == "busy":
                    await asyncio.sleep(0.05)

        await asyncio.gather(*(until_empty() for _ in range(self.workers)))
        return self.sent - before

    async def _worker(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                outcome = await self._send_one()
            except Exception as error:
                await self.backoff.pause(error, stop)
                continue
            self.backoff.succeeded()
            if outcome != "sent":
                try:
                    await asyncio.wait_for(stop.wait(), self.idle_delay if outcome == "empty" else 0.05)
                except TimeoutError:
                    pass

    async def _send_one(self) -> str:
        """Claim, send and settle one message: "sent", "failed", "busy" (only paced chats left) or "empty"."""
        busy = sorted(set(self.deps.pacer.busy_chats()) | self._in_flight)
        async with self.deps.session_factory() as session, session.begin():
            query = (
                select(OutboxMessage)
                .where(
                    OutboxMessage.channel == CHANNEL,
                    OutboxMessage.sent_at.is_(None),
                    OutboxMessage.failed.is_(False),
                    OutboxMessage.not_before <= utcnow(),
                )
                .order_by(OutboxMessage.priority, OutboxMessage.not_before, OutboxMessage.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if busy:
                query = query.where(OutboxMessage.chat_id.not_in(busy))
            message = await session.scalar(query)
            if message is None:
                return "busy" if busy else "empty"
            if message.chat_id in self._in_flight:
                return "busy"  # another worker of this process took the same chat a moment ago
            self._in_flight.add(message.chat_id)
            try:
                return await self._send(message)
            finally:
                self._in_flight.discard(message.chat_id)

    async def _send(self, message: OutboxMessage) -> str:
        try:
            reply = message.reply
        except (KeyError, ValueError, TypeError) as error:
            mark_failed(message, f"unreadable payload: {error}", give_up=True)
            self.failed += 1
            return "failed"
        try:
            reachable = await self.renderer.deliver(message.chat_id, [reply], self.deps.session_factory, per_chat=True)
        except RepliesDelayed as error:
            mark_failed(message, str(error), retry_after=timedelta(seconds=error.retry_after))
            return "failed"
        except (TelegramNetworkError, TelegramServerError) as error:
            give_up = message.attempts + 1 >= MAX_ATTEMPTS
            mark_failed(
                message,
                f"{type(error).__name__}: {error.message}",
                retry_after=backoff(message.attempts + 1),
                give_up=give_up,
            )
            self.failed += give_up
            return "failed"
        except (TelegramBadRequest, TelegramAPIError) as error:
            # Chat not found, message malformed…: sending it again would fail the same way.
            mark_failed(message, f"{type(error).__name__}: {error.message}", give_up=True)
            self.failed += 1
            return "failed"
        if not reachable:
            mark_failed(message, "blocked: the person blocked the bot (403)", give_up=True)
            self.failed += 1
            return "failed"
        mark_sent(message)
        self.sent += 1
        return "sent"
