"""A local Telegram Bot API server for tests and benchmarks: real wire format, every call recorded.

The real aiogram ``Bot`` talks to it through ``TelegramAPIServer.from_base(fake.base_url)``. Requests arrive
as ``POST /bot<token>/<method>`` with a JSON, urlencoded or multipart body (aiogram sends forms; uploads are
multipart parts); answers are ``{"ok": true, "result": ...}`` or Telegram's error objects. Switches inject
the errors a bot must survive: 429 with ``retry_after``, 403 for a blocked chat, 400
``VOICE_MESSAGES_FORBIDDEN``; ``max_per_second`` makes it answer 429 beyond a global rate, as Telegram does.

Messages the bot sent are kept, so edits (``editMessageText``, ``editMessageReplyMarkup``) change them and
answer Telegram's errors ("message is not modified", "message to edit not found"), and a test can build a
user's reply to one of them. :meth:`FakeTelegramAPI.delivers` tells which group messages Telegram would
deliver to the bot at all: with privacy mode on (BotFather's default) and the bot not an admin, only
commands, replies to the bot's own messages and messages mentioning it.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

SEND_METHODS = frozenset(
    {"sendMessage", "sendVoice", "sendAudio", "sendPhoto", "sendDocument", "sendChatAction", "copyMessage"}
)
MESSAGE_METHODS = SEND_METHODS - {"sendChatAction"}
# Fields that Telegram takes as JSON-serialised strings in form bodies.
JSON_FIELDS = frozenset(
    {"reply_markup", "results", "entities", "caption_entities", "allowed_updates", "link_preview_options"}
)


@dataclass
class ApiCall:
    """One request the bot made: the method, its parameters (JSON fields decoded) and any uploaded files."""

    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    at: float = 0.0  # time.monotonic() when it arrived
    status: int = 200
    result: Any = None  # what Telegram answered (the sent Message for sends)
    client_port: int = 0  # the bot's end of the connection: tells which process sent it

    @property
    def chat_id(self) -> str | None:
        value = self.params.get("chat_id")
        return None if value is None else str(value)

    @property
    def content(self) -> str:
        """What the chat shows, to tell one message from another: the text, or the caption and the kind of media
        (not the file: two renderings of one voice note differ in their bytes, Ogg streams carry a random
        serial number)."""
        if "text" in self.params:
            return str(self.params["text"])
        kinds = [f"[{key}]" for key in ("voice", "audio", "document", "photo") if key in self.params]
        return " ".join([str(self.params.get("caption") or ""), *kinds]).strip()

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class _Failure:
    status: int
    description: str
    retry_after: int | None = None


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    content: bytes
    path: str


class FakeTelegramAPI:
    """Start with ``async with FakeTelegramAPI() as api:``; point a Bot at ``api.base_url``."""

    def __init__(self, bot_id: int = 7000001, username: str = "BongPheakTestBot") -> None:
        self.bot_id = bot_id
        self.username = username
        self.calls: list[ApiCall] = []
        self.max_per_second: int | None = None  # enforce a global rate with 429s (the outbox benchmark)
        self.latency = 0.0  # seconds added to every answer, to look like a network
        # Called with each call as it arrives (before it is answered): benchmarks time deliveries with it.
        self.on_call: list[Callable[[ApiCall], None]] = []
        self._failures: dict[str, deque[_Failure]] = {}
        self._blocked_chats: set[str] = set()
        self._voice_forbidden: set[str] = set()
        self._files: dict[str, _StoredFile] = {}
        self._message_ids = itertools.count(1)
        # (chat id, message id) → the bot's message as Telegram holds it (edits change it).
        self.messages: dict[tuple[str, int], dict[str, Any]] = {}
        self.privacy_mode = True  # BotFather's default for a new bot
        self.bot_is_admin = False  # an admin bot gets every group message, whatever the privacy mode
        self._token_bot_id: int | None = None
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(100_000)
        self._new_update = asyncio.Event()
        self._recent_sends: deque[float] = deque()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # ------------------------------------------------------------------ lifecycle

    def app(self) -> web.Application:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        return app

    async def start(self, port: int = 0) -> str:
        """Listen on ``port`` (0: any free one); a fixed port lets a test start Telegram after the bot."""
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegramAPI:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ switches

    def fail_next(
        self, method: str, status: int, description: str, *, retry_after: int | None = None, times: int = 1
    ) -> None:
        """The next ``times`` calls of ``method`` ("*" for any) fail with this error."""
        queue = self._failures.setdefault(method, deque())
        for _ in range(times):
            queue.append(_Failure(status, description, retry_after))

    def rate_limit_next(self, retry_after: int, method: str = "*", times: int = 1) -> None:
        self.fail_next(
            method, 429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after, times=times
        )

    def block(self, chat_id: int | str) -> None:
        """The user blocked the bot: every send to this chat answers 403."""
        self._blocked_chats.add(str(chat_id))

    def forbid_voice(self, chat_id: int | str) -> None:
        """The user's privacy settings refuse voice notes: sendVoice answers 400 VOICE_MESSAGES_FORBIDDEN."""
        self._voice_forbidden.add(str(chat_id))

    def reset_calls(self) -> None:
        self.calls.clear()

    # ------------------------------------------------------------------ inspection

    def calls_of(self, *methods: str, chat_id: int | str | None = None) -> list[ApiCall]:
        return [
            c
            for c in self.calls
            if (not methods or c.method in methods) and (chat_id is None or c.chat_id == str(chat_id))
        ]

    def message(self, chat_id: int | str, message_id: int) -> dict[str, Any]:
        """The bot's message as it is now (after any edits)."""
        return self.messages[(str(chat_id), int(message_id))]

    def delivers(self, update: dict[str, Any]) -> bool:
        """Whether Telegram would deliver ``update`` to the bot (privacy mode applies to group messages only)."""
        message = update.get("message")
        if message is None or message["chat"]["type"] not in ("group", "supergroup"):
            return True
        if not self.privacy_mode or self.bot_is_admin:
            return True
        replied = message.get("reply_to_message")
        if replied is not None and replied.get("from", {}).get("id") == self._bot_user()["id"]:
            return True
        text = str(message.get("text") or message.get("caption") or "")
        for entity in message.get("entities", []):
            piece = text[entity["offset"] : entity["offset"] + entity["length"]]
            if entity["type"] == "bot_command" and entity["offset"] == 0:
                _command, _at, addressee = piece.partition("@")
                if not addressee or addressee.lower() == self.username.lower():
                    return True
            if entity["type"] == "mention" and piece.lower() == f"@{self.username}".lower():
                return True
        return False

    def sent(self, chat_id: int | str | None = None) -> list[ApiCall]:
        """Successful message sends, optionally to one chat."""
        return [c for c in self.calls_of(*MESSAGE_METHODS, chat_id=chat_id) if c.ok]

    # ------------------------------------------------------------------ updates and files

    def add_file(self, content: bytes, suffix: str = "oga") -> tuple[str, str]:
        """Store a file as if a user had sent it; returns (file_id, file_unique_id)."""
        digest = hashlib.sha256(content).hexdigest()[:16]
        stored = _StoredFile(
            f"FILE{digest}{len(self._files)}", f"U{digest}", content, f"voice/file_{len(self._files)}.{suffix}"
        )
        self._files[stored.file_id] = stored
        return stored.file_id, stored.file_unique_id

    def queue_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Make ``update`` available to getUpdates (an update_id is given when missing)."""
        update = dict(update)
        update.setdefault("update_id", next(self._update_ids))
        self._updates.append(update)
        self._new_update.set()
        return update

    @property
    def pending_updates(self) -> int:
        return len(self._updates)

    # ------------------------------------------------------------------ HTTP

    async def _params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
        params: dict[str, Any] = {}
        files: dict[str, bytes] = {}
        if request.content_type == "application/json":
            body = await request.read()
            params = json.loads(body) if body else {}
        elif request.can_read_body:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = value.file.read()
                    params[key] = f"attach://{key}"
                else:
                    params[key] = json.loads(value) if key in JSON_FIELDS and isinstance(value, str) else value
        params.update({k: v for k, v in request.query.items() if k not in params})
        return params, files

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        bot_id = request.match_info["token"].split(":")[0]
        if bot_id.isdigit():
            self._token_bot_id = int(bot_id)  # Telegram's bot id is the token's first part
        params, files = await self._params(request)
        # multipart "attach://" placeholders: aiogram names the part after the field
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://") and value[9:] in files and key not in files:
                files[key] = files[value[9:]]
        call = ApiCall(method, params, files, time.monotonic())
        peer = request.transport.get_extra_info("peername") if request.transport else None
        call.client_port = int(peer[1]) if peer else 0
        self.calls.append(call)
        for listener in self.on_call:
            listener(call)
        if self.latency:
            await asyncio.sleep(self.latency)
        failure = self._failure_for(method, call)
        if failure is not None:
            call.status = failure.status
            body: dict[str, Any] = {"ok": False, "error_code": failure.status, "description": failure.description}
            if failure.retry_after is not None:
                body["parameters"] = {"retry_after": failure.retry_after}
            return web.json_response(body, status=failure.status)
        try:
            result = await self._result(method, call)
        except _ApiError as error:
            call.status = error.status
            return web.json_response(
                {"ok": False, "error_code": error.status, "description": error.description}, status=error.status
            )
        call.result = result
        return web.json_response({"ok": True, "result": result})

    def _failure_for(self, method: str, call: ApiCall) -> _Failure | None:
        for key in (method, "*"):
            queue = self._failures.get(key)
            if queue:
                return queue.popleft()
        if method in SEND_METHODS and self.max_per_second is not None:
            now = call.at
            while self._recent_sends and now - self._recent_sends[0] >= 1.0:
                self._recent_sends.popleft()
            if len(self._recent_sends) >= self.max_per_second:
                return _Failure(429, "Too Many Requests: retry after 1", 1)
            self._recent_sends.append(now)
        if method in SEND_METHODS and call.chat_id in self._blocked_chats:
            return _Failure(403, "Forbidden: bot was blocked by the user")
        if method == "sendVoice" and call.chat_id in self._voice_forbidden:
            return _Failure(400, "Bad Request: VOICE_MESSAGES_FORBIDDEN")
        return None

    async def _download(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        for stored in self._files.values():
            if stored.path == path:
                return web.Response(body=stored.content, content_type="application/octet-stream")
        raise web.HTTPNotFound()

    # ------------------------------------------------------------------ results

    def _bot_user(self) -> dict[str, Any]:
        bot_id = self._token_bot_id or self.bot_id
        return {"id": bot_id, "is_bot": True, "first_name": "Bong Pheak", "username": self.username}

    def _message(self, chat_id: str, **content: Any) -> dict[str, Any]:
        chat_number = int(chat_id) if chat_id.lstrip("-").isdigit() else 0
        chat: dict[str, Any] = {"id": chat_number, "type": "private" if chat_number > 0 else "supergroup"}
        if chat_number <= 0:
            chat["title"] = "Group"
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": self._bot_user(),
            **content,
        }
        self.messages[(chat_id, message["message_id"])] = message
        return message

    def _store_upload(self, call: ApiCall, key: str, suffix: str) -> _StoredFile:
        value = call.params.get(key)
        if key in call.files:
            content = call.files[key]
            digest = hashlib.sha256(content).hexdigest()[:20]
            stored = _StoredFile(f"{key.upper()}-{digest}", f"u{digest[:12]}", content, f"{key}/{digest}.{suffix}")
            self._files[stored.file_id] = stored
            return stored
        if isinstance(value, str) and value in self._files:
            return self._files[value]
        raise _ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    async def _result(self, method: str, call: ApiCall) -> Any:
        p = call.params
        chat = str(p.get("chat_id", ""))
        if method == "getMe":
            return {**self._bot_user(), "can_join_groups": True, "supports_inline_queries": True}
        if method == "sendMessage":
            text = str(p.get("text", ""))
            if not text:
                raise _ApiError(400, "Bad Request: message text is empty")
            if len(text) > 4096:
                raise _ApiError(400, "Bad Request: message is too long")
            return self._message(chat, text=text, **self._markup(p))
        if method in ("sendVoice", "sendAudio", "sendDocument"):
            key = {"sendVoice": "voice", "sendAudio": "audio", "sendDocument": "document"}[method]
            stored = self._store_upload(call, key, "ogg" if key == "voice" else "mp3")
            media = {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.content),
                "mime_type": "audio/ogg" if key == "voice" else "audio/mpeg",
            }
            if key != "document":
                media["duration"] = 3
            caption = p.get("caption")
            if caption is not None and len(str(caption)) > 1024:
                raise _ApiError(400, "Bad Request: message caption is too long")
            extra = {"caption": caption} if caption else {}
            return self._message(chat, **{key: media}, **extra, **self._markup(p))
        if method == "sendPhoto":
            # A photo answers as Telegram's PhotoSize list (one size here); its bytes stay in call.files.
            stored = self._store_upload(call, "photo", "png")
            caption = p.get("caption")
            if caption is not None and len(str(caption)) > 1024:
                raise _ApiError(400, "Bad Request: message caption is too long")
            photo = [{"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "width": 400, "height": 400}]
            extra = {"caption": caption} if caption else {}
            return self._message(chat, photo=photo, **extra, **self._markup(p))
        if method == "sendChatAction":
            return True
        if method == "getFile":
            found = self._files.get(str(p.get("file_id")))
            if found is None:
                raise _ApiError(400, "Bad Request: invalid file_id")
            return {
                "file_id": found.file_id,
                "file_unique_id": found.file_unique_id,
                "file_size": len(found.content),
                "file_path": found.path,
            }
        if method in ("answerCallbackQuery", "answerInlineQuery", "setWebhook", "deleteWebhook", "setMyCommands"):
            return True
        if method in ("editMessageReplyMarkup", "editMessageText"):
            return self._edit(method, p)
        if method == "getUpdates":
            return await self._get_updates(p)
        raise _ApiError(404, "Not Found: method not found")

    @staticmethod
    def _markup(p: dict[str, Any]) -> dict[str, Any]:
        """A sent message shows only an inline keyboard; other keyboards belong to the chat, not the message."""
        markup = p.get("reply_markup")
        return {"reply_markup": markup} if isinstance(markup, dict) and "inline_keyboard" in markup else {}

    def _edit(self, method: str, p: dict[str, Any]) -> dict[str, Any]:
        if p.get("inline_message_id"):
            raise _ApiError(400, "Bad Request: inline messages are not kept by this fake")
        try:
            message = self.messages[(str(p.get("chat_id", "")), int(p.get("message_id") or 0))]
        except (KeyError, ValueError):
            raise _ApiError(400, "Bad Request: message to edit not found") from None
        markup = self._markup(p).get("reply_markup")
        if method == "editMessageText":
            text = str(p.get("text") or "")
            if not text:
                raise _ApiError(400, "Bad Request: message text is empty")
            if "text" not in message:
                raise _ApiError(400, "Bad Request: there is no text in the message to edit")
            if len(text) > 4096:
                raise _ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
            changed = {"text": text}
        else:
            changed = {}
        if all(message.get(k) == v for k, v in changed.items()) and message.get("reply_markup") == markup:
            raise _ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message",
            )
        message.update(changed)
        # No reply_markup in an edit removes the inline keyboard, as Telegram does.
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        return message

    async def _get_updates(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(p.get("offset") or 0)
        limit = int(p.get("limit") or 100)
        timeout = float(p.get("timeout") or 0)
        if offset:
            # Telegram forgets every update below the offset: they are confirmed.
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates and timeout:
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), timeout)
            except TimeoutError:
                pass
        return self._updates[:limit]


class _ApiError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


# ---------------------------------------------------------------------- update builders


def user(user_id: int, first_name: str = "Sokha", language_code: str = "km") -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": language_code}


def private_chat(chat_id: int, first_name: str = "Sokha") -> dict[str, Any]:
    return {"id": chat_id, "type": "private", "first_name": first_name}


_fake_message_ids = itertools.count(10_000)


def message_update(update_id: int, chat_id: int, text: str | None = None, **content: Any) -> dict[str, Any]:
    """An update carrying a message from a user in their private chat (or a group: negative ``chat_id``)."""
    sender = content.pop("from_user", None) or user(abs(chat_id))
    chat = private_chat(chat_id) if chat_id > 0 else {"id": chat_id, "type": "supergroup", "title": "Moderators"}
    message: dict[str, Any] = {
        "message_id": next(_fake_message_ids),
        "date": int(time.time()),
        "chat": chat,
        "from": sender,
        **content,
    }
    if text is not None:
        message["text"] = text
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": update_id, "message": message}


def callback_update(
    update_id: int,
    chat_id: int,
    data: str,
    from_id: int | None = None,
    message: dict[str, Any] | None = None,
    from_user: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A button press; ``message`` is the bot's message carrying the button (the fake's own record of it)."""
    sender = from_user or user(from_id or abs(chat_id))
    chat = private_chat(chat_id) if chat_id > 0 else {"id": chat_id, "type": "supergroup", "title": "Moderators"}
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"cbq{update_id}",
            "from": sender,
            "chat_instance": "ci1",
            "data": data,
            "message": message
            or {
                "message_id": next(_fake_message_ids),
                "date": int(time.time()),
                "chat": chat,
                "from": {"id": 7000001, "is_bot": True, "first_name": "Bong Pheak"},
                "text": "earlier question",
            },
        },
    }


def inline_query_update(update_id: int, from_id: int, query: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "inline_query": {"id": f"iq{update_id}", "from": user(from_id), "query": query, "offset": ""},
    }
