"""The channel port: what a chat channel can do, as data, and what its adapter must do.

The conversations speak in :mod:`conversations.replies` and know no channel; an adapter (``bots/telegram``,
``bots/messenger``) turns replies into its platform's calls. What differs between channels that the
conversations or the outbox must respect is declared here as a :class:`Capabilities` value, not hard-coded:
how many buttons a message carries and how long their labels may be, how long a text may be, which voice
format the channel plays, whether a job can be shared inline, and how long after the person's last message
the channel lets us write freely.

:func:`fit` shortens a reply to a channel's limits (texts split, labels cut, buttons beyond the channel's
count paged into following messages), so a flow written for Telegram's generous keyboards still reaches a
Messenger user whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Literal, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations.replies import AskPhone, AskVoice, Button, Keyboard, Reply, Text

VoiceFormat = Literal["ogg", "mp3"]
ELLIPSIS = "…"


@dataclass(frozen=True)
class Capabilities:
    """What one channel can do. ``message_window``: None when the channel lets us write any time; otherwise
    free-form messages go only that long after the person's own last message."""

    name: str
    text_length: int  # characters (Telegram counts UTF-16 units; its adapter checks that itself)
    buttons_per_message: int  # all the buttons one message may carry
    label_length: int  # characters of a button's label
    voice_format: VoiceFormat
    inline_sharing: bool  # a job can be dropped into another chat from the bot (Telegram's inline mode)
    message_window: timedelta | None = None


TELEGRAM = Capabilities(
    name="telegram",
    text_length=4096,
    buttons_per_message=100,  # an inline keyboard holds up to 100 buttons
    label_length=64,
    voice_format="ogg",
    inline_sharing=True,
)
MESSENGER = Capabilities(
    name="messenger",
    text_length=2000,
    buttons_per_message=13,  # quick replies; a button template holds 3
    label_length=20,
    voice_format="mp3",
    inline_sharing=False,
    message_window=timedelta(hours=24),
)
CHANNELS = {c.name: c for c in (TELEGRAM, MESSENGER)}


class ChannelAdapter(Protocol):
    """What every channel adapter does for the rest of the system."""

    capabilities: Capabilities

    async def deliver(
        self, chat_id: str, replies: Sequence[Reply], session_factory: async_sessionmaker[AsyncSession]
    ) -> bool:
        """Send ``replies`` in order; False when the person can no longer be reached (and is marked so)."""
        ...

    async def mark_unreachable(self, chat_id: str, session_factory: async_sessionmaker[AsyncSession]) -> None:
        """The person blocked us: the relative behind ``chat_id`` is no longer written to."""
        ...


def shorten(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + ELLIPSIS


def split_text(text: str, limit: int) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut at a line break or a space where there is one."""
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        at = max(window.rfind("\n"), window.rfind(" "))
        cut = at + 1 if at > limit // 2 else limit
        chunks.append(rest[:cut].rstrip() or rest[:cut])
        rest = rest[cut:].lstrip("\n")
    if rest.strip() or not chunks:
        chunks.append(rest)
    return chunks


def flat_buttons(buttons: Keyboard) -> list[Button]:
    return [button for row in buttons for button in row]


def fit_buttons(buttons: Keyboard, caps: Capabilities, per_message: int | None = None) -> list[tuple[Button, ...]]:
    """The buttons as pages of at most ``per_message`` (default: the channel's), labels cut to its length."""
    size = per_message or caps.buttons_per_message
    flat = [replace(b, label=shorten(b.label, caps.label_length)) for b in flat_buttons(buttons)]
    return [tuple(flat[i : i + size]) for i in range(0, len(flat), size)]


def fit(reply: Reply, caps: Capabilities, more: str = "⬇️") -> list[Reply]:
    """A text-like reply within ``caps``: its text in pieces (the buttons under the last), and buttons beyond
    the channel's count in following messages headed ``more``. Other replies are returned as they are."""
    if not isinstance(reply, Text | AskPhone | AskVoice):
        return [reply]
    pieces = split_text(reply.text or more, caps.text_length)
    pages = fit_buttons(reply.buttons, caps)
    out: list[Reply] = [Text(piece) for piece in pieces[:-1]]
    first: Keyboard = (pages[0],) if pages else ()
    out.append(replace(reply, text=pieces[-1], buttons=first))
    out.extend(Text(more, (page,)) for page in pages[1:])
    return out
