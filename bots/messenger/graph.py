"""The Graph API calls the Messenger adapter makes, over aiohttp: the Send API, attachment upload, the
Messenger profile (Get Started, persistent menu), and downloading a received attachment.

``base_url``: ``https://graph.facebook.com`` or a test fake speaking the same wire format; ``version``: the
Graph API version in the path (``v21.0``).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp

GRAPH_API = "https://graph.facebook.com"
DEFAULT_VERSION = "v21.0"
# Error codes (https://developers.facebook.com/docs/messenger-platform/error-codes).
BLOCKED = 551  # "This person isn't available right now": blocked the page or left Messenger
CALLS_EXCEEDED = 613
RATE_LIMITS = frozenset({4, 17, 32, 613})
OUTSIDE_WINDOW = 10  # with subcode 2018278: a message sent outside the allowed window
INVALID_ATTACHMENT = 100  # with an attachment id that no longer works (among other bad parameters)


class GraphError(Exception):
    """The Graph API refused a call; ``code`` and ``subcode`` say why, ``status`` is the HTTP status."""

    def __init__(self, status: int, code: int, subcode: int | None, message: str) -> None:
        super().__init__(f"({code}/{subcode}) {message}")
        self.status, self.code, self.subcode, self.message = status, code, subcode, message

    @property
    def blocked(self) -> bool:
        return self.code == BLOCKED

    @property
    def rate_limited(self) -> bool:
        return self.code in RATE_LIMITS or self.status == 429

    @property
    def passing(self) -> bool:
        """Worth retrying later: rate limits and the server's own trouble."""
        return self.rate_limited or self.status >= 500 or self.code in (1, 2)


class GraphClient:
    def __init__(
        self, page_token: str, *, base_url: str | None = None, version: str | None = None, timeout: float = 20.0
    ) -> None:
        self.page_token = page_token
        self.base = f"{(base_url or GRAPH_API).rstrip('/')}/{version or DEFAULT_VERSION}"
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def _post(
        self, path: str, *, json_body: dict[str, Any] | None = None, form: aiohttp.FormData | None = None
    ) -> dict[str, Any]:
        async with self.session.post(
            f"{self.base}/{path}", params={"access_token": self.page_token}, json=json_body, data=form
        ) as response:
            try:
                body = await response.json(content_type=None)
            except (ValueError, aiohttp.ContentTypeError):
                body = None
            if response.status >= 400 or not isinstance(body, dict) or "error" in body:
                error = body.get("error", {}) if isinstance(body, dict) else {}
                raise GraphError(
                    response.status,
                    int(error.get("code", 0) or 0),
                    error.get("error_subcode"),
                    str(error.get("message", f"HTTP {response.status}")),
                )
            return body

    async def send(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /me/messages (a message or a sender_action)."""
        return await self._post("me/messages", json_body=body)

    async def upload_audio(self, path: Path) -> str:
        """Upload an MP3 once, reusable: its attachment_id (POST /me/message_attachments)."""
        form = aiohttp.FormData()
        form.add_field("message", json.dumps({"attachment": {"type": "audio", "payload": {"is_reusable": True}}}))
        form.add_field(
            "filedata", await asyncio.to_thread(path.read_bytes), filename=path.name, content_type="audio/mpeg"
        )
        answer = await self._post("me/message_attachments", form=form)
        return str(answer["attachment_id"])

    async def upload_image(self, png: bytes, filename: str) -> str:
        """Upload a PNG (a KHQR code to pay with): its attachment_id (POST /me/message_attachments)."""
        form = aiohttp.FormData()
        # Reusable like the voice notes (the Graph API keeps it either way); each invoice has a code of its own.
        form.add_field("message", json.dumps({"attachment": {"type": "image", "payload": {"is_reusable": True}}}))
        form.add_field("filedata", png, filename=filename, content_type="image/png")
        answer = await self._post("me/message_attachments", form=form)
        return str(answer["attachment_id"])

    async def set_profile(self, body: dict[str, Any]) -> None:
        """POST /me/messenger_profile: Get Started and the persistent menu."""
        await self._post("me/messenger_profile", json_body=body)

    async def download(self, url: str, path: Path, *, limit: int = 25 * 1024 * 1024) -> None:
        """A received attachment's file (its ``payload.url``), at most ``limit`` bytes."""
        path.parent.mkdir(parents=True, exist_ok=True)
        async with self.session.get(url) as response:
            response.raise_for_status()
            data = await response.content.read(limit + 1)
        if len(data) > limit:
            raise ValueError("attachment too large")
        await asyncio.to_thread(path.write_bytes, data)
