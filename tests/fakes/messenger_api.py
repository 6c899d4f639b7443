"""A fake Graph API for the Messenger adapter: the Send API, attachment upload and the Messenger profile.

The adapter's own aiohttp client talks to it at ``base_url`` (as MESSENGER_API_BASE_URL). Requests arrive as
``POST /<version>/me/messages``, ``/me/message_attachments`` (multipart: ``message`` JSON and ``filedata``) and
``/me/messenger_profile``, each with ``access_token``; answers are Graph's JSON, errors Graph's error objects
(``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}``). Switches inject the errors a page
must survive: 551 for a person who blocked the page, 613 calls exceeded, an attachment id no longer valid.
It also serves received attachments (``/media/<name>``) for the adapter to download.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

VERSION = "v21.0"


@dataclass
class Send:
    """One accepted POST /me/messages."""

    recipient: dict[str, Any]
    body: dict[str, Any]

    @property
    def psid(self) -> str | None:
        return self.recipient.get("id")

    @property
    def message(self) -> dict[str, Any]:
        return self.body.get("message") or {}

    @property
    def text(self) -> str:
        message = self.message
        if "text" in message:
            return str(message["text"])
        payload = (message.get("attachment") or {}).get("payload") or {}
        return str(payload.get("text", ""))

    @property
    def kind(self) -> str:
        """ "text", "quick_replies", "button", "generic", "audio" or "typing_on"."""
        if "sender_action" in self.body:
            return str(self.body["sender_action"])
        message = self.message
        if "quick_replies" in message:
            return "quick_replies"
        if "text" in message:
            return "text"
        attachment = message.get("attachment") or {}
        if attachment.get("type") == "template":
            return str(attachment["payload"]["template_type"])
        return str(attachment.get("type"))

    @property
    def choices(self) -> list[tuple[str, str]]:
        """(title, payload or url) of quick replies and template buttons."""
        message = self.message
        if "quick_replies" in message:
            return [(q.get("title", q["content_type"]), q.get("payload", "")) for q in message["quick_replies"]]
        payload = (message.get("attachment") or {}).get("payload") or {}
        buttons = list(payload.get("buttons", []))
        for element in payload.get("elements", []):
            buttons.extend(element.get("buttons", []))
        return [(b["title"], b.get("payload") or b.get("url", "")) for b in buttons]


@dataclass
class FakeGraphAPI:
    token: str = "page-token"
    sends: list[Send] = field(default_factory=list)
    uploads: list[bytes] = field(default_factory=list)
    profile: list[dict[str, Any]] = field(default_factory=list)
    media: dict[str, bytes] = field(default_factory=dict)
    blocked: set[str] = field(default_factory=set)  # psids answering 551
    calls_exceeded: int = 0  # the next n sends answer 613
    forget_attachments: bool = False  # every known attachment id answers "invalid" (re-upload expected)
    refused: int = 0

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._attachments: set[str] = set()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def __aenter__(self) -> FakeGraphAPI:
        app = web.Application()
        app.router.add_post(f"/{VERSION}/me/messages", self._messages)
        app.router.add_post(f"/{VERSION}/me/message_attachments", self._upload)
        app.router.add_post(f"/{VERSION}/me/messenger_profile", self._profile)
        app.router.add_get("/media/{name}", self._media)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------------ what tests read

    def to(self, psid: str, kind: str | None = None) -> list[Send]:
        return [s for s in self.sends if s.psid == psid and (kind is None or s.kind == kind)]

    def texts(self, psid: str) -> list[str]:
        return [s.text for s in self.to(psid) if s.text]

    def media_url(self, name: str, data: bytes) -> str:
        self.media[name] = data
        return f"{self.base_url}/media/{name}"

    # ------------------------------------------------------------------ handlers

    @staticmethod
    def _error(code: int, message: str, subcode: int | None = None, status: int = 400) -> web.Response:
        error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf"}
        if subcode is not None:
            error["error_subcode"] = subcode
        return web.json_response({"error": error}, status=status)

    def _authorised(self, request: web.Request) -> bool:
        return request.query.get("access_token") == self.token

    async def _messages(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._error(190, "Invalid OAuth access token.", status=401)
        body = await request.json()
        recipient = body.get("recipient") or {}
        if recipient.get("id") in self.blocked:
            self.refused += 1
            return self._error(551, "This person isn't available right now.", 1545041)
        if self.calls_exceeded:
            self.calls_exceeded -= 1
            self.refused += 1
            return self._error(613, "Calls to this api have exceeded the rate limit.")
        attachment = (body.get("message") or {}).get("attachment") or {}
        attachment_id = (attachment.get("payload") or {}).get("attachment_id")
        if attachment_id is not None and (self.forget_attachments or attachment_id not in self._attachments):
            self.refused += 1
            return self._error(100, "(#100) Attachment ID is invalid", 2018047)
        self.sends.append(Send(recipient, body))
        return web.json_response({"recipient_id": recipient.get("id", ""), "message_id": f"m_{next(self._ids)}"})

    async def _upload(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._error(190, "Invalid OAuth access token.", status=401)
        form = await request.post()
        message = json.loads(str(form["message"]))
        assert message["attachment"]["payload"]["is_reusable"] is True
        filedata = form["filedata"]
        self.uploads.append(filedata.file.read())  # type: ignore[union-attr]
        attachment_id = f"att{next(self._ids)}"
        self._attachments.add(attachment_id)
        self.forget_attachments = False
        return web.json_response({"attachment_id": attachment_id})

    async def _profile(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._error(190, "Invalid OAuth access token.", status=401)
        self.profile.append(await request.json())
        return web.json_response({"result": "success"})

    async def _media(self, request: web.Request) -> web.Response:
        data = self.media.get(request.match_info["name"])
        return web.Response(body=data) if data is not None else web.Response(status=404)
