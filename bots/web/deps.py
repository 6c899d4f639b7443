"""What the website needs from the composition root."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from conversations.turn import DialogDeps
from jobs_core.model import InvoiceStatus


@dataclass(frozen=True)
class WebDeps:
    dialog: DialogDeps  # sessions, caps and the voice notes: the same the chats use
    public_base_url: str | None = None  # absolute links (Open Graph, sitemap, share); else the request's host
    messenger_page: str | None = None  # the Messenger page's username: a share opens the bot on this job (m.me)
    telegram_bot: str | None = None  # the bot's @username: "register your company" opens its registration
    # Payments on: one look at Bakong for (invoice id, employer id) right now, the invoice's status after it
    # (None: Bakong could not say). Called with no transaction open.
    check_payment: Callable[[int, int], Awaitable[InvoiceStatus | None]] | None = None
