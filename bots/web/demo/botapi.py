"""An in-process Telegram Bot API: the real wire format, for the browser demo and for the tests.

The real aiogram ``Bot`` talks to it through ``TelegramAPIServer.from_base(base)``. Requests arrive as
``POST <base>/bot<token>/<method>`` with a JSON, urlencoded or multipart body (aiogram sends forms; uploads are
multipart parts); answers are ``{"ok": true, "result": ...}`` or Telegram's error objects. Files are fetched
from ``<base>/file/bot<token>/<path>`` after getFile.

Two ways to run it:

* on a port of its own: ``async with DemoBotAPI() as api:`` — the base is ``api.base_url``;
* on an existing aiohttp app: ``api.mount(app, prefix="/demo/botapi")`` before the app starts — the base is
  then ``<the app's address>/demo/botapi`` (what ``TELEGRAM_API_BASE_URL`` is set to).

Updates reach the bot as Telegram sends them: :meth:`DemoBotAPI.deliver` POSTs an update to the webhook the bot
registered with ``setWebhook`` (with its ``X-Telegram-Bot-Api-Secret-Token``), retrying a failed delivery a few
times as Telegram does, or, with no webhook set, queues it for ``getUpdates`` (which answers 409 while a
webhook is set, as Telegram does). :meth:`DemoBotAPI.delivers` tells which group messages Telegram would
deliver at all: with privacy mode on (BotFather's default) and the bot not an admin, only commands, replies
to the bot's own messages and messages mentioning it.

Messages the bot sent are kept, so edits (``editMessageText``, ``editMessageReplyMarkup``) change them and
answer Telegram's errors ("message is not modified", "message to edit not found"); HTML parse mode becomes
entities, as Telegram keeps a formatted message. Each chat's history (the
bot's messages and the person's, in order), its reply keyboard and its force-reply prompt are kept in a
:class:`ChatLog`, which is what the demo's chat page shows.

A demo runs for hours, so everything kept is bounded: the last ``max_messages_per_chat`` messages of the last
``max_chats`` chats, files up to ``max_file_bytes`` in all (a forgotten file_id is refused with Telegram's
own 400, and the bot uploads the file again), the last ``max_calls`` calls, ``max_pending_updates`` updates
waiting for getUpdates. ``None`` keeps everything (:class:`RecordingBotAPI`, for the tests and the benchmarks).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, ClassVar

from aiohttp import ClientError, ClientSession, ClientTimeout, web

log = logging.getLogger(__name__)

SEND_METHODS = frozenset(
    {"sendMessage", "sendVoice", "sendAudio", "sendPhoto", "sendDocument", "sendChatAction", "copyMessage"}
)
MESSAGE_METHODS = SEND_METHODS - {"sendChatAction"}
# Fields that Telegram takes as JSON-serialised strings in form bodies.
JSON_FIELDS = frozenset(
    {"reply_markup", "results", "entities", "caption_entities", "allowed_updates", "link_preview_options"}
)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram retries an update the webhook did not take (a 5xx or no answer); a few times is enough here.
DELIVERY_ATTEMPTS = 4
DELIVERY_TIMEOUT = 60.0  # the webhook answers after the update is handled: ffmpeg on a recording takes seconds
MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # Telegram's limit for a bot's upload


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
class Refusal:
    """An error answer: status, Telegram's description and, for a 429, how long to wait."""

    status: int
    description: str
    retry_after: int | None = None


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    content: bytes
    path: str


_versions = itertools.count(1)


@dataclass
class ChatLog:
    """One chat as its members see it: messages in order (the bot's and the people's), the reply keyboard
    under the input field, and the bot's message a typed answer should reply to (force_reply)."""

    chat_id: str
    entries: deque[dict[str, Any]] = field(default_factory=deque)
    keyboard: dict[str, Any] | None = None  # a ReplyKeyboardMarkup as the bot sent it
    force_reply_to: int | None = None
    # Changes with every change (numbers shared by all chats: a forgotten chat begun anew never repeats one), so
    # a page polling it redraws only when something changed.
    version: int = 0

    def changed(self) -> None:
        self.version = next(_versions)


@dataclass
class Webhook:
    url: str
    secret_token: str


class DemoBotAPI:
    """The Bot API server; see the module docstring."""

    def __init__(
        self,
        bot_id: int = 7000001,
        username: str = "BongPheakTestBot",
        *,
        max_calls: int | None = 500,
        max_chats: int | None = 1000,
        max_messages_per_chat: int | None = 200,
        max_file_bytes: int | None = 64 * 1024 * 1024,
        max_pending_updates: int | None = 1000,
    ) -> None:
        self.bot_id = bot_id
        self.username = username
        self.max_calls = max_calls
        self.max_chats = max_chats
        self.max_messages_per_chat = max_messages_per_chat
        self.max_file_bytes = max_file_bytes
        self.max_pending_updates = max_pending_updates
        self.calls: list[ApiCall] = []
        self.latency = 0.0  # seconds added to every answer, to look like a network
        # Called with each call as it arrives (before it is answered): benchmarks time deliveries with it.
        self.on_call: list[Callable[[ApiCall], None]] = []
        self._files: OrderedDict[str, StoredFile] = OrderedDict()
        self._file_bytes = 0
        self._message_ids = itertools.count(1)
        # (chat id, message id) → the message as Telegram holds it (edits change it).
        self.messages: dict[tuple[str, int], dict[str, Any]] = {}
        self.chats: OrderedDict[str, ChatLog] = OrderedDict()
        self.privacy_mode = True  # BotFather's default for a new bot
        self.bot_is_admin = False  # an admin bot gets every group message, whatever the privacy mode
        self.webhook: Webhook | None = None
        self._token_bot_id: int | None = None
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(100_000)
        self._new_update = asyncio.Event()
        self._delivering: dict[str, asyncio.Lock] = {}
        self._http: ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # ------------------------------------------------------------------ lifecycle

    def _add_routes(self, router: web.UrlDispatcher, prefix: str = "") -> None:
        router.add_route("*", prefix + "/bot{token}/{method}", self._handle)
        router.add_get(prefix + "/file/bot{token}/{path:.+}", self._download)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
        self._add_routes(app.router)
        app.on_cleanup.append(lambda _app: self.close())
        return app

    def mount(self, app: web.Application, *, prefix: str = "/demo/botapi") -> str:
        """Serve the Bot API on ``app`` under ``prefix`` (call before the app starts); returns the prefix, which
        after the app's address is the base aiogram needs. The app's ``client_max_size`` bounds uploads."""
        prefix = "/" + prefix.strip("/")
        self._add_routes(app.router, prefix)
        app.on_cleanup.append(lambda _app: self.close())
        return prefix

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
        await self.close()

    async def close(self) -> None:
        """Close the HTTP client that delivers to the webhook."""
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def __aenter__(self) -> DemoBotAPI:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ inspection

    def reset_calls(self) -> None:
        self.calls.clear()

    def calls_of(self, *methods: str, chat_id: int | str | None = None) -> list[ApiCall]:
        return [
            c
            for c in self.calls
            if (not methods or c.method in methods) and (chat_id is None or c.chat_id == str(chat_id))
        ]

    def message(self, chat_id: int | str, message_id: int) -> dict[str, Any]:
        """The message as it is now (after any edits)."""
        return self.messages[(str(chat_id), int(message_id))]

    def sent(self, chat_id: int | str | None = None) -> list[ApiCall]:
        """Successful message sends, optionally to one chat."""
        return [c for c in self.calls_of(*MESSAGE_METHODS, chat_id=chat_id) if c.ok]

    def chat(self, chat_id: int | str) -> ChatLog:
        """The chat's log (an empty one for a chat nobody wrote in yet); the least recently used chat beyond
        ``max_chats`` is forgotten."""
        key = str(chat_id)
        log_ = self.chats.get(key)
        if log_ is None:
            log_ = self.chats[key] = ChatLog(key)
            if self.max_chats is not None and len(self.chats) > self.max_chats:
                _oldest, forgotten = self.chats.popitem(last=False)
                for entry in forgotten.entries:
                    self.messages.pop((forgotten.chat_id, int(entry["message_id"])), None)
        else:
            self.chats.move_to_end(key)
        return log_

    def delivers(self, update: dict[str, Any]) -> bool:
        """Whether Telegram would deliver ``update`` to the bot (privacy mode applies to group messages only)."""
        message = update.get("message")
        if message is None or message["chat"]["type"] not in ("group", "supergroup"):
            return True
        if not self.privacy_mode or self.bot_is_admin:
            return True
        replied = message.get("reply_to_message")
        if replied is not None and replied.get("from", {}).get("id") == self.bot_user()["id"]:
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

    # ------------------------------------------------------------------ what people do

    def next_message_id(self) -> int:
        """Message ids are shared by the bot's and the people's messages: they tell the order in every chat."""
        return next(self._message_ids)

    def next_update_id(self) -> int:
        return next(self._update_ids)

    def add_file(self, content: bytes, suffix: str = "oga") -> tuple[str, str]:
        """Store a file as if a user had sent it; returns (file_id, file_unique_id)."""
        digest = hashlib.sha256(content).hexdigest()[:16]
        number = next(self._message_ids)
        stored = StoredFile(f"FILE{digest}{number}", f"U{digest}", content, f"voice/file_{number}.{suffix}")
        self._keep_file(stored)
        return stored.file_id, stored.file_unique_id

    def file(self, file_id: str) -> StoredFile | None:
        return self._files.get(file_id)

    def record(self, message: dict[str, Any]) -> None:
        """A person's message in its chat's log (as their Telegram app shows it), before it is delivered."""
        chat = self._remember(str(message["chat"]["id"]), message)
        chat.force_reply_to = None  # the prompt is answered
        if chat.keyboard is not None and chat.keyboard.get("one_time_keyboard"):
            chat.keyboard = None  # the app hides a one-time keyboard once it is used

    def queue_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Make ``update`` available to getUpdates (an update_id is given when missing)."""
        update = dict(update)
        update.setdefault("update_id", next(self._update_ids))
        self._updates.append(update)
        if self.max_pending_updates is not None and len(self._updates) > self.max_pending_updates:
            del self._updates[: len(self._updates) - self.max_pending_updates]
        self._new_update.set()
        return update

    @property
    def pending_updates(self) -> int:
        return len(self._updates)

    async def deliver(self, update: dict[str, Any]) -> int:
        """Hand ``update`` to the bot as Telegram would: POSTed to the webhook when one is set (one chat's updates
        in order, a failed delivery retried), else queued for getUpdates. Returns the webhook's last HTTP status
        (0 when it could not be reached; 200 when queued). A group message privacy mode keeps from the bot is
        not delivered at all (200 too: Telegram took it)."""
        if not self.delivers(update):
            return 200
        hook = self.webhook
        if hook is None:
            self.queue_update(update)
            return 200
        chat = _chat_of(update)
        lock = self._delivering.setdefault(chat, asyncio.Lock())
        try:
            async with lock:
                return await self._post_to_webhook(hook, update)
        finally:
            if not lock.locked() and self._delivering.get(chat) is lock:
                del self._delivering[chat]

    async def _post_to_webhook(self, hook: Webhook, update: dict[str, Any]) -> int:
        if self._http is None:
            self._http = ClientSession(timeout=ClientTimeout(total=DELIVERY_TIMEOUT))
        headers = {SECRET_HEADER: hook.secret_token} if hook.secret_token else {}
        status = 0
        for attempt in range(DELIVERY_ATTEMPTS):
            if attempt:
                await asyncio.sleep(min(8.0, 0.5 * 2**attempt))
            try:
                async with self._http.post(hook.url, json=update, headers=headers) as response:
                    await response.read()
                    status = response.status
            except (ClientError, TimeoutError) as error:
                log.warning("update %s: the webhook did not answer (%s)", update.get("update_id"), error)
                status = 0
                continue
            if status < 500:
                break
            log.warning("update %s: the webhook answered %s", update.get("update_id"), status)
        return status

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
        try:
            params, files = await self._params(request)
        except (ValueError, web.HTTPException):
            return _error(400, "Bad Request: can't parse request")
        # multipart "attach://" placeholders: aiogram names the part after the field
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://") and value[9:] in files and key not in files:
                files[key] = files[value[9:]]
        call = ApiCall(method, params, files, time.monotonic())
        peer = request.transport.get_extra_info("peername") if request.transport else None
        call.client_port = int(peer[1]) if peer else 0
        self._log_call(call)
        for listener in self.on_call:
            listener(call)
        if self.latency:
            await asyncio.sleep(self.latency)
        refusal = self.refusal(method, call)
        if refusal is not None:
            call.status = refusal.status
            return _error(refusal.status, refusal.description, refusal.retry_after)
        try:
            result = await self._result(method, call)
        except ApiError as error:
            call.status = error.status
            return _error(error.status, error.description)
        call.result = result
        return web.json_response({"ok": True, "result": result})

    def _log_call(self, call: ApiCall) -> None:
        self.calls.append(call)
        if self.max_calls is not None and len(self.calls) > 2 * self.max_calls:
            del self.calls[: -self.max_calls]

    def refusal(self, method: str, call: ApiCall) -> Refusal | None:
        """An error to answer instead of the result (the tests' fake injects them); none here."""
        return None

    async def _download(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        for stored in self._files.values():
            if stored.path == path:
                return web.Response(body=stored.content, content_type="application/octet-stream")
        raise web.HTTPNotFound()

    # ------------------------------------------------------------------ results

    def bot_user(self) -> dict[str, Any]:
        bot_id = self._token_bot_id or self.bot_id
        return {"id": bot_id, "is_bot": True, "first_name": "Bong Pheak", "username": self.username}

    def _remember(self, chat_id: str, message: dict[str, Any]) -> ChatLog:
        chat = self.chat(chat_id)
        self.messages[(chat_id, int(message["message_id"]))] = message
        chat.entries.append(message)
        if self.max_messages_per_chat is not None and len(chat.entries) > self.max_messages_per_chat:
            gone = chat.entries.popleft()
            self.messages.pop((chat_id, int(gone["message_id"])), None)
        chat.changed()
        return chat

    def _message(self, chat_id: str, markup: Any = None, **content: Any) -> dict[str, Any]:
        chat_number = int(chat_id) if chat_id.lstrip("-").isdigit() else 0
        chat: dict[str, Any] = {"id": chat_number, "type": "private" if chat_number > 0 else "supergroup"}
        if chat_number <= 0:
            chat["title"] = "Group"
        message = {
            "message_id": self.next_message_id(),
            "date": int(time.time()),
            "chat": chat,
            "from": self.bot_user(),
            **content,
        }
        # A sent message shows only an inline keyboard; other keyboards belong to the chat, not the message.
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        log_ = self._remember(chat_id, message)
        if isinstance(markup, dict):
            if "keyboard" in markup:
                log_.keyboard = markup
            elif markup.get("remove_keyboard"):
                log_.keyboard = None
            if markup.get("force_reply"):
                log_.force_reply_to = message["message_id"]
        return message

    def _keep_file(self, stored: StoredFile) -> None:
        old = self._files.pop(stored.file_id, None)
        if old is not None:
            self._file_bytes -= len(old.content)
        self._files[stored.file_id] = stored
        self._file_bytes += len(stored.content)
        while self.max_file_bytes is not None and self._file_bytes > self.max_file_bytes and len(self._files) > 1:
            _id, gone = self._files.popitem(last=False)
            self._file_bytes -= len(gone.content)

    def _store_upload(self, call: ApiCall, key: str, suffix: str) -> StoredFile:
        value = call.params.get(key)
        if key in call.files:
            content = call.files[key]
            digest = hashlib.sha256(content).hexdigest()[:20]
            stored = StoredFile(f"{key.upper()}-{digest}", f"u{digest[:12]}", content, f"{key}/{digest}.{suffix}")
            self._keep_file(stored)
            return stored
        if isinstance(value, str) and value in self._files:
            self._files.move_to_end(value)  # in use: forgotten last
            return self._files[value]
        raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    async def _result(self, method: str, call: ApiCall) -> Any:
        p = call.params
        chat = str(p.get("chat_id", ""))
        if method == "getMe":
            return {**self.bot_user(), "can_join_groups": True, "supports_inline_queries": True}
        if method == "sendMessage":
            text = str(p.get("text", ""))
            if not text:
                raise ApiError(400, "Bad Request: message text is empty")
            if len(text) > 4096:
                raise ApiError(400, "Bad Request: message is too long")
            return self._message(chat, p.get("reply_markup"), **formatted("text", text, p))
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
                raise ApiError(400, "Bad Request: message caption is too long")
            extra = formatted("caption", str(caption), p) if caption else {}
            return self._message(chat, p.get("reply_markup"), **{key: media}, **extra)
        if method == "sendPhoto":
            # A photo (an invoice's KHQR code) answers as Telegram's PhotoSize list, one size here.
            stored = self._store_upload(call, "photo", "png")
            caption = p.get("caption")
            if caption is not None and len(str(caption)) > 1024:
                raise ApiError(400, "Bad Request: message caption is too long")
            photo = [{"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "width": 400, "height": 400}]
            extra = formatted("caption", str(caption), p) if caption else {}
            return self._message(chat, p.get("reply_markup"), photo=photo, **extra)
        if method == "sendChatAction":
            return True
        if method == "getFile":
            found = self._files.get(str(p.get("file_id")))
            if found is None:
                raise ApiError(400, "Bad Request: invalid file_id")
            return {
                "file_id": found.file_id,
                "file_unique_id": found.file_unique_id,
                "file_size": len(found.content),
                "file_path": found.path,
            }
        if method == "setWebhook":
            url = str(p.get("url") or "")
            self.webhook = Webhook(url, str(p.get("secret_token") or "")) if url else None
            if url and _truthy(p.get("drop_pending_updates")):
                self._updates.clear()
            return True
        if method == "deleteWebhook":
            self.webhook = None
            if _truthy(p.get("drop_pending_updates")):
                self._updates.clear()
            return True
        if method == "getWebhookInfo":
            return {
                "url": self.webhook.url if self.webhook else "",
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }
        if method in ("answerCallbackQuery", "answerInlineQuery", "setMyCommands"):
            return True
        if method in ("editMessageReplyMarkup", "editMessageText"):
            return self._edit(method, p)
        if method == "getUpdates":
            if self.webhook is not None:
                raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
            return await self._get_updates(p)
        raise ApiError(404, "Not Found: method not found")

    def _edit(self, method: str, p: dict[str, Any]) -> dict[str, Any]:
        if p.get("inline_message_id"):
            raise ApiError(400, "Bad Request: inline messages are not kept by this fake")
        chat_id = str(p.get("chat_id", ""))
        try:
            message = self.messages[(chat_id, int(p.get("message_id") or 0))]
        except (KeyError, ValueError):
            raise ApiError(400, "Bad Request: message to edit not found") from None
        if message.get("from", {}).get("id") != self.bot_user()["id"]:
            raise ApiError(400, "Bad Request: message can't be edited")
        raw = p.get("reply_markup")
        markup = raw if isinstance(raw, dict) and "inline_keyboard" in raw else None
        if method == "editMessageText":
            text = str(p.get("text") or "")
            if not text:
                raise ApiError(400, "Bad Request: message text is empty")
            if "text" not in message:
                raise ApiError(400, "Bad Request: there is no text in the message to edit")
            if len(text) > 4096:
                raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
            changed: dict[str, Any] = formatted("text", text, p)
        else:
            changed = {}
        if all(message.get(k) == v for k, v in changed.items()) and message.get("reply_markup") == markup:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message",
            )
        if method == "editMessageText" and "entities" not in changed:
            message.pop("entities", None)
        message.update(changed)
        # No reply_markup in an edit removes the inline keyboard, as Telegram does.
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        if chat_id in self.chats:
            self.chats[chat_id].changed()
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
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), timeout)
        return self._updates[:limit]


class RecordingBotAPI(DemoBotAPI):
    """The Bot API for tests and benchmarks: keeps everything (no bounds), so a run can look at every call it
    caused; ``max_per_second`` makes it answer 429 to sends beyond a global rate, as Telegram does."""

    def __init__(self, bot_id: int = 7000001, username: str = "BongPheakTestBot") -> None:
        super().__init__(
            bot_id,
            username,
            max_calls=None,
            max_chats=None,
            max_messages_per_chat=None,
            max_file_bytes=None,
            max_pending_updates=None,
        )
        self.max_per_second: int | None = None
        self._recent_sends: deque[float] = deque()

    async def __aenter__(self) -> RecordingBotAPI:
        await self.start()
        return self

    def refusal(self, method: str, call: ApiCall) -> Refusal | None:
        if method in SEND_METHODS and self.max_per_second is not None:
            while self._recent_sends and call.at - self._recent_sends[0] >= 1.0:
                self._recent_sends.popleft()
            if len(self._recent_sends) >= self.max_per_second:
                return Refusal(429, "Too Many Requests: retry after 1", 1)
            self._recent_sends.append(call.at)
        return None


def formatted(key: str, text: str, p: dict[str, Any]) -> dict[str, Any]:
    """A message's ``text`` (or ``caption``) as Telegram keeps it: with ``parse_mode=HTML`` the tags become
    entities (UTF-16 offsets) and leave the text; entities given as such are kept. Other parse modes are kept
    as typed (the bot sends none)."""
    entities_key = "entities" if key == "text" else "caption_entities"
    if str(p.get("parse_mode") or "").upper() == "HTML":
        parser = _Html()
        parser.feed(text)
        parser.close()
        if parser.open:
            raise ApiError(400, f'Bad Request: can\'t parse entities: unclosed start tag "{parser.open[-1][0]}"')
        plain = "".join(parser.pieces)
        entities = sorted(parser.entities, key=lambda e: (e["offset"], -e["length"]))
        return {key: plain, entities_key: entities} if entities else {key: plain}
    given = p.get(entities_key)
    return {key: text, entities_key: given} if isinstance(given, list) and given else {key: text}


class _Html(HTMLParser):
    """Telegram's HTML parse mode: the tags it knows, as entities."""

    KINDS: ClassVar[dict[str, str]] = {
        "b": "bold",
        "strong": "bold",
        "i": "italic",
        "em": "italic",
        "u": "underline",
        "ins": "underline",
        "s": "strikethrough",
        "strike": "strikethrough",
        "del": "strikethrough",
        "code": "code",
        "pre": "pre",
        "a": "text_link",
        "tg-spoiler": "spoiler",
        "blockquote": "blockquote",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self.length = 0  # in UTF-16 code units, as Telegram counts offsets
        self.open: list[tuple[str, str, int, dict[str, str | None]]] = []
        self.entities: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        kind = "spoiler" if tag == "span" and ("class", "tg-spoiler") in attrs else self.KINDS.get(tag)
        if kind is None:
            raise ApiError(400, f'Bad Request: can\'t parse entities: Unsupported start tag "{tag}"')
        self.open.append((tag, kind, self.length, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1][0] != tag:
            raise ApiError(400, f'Bad Request: can\'t parse entities: Unmatched end tag "{tag}"')
        _tag, kind, start, attrs = self.open.pop()
        if self.length > start:
            entity: dict[str, Any] = {"type": kind, "offset": start, "length": self.length - start}
            if kind == "text_link":
                entity["url"] = attrs.get("href") or ""
            self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        self.pieces.append(data)
        self.length += len(data.encode("utf-16-le")) // 2


class ApiError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _error(status: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=status)


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


def _chat_of(update: dict[str, Any]) -> str:
    """The chat an update belongs to (its sender's id for an inline query), for delivering a chat in order."""
    message = update.get("message") or (update.get("callback_query") or {}).get("message")
    if message is not None:
        return str(message["chat"]["id"])
    for kind in ("callback_query", "inline_query", "chosen_inline_result"):
        if kind in update:
            return str(update[kind]["from"]["id"])
    return ""


# ---------------------------------------------------------------------- update builders


def user(user_id: int, first_name: str = "Sokha", language_code: str = "km") -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": language_code}


def private_chat(chat_id: int, first_name: str = "Sokha") -> dict[str, Any]:
    return {"id": chat_id, "type": "private", "first_name": first_name}


def group_chat(chat_id: int, title: str = "Moderators") -> dict[str, Any]:
    return {"id": chat_id, "type": "supergroup", "title": title}


def command_entities(text: str) -> list[dict[str, Any]]:
    """A message starting with ``/command`` carries a bot_command entity, as the Telegram apps mark it."""
    if not text.startswith("/") or len(text) < 2:
        return []
    return [{"type": "bot_command", "offset": 0, "length": len(text.split()[0].encode("utf-16-le")) // 2}]


_fake_message_ids = itertools.count(10_000)


def message_update(update_id: int, chat_id: int, text: str | None = None, **content: Any) -> dict[str, Any]:
    """An update carrying a message from a user in their private chat (or a group: negative ``chat_id``).
    ``message_id`` may be given (the demo's chats number their messages); ``from_user`` is the sender."""
    sender = content.pop("from_user", None) or user(abs(chat_id))
    message_id = content.pop("message_id", None) or next(_fake_message_ids)
    chat = private_chat(chat_id, sender.get("first_name", "Sokha")) if chat_id > 0 else group_chat(chat_id)
    message: dict[str, Any] = {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": chat,
        "from": sender,
        **content,
    }
    if text is not None:
        message["text"] = text
        entities = command_entities(text)
        if entities:
            message["entities"] = entities
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
    chat = private_chat(chat_id) if chat_id > 0 else group_chat(chat_id)
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"cbq{update_id}",
            "from": sender,
            "chat_instance": f"ci{chat_id}",
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
