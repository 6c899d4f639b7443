"""What the Telegram adapter needs from the composition root, in one place."""

from __future__ import annotations

import tempfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.telegram.pacing import BotPacer
from conversations.replies import Incoming, Reply

# The dialog engine's entry point. The session factory it gets is bound to the update's transaction: what
# it commits becomes durable together with the update_id, or not at all.
DialogHandler = Callable[[Incoming, async_sessionmaker[AsyncSession]], Awaitable[Sequence[Reply]]]


# aiogram parses every Bot API answer with ``Response[T]``, a pydantic generic class that pydantic builds on first
# use and caches only weakly: once the garbage collector takes it, the next call builds it again (several ms,
# far more on a loaded machine), which made it the adapter's largest single cost in the webhook benchmark's
# profile. Holding the classes of the methods we call keeps them built.
_RESPONSE_TYPES: list[object] = []


def _keep_response_types() -> None:
    if _RESPONSE_TYPES:
        return
    from aiogram import methods
    from aiogram.methods.base import Response

    used = (
        methods.SendMessage,
        methods.SendVoice,
        methods.SendAudio,
        methods.EditMessageText,
        methods.AnswerCallbackQuery,
        methods.AnswerInlineQuery,
        methods.GetMe,
        methods.GetFile,
        methods.GetUpdates,
        methods.SetWebhook,
        methods.DeleteWebhook,
    )
    _RESPONSE_TYPES.extend(Response[method.__returning__] for method in used)  # type: ignore[name-defined]


def make_bot(token: str, api_base: str | None = None) -> Bot:
    """An aiogram Bot on Telegram's API, or on another Bot API server (a local one, or the tests' fake)."""
    _keep_response_types()
    api = TelegramAPIServer.from_base(api_base) if api_base else PRODUCTION
    return Bot(token, session=AiohttpSession(api=api), default=DefaultBotProperties(link_preview_is_disabled=True))


@dataclass
class TelegramDeps:
    bot: Bot
    session_factory: async_sessionmaker[AsyncSession]
    dialog: DialogHandler
    secret: str  # X-Telegram-Bot-Api-Secret-Token, given to setWebhook
    moderators_chat_id: int | None = None  # informational here; the dialog gets it through DialogDeps
    webhook_url: str | None = None  # public URL of POST /telegram/webhook; None: set it yourself, or poll
    download_dir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()) / "bongpheak-telegram")
    # Telegram's limits, kept by the bot's one sender (the process holding the sender lock).
    pacer: BotPacer = field(default_factory=BotPacer)
    inline_cache_time: int = 30
