"""Messages waiting to be pushed to a chat (alerts, notices to employers and moderators).

A row is one serialised Reply for one chat. ``dedupe_key`` is unique: whoever queues a message names it
after its cause (``event:<id>:relative:<id>``, ``tg-update:<update_id>:<n>``), so handling an event or an
update twice never sends twice. ``priority``: lower is sent first (``URGENT`` 0, ``NORMAL`` 5, ``BULK`` 9).

Claim, commit, send, settle: a channel's sender marks due rows taken (``claimed_at``, committed in a short
transaction), sends them with no transaction open, then records the outcome (:func:`mark_sent`,
:func:`mark_failed`) in another short transaction. A row left claimed by a sender that died is released by
the next sender (:func:`release_claims`): what the dead one had in flight may be sent again, nothing more.
:func:`claim` is the older form for a sender that sends while holding the rows' locks.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, DateTime, Index, Row, String, all_, bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from conversations.replies import AskPhone, AskVoice, Button, Edit, JobCard, Keyboard, QrCode, Reply, Text, Voice
from jobs_core.model.base import Base, utcnow

URGENT, NORMAL, BULK = 0, 5, 9


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        # The senders' claim: unsent rows by priority and age (rows given up on are left out).
        Index(
            "ix_outbox_due",
            "channel",
            "priority",
            "not_before",
            "id",
            postgresql_where="sent_at IS NULL AND NOT failed",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    priority: Mapped[int] = mapped_column(default=NORMAL)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    not_before: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(500))
    # Set when the sender gave up (blocked bot, too many attempts); the row is never claimed again.
    failed: Mapped[bool] = mapped_column(default=False)
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    # Set while a sender is sending the row (committed before the send): no other claim takes it.
    claimed_at: Mapped[datetime | None]

    @property
    def reply(self) -> Reply:
        """The message to send."""
        return deserialize_reply(self.payload)


# ------------------------------------------------------------------------------------------ serialising


def _keyboard(buttons: Keyboard) -> list[list[dict[str, Any]]]:
    return [[{"label": b.label, "action": b.action, "kind": b.kind, "url": b.url} for b in row] for row in buttons]


def _buttons(rows: Any) -> Keyboard:
    return tuple(
        tuple(
            Button(label=b["label"], action=b.get("action", ""), kind=b.get("kind", "action"), url=b.get("url"))
            for b in row
        )
        for row in rows or ()
    )


def _path(value: Path | None) -> str | None:
    return None if value is None else str(value)


def _voice_dict(voice: Voice) -> dict[str, Any]:
    return {
        "type": "voice",
        "audio_id": voice.audio_id,
        "ogg": _path(voice.ogg),
        "mp3": _path(voice.mp3),
        "caption": voice.caption,
        "buttons": _keyboard(voice.buttons),
    }


def _voice(data: dict[str, Any]) -> Voice:
    return Voice(
        audio_id=data["audio_id"],
        ogg=Path(data["ogg"]) if data.get("ogg") else None,
        mp3=Path(data["mp3"]) if data.get("mp3") else None,
        caption=data.get("caption", ""),
        buttons=_buttons(data.get("buttons")),
    )


def serialize_reply(reply: Reply) -> dict[str, Any]:
    """A Reply as JSON-able data (``{"type": "text", ...}``); :func:`deserialize_reply` reverses it."""
    if isinstance(reply, Text):
        data: dict[str, Any] = {"type": "text", "text": reply.text, "buttons": _keyboard(reply.buttons)}
        if reply.force_reply:
            data["force_reply"] = True
        return data
    if isinstance(reply, Edit):
        edit: dict[str, Any] = {
            "type": "edit",
            "message_id": reply.message_id,
            "text": reply.text,
            "buttons": _keyboard(reply.buttons),
        }
        if reply.buttons_only:
            edit["buttons_only"] = True
        return edit
    if isinstance(reply, Voice):
        return _voice_dict(reply)
    if isinstance(reply, JobCard):
        return {
            "type": "job_card",
            "job_id": reply.job_id,
            "text": reply.text,
            "voice": None if reply.voice is None else _voice_dict(reply.voice),
            "buttons": _keyboard(reply.buttons),
        }
    if isinstance(reply, AskPhone):
        return {"type": "ask_phone", "text": reply.text, "buttons": _keyboard(reply.buttons)}
    if isinstance(reply, AskVoice):
        return {"type": "ask_voice", "text": reply.text, "buttons": _keyboard(reply.buttons)}
    if isinstance(reply, QrCode):
        return {"type": "qr", "content": reply.content, "caption": reply.caption, "buttons": _keyboard(reply.buttons)}
    raise TypeError(f"not a reply: {reply!r}")


def deserialize_reply(data: dict[str, Any]) -> Reply:
    """The Reply that :func:`serialize_reply` wrote."""
    kind = data.get("type")
    if kind == "text":
        return Text(data["text"], _buttons(data.get("buttons")), force_reply=bool(data.get("force_reply", False)))
    if kind == "edit":
        return Edit(
            str(data["message_id"]),
            data["text"],
            _buttons(data.get("buttons")),
            buttons_only=bool(data.get("buttons_only", False)),
        )
    if kind == "voice":
        return _voice(data)
    if kind == "job_card":
        voice = data.get("voice")
        return JobCard(
            job_id=int(data["job_id"]),
            text=data["text"],
            voice=None if voice is None else _voice(voice),
            buttons=_buttons(data.get("buttons")),
        )
    if kind == "ask_phone":
        return AskPhone(data["text"], _buttons(data.get("buttons")))
    if kind == "ask_voice":
        return AskVoice(data["text"], _buttons(data.get("buttons")))
    if kind == "qr":
        return QrCode(data["content"], data.get("caption", ""), _buttons(data.get("buttons")))
    raise ValueError(f"unknown reply type {kind!r}")


# ------------------------------------------------------------------------------------------ queue


async def enqueue(
    session: AsyncSession,
    channel: str,
    chat_id: str,
    reply: Reply,
    dedupe_key: str,
    *,
    priority: int = NORMAL,
    not_before: datetime | None = None,
    now: datetime | None = None,
) -> bool:
    """Queue ``reply`` for ``chat_id`` in the caller's transaction; False if ``dedupe_key`` was queued before."""
    at = now or utcnow()
    inserted = await session.scalar(
        insert(OutboxMessage)
        .values(
            channel=channel,
            chat_id=chat_id,
            payload=serialize_reply(reply),
            priority=priority,
            created_at=at,
            not_before=not_before or at,
            attempts=0,
            failed=False,
            dedupe_key=dedupe_key[:120],
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(OutboxMessage.id)
    )
    return inserted is not None


async def enqueue_many(
    session: AsyncSession,
    channel: str,
    messages: list[tuple[str, Reply, str]],
    *,
    priority: int = NORMAL,
    now: datetime | None = None,
    wake: bool = False,
) -> None:
    """Queue (chat_id, reply, dedupe_key) triples in one statement, in the caller's transaction; rows already
    queued under the same dedupe key are left alone. Ids follow the list's order, so a chat's replies go out
    in the order given. ``wake``: the same statement NOTIFYs the channel's sender (delivered at commit) when
    it queued anything, saving a round trip of :func:`wake_sender`."""
    if not messages:
        return
    params = _row_params(channel, messages, priority, now or utcnow())
    params["notify"] = notify_channel(channel) if wake else ""
    await session.execute(_ENQUEUE_MANY_AND_WAKE if wake else _ENQUEUE_MANY, params)


def _row_params(channel: str, messages: list[tuple[str, Reply, str]], priority: int, at: datetime) -> dict[str, Any]:
    """The parameters of :data:`_ROWS`: one statement whatever the number of rows (arrays, unnested in order),
    so it is compiled once and prepared once; a multi-row VALUES would be compiled again for every call."""
    return {
        "channel": channel,
        "priority": priority,
        "at": at,
        "chats": [chat_id for chat_id, _reply, _key in messages],
        "payloads": [json.dumps(serialize_reply(reply)) for _chat, reply, _key in messages],
        "keys": [key[:120] for _chat, _reply, key in messages],
    }


_ROWS = """
    INSERT INTO outbox (channel, chat_id, payload, priority, created_at, not_before, attempts, failed, dedupe_key)
    SELECT :channel, r.chat_id, r.payload::jsonb, :priority, :at, :at, 0, false, r.dedupe_key
    FROM unnest(CAST(:chats AS varchar[]), CAST(:payloads AS text[]), CAST(:keys AS varchar[]))
        WITH ORDINALITY AS r(chat_id, payload, dedupe_key, n)
    ORDER BY r.n
    ON CONFLICT (dedupe_key) DO NOTHING
"""
_ENQUEUE_MANY = text(_ROWS).bindparams(bindparam("at", type_=DateTime(timezone=True)))
# A data-modifying WITH runs to completion whatever the outer query reads of it.
_ENQUEUE_MANY_AND_WAKE = text(
    f"WITH queued AS ({_ROWS} RETURNING id) SELECT pg_notify(:notify, '') FROM queued LIMIT 1"
).bindparams(bindparam("at", type_=DateTime(timezone=True)))


async def enqueue_claimed(
    session: AsyncSession,
    channel: str,
    messages: list[tuple[str, Reply, str]],
    *,
    priority: int = NORMAL,
    now: datetime | None = None,
) -> dict[str, int]:
    """Like :func:`enqueue_many`, for a caller whose own process is the channel's sender: the rows are queued
    already claimed (``claimed_at``) and nobody is woken, so no claim query has to find them; the caller hands
    them to its sender once its transaction commits (or, if it cannot, gives them back with
    :func:`release_and_wake`). A process dying in between leaves them to the next sender's
    :func:`release_claims`. Returns dedupe key → id for the rows queued now (not those queued before)."""
    if not messages:
        return {}
    rows = await session.execute(_ENQUEUE_CLAIMED, _row_params(channel, messages, priority, now or utcnow()))
    return {key: row_id for row_id, key in rows}


async def release_and_wake(connection: AsyncConnection, channel: str, ids: list[int]) -> None:
    """Rows queued claimed by :func:`enqueue_claimed` that no sender of this process took: claimable again,
    and the channel's sender (wherever it is now) woken. One statement, so the caller's connection may be in
    autocommit mode."""
    if ids:
        await connection.execute(_RELEASE_AND_WAKE, {"ids": ids, "notify": notify_channel(channel)})


async def claim_due_rows(
    connection: AsyncConnection, channel: str, at: datetime, limit: int, skip_chats: list[str]
) -> list[Row[Any]]:
    """:func:`claim_due` in one statement without the ORM, for a connection in autocommit mode (the statement is
    its own transaction: no BEGIN and COMMIT round trips). Rows of (id, chat_id, priority, not_before,
    attempts, payload), most urgent first."""
    rows = await connection.execute(
        _CLAIM_DUE, {"channel": channel, "at": at, "limit": limit, "skip": sorted(skip_chats)}
    )
    return sorted(rows.all(), key=lambda row: (row.priority, row.not_before, row.id))


async def release_stale_claims(
    connection: AsyncConnection, channel: str, claimed_before: datetime, holding: set[int] | frozenset[int]
) -> int:
    """Rows claimed before ``claimed_before`` that the channel's sender does not hold (``holding``): claimable
    again. Only the channel's one sender calls this. Such a row is an orphan: queued claimed by a process that
    then lost the sender's role and died before it could give the rows back."""
    result = await connection.execute(
        _RELEASE_STALE, {"channel": channel, "before": claimed_before, "holding": sorted(holding)}
    )
    return int(getattr(result, "rowcount", 0) or 0)


_RELEASE_STALE = text(
    """
    UPDATE outbox SET claimed_at = NULL
    WHERE channel = :channel AND claimed_at < :before AND sent_at IS NULL AND NOT failed
        AND id <> ALL(CAST(:holding AS bigint[]))
    """
).bindparams(bindparam("before", type_=DateTime(timezone=True)))
_ENQUEUE_CLAIMED = text(
    """
    INSERT INTO outbox (channel, chat_id, payload, priority, created_at, not_before, attempts, failed, dedupe_key,
                        claimed_at)
    SELECT :channel, r.chat_id, r.payload::jsonb, :priority, :at, :at, 0, false, r.dedupe_key, :at
    FROM unnest(CAST(:chats AS varchar[]), CAST(:payloads AS text[]), CAST(:keys AS varchar[]))
        WITH ORDINALITY AS r(chat_id, payload, dedupe_key, n)
    ORDER BY r.n
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING id, dedupe_key
    """
).bindparams(bindparam("at", type_=DateTime(timezone=True)))
_RELEASE_AND_WAKE = text(
    """
    WITH released AS (
        UPDATE outbox SET claimed_at = NULL
        WHERE id = ANY(CAST(:ids AS bigint[])) AND sent_at IS NULL AND NOT failed
        RETURNING id
    )
    SELECT pg_notify(:notify, '') FROM released LIMIT 1
    """
)
# The ORDER BY inside picks which rows; RETURNING has no order, so the caller sorts.
_CLAIM_DUE = text(
    """
    UPDATE outbox SET claimed_at = :at
    WHERE id IN (
        SELECT id FROM outbox
        WHERE channel = :channel AND sent_at IS NULL AND NOT failed AND claimed_at IS NULL
            AND not_before <= :at AND chat_id <> ALL(CAST(:skip AS varchar[]))
        ORDER BY priority, not_before, id
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    )
    RETURNING id, chat_id, priority, not_before, attempts, payload
    """
).bindparams(bindparam("at", type_=DateTime(timezone=True)))


def notify_channel(channel: str) -> str:
    """The LISTEN/NOTIFY channel that wakes ``channel``'s sender."""
    return f"{channel}_outbox"


async def wake_sender(session: AsyncSession, channel: str) -> None:
    """NOTIFY the channel's sender; PostgreSQL delivers it at the caller's commit (never if it rolls back)."""
    await session.execute(select(func.pg_notify(notify_channel(channel), "")))


async def release_claims(session: AsyncSession, channel: str) -> int:
    """Rows a sender claimed and never settled (it died): claimable again. Only the channel's one sender
    calls this, when it starts, so no living sender's rows are taken from it."""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.claimed_at.is_not(None),
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.failed.is_(False),
        )
        .values(claimed_at=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def claim(
    session: AsyncSession, channel: str, *, limit: int = 30, now: datetime | None = None
) -> list[OutboxMessage]:
    """Due unsent rows of ``channel``, most urgent first, locked until the caller's commit (others skip them)."""
    at = now or utcnow()
    rows = await session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.failed.is_(False),
            OutboxMessage.claimed_at.is_(None),
            OutboxMessage.not_before <= at,
        )
        .order_by(OutboxMessage.priority, OutboxMessage.not_before, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(rows.all())


def mark_sent(message: OutboxMessage, at: datetime | None = None) -> None:
    message.sent_at = at or utcnow()
    message.attempts += 1
    message.error = None
    message.claimed_at = None


def mark_failed(
    message: OutboxMessage,
    error: str,
    *,
    retry_after: timedelta | None = None,
    give_up: bool = False,
    at: datetime | None = None,
) -> None:
    """Record a failed send: retried after ``retry_after``, or never again when ``give_up``."""
    message.attempts += 1
    message.error = error[:500]
    message.claimed_at = None
    if give_up or retry_after is None:
        message.failed = give_up or retry_after is None
    else:
        message.not_before = (at or utcnow()) + retry_after


async def claim_due(
    session: AsyncSession, channel: str, at: datetime, limit: int, skip_chats: set[str] | frozenset[str] = frozenset()
) -> list[OutboxMessage]:
    """Mark up to ``limit`` due, unclaimed rows of a channel claimed at ``at`` and return them, most urgent
    first; rows another sender holds are skipped (SKIP LOCKED), and so are ``skip_chats`` (chats in hand). The
    caller commits the claim before sending anything."""
    due = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.failed.is_(False),
            OutboxMessage.claimed_at.is_(None),
            OutboxMessage.not_before <= at,
        )
        .order_by(OutboxMessage.priority, OutboxMessage.not_before, OutboxMessage.id)
        # One array parameter, however many chats are skipped: one statement text, prepared once.
        .where(OutboxMessage.chat_id != all_(bindparam("skip", sorted(skip_chats), type_=ARRAY(String))))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = await session.scalars(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(due.scalar_subquery()))
        .values(claimed_at=at)
        .returning(OutboxMessage)
        .execution_options(synchronize_session=False)
    )
    return list(claimed.all())
