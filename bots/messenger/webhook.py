"""``GET/POST /messenger/webhook``: the subscription handshake, and the page's events, signed, stored, then
processed.

A POST is answered as soon as its events are stored (one short transaction: each event keyed by what
Messenger redelivers it under, so a second delivery is dropped there); the :class:`EventProcessor` then
handles them, one person's events in the order of their timestamps, each in a transaction of its own that
also stores the dialog's replies in the outbox (URGENT, keyed by the event) and marks the event handled:
the sender sends them after the commit. An event whose processing fails stays pending and is taken again.
A POST without a valid ``X-Hub-Signature-256`` (HMAC-SHA256 of the raw body with the app secret) gets 403
and nothing is written.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import case, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.messenger.deps import MessengerDeps
from bots.messenger.models import MessengerEvent, MessengerPerson
from bots.messenger.profile import set_up_profile
from bots.messenger.sender import WINDOW_HELD, MessengerSender
from conversations.outbox import URGENT, OutboxMessage, enqueue_many
from conversations.replies import Incoming
from jobs_core.backoff import Backoff
from jobs_core.model import Job
from jobs_core.model.base import utcnow
from jobs_core.uow import UnitOfWork

log = logging.getLogger(__name__)

CHANNEL = "messenger"
WEBHOOK_PATH = "/messenger/webhook"
SIGNATURE_HEADER = "X-Hub-Signature-256"
DEPS = web.AppKey("messenger_deps", MessengerDeps)
TASKS = web.AppKey("messenger_tasks", list)
STOP = web.AppKey("messenger_stop", asyncio.Event)
_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{5,}$")
MAX_TRIES = 5  # failed attempts before an event is given up
MAX_EVENTS = 1000  # per POST: Messenger batches, but never this many


def signature_valid(body: bytes, header: str | None, secret: str) -> bool:
    """``sha256=<hex>`` of the raw body with the app secret, compared in constant time."""
    if not secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header[len("sha256=") :].encode(), expected.encode())


async def verify(request: web.Request) -> web.Response:
    """The subscription handshake: echo ``hub.challenge`` when mode and token are right."""
    deps = request.app[DEPS]
    query = request.query
    token = query.get("hub.verify_token", "")
    if (
        query.get("hub.mode") == "subscribe"
        and deps.verify_token
        and hmac.compare_digest(token.encode(), deps.verify_token.encode())
        and "hub.challenge" in query
    ):
        return web.Response(text=query["hub.challenge"])
    return web.Response(status=403, text="forbidden")


def event_key(event: dict[str, Any]) -> str | None:
    """What a redelivery of ``event`` is recognised by; None for events no flow is interested in."""
    psid = str(event.get("sender", {}).get("id", ""))
    stamp = event.get("timestamp", 0)
    if "message" in event:
        message = event["message"]
        if message.get("is_echo") or not message.get("mid"):
            return None
        key = f"m:{message['mid']}"
    elif "postback" in event:
        postback = event["postback"]
        key = f"p:{postback['mid']}" if postback.get("mid") else f"p:{psid}:{stamp}:{postback.get('payload', '')}"
    elif "referral" in event:
        key = f"r:{psid}:{stamp}"
    elif "optin" in event:
        key = f"o:{psid}:{stamp}"
    else:
        return None  # deliveries, reads, reactions
    if len(key) > 160:
        key = key[:2] + hashlib.sha256(key.encode()).hexdigest()
    return key


def events_of(payload: Any) -> list[tuple[str, str, int, dict[str, Any]]]:
    """(key, psid, timestamp, event) of a page webhook's batched entries; ValueError when it is not one."""
    if not isinstance(payload, dict) or payload.get("object") != "page" or not isinstance(payload.get("entry"), list):
        raise ValueError("not a page event")
    found = []
    for entry in payload["entry"]:
        for event in entry.get("messaging", []) if isinstance(entry, dict) else []:
            if not isinstance(event, dict):
                raise ValueError("not an event")
            key = event_key(event)
            psid = str(event.get("sender", {}).get("id", ""))
            stamp = event.get("timestamp", 0)
            if key is None:
                continue
            if not psid or len(psid) > 64 or not isinstance(stamp, int) or not 0 <= stamp < 2**62:
                raise ValueError("an event without a sender or timestamp")
            found.append((key, psid, stamp, event))
    if len(found) > MAX_EVENTS:
        raise ValueError("too many events")
    return found


async def receive(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    body = await request.read()
    if not signature_valid(body, request.headers.get(SIGNATURE_HEADER), deps.app_secret):
        return web.Response(status=403, text="forbidden")
    try:
        # PostgreSQL's jsonb cannot hold U+0000, and no person means it: dropped before parsing.
        events = events_of(json.loads(body.decode().replace("\\u0000", "")))
    except (ValueError, RecursionError, AttributeError, TypeError, UnicodeDecodeError):
        return web.Response(status=400, text="not a page event")
    try:
        await store_events(deps.session_factory, events)
    except Exception:
        log.exception("storing messenger events failed; Messenger will retry them")
        return web.Response(status=500, text="retry")
    if PROCESSOR in request.app:
        request.app[PROCESSOR].wake.set()
    return web.Response(text="EVENT_RECEIVED")


async def store_events(
    session_factory: async_sessionmaker[AsyncSession], events: list[tuple[str, str, int, dict[str, Any]]]
) -> int:
    """Store new events; ones seen before are dropped. How many were new."""
    if not events:
        return 0
    async with session_factory() as session, session.begin():
        stored = await session.scalars(
            insert(MessengerEvent)
            .values([{"event_key": k, "psid": p, "sent_at": t, "payload": e, "tries": 0} for k, p, t, e in events])
            .on_conflict_do_nothing(index_elements=["event_key"])
            .returning(MessengerEvent.event_key)
        )
        return len(list(stored))


def _incoming(psid: str, **fields: Any) -> Incoming:
    return Incoming(channel=CHANNEL, chat_id=psid, user_id=psid, **fields)


def _referral_text(referral: dict[str, Any] | None) -> str | None:
    """An m.me link's ``ref`` (``job_12``) lands like Telegram's deep link: ``/start job_12``."""
    ref = str((referral or {}).get("ref") or "")
    return f"/start {ref}" if re.fullmatch(r"job_\d{1,9}", ref) else None


class EventProcessor:
    """Handles stored events: ``await drain()`` until none is pending; ``run(stop)`` in the background."""

    def __init__(self, deps: MessengerDeps) -> None:
        self.deps = deps
        self.wake = asyncio.Event()
        self._locks: dict[str, asyncio.Lock] = {}

    @asynccontextmanager
    async def _person(self, psid: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(psid, asyncio.Lock())
        async with lock:
            yield
        if not lock.locked():
            self._locks.pop(psid, None)

    async def run(self, stop: asyncio.Event, backoff: Backoff | None = None) -> None:
        backoff = backoff or Backoff("messenger events", logger=log)
        while not stop.is_set():
            try:
                await self.drain()
                backoff.succeeded()
            except Exception as error:
                await backoff.pause(error, stop)
                continue
            self.wake.clear()
            waiters = [asyncio.ensure_future(e.wait()) for e in (stop, self.wake)]
            await asyncio.wait(waiters, timeout=1.0, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()

    async def drain(self) -> int:
        """Handle pending events, each person's in timestamp order; how many were handled. An event another
        process is handling, or one that failed here, is left for a later round."""
        handled = 0
        failed: set[str] = set()
        tried: set[str] = set()
        while True:
            async with self.deps.session_factory() as session:
                rows = (
                    await session.execute(
                        select(MessengerEvent.event_key, MessengerEvent.psid, MessengerEvent.payload)
                        .where(MessengerEvent.handled_at.is_(None), MessengerEvent.psid.not_in(failed or {""}))
                        .order_by(MessengerEvent.psid, MessengerEvent.sent_at, MessengerEvent.event_key)
                        .limit(200)
                    )
                ).all()
                await session.commit()
            fresh = [(key, psid, payload) for key, psid, payload in rows if key not in tried]
            if not fresh:
                return handled
            for key, psid, payload in fresh:
                tried.add(key)
                if psid in failed:
                    continue
                try:
                    handled += await self.process(key, psid, payload)
                except Exception as error:
                    # Left pending, with the person's later events: taken again on the next round.
                    log.exception("messenger event %s failed", key)
                    failed.add(psid)
                    await self._failed(key, error)

    async def _failed(self, key: str, error: Exception) -> None:
        """Count a failed attempt; the last one gives the event up, so the person's next ones go on."""
        async with self.deps.session_factory() as session, session.begin():
            await session.execute(
                update(MessengerEvent)
                .where(MessengerEvent.event_key == key, MessengerEvent.handled_at.is_(None))
                .values(
                    tries=MessengerEvent.tries + 1,
                    error=f"{type(error).__name__}: {error}"[:500],
                    handled_at=case((MessengerEvent.tries + 1 >= MAX_TRIES, self.deps.clock()), else_=None),
                )
            )

    async def process(self, key: str, psid: str, event: dict[str, Any]) -> bool:
        incoming = await self.translate(key, psid, event)  # downloads a recording: before the transaction
        if incoming is not None and self.deps.prepare is not None:
            incoming = await self.deps.prepare(incoming)  # ffmpeg: before the transaction too
        now = self.deps.clock()
        async with self._person(psid), self.deps.session_factory() as session, session.begin():
            row = await session.scalar(
                select(MessengerEvent)
                .where(MessengerEvent.event_key == key, MessengerEvent.handled_at.is_(None))
                .with_for_update(skip_locked=True)
            )
            if row is None:
                return False  # another process took it
            row.handled_at = now
            sent = datetime.fromtimestamp(event.get("timestamp", 0) / 1000, UTC)
            await _saw(session, psid, min(sent, now), event.get("optin"))
            if incoming is not None:
                factory = async_sessionmaker(
                    bind=await session.connection(), join_transaction_mode="create_savepoint", expire_on_commit=False
                )
                await _record_share(factory, psid, incoming)
                replies = await self.deps.dialog(incoming, factory)
                digest = hashlib.sha256(key.encode()).hexdigest()[:32]
                keyed = [(psid, reply, f"fb-event:{digest}:{n}") for n, reply in enumerate(replies)]
                await enqueue_many(session, CHANNEL, keyed, priority=URGENT, now=now, wake=True)
        return True

    async def translate(self, key: str, psid: str, event: dict[str, Any]) -> Incoming | None:
        if "postback" in event:
            postback = event["postback"]
            text = _referral_text(postback.get("referral"))
            if text is not None:
                return _incoming(psid, text=text)
            return _incoming(psid, action=str(postback.get("payload", ""))[:64].replace("\x00", ""))
        if "referral" in event:
            text = _referral_text(event["referral"])
            return _incoming(psid, text=text) if text is not None else None
        if "message" not in event:
            return None
        message = event["message"]
        extra = {"message_id": str(message.get("mid", ""))[:120]}
        quick = (message.get("quick_reply") or {}).get("payload")
        if quick:
            quick = str(quick).replace("\x00", "")
            if _PHONE.match(quick):  # the "send my number" quick reply answers with the person's own number
                return _incoming(psid, contact_phone=quick, extra={**extra, "contact_is_own": "1"})
            return _incoming(psid, action=quick[:64], extra=extra)
        if message.get("text") is not None:
            return _incoming(psid, text=str(message["text"]).replace("\x00", ""), extra=extra)
        for attachment in message.get("attachments") or []:
            url = (attachment.get("payload") or {}).get("url")
            if attachment.get("type") == "audio" and url:
                path = self.deps.download_dir / f"{hashlib.sha256(key.encode()).hexdigest()[:40]}.audio"
                try:
                    await self.deps.graph.download(str(url), path)
                except Exception as error:
                    log.info("messenger audio of %s not downloaded: %s", key, error)
                    return _incoming(psid, other_media=True, extra=extra)
                return _incoming(psid, voice=path, extra=extra)
        return _incoming(psid, other_media=True, extra=extra)


PROCESSOR = web.AppKey("messenger_processor", EventProcessor)


async def _saw(session: AsyncSession, psid: str, at: datetime, optin: dict[str, Any] | None) -> None:
    """The person wrote at ``at``: their 24-hour window opens again, and replies held for it are let go. A
    notification-messages opt-in stores its token and frequency."""
    values: dict[str, Any] = {"psid": psid, "last_message_at": at, "updated_at": at}
    changes: dict[str, Any] = {
        "last_message_at": func.greatest(MessengerPerson.last_message_at, at),
        "updated_at": at,
    }
    if optin and optin.get("type") == "notification_messages" and optin.get("notification_messages_token"):
        token = {
            "notification_token": str(optin["notification_messages_token"])[:255],
            "notification_frequency": str(optin.get("notification_messages_frequency", ""))[:16] or None,
            "token_expires_at": (
                datetime.fromtimestamp(int(optin["token_expiry_timestamp"]) / 1000, UTC)
                if optin.get("token_expiry_timestamp")
                else None
            ),
        }
        values.update(token)
        changes.update(token)
    await session.execute(
        insert(MessengerPerson).values(**values).on_conflict_do_update(index_elements=["psid"], set_=changes)
    )
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.channel == CHANNEL,
            OutboxMessage.chat_id == psid,
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.failed.is_(False),
            OutboxMessage.error == WINDOW_HELD,
        )
        .values(not_before=at, error=None)
        .execution_options(synchronize_session=False)
    )


async def prune_handled_events(
    session_factory: async_sessionmaker[AsyncSession], older_than: timedelta = timedelta(days=7)
) -> int:
    """Forget handled events older than ``older_than`` (Messenger stops redelivering long before)."""
    async with session_factory() as session, session.begin():
        result = await session.execute(
            delete(MessengerEvent).where(
                MessengerEvent.handled_at.is_not(None), MessengerEvent.received_at < utcnow() - older_than
            )
        )
    return int(getattr(result, "rowcount", 0) or 0)


async def _record_share(factory: async_sessionmaker[AsyncSession], psid: str, incoming: Incoming) -> None:
    """Someone arrived through a shared m.me link to a job: counted as a Messenger share, like Telegram's."""
    found = re.fullmatch(r"/start job_(\d{1,9})", incoming.text or "")
    if found is None:
        return
    async with UnitOfWork(factory) as uow:
        job_id = int(found.group(1))
        if await uow.session.get(Job, job_id) is not None:
            uow.audit(f"messenger:{psid}", "job.shared", "job", job_id, via="m.me")
            await uow.commit()


def setup_messenger(
    app: web.Application, deps: MessengerDeps, *, path: str = WEBHOOK_PATH, background: bool = True
) -> None:
    """Add the webhook routes; with ``background``, process events and send the outbox while the app runs."""
    app[DEPS] = deps
    processor = app[PROCESSOR] = EventProcessor(deps)
    app.router.add_get(path, verify)
    app.router.add_post(path, receive)

    async def on_startup(app: web.Application) -> None:
        if not background:
            return
        stop = app[STOP] = asyncio.Event()
        await prune_handled_events(deps.session_factory)
        await set_up_profile(deps.graph)
        sender = MessengerSender(deps)
        app[TASKS] = [
            asyncio.create_task(processor.run(stop), name="messenger-events"),
            asyncio.create_task(sender.run(stop), name="messenger-sender"),
        ]

    async def on_cleanup(app: web.Application) -> None:
        if TASKS in app:
            app[STOP].set()
            for task in app[TASKS]:
                with contextlib.suppress(Exception):
                    await task
        await deps.graph.close()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)


__all__ = ["WEBHOOK_PATH", "EventProcessor", "setup_messenger", "signature_valid"]
