"""One Telegram update, processed exactly once: translated to Incoming, handled, its replies stored, committed.

The update_id row, everything the dialog engine writes and the dialog's replies (``outbox`` rows, URGENT,
keyed ``tg-update:<update_id>:<n>``) share one database transaction, which also NOTIFYs the bot's sender:
the replies leave after the commit, from the one sender process (:mod:`bots.telegram.leader`). A failure
anywhere rolls all of it back, nothing is sent, and the caller answers Telegram with a 500, so the same
update comes again and is processed from scratch. A redelivered update finds its update_id and does nothing.

When this process is the bot's sender, the replies are queued already claimed and, once the transaction has
committed, handed to the sender in this process (no NOTIFY, no claim query, nothing read back): see
:meth:`bots.telegram.outbox.TelegramOutboxSender.take`.

No network call happens while the transaction is open: answerCallbackQuery, getMe and a voice message's
download come before it; answerInlineQuery after a short read of its own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, ChatMemberUpdated, ChosenInlineResult, InlineQuery, Message, Update
from sqlalchemy import BigInteger, DateTime, String, bindparam, delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.telegram.deps import TelegramDeps
from bots.telegram.inline import inline_results, job_of_result
from bots.telegram.models import TelegramCallbackQuery, TelegramUpdate
from bots.telegram.outbox import Queued, autocommit
from bots.telegram.render import mark_unreachable
from conversations.outbox import URGENT, enqueue_claimed, enqueue_many, release_and_wake
from conversations.replies import Incoming, Reply
from jobs_core.model import Job
from jobs_core.model.base import utcnow
from jobs_core.uow import UnitOfWork

if TYPE_CHECKING:
    from bots.telegram.leader import SenderElection

log = logging.getLogger(__name__)

CHANNEL = "telegram"
ALLOWED_UPDATES = ["message", "callback_query", "inline_query", "chosen_inline_result", "my_chat_member"]
UI_LANGUAGES = ("km", "en")
GROUP_TYPES = ("group", "supergroup")


# The statements every update runs, built once rather than per update (SQLAlchemy builds a statement and
# computes its cache key anew on each construction).
_RECORD_UPDATE = (
    insert(TelegramUpdate)
    .values(update_id=bindparam("update_id"))
    .on_conflict_do_nothing(index_elements=["update_id"])
    .returning(TelegramUpdate.update_id)
)
_RECORD_QUERY = (
    insert(TelegramCallbackQuery)
    .values(query_id=bindparam("query_id"))
    .on_conflict_do_nothing(index_elements=["query_id"])
    .returning(TelegramCallbackQuery.query_id)
)
# A pressed button's update: its update_id recorded and its callback query marked handled in one round trip.
# The query is taken only when the update is new (a redelivered update changes nothing); the two answers say
# which of the two was done.
_RECORD_UPDATE_TAKE_QUERY = text(
    """
    WITH first AS (
        INSERT INTO telegram_updates (update_id, received_at) VALUES (:update_id, :at)
        ON CONFLICT (update_id) DO NOTHING
        RETURNING update_id
    ), taken AS (
        UPDATE telegram_callback_queries SET handled = true
        WHERE query_id = :query_id AND NOT handled AND EXISTS (SELECT FROM first)
        RETURNING query_id
    )
    SELECT EXISTS (SELECT FROM first) AS first, EXISTS (SELECT FROM taken) AS taken
    """
).bindparams(
    bindparam("update_id", type_=BigInteger),
    bindparam("at", type_=DateTime(timezone=True)),
    bindparam("query_id", type_=String),
)


class MalformedUpdate(Exception):
    """Not an update Telegram would send (a shared result that is not one of our jobs, an absurd id): the webhook
    answers 400, since a retry would fail alike, and nothing is written."""


def _language(code: str | None) -> str | None:
    short = (code or "")[:2].lower()
    return short if short in UI_LANGUAGES else None


class UpdateProcessor:
    """Shared by the webhook route and the long-polling loop."""

    def __init__(self, deps: TelegramDeps, election: SenderElection | None = None) -> None:
        self.deps = deps
        # This process's part in the sender election: while it is the sender, replies are handed to it.
        self.election = election
        self._autocommit = autocommit(deps)
        # One chat's updates wait here rather than on the conversation_state row lock: they are taken in
        # arrival order, and the waiting ones hold no pooled connection. The row lock (per channel, chat,
        # user) is what orders a person's updates across processes.
        self._chat_locks: dict[str, asyncio.Lock] = {}
        self._chat_users: dict[str, int] = {}
        # The bot's @username, learnt (getMe) the first time a group command names an addressee.
        self._username: str | None = None

    @asynccontextmanager
    async def _one_at_a_time(self, chat_id: str | None) -> AsyncIterator[None]:
        """Updates of one chat are handled in arrival order in this process (the database orders the rest)."""
        if chat_id is None:
            yield
            return
        lock = self._chat_locks.setdefault(chat_id, asyncio.Lock())
        self._chat_users[chat_id] = self._chat_users.get(chat_id, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._chat_users[chat_id] -= 1
            if not self._chat_users[chat_id]:
                del self._chat_users[chat_id]
                del self._chat_locks[chat_id]

    async def process(self, update: Update) -> bool:
        """Handle ``update`` unless it was handled before; True if it was handled now.

        A pressed button is recognised by its callback query id as well: a redelivery under a new update_id is
        neither answered nor handled again.
        """
        query = update.callback_query
        if query is not None and await self._first_sight(query.id):
            await self._answer_callback(query)
        if self._username is None and _names_an_addressee(update):
            await self._learn_username()  # a network call: before the transaction, never inside it
        if update.inline_query is not None:
            return await self._answer_inline(update.update_id, update.inline_query)
        if _recording_of(update) is not None and await self._handled_before(update.update_id):
            return False  # a redelivered voice message: not downloaded again
        incoming = await self.translate(update)  # downloads a voice message: before the transaction
        if incoming is not None and self.deps.prepare is not None:
            incoming = await self.deps.prepare(incoming)  # ffmpeg on a recording: before the transaction too
        queued: list[Queued] = []
        async with (
            self._one_at_a_time(_chat_of(update)),
            self.deps.session_factory() as session,
            session.begin(),
        ):
            if query is not None:
                first, taken = await _first_time_taking(session, update.update_id, query.id)
                if not first:
                    log.info("telegram update %s already handled", update.update_id)
                    return False
                if not taken:
                    log.info("callback query of update %s already handled", update.update_id)
                    return False
            elif not await _first_time(session, update.update_id):
                log.info("telegram update %s already handled", update.update_id)
                return False
            in_transaction = await _in_transaction(session)
            if update.chosen_inline_result is not None:
                await self._record_share(update.chosen_inline_result, in_transaction)
            elif update.my_chat_member is not None:
                await self._membership(update.my_chat_member, in_transaction)
            elif incoming is not None:
                replies = await self.deps.dialog(incoming, in_transaction)
                here = self.election is not None and self.election.sending_here
                queued = await _store_replies(session, update.update_id, incoming.chat_id, replies, claimed=here)
        if queued:
            await self._hand_over(queued)  # committed: the sender of this process sends them now
        return True

    async def _hand_over(self, queued: list[Queued]) -> None:
        """Committed replies, queued claimed, to this process's sender; those it does not take (it stopped being
        the sender since the transaction began) are released and whoever sends now is woken."""
        refused = self.election.take(queued) if self.election is not None else queued
        if refused:
            async with self._autocommit.connect() as connection:
                await release_and_wake(connection, CHANNEL, [row.id for row in refused])

    async def _answer_inline(self, update_id: int, inline_query: InlineQuery) -> bool:
        """Recorded and read in one short transaction, answered after it. A failed answer is not retried:
        the person has typed on by the time Telegram would deliver the query again."""
        me = await self.deps.bot.me()  # before the transaction (aiogram keeps it after the first call)
        async with self.deps.session_factory() as session, session.begin():
            if not await _first_time(session, update_id):
                return False
            sharer = inline_query.from_user
            results = await inline_results(
                await _in_transaction(session), inline_query.query, me.username, sharer.id, sharer.language_code
            )
        try:
            await self.deps.bot.answer_inline_query(
                inline_query.id, results, cache_time=self.deps.inline_cache_time, is_personal=False
            )
        except TelegramAPIError as error:
            log.info("answerInlineQuery failed: %s", error)
        return True

    async def _handled_before(self, update_id: int) -> bool:
        async with self.deps.session_factory() as session:
            found = await session.scalar(select(TelegramUpdate.update_id).where(TelegramUpdate.update_id == update_id))
            await session.commit()
        return found is not None

    async def _learn_username(self) -> None:
        try:
            self._username = (await self.deps.bot.me()).username
        except TelegramAPIError as error:  # unknown for now: commands to any addressee are taken
            log.info("getMe failed: %s", error)

    async def _first_sight(self, query_id: str) -> bool:
        """Record a callback query id (committed); True the first time it is seen, so it is answered once."""
        if not query_id or len(query_id) > 64:
            raise MalformedUpdate("callback query id")
        # One statement in autocommit mode: its own transaction, without BEGIN and COMMIT round trips.
        async with self._autocommit.connect() as connection:
            inserted = await connection.scalar(_RECORD_QUERY, {"query_id": query_id})
        return inserted is not None

    async def _answer_callback(self, query: CallbackQuery) -> None:
        """Answered first, once: the button's spinner stops even when the flow has nothing to say."""
        try:
            await self.deps.bot.answer_callback_query(query.id)
        except TelegramAPIError as error:  # an old query (redelivered update) cannot be answered again
            log.info("answerCallbackQuery failed: %s", error)

    # ------------------------------------------------------------------ translation

    async def translate(self, update: Update) -> Incoming | None:
        """The Incoming for a message or a pressed button; None for updates no flow is interested in.
        A voice message's recording is downloaded here (the caller holds no transaction)."""
        if update.message is not None:
            return await self._from_message(update.message)
        if update.callback_query is not None:
            return self._from_callback(update.callback_query)
        return None

    async def _from_message(self, message: Message) -> Incoming | None:
        sender = message.from_user
        if sender is None or sender.is_bot:
            return None
        if message.chat.type in GROUP_TYPES and not self._for_the_bot(message):
            return None
        incoming = Incoming(
            channel=CHANNEL,
            chat_id=str(message.chat.id),
            user_id=str(sender.id),
            user_name=sender.full_name,
            language_hint=_language(sender.language_code),
            in_group=message.chat.type in GROUP_TYPES,
            extra={"message_id": str(message.message_id)},
        )
        if message.reply_to_message is not None:
            incoming.extra["reply_to"] = str(message.reply_to_message.message_id)
        if message.text is not None:
            # PostgreSQL text and jsonb cannot hold U+0000; no person means it, so it is dropped here.
            return _with(incoming, text=message.text.replace("\x00", ""))
        if message.contact is not None:
            own = message.contact.user_id == sender.id
            return _with(incoming, contact_phone=message.contact.phone_number, extra_own=own)
        recording = message.voice or message.audio
        if recording is not None:
            path = self.deps.download_dir / f"{recording.file_unique_id}.ogg"
            await self._download(recording.file_id, path)
            return _with(incoming, voice=path, text=message.caption)
        return _with(incoming, other_media=True, text=message.caption)

    def _for_the_bot(self, message: Message) -> bool:
        """In a group, only a command (not addressed to another bot) or a reply to the bot's own message is
        for the bot: what privacy mode delivers. A bot that is a group admin gets every message, and must
        still stay out of the people's own conversation."""
        replied = message.reply_to_message
        if replied is not None and replied.from_user is not None and replied.from_user.id == self.deps.bot.id:
            return True
        text = message.text or ""
        if not text.startswith("/"):
            return False
        _command, _at, addressee = text.split(maxsplit=1)[0].partition("@")
        return not addressee or self._username is None or addressee.lower() == self._username.lower()

    def _from_callback(self, query: CallbackQuery) -> Incoming:
        chat = query.message.chat if query.message is not None else None
        chat_id = str(chat.id) if chat is not None else str(query.from_user.id)
        return Incoming(
            channel=CHANNEL,
            chat_id=chat_id,
            user_id=str(query.from_user.id),
            user_name=query.from_user.full_name,
            language_hint=_language(query.from_user.language_code),
            action=(query.data or "").replace("\x00", ""),
            in_group=chat is not None and chat.type in GROUP_TYPES,
            extra={"message_id": str(query.message.message_id)} if query.message is not None else {},
        )

    async def _download(self, file_id: str, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        await self.deps.bot.download(file_id, destination=path)

    # ------------------------------------------------------------------ updates that are not conversation

    async def _record_share(
        self, chosen: ChosenInlineResult, session_factory: async_sessionmaker[AsyncSession]
    ) -> None:
        """A relative dropped a job into another chat: counted, so the monthly report can show sharing."""
        job_id = job_of_result(chosen.result_id)
        if job_id is None:
            raise MalformedUpdate("a chosen inline result that is not one of ours")
        async with UnitOfWork(session_factory) as uow:
            if await uow.session.get(Job, job_id) is None:
                raise MalformedUpdate("a chosen inline result for no job")
            uow.audit(f"telegram:{chosen.from_user.id}", "job.shared", "job", job_id, via="inline")
            await uow.commit()

    async def _membership(self, change: ChatMemberUpdated, session_factory: async_sessionmaker[AsyncSession]) -> None:
        """A private chat's member status 'kicked' means the person blocked the bot."""
        if change.chat.type == "private" and change.new_chat_member.status == "kicked":
            await mark_unreachable(str(change.chat.id), session_factory)


async def prune_handled_updates(
    session_factory: async_sessionmaker[AsyncSession], older_than: timedelta = timedelta(days=7)
) -> int:
    """Forget handled update_ids and callback query ids older than ``older_than`` (Telegram stops redelivering
    after about a day)."""
    async with session_factory() as session, session.begin():
        result = await session.execute(delete(TelegramUpdate).where(TelegramUpdate.received_at < utcnow() - older_than))
        queries = await session.execute(
            delete(TelegramCallbackQuery).where(TelegramCallbackQuery.received_at < utcnow() - older_than)
        )
    return int(getattr(result, "rowcount", 0) or 0) + int(getattr(queries, "rowcount", 0) or 0)


async def _first_time(session: AsyncSession, update_id: int) -> bool:
    """Record the update_id in the update's transaction; False when it was handled before."""
    inserted = await session.scalar(_RECORD_UPDATE, {"update_id": update_id})
    return inserted is not None


async def _in_transaction(session: AsyncSession) -> async_sessionmaker[AsyncSession]:
    """Sessions that work inside ``session``'s transaction (each in a savepoint)."""
    return async_sessionmaker(
        bind=await session.connection(), join_transaction_mode="create_savepoint", expire_on_commit=False
    )


async def _first_time_taking(session: AsyncSession, update_id: int, query_id: str) -> tuple[bool, bool]:
    """A pressed button's update: (first time for the update_id, callback query taken now), in the update's
    transaction."""
    row = (
        await session.execute(_RECORD_UPDATE_TAKE_QUERY, {"update_id": update_id, "at": utcnow(), "query_id": query_id})
    ).one()
    return bool(row.first), bool(row.taken)


async def _store_replies(
    session: AsyncSession, update_id: int, chat_id: str, replies: Sequence[Reply], *, claimed: bool
) -> list[Queued]:
    """The dialog's replies, queued in the update's transaction. ``claimed`` (this process is the sender): queued
    claimed, returned for the hand-over after commit; else the sender, wherever it runs, is woken at commit."""
    if not replies:
        return []
    keyed = [(chat_id, reply, f"tg-update:{update_id}:{n}") for n, reply in enumerate(replies)]
    if not claimed:
        await enqueue_many(session, CHANNEL, keyed, priority=URGENT, wake=True)
        return []
    at = utcnow()
    ids = await enqueue_claimed(session, CHANNEL, keyed, priority=URGENT, now=at)
    return [Queued(ids[key[:120]], chat_id, URGENT, at, given=reply) for _chat, reply, key in keyed if key[:120] in ids]


def _with(incoming: Incoming, *, extra_own: bool | None = None, **changes: object) -> Incoming:
    if extra_own is not None:
        changes["extra"] = {**incoming.extra, "contact_is_own": "1" if extra_own else "0"}
    return replace(incoming, **changes)  # type: ignore[arg-type]


def _recording_of(update: Update) -> object | None:
    message = update.message
    return None if message is None else (message.voice or message.audio)


def _chat_of(update: Update) -> str | None:
    if update.message is not None:
        return str(update.message.chat.id)
    if update.callback_query is not None:
        query = update.callback_query
        return str(query.message.chat.id) if query.message is not None else str(query.from_user.id)
    return None


def _names_an_addressee(update: Update) -> bool:
    """A group command like ``/mod@SomeBot``: whether it is for this bot depends on the bot's username."""
    message = update.message
    if message is None or message.chat.type not in GROUP_TYPES or not message.text:
        return False
    return message.text.startswith("/") and "@" in message.text.split(maxsplit=1)[0]
