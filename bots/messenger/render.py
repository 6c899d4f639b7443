"""Replies rendered as Send API calls: texts split at 2,000 characters, quick replies (≤ 13, titles ≤ 20),
button templates (≤ 3 buttons), job lists as a generic-template carousel, voice notes as MP3 audio
attachments uploaded once with ``is_reusable`` and then sent by ``attachment_id``.

Used by the outbox sender only (:mod:`bots.messenger.sender`): the webhook stores replies, it never sends.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.messenger.graph import INVALID_ATTACHMENT, GraphClient, GraphError
from bots.messenger.models import MessengerAttachment
from conversations.channel import MESSENGER, fit_buttons, shorten, split_text
from conversations.replies import AskPhone, AskVoice, Button, Edit, JobCard, Keyboard, QrCode, Reply, Text, Voice
from jobs_core.khqr import qr_png
from jobs_core.model import Channel, Relative
from jobs_core.services import people
from jobs_core.uow import UnitOfWork

log = logging.getLogger(__name__)

MORE = "⬇️"
TEMPLATE_TEXT = 640  # a button template's text
TEMPLATE_BUTTONS = 3
ELEMENT_TEXT = 80  # a generic template element's title and subtitle
CAROUSEL = 10  # elements in one generic template
AUDIO_INTERVAL = 0.1  # ≤ 10 audio sends per second per page
_JOB_NUMBER = re.compile(r"\d+")


class ChatUnreachable(Exception):
    """Messenger answered 551: the person blocked the page or left Messenger."""


def share_link(page: str, button: Button, job_id: int | None) -> str | None:
    """``m.me/<page>?ref=job_<id>``: opening it starts a chat with the page that lands on the job."""
    if job_id is None:
        found = _JOB_NUMBER.search(button.action)
        job_id = int(found.group()) if found else None
    return f"https://m.me/{page}?ref=job_{job_id}" if job_id is not None else None


class MessengerRenderer:
    """The Messenger side of the channel port (:class:`conversations.channel.ChannelAdapter`)."""

    capabilities = MESSENGER

    def __init__(self, graph: GraphClient, page: str) -> None:
        self.graph = graph
        self.page = page
        self._attachments: dict[str, str] = {}  # audio_id → attachment_id, in front of messenger_attachments
        self._next_audio = 0.0  # the loop time from which the next audio may be sent

    async def deliver(
        self,
        chat_id: str,
        replies: Sequence[Reply],
        session_factory: async_sessionmaker[AsyncSession],
        *,
        recipient: dict[str, str] | None = None,
        messaging_type: str = "RESPONSE",
    ) -> bool:
        """Send ``replies`` in order (consecutive job cards as one carousel); False, and the person marked
        unreachable, when Messenger says they blocked the page. Other Graph errors are raised."""
        to = recipient or {"id": chat_id}
        try:
            if any(isinstance(r, Voice | JobCard) for r in replies) and recipient is None:
                await self._send(to, messaging_type, None, sender_action="typing_on")
            cards: list[JobCard] = []
            for reply in replies:
                if isinstance(reply, JobCard):
                    cards.append(reply)
                    continue
                await self._cards(to, messaging_type, cards, session_factory)
                cards = []
                await self._render(to, messaging_type, reply, session_factory)
            await self._cards(to, messaging_type, cards, session_factory)
        except ChatUnreachable:
            await self.mark_unreachable(chat_id, session_factory)
            return False
        return True

    async def mark_unreachable(self, chat_id: str, session_factory: async_sessionmaker[AsyncSession]) -> None:
        await mark_unreachable(chat_id, session_factory)

    # ------------------------------------------------------------------ one call

    async def _send(
        self, to: dict[str, str], messaging_type: str, message: dict[str, Any] | None, **extra: Any
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"recipient": to, **extra}
        if message is not None:
            body["messaging_type"] = messaging_type
            body["message"] = message
        try:
            return await self.graph.send(body)
        except GraphError as error:
            if error.blocked:
                raise ChatUnreachable(error.message) from error
            raise

    # ------------------------------------------------------------------ replies

    async def _render(
        self, to: dict[str, str], kind: str, reply: Reply, session_factory: async_sessionmaker[AsyncSession]
    ) -> None:
        if isinstance(reply, AskPhone):
            await self._text(to, kind, reply.text, reply.buttons, ask_phone=True)
        elif isinstance(reply, Text | AskVoice | Edit):
            # Messenger cannot edit a sent message: the new words come as a new one.
            await self._text(to, kind, reply.text, reply.buttons)
        elif isinstance(reply, Voice):
            await self._audio(to, kind, reply, session_factory)
            if reply.caption or reply.buttons:
                await self._text(to, kind, reply.caption or MORE, reply.buttons)
        elif isinstance(reply, QrCode):
            # The code as an image (drawn here), then its words and buttons: Messenger puts no caption on one.
            attachment_id = await self.graph.upload_image(qr_png(reply.content), "khqr.png")
            await self._send(to, kind, {"attachment": {"type": "image", "payload": {"attachment_id": attachment_id}}})
            if reply.caption or reply.buttons:
                await self._text(to, kind, reply.caption or MORE, reply.buttons)
        else:  # pragma: no cover - the Reply union is closed
            raise TypeError(f"not a reply: {reply!r}")

    def _button(self, button: Button, job_id: int | None = None) -> dict[str, Any]:
        title = shorten(button.label, MESSENGER.label_length)
        if button.kind == "url" and button.url:
            return {"type": "web_url", "url": button.url, "title": title}
        if button.kind == "share":
            link = share_link(self.page, button, job_id)
            if link is not None:
                return {"type": "web_url", "url": link, "title": title}
        return {"type": "postback", "title": title, "payload": button.action or "noop"}

    async def _text(
        self, to: dict[str, str], kind: str, text: str, buttons: Keyboard, *, ask_phone: bool = False
    ) -> None:
        pieces = split_text(text or MORE, MESSENGER.text_length)
        flat = [b for row in buttons for b in row]
        quick = not any(b.kind != "action" for b in flat) and len(flat) + ask_phone <= MESSENGER.buttons_per_message
        if not flat and not ask_phone:
            for piece in pieces:
                await self._send(to, kind, {"text": piece})
            return
        if quick:
            for piece in pieces[:-1]:
                await self._send(to, kind, {"text": piece})
            replies: list[dict[str, Any]] = [{"content_type": "user_phone_number"}] if ask_phone else []
            replies += [
                {
                    "content_type": "text",
                    "title": shorten(b.label, MESSENGER.label_length),
                    "payload": b.action or "noop",
                }
                for b in flat
            ]
            await self._send(to, kind, {"text": pieces[-1], "quick_replies": replies})
            return
        # Links, shares or more choices than quick replies hold: button templates of three, which stay.
        head = pieces[-1] if len(pieces[-1]) <= TEMPLATE_TEXT else None
        for piece in pieces[:-1] if head is not None else pieces:
            await self._send(to, kind, {"text": piece})
        for n, page in enumerate(fit_buttons(buttons, MESSENGER, TEMPLATE_BUTTONS)):
            payload = {
                "template_type": "button",
                "text": head if n == 0 and head is not None else MORE,
                "buttons": [self._button(b) for b in page],
            }
            await self._send(to, kind, {"attachment": {"type": "template", "payload": payload}})
        if ask_phone:  # last: a newer message would hide the quick reply
            await self._send(to, kind, {"text": MORE, "quick_replies": [{"content_type": "user_phone_number"}]})

    async def _cards(
        self,
        to: dict[str, str],
        kind: str,
        cards: list[JobCard],
        session_factory: async_sessionmaker[AsyncSession],
    ) -> None:
        """Job cards as a generic-template carousel (ten to a message), each card's voice note before it."""
        for start in range(0, len(cards), CAROUSEL):
            batch = cards[start : start + CAROUSEL]
            for card in batch:
                if card.voice is not None:
                    await self._audio(to, kind, card.voice, session_factory)
            elements = []
            for card in batch:
                title, _sep, rest = card.text.strip().partition("\n")
                buttons = [b for row in card.buttons or (card.voice.buttons if card.voice else ()) for b in row]
                element: dict[str, Any] = {"title": shorten(title or MORE, ELEMENT_TEXT)}
                if rest.strip():
                    element["subtitle"] = shorten(" ".join(rest.split()), ELEMENT_TEXT)
                if buttons:
                    element["buttons"] = [self._button(b, card.job_id) for b in buttons[:TEMPLATE_BUTTONS]]
                elements.append(element)
            payload = {"template_type": "generic", "elements": elements}
            await self._send(to, kind, {"attachment": {"type": "template", "payload": payload}})
            for card in batch:  # the rest of a card's buttons (a carousel element holds three)
                extra = [b for row in card.buttons for b in row][TEMPLATE_BUTTONS:]
                if extra:
                    await self._text(to, kind, shorten(card.text.split("\n")[0], ELEMENT_TEXT), ((*extra,),))

    # ------------------------------------------------------------------ audio, uploaded once

    async def _pace_audio(self) -> None:
        """Wait for the page's next audio slot. The sender sends its chats concurrently: each send takes its
        slot before waiting, so two chats waiting at once never read the same last send and go together."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        slot = max(now, self._next_audio)
        self._next_audio = slot + AUDIO_INTERVAL
        if slot > now:
            await asyncio.sleep(slot - now)

    async def _audio(
        self, to: dict[str, str], kind: str, voice: Voice, session_factory: async_sessionmaker[AsyncSession]
    ) -> None:
        if voice.mp3 is None:
            return  # nothing Messenger plays: the words and buttons that come with it carry the message
        await self._pace_audio()
        cached = await self._cached(session_factory, voice.audio_id)
        if cached is not None:
            try:
                await self._send(to, kind, {"attachment": {"type": "audio", "payload": {"attachment_id": cached}}})
                return
            except GraphError as error:
                if error.code != INVALID_ATTACHMENT:
                    raise
                log.warning("attachment of %s refused (%s); uploading again", voice.audio_id, error.message)
                await self._forget(session_factory, voice.audio_id)
        attachment_id = await self.graph.upload_audio(voice.mp3)
        await self._remember(session_factory, voice.audio_id, attachment_id)
        await self._send(to, kind, {"attachment": {"type": "audio", "payload": {"attachment_id": attachment_id}}})

    async def _cached(self, session_factory: async_sessionmaker[AsyncSession], audio_id: str) -> str | None:
        if audio_id in self._attachments:
            return self._attachments[audio_id]
        async with session_factory() as session:
            found = await session.scalar(
                select(MessengerAttachment.attachment_id).where(MessengerAttachment.audio_id == audio_id)
            )
            await session.commit()
        if found is not None:
            self._attachments[audio_id] = found
        return found

    async def _remember(
        self, session_factory: async_sessionmaker[AsyncSession], audio_id: str, attachment: str
    ) -> None:
        self._attachments[audio_id] = attachment
        async with session_factory() as session, session.begin():
            await session.execute(
                insert(MessengerAttachment)
                .values(audio_id=audio_id, attachment_id=attachment)
                .on_conflict_do_update(index_elements=["audio_id"], set_={"attachment_id": attachment})
            )

    async def _forget(self, session_factory: async_sessionmaker[AsyncSession], audio_id: str) -> None:
        self._attachments.pop(audio_id, None)
        async with session_factory() as session, session.begin():
            await session.execute(delete(MessengerAttachment).where(MessengerAttachment.audio_id == audio_id))


async def mark_unreachable(psid: str, session_factory: async_sessionmaker[AsyncSession]) -> None:
    """The relative with that page-scoped id is no longer written to."""
    log.info("messenger user %s blocked the page", psid)
    async with session_factory() as session:
        relative_id = await session.scalar(
            select(Relative.id).where(Relative.channel == Channel.MESSENGER, Relative.external_id == psid)
        )
        await session.commit()
    if relative_id is not None:
        await people.mark_unreachable(UnitOfWork(session_factory), relative_id)
