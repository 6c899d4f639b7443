"""One Telegram sender per bot, whatever the number of serve processes: the holder of an advisory lock.

Every process runs :class:`SenderElection`. It keeps one connection of its own to PostgreSQL and tries
``pg_try_advisory_lock`` on it every ``retry`` seconds; the process that gets the lock is the bot's sender
until it stops or that connection breaks. The lock is session-level: it lives exactly as long as the
connection, so a killed process (SIGKILL, a lost host) hands over as soon as PostgreSQL sees the connection
gone, and the next process takes the lock within ``retry`` seconds.

The leader LISTENs on ``telegram_outbox`` (each update's transaction NOTIFYs it when it stores replies, and
PostgreSQL delivers the notice at commit) and also looks every ``idle_delay`` seconds, so a lost notice
delays a message, never loses it. On taking over, rows the previous sender claimed and never settled are
released and sent (the documented at-least-once window), after a second of quiet so that Telegram's 1-s
windows hold across the handover. Its connection is checked every ``check_every`` seconds: a leader that
cannot reach its lock's connection stops sending at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from bots.telegram.deps import TelegramDeps
from bots.telegram.outbox import CHANNEL, Queued, TelegramOutboxSender
from conversations.outbox import notify_channel
from jobs_core.backoff import Backoff

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 10.0
HANDOVER_QUIET = 1.1  # seconds a new sender waits before its first send (Telegram's windows are 1 s)


def lock_key(bot_id: int) -> int:
    """The advisory lock's 64-bit key for this bot (another bot on the same database has its own sender)."""
    digest = hashlib.sha256(f"bongpheak telegram sender {bot_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def dsn_of(deps: TelegramDeps) -> str:
    """The plain PostgreSQL URL of the engine behind the adapter's sessions (asyncpg wants no driver name)."""
    engine = deps.session_factory.kw.get("bind")
    if not isinstance(engine, AsyncEngine):
        raise TypeError("the Telegram sender needs a session factory bound to an AsyncEngine")
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


class SenderElection:
    """``await election.run(stop)`` in every serve process; ``leading`` says whether this one sends now."""

    def __init__(
        self,
        deps: TelegramDeps,
        *,
        retry: float = 1.0,
        check_every: float = 1.0,
        sender: Callable[[], TelegramOutboxSender] | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.deps = deps
        self.retry = retry
        self.check_every = check_every
        # One back-off for the lock's connection and the sending: /healthz shows either failing.
        self.backoff = backoff or Backoff("telegram outbox", logger=log)
        self.make_sender = sender or (lambda: TelegramOutboxSender(deps, backoff=self.backoff))
        self.key = lock_key(deps.bot.id)
        self.leading = False
        self.terms = 0  # how many times this process became the sender
        self.sender: TelegramOutboxSender | None = None

    @property
    def sending_here(self) -> bool:
        """This process is the sender and its sender runs: an update handled here may hand it its replies."""
        return self.leading and self.sender is not None and self.sender.accepting

    def take(self, rows: list[Queued]) -> list[Queued]:
        """Hand an update's committed, claimed replies to this process's sender; returns those it did not take
        (this process stopped being the sender meanwhile, or their chat is held back): the caller releases them."""
        sender = self.sender
        if not self.leading or sender is None:
            return rows
        return sender.take(rows)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            connection: asyncpg.Connection | None = None
            try:
                connection = await asyncpg.connect(
                    dsn_of(self.deps),
                    timeout=CONNECT_TIMEOUT,
                    server_settings={"application_name": "bongpheak telegram sender"},
                )
                while not stop.is_set():
                    if await connection.fetchval("SELECT pg_try_advisory_lock($1)", self.key):
                        self.backoff.succeeded()
                        await self._lead(connection, stop)
                        break  # the term ended: a new connection, a new try
                    self.backoff.succeeded()
                    await _wait(stop, self.retry)
            except Exception as error:
                await self.backoff.pause(error, stop)
            finally:
                self.leading = False
                if connection is not None:
                    # Closing ends the session, and with it the lock.
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(connection.close(), 5)
                    if not connection.is_closed():
                        connection.terminate()

    async def _lead(self, connection: asyncpg.Connection, stop: asyncio.Event) -> None:
        self.leading = True
        self.terms += 1
        log.info("this process is now the Telegram sender")
        wake = asyncio.Event()
        term_over = asyncio.Event()

        def notified(*_: Any) -> None:
            wake.set()

        await connection.add_listener(notify_channel(CHANNEL), notified)
        sender = self.sender = self.make_sender()
        await sender.recover()
        # The previous sender may have sent a moment ago (a kill hands over within a second): a second and a
        # bit of quiet keeps the bot's 30 a second and each chat's one a second across the handover.
        await _wait(stop, HANDOVER_QUIET)
        sending = asyncio.create_task(sender.run(term_over, wake), name="telegram-outbox")
        stopped = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set() and not sending.done():
                await asyncio.wait({sending, stopped}, timeout=self.check_every)
                if stop.is_set() or sending.done():
                    break
                try:
                    await asyncio.wait_for(connection.fetchval("SELECT 1"), self.check_every * 5)
                except Exception as error:
                    log.warning("the Telegram sender lost its lock's connection (%s); stopping", error)
                    break
        finally:
            stopped.cancel()
            term_over.set()
            await sending
            self.leading = False
            with contextlib.suppress(Exception):
                await connection.remove_listener(notify_channel(CHANNEL), notified)
            log.info("this process is no longer the Telegram sender")


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
