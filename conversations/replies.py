"""What a flow says back, channel-agnostic; each channel adapter renders these its own way.

Telegram renders buttons as an inline keyboard (the action is the callback_data, ≤ 64 bytes), Messenger as
quick replies or a button template, the website as HTML forms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

MAX_ACTION_BYTES = 64  # Telegram's callback_data limit; flows keep actions short ("job:123:apply").


@dataclass(frozen=True)
class Button:
    """A choice the person can press. ``action`` comes back as Incoming.action when pressed."""

    label: str
    action: str = ""
    # "action": a normal button; "share": share the job (Telegram inline query / Messenger share);
    # "url": open ``url``.
    kind: str = "action"
    url: str | None = None

    def __post_init__(self) -> None:
        if len(self.action.encode()) > MAX_ACTION_BYTES:
            raise ValueError(f"button action longer than {MAX_ACTION_BYTES} bytes: {self.action!r}")


Keyboard = tuple[tuple[Button, ...], ...]  # rows of buttons


@dataclass(frozen=True)
class Text:
    """A message, optionally with buttons under it.

    ``force_reply``: the question wants a typed answer; the channel opens a reply to this message (in a
    Telegram group with privacy mode on, a reply to the bot's message is what reaches the bot).
    """

    text: str
    buttons: Keyboard = ()
    force_reply: bool = False


@dataclass(frozen=True)
class Edit:
    """Replace an earlier message of the bot in this chat (a decided review card): new words, these buttons
    (none: the old ones are removed). ``message_id`` is the channel's id, as Incoming.extra["message_id"]."""

    message_id: str
    text: str
    buttons: Keyboard = ()
    # Only the buttons changed (a toggle pressed): the channel may swap the keyboard and leave the words.
    buttons_only: bool = False


@dataclass(frozen=True)
class Voice:
    """A voice note: OGG/Opus for Telegram, MP3 for Messenger and the web; ``audio_id`` keys upload caches."""

    audio_id: str
    ogg: Path | None
    mp3: Path | None
    caption: str = ""
    buttons: Keyboard = ()


@dataclass(frozen=True)
class JobCard:
    """A job: short text plus its voice note and the job's buttons."""

    job_id: int
    text: str
    voice: Voice | None = None
    buttons: Keyboard = ()


@dataclass(frozen=True)
class AskPhone:
    """Ask for a phone number (Telegram can offer a "share my contact" button for the person's own)."""

    text: str
    buttons: Keyboard = ()


@dataclass(frozen=True)
class AskVoice:
    """Ask the person to record a voice message."""

    text: str
    buttons: Keyboard = ()


@dataclass(frozen=True)
class QrCode:
    """A QR code to scan (a KHQR to pay with in a bank app): the channel draws ``content`` as an image and
    sends it as a photo with ``caption`` and the buttons under it."""

    content: str
    caption: str = ""
    buttons: Keyboard = ()


Reply = Text | Voice | JobCard | AskPhone | AskVoice | Edit | QrCode


@dataclass(frozen=True)
class Incoming:
    """One thing a person did in a chat, already translated out of the channel's own format."""

    channel: str  # "telegram" | "messenger" | "web"
    chat_id: str  # where replies go
    user_id: str  # who did it (the relative / employer / moderator identity)
    user_name: str = ""
    language_hint: str | None = None  # the app's UI language, used until the person chooses
    text: str | None = None
    action: str | None = None  # a pressed button's action
    contact_phone: str | None = None  # a shared contact
    voice: Path | None = None  # a downloaded voice recording
    # ``conversations.dialog.prepare`` fills these before the update's transaction: the recording normalised
    # (the clip the flow attaches), or why it cannot be used ("too_long", "silent", …).
    voice_clip: Path | None = None
    voice_problem: str | None = None
    other_media: bool = False  # a photo, document, sticker… where the flow may not expect one
    in_group: bool = False  # sent in a group chat (e.g. the moderators' group)
    # Channel details: "message_id" (the message sent, or the one whose button was pressed), "reply_to" (the
    # bot's message this one answers)…
    extra: dict[str, str] = field(default_factory=dict)
