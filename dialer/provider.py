"""The voice provider port and its Twilio-compatible adapter (Twilio, Somleng, SignalWire, the simulator)."""

from __future__ import annotations

import base64
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from dialer.settings import TWILIO_API_BASE_URL, DialerSettings

log = logging.getLogger(__name__)


class ProviderRejected(Exception):
    """The provider refused the call for good (bad number, blocked destination): no point retrying."""


class ProviderAccountRefused(Exception):
    """The provider refused our account, not the call: every call would be refused alike until someone fixes it."""


# Refusals that say nothing about the worker's number: credentials, the account's state, our caller ID, our
# webhook address, the country's calling permission. (Twilio's REST error codes; any 401/403 counts too.)
ACCOUNT_REFUSALS = {
    10001: "account not active",
    10002: "trial account does not support this",
    20003: "authentication failed",
    20005: "account not active",
    20010: "action disabled for the account",
    20403: "account suspended or closed",
    21205: "our answer URL is not valid",
    21210: "caller ID not verified",
    21212: "invalid caller ID",
    21213: "caller ID missing",
    21215: "calls to this country not permitted (geo permissions)",
    21219: "trial account: number not verified",
}
# A worker's number inside a provider's message ("The 'To' number +855… is not valid") never reaches a log.
_NUMBER = re.compile(r"\+?\d[\d\s().-]{5,}\d")
# twilio's HTTP client logs each request at INFO in ~19 lines: the URL with its query (a worker's number when
# calls to it are listed), every header and the response headers. Its warnings are enough.
QUIET_LOGGERS = ("twilio.http_client", "twilio.async_http_client")


def describe(exc: BaseException) -> str:
    """A provider error for a log line (status, code and message), without any phone number in it."""
    if isinstance(exc, TwilioRestException):
        meaning = ACCOUNT_REFUSALS.get(exc.code or 0)
        message = _NUMBER.sub("<number>", str(exc.msg or ""))[:160]
        return f"HTTP {exc.status}, code {exc.code}{f' ({meaning})' if meaning else ''}: {message}"
    return f"{type(exc).__name__}: {_NUMBER.sub('<number>', str(exc))[:160]}"


@dataclass(frozen=True)
class OutboundCall:
    to: str
    from_: str
    url: str
    status_callback: str
    machine_detection: bool
    timeout: int = 30


@dataclass(frozen=True)
class ProviderCall:
    sid: str
    to: str
    status: str
    created_at: datetime | None


class VoiceProvider(Protocol):
    async def create_call(self, call: OutboundCall) -> str:
        """Ask the provider to place a call; returns its call SID."""
        ...

    async def calls_to(self, number: str) -> list[ProviderCall]:
        """Recent calls to a number, newest first (for recovering a placement whose SID was never stored)."""
        ...

    async def fetch(self, sid: str) -> ProviderCall | None:
        """The provider's call resource (its current status), or None when the provider does not know it."""
        ...

    async def hang_up(self, sid: str) -> None: ...

    async def close(self) -> None: ...


class RebasedAsyncHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]  # twilio ships no stubs
    """Twilio's async HTTP client, sending what it would send to api.twilio.com to another base URL."""

    def __init__(self, base_url: str, timeout: float | None = None) -> None:
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/")

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109  # the signature twilio's client calls
        allow_redirects: bool = False,
    ) -> Response:
        if url.startswith(TWILIO_API_BASE_URL):
            url = self.base_url + url[len(TWILIO_API_BASE_URL) :]
        headers = dict(headers or {})
        if auth is not None:
            # The same Basic credentials, as a header: aiohttp deprecates its BasicAuth helper.
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        return await super().request(method, url, params, data, headers, None, timeout or self.timeout, allow_redirects)


class TwilioProvider:
    """Calls through the twilio library's async client against any Twilio-compatible base URL."""

    def __init__(self, settings: DialerSettings) -> None:
        self.settings = settings
        self.http = RebasedAsyncHttpClient(settings.api_base, timeout=settings.request_timeout)
        self.client = Client(settings.account_sid, settings.auth_token, http_client=self.http)
        # The client imports its API modules on first use (~0.1 s): do it now, not while the first call is sent.
        _ = self.client.calls

    async def create_call(self, call: OutboundCall) -> str:
        options: dict[str, Any] = {}
        if call.machine_detection:
            options.update(
                machine_detection="Enable",
                async_amd="true",
                async_amd_status_callback=call.status_callback + "&amd=1",
                async_amd_status_callback_method="POST",
            )
        try:
            created = await self.client.calls.create_async(
                to=call.to,
                from_=call.from_,
                url=call.url,
                method="POST",
                status_callback=call.status_callback,
                status_callback_method="POST",
                status_callback_event=["initiated", "ringing", "answered", "completed"],
                timeout=call.timeout,
                **options,
            )
        except TwilioRestException as exc:
            if exc.status in (401, 403) or exc.code in ACCOUNT_REFUSALS:
                raise ProviderAccountRefused(describe(exc)) from exc
            if 400 <= exc.status < 500 and exc.status not in (408, 429):
                raise ProviderRejected(describe(exc)) from exc
            raise
        return str(created.sid)

    async def calls_to(self, number: str) -> list[ProviderCall]:
        found = await self.client.calls.list_async(to=number, limit=20)
        return [ProviderCall(str(c.sid), str(c.to), str(c.status), _as_datetime(c.date_created)) for c in found]

    async def fetch(self, sid: str) -> ProviderCall | None:
        try:
            c = await self.client.calls(sid).fetch_async()
        except TwilioRestException as exc:
            if exc.status == 404:
                return None
            raise
        return ProviderCall(str(c.sid), str(c.to), str(c.status), _as_datetime(c.date_created))

    async def hang_up(self, sid: str) -> None:
        try:
            await self.client.calls(sid).update_async(status="completed")
        except TwilioRestException as exc:
            log.warning("hanging up %s failed: %s", sid, describe(exc))

    async def close(self) -> None:
        await self.http.close()


def _as_datetime(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        return parsedate_to_datetime(value)
    return None
