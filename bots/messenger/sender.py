"""The Messenger outbox sender: claim, commit, send, settle, within Messenger's messaging policy.

Policy (``docs/messenger.md``): a free-form message goes only within 24 hours of the person's own last
message (``messenger_people.last_message_at``). Outside it, a job alert goes through the person's
notification-messages opt-in when they gave one (its token); anything else goes by Telegram when the person
linked an account, an application outcome worth a call is told to the worker by the dialer when they agreed
to calls (:data:`BY_CALL`), and the rest is held (``error`` = :data:`WINDOW_HELD`) until the person writes
again, which lets it go (:mod:`bots.messenger.webhook`). No message tag is used. A 551 ("person isn't
available") marks the relative unreachable; 613 and the other rate-limit codes postpone the chat's messages;
the server's own trouble is retried with back-off.

Every serve process runs a sender; a round is sent only by the process holding the page's advisory lock, so
Messenger's pacing holds for the page. Rows are claimed with ``FOR UPDATE SKIP LOCKED`` and ``claimed_at``
(committed before any send) as well; a dead sender's claims are released by the next one taking over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bots.messenger.deps import MessengerDeps
from bots.messenger.graph import GraphError
from bots.messenger.models import MessengerPerson
from bots.messenger.render import MessengerRenderer
from conversations.channel import MESSENGER
from conversations.links import LinkedAccount
from conversations.outbox import URGENT, OutboxMessage, claim_due, enqueue_many, notify_channel, release_claims
from conversations.outcome_calls import call_instead
from conversations.replies import JobCard
from jobs_core.backoff import Backoff
from jobs_core.model import Channel, Relative

log = logging.getLogger(__name__)

CHANNEL = "messenger"
WINDOW_HELD = "held: outside the 24-hour window, sent when the person writes again"
HOLD = timedelta(days=365)  # a held row waits for the person's next message, which lets it go
BY_TELEGRAM = "went by Telegram: outside the 24-hour window, and the person linked a Telegram account"
BY_CALL = "went by a call: outside the 24-hour window, the family member is told the outcome on the phone"
RATE_LIMIT_WAIT = timedelta(seconds=60)
OUTSIDE_WINDOW_SUBCODE = 2018278
MAX_ATTEMPTS = 8
SENDER_LOCK = 0x4D53_4E47  # "MSNG": the advisory lock held by the page's one sender during a round


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(600, 5 * 2 ** max(0, attempts - 1)))


@dataclass
class Outcome:
    sent: bool = False
    error: str | None = None
    retry_at: datetime | None = None
    give_up: bool = False
    hold: bool = False


class MessengerSender:
    def __init__(self, deps: MessengerDeps, *, batch: int = 200, idle_delay: float = 2.0) -> None:
        self.deps = deps
        self.batch = batch
        self.idle_delay = idle_delay
        self.renderer = MessengerRenderer(deps.graph, deps.page_id)
        self.backoff = Backoff("messenger outbox", logger=log)
        self.sent = 0
        self.failed = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Send until ``stop`` is set, in the rounds this process holds the page's sender lock. Between rounds it
        waits for a NOTIFY on the channel (a reply someone is waiting for, queued by any process) or, for rows
        that become due by time, ``idle_delay``."""
        wake = asyncio.Event()
        listening = _Listener(self.deps, wake)
        try:
            while not stop.is_set():
                try:
                    claimed = await self.send_round()
                    self.backoff.succeeded()
                except Exception as error:
                    await self.backoff.pause(error, stop)
                    continue
                if not claimed:
                    await listening.ensure()
                    await _first_of(stop, wake, self.idle_delay)
                    wake.clear()
        finally:
            await listening.close()

    async def send_round(self) -> int | None:
        """One round as the page's one sender: under a session-level advisory lock on a connection of its own
                (held only for the round, so a killed process lets go with its connection); None when another process
                holds it. Claims live only inside a round, so any found at its start were left by a sender that died (or
        could not settle): they are released and sent again (at-least-once)."""
        engine = self.deps.session_factory.kw["bind"]
        async with engine.connect() as connection:
            got = await connection.scalar(select(func.pg_try_advisory_lock(SENDER_LOCK)))
            await connection.commit()  # the lock is the session's; no transaction stays open while sending
            if not got:
                return None
            try:
                async with self.deps.session_factory() as session, session.begin():
                    await release_claims(session, CHANNEL)
                return await self.send_due()
            finally:
                await connection.scalar(select(func.pg_advisory_unlock(SENDER_LOCK)))
                await connection.commit()

    async def drain(self) -> int:
        """Send everything due now (tests, one-off commands); how many were sent."""
        before = self.sent
        while await self.send_due():
            pass
        return self.sent - before

    async def send_due(self) -> int:
        """Claim a batch of due rows, send them chat by chat (in order), settle; how many were claimed."""
        rows = await self._claim()
        chats: dict[str, list[OutboxMessage]] = {}
        for row in rows:
            chats.setdefault(row.chat_id, []).append(row)
        await asyncio.gather(*(self._send_chat(chat, messages) for chat, messages in chats.items()))
        return len(rows)

    async def _claim(self) -> list[OutboxMessage]:
        at = self.deps.clock()
        async with self.deps.session_factory() as session, session.begin():
            rows = await claim_due(session, CHANNEL, at, self.batch)
        rows.sort(key=lambda r: (r.chat_id, r.priority, r.not_before, r.id))
        return rows

    async def _person(self, psid: str) -> MessengerPerson | None:
        async with self.deps.session_factory() as session:
            person = await session.get(MessengerPerson, psid)
            await session.commit()
        return person

    async def _send_chat(self, chat_id: str, rows: list[OutboxMessage]) -> None:
        person = await self._person(chat_id)
        groups: list[list[OutboxMessage]] = []
        for row in rows:  # consecutive job cards go as one carousel
            if groups and row.payload.get("type") == "job_card" and groups[-1][-1].payload.get("type") == "job_card":
                groups[-1].append(row)
            else:
                groups.append([row])
        postponed: Outcome | None = None
        for group in groups:
            outcome = postponed or await self._send(chat_id, group, person)
            if outcome.retry_at is not None or outcome.hold:
                postponed = outcome  # the chat's later rows keep their order behind it
            if outcome.give_up and outcome.error and outcome.error.startswith("blocked"):
                postponed = outcome
            await self._settle(group, outcome)

    def _route(
        self, group: list[OutboxMessage], person: MessengerPerson | None
    ) -> tuple[dict[str, str] | None, str] | None:
        """Who to send to and as what: the person within their window; an alert by its notification token
        outside it; None: hold."""
        now = self.deps.clock()
        window = MESSENGER.message_window or timedelta(0)
        last = person.last_message_at if person is not None else None
        if last is not None and now - last < window:
            return None, "RESPONSE" if group[0].priority == URGENT else "UPDATE"
        is_alert = all(isinstance(r.reply, JobCard) and r.dedupe_key.startswith("ev:") for r in group)
        if (
            is_alert
            and person is not None
            and person.notification_token
            and (person.token_expires_at is None or person.token_expires_at > now)
        ):
            return {"notification_messages_token": person.notification_token}, "UPDATE"
        return None

    async def _relative_id(self, session: AsyncSession, psid: str) -> int | None:
        """The relative behind a Messenger account: the one it was linked to, else its own."""
        return await session.scalar(
            select(LinkedAccount.relative_id).where(LinkedAccount.channel == CHANNEL, LinkedAccount.external_id == psid)
        ) or await session.scalar(
            select(Relative.id).where(Relative.channel == Channel.MESSENGER, Relative.external_id == psid)
        )

    async def _by_call(self, psid: str, group: list[OutboxMessage]) -> bool:
        """Outside the window, an application outcome worth a call is told to the worker by the dialer
        (:mod:`conversations.outcome_calls`) when they agreed to calls; the relative's row is then closed."""
        if len(group) != 1:
            return False  # outcomes are one text each; grouped rows are job cards
        async with self.deps.session_factory() as session:
            relative_id = await self._relative_id(session, psid)
            await session.commit()
        if relative_id is None:
            return False
        return await call_instead(self.deps.session_factory, group[0], relative_id, self.deps.clock())

    async def _by_telegram(self, psid: str, group: list[OutboxMessage]) -> bool:
        """Outside the window, a person who linked a Telegram account (``/link``) gets the message there."""
        async with self.deps.session_factory() as session, session.begin():
            relative_id = await self._relative_id(session, psid)
            if relative_id is None:
                return False
            telegram = await session.scalar(
                select(Relative.external_id).where(
                    Relative.id == relative_id, Relative.channel == Channel.TELEGRAM, Relative.unreachable.is_(False)
                )
            ) or await session.scalar(
                select(LinkedAccount.external_id).where(
                    LinkedAccount.relative_id == relative_id, LinkedAccount.channel == Channel.TELEGRAM.value
                )
            )
            if telegram is None:
                return False
            keyed = [(telegram, row.reply, f"{row.dedupe_key[:100]}:via-tg") for row in group]
            await enqueue_many(session, Channel.TELEGRAM.value, keyed, priority=group[0].priority, wake=True)
        return True

    async def _send(self, chat_id: str, group: list[OutboxMessage], person: MessengerPerson | None) -> Outcome:
        attempts = group[0].attempts + 1
        route = self._route(group, person)
        if route is None:
            if await self._by_telegram(chat_id, group):
                return Outcome(give_up=True, error=BY_TELEGRAM)
            if await self._by_call(chat_id, group):
                return Outcome(give_up=True, error=BY_CALL)
            return Outcome(hold=True, error=WINDOW_HELD)
        recipient, messaging_type = route
        try:
            replies = [row.reply for row in group]
        except (KeyError, ValueError, TypeError) as error:
            return Outcome(error=f"unreadable payload: {error}", give_up=True)
        try:
            reachable = await self.renderer.deliver(
                chat_id, replies, self.deps.session_factory, recipient=recipient, messaging_type=messaging_type
            )
        except GraphError as error:
            now = self.deps.clock()
            if error.subcode == OUTSIDE_WINDOW_SUBCODE:
                return Outcome(hold=True, error=WINDOW_HELD)
            if error.rate_limited:
                log.warning("messenger rate limit (%s): waiting %s", error, RATE_LIMIT_WAIT)
                return Outcome(error=str(error), retry_at=now + RATE_LIMIT_WAIT)
            if error.passing and attempts < MAX_ATTEMPTS:
                return Outcome(error=str(error), retry_at=now + backoff(attempts))
            return Outcome(error=str(error), give_up=True)
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            give_up = attempts >= MAX_ATTEMPTS
            return Outcome(
                error=f"{type(error).__name__}: {error}",
                retry_at=None if give_up else self.deps.clock() + backoff(attempts),
                give_up=give_up,
            )
        if not reachable:
            return Outcome(error="blocked: the person blocked the page (551)", give_up=True)
        return Outcome(sent=True)

    async def _settle(self, group: list[OutboxMessage], outcome: Outcome) -> None:
        now = self.deps.clock()
        values: dict[str, Any] = {"claimed_at": None, "attempts": OutboxMessage.attempts + (0 if outcome.hold else 1)}
        if outcome.sent:
            values.update(sent_at=now, error=None)
            self.sent += len(group)
        elif outcome.hold:
            values.update(error=WINDOW_HELD, not_before=now + HOLD)
        elif outcome.give_up or outcome.retry_at is None:
            values.update(failed=True, error=(outcome.error or "")[:500])
            self.failed += len(group)
        else:
            values.update(not_before=outcome.retry_at, error=(outcome.error or "")[:500])
        async with self.deps.session_factory() as session, session.begin():
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_([r.id for r in group]))
                .values(**values)
                .execution_options(synchronize_session=False)
            )


class _Listener:
    """LISTEN on the channel's outbox NOTIFY (``enqueue_many(..., wake=True)``) on a connection of its own.
    Losing it costs only speed: the sender still looks every ``idle_delay``, and the next idle reconnects."""

    def __init__(self, deps: MessengerDeps, wake: asyncio.Event) -> None:
        self.deps, self.wake = deps, wake
        self._connection: Any = None  # SQLAlchemy AsyncConnection holding the asyncpg connection

    def _notified(self, *_: Any) -> None:
        self.wake.set()

    async def ensure(self) -> None:
        raw = self._raw()
        if raw is not None and not raw.is_closed():
            return
        await self.close()
        try:
            engine = self.deps.session_factory.kw["bind"]
            self._connection = await engine.connect()
            fairy = await self._connection.get_raw_connection()
            await fairy.driver_connection.add_listener(notify_channel(CHANNEL), self._notified)
        except Exception as error:  # polling goes on; the next idle tries again
            log.debug("the Messenger sender cannot LISTEN (%s); it polls", error)
            await self.close()

    def _raw(self) -> Any:
        if self._connection is None or self._connection.sync_connection is None:
            return None
        fairy = self._connection.sync_connection.connection
        return getattr(fairy, "driver_connection", None)

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        with contextlib.suppress(Exception):
            raw = (await connection.get_raw_connection()).driver_connection
            await raw.remove_listener(notify_channel(CHANNEL), self._notified)
        with contextlib.suppress(Exception):
            await connection.close()


async def _first_of(stop: asyncio.Event, wake: asyncio.Event, seconds: float) -> None:
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
