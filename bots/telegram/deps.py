"""What the Telegram adapter needs from the composition root, in one place."""

from __future__ import annotations

import tempfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiohttp import ClientError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.telegram.pacing import BotPacer
from conversations.replies import Incoming, Reply

# The dialog engine's entry point. The session factory it gets is bound to the update's transaction: what
# it commits becomes durable together with the update_id, or not at all.
DialogHandler = Callable[[Incoming, async_sessionmaker[AsyncSession]], Awaitable[Sequence[Reply]]]
# The slow part of an input (an employer's recording normalised by ffmpeg), run before the update's transaction
# opens so no conversation row stays locked meanwhile.
InputPreparer = Callable[[Incoming], Awaitable[Incoming]]


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


class JsonBodySession(AiohttpSession):
    """aiogram's session, sending a call without files as a JSON body (the Bot API takes either).

    aiogram posts every call as a form, ``application/x-www-form-urlencoded`` when there is no file, and
    urllib percent-encodes that byte by byte in Python: a job card's caption and buttons cost more to encode
    than the rest of the send, the webhook benchmark's profile showed. ``json.dumps`` does the same work in C.
    A call with a file (an upload) goes as aiogram sends it, multipart."""

    async def make_request(  # aiogram's signature, timeout included
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109
    ) -> TelegramType:
        files: dict[str, Any] = {}
        body: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            if prepared:  # what aiogram's form leaves out too (None, False, empty)
                body[key] = prepared
        if files:
            return await super().make_request(bot, method, timeout)
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        try:
            async with session.post(
                url,
                data=self.json_dumps(body),
                headers={"Content-Type": "application/json"},
                timeout=self.timeout if timeout is None else timeout,  # type: ignore[arg-type]  # as aiogram does
            ) as resp:
                raw_result = await resp.text()
        except TimeoutError as e:
            raise TelegramNetworkError(method=method, message="Request timeout error") from e
        except ClientError as e:
            raise TelegramNetworkError(method=method, message=f"{type(e).__name__}: {e}") from e
        response = self.check_response(bot=bot, method=method, status_code=resp.status, content=raw_result)
        return cast(TelegramType, response.result)


def make_bot(token: str, api_base: str | None = None) -> Bot:
    """An aiogram Bot on Telegram's API, or on another Bot API server (a local one, or the tests' fake)."""
    _keep_response_types()
    api = TelegramAPIServer.from_base(api_base) if api_base else PRODUCTION
    return Bot(token, session=JsonBodySession(api=api), default=DefaultBotProperties(link_preview_is_disabled=True))


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
    prepare: InputPreparer | None = None
