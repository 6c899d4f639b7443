"""The Twilio-compatible adapter of the voice provider port (Twilio, Somleng, SignalWire, the simulator)."""

from __future__ import annotations

import base64
import logging
import re
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from dialer.providers.base import OutboundCall, ProviderAccountRefused, ProviderCall, ProviderRejected
from dialer.settings import TWILIO_API_BASE_URL, DialerSettings

log = logging.getLogger(__name__)


# Refusals that say nothing about the worker's number: credentials, the account's state, our caller ID, our
# webhook address, the country's calling permission. Twilio's REST error codes, and Somleng's own (its
# ApplicationError codes: S1004-S1006, and Twilio's 30002 for a suspended account); any 401/403 counts too.
# Codes are compared as text: Somleng's are not numbers.
ACCOUNT_REFUSALS = {
    "10001": "account not active",
    "10002": "trial account does not support this",
    "20003": "authentication failed",
    "20005": "account not active",
    "20010": "action disabled for the account",
    "20403": "account suspended or closed",
    "21205": "our answer URL is not valid",
    "21210": "caller ID not verified",
    "21212": "invalid caller ID",
    "21213": "caller ID missing",
    "21215": "calls to this country not permitted (geo permissions)",
    "21219": "trial account: number not verified",
    "30002": "account suspended",
    "S1004": "the carrier is not in good standing",
    "S1005": "insufficient balance",
    "S1006": "the subscription for calls is disabled",
}
# Somleng answers 422 both for a request it cannot take (a malformed number) and for an account it will not
# serve (insufficient balance, a suspended or restricted account): only the latter pause placing; a code it
# may add later is caught by its message.
ACCOUNT_MESSAGE = re.compile(r"balance|credit|suspend|disabled|not active|account", re.IGNORECASE)
# How far back orphan recovery pages through the provider's calls (a page is 50 calls).
LIST_PAGE_SIZE = 50
LIST_MAX_PAGES = 20
# A worker's number inside a provider's message ("The 'To' number +855… is not valid") never reaches a log.
_NUMBER = re.compile(r"\+?\d[\d\s().-]{5,}\d")
# twilio's HTTP client logs each request at INFO in ~19 lines: the URL with its query (a worker's number when
# calls to it are listed), every header and the response headers. Its warnings are enough.
QUIET_LOGGERS = ("twilio.http_client", "twilio.async_http_client")


def describe(exc: BaseException) -> str:
    """A provider error for a log line (status, code and message), without any phone number in it."""
    if isinstance(exc, TwilioRestException):
        meaning = ACCOUNT_REFUSALS.get(str(exc.code))
        message = _NUMBER.sub("<number>", str(exc.msg or ""))[:160]
        return f"HTTP {exc.status}, code {exc.code}{f' ({meaning})' if meaning else ''}: {message}"
    return f"{type(exc).__name__}: {_NUMBER.sub('<number>', str(exc))[:160]}"


def account_refusal(exc: TwilioRestException) -> bool:
    """The refusal is about our account (credentials, caller ID, balance, geo permission), not this call."""
    if exc.status in (401, 403) or str(exc.code) in ACCOUNT_REFUSALS:
        return True
    return exc.status == 422 and bool(ACCOUNT_MESSAGE.search(str(exc.msg or "")))


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
        self.profile = settings.profile
        self.http = RebasedAsyncHttpClient(settings.api_base, timeout=settings.request_timeout)
        self.client = Client(settings.account_sid, settings.auth_token, http_client=self.http)
        # The client imports its API modules on first use (~0.1 s): do it now, not while the first call is sent.
        _ = self.client.calls

    async def create_call(self, call: OutboundCall) -> str:
        options: dict[str, Any] = {}
        # Somleng drops what it does not support without an error: ask only for what the provider does.
        if self.profile.progress_callbacks:
            options["status_callback_event"] = ["initiated", "ringing", "answered", "completed"]
        if self.profile.ring_timeout:
            options["timeout"] = call.timeout
        if call.machine_detection and self.profile.amd:
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
                **options,
            )
        except TwilioRestException as exc:
            if account_refusal(exc):
                raise ProviderAccountRefused(describe(exc)) from exc
            if 400 <= exc.status < 500 and exc.status not in (408, 429):
                raise ProviderRejected(describe(exc)) from exc
            raise
        return str(created.sid)

    async def calls_to(self, number: str, since: datetime) -> list[ProviderCall]:
        # Page back by date until a whole page is older than ``since``; the To filter is only a hint.
        found: list[ProviderCall] = []
        page = await self.client.calls.page_async(to=number, page_size=LIST_PAGE_SIZE)
        for _ in range(LIST_MAX_PAGES):
            calls = [_call(c) for c in page]
            found += [c for c in calls if c.to == number and c.created_at is not None and c.created_at >= since]
            if not calls or all(c.created_at is not None and c.created_at < since for c in calls):
                break
            page = await page.next_page_async()
            if page is None:
                break
        return sorted(found, key=lambda c: c.created_at or since, reverse=True)

    async def fetch(self, sid: str) -> ProviderCall | None:
        try:
            c = await self.client.calls(sid).fetch_async()
        except TwilioRestException as exc:
            if exc.status == 404:
                return None
            raise
        return _call(c)

    async def hang_up(self, sid: str) -> None:
        try:
            await self.client.calls(sid).update_async(status="completed")
        except TwilioRestException as exc:
            log.warning("hanging up %s failed: %s", sid, describe(exc))

    async def cancel(self, sid: str) -> bool:
        try:
            c = await self.client.calls(sid).update_async(status="canceled")
        except TwilioRestException as exc:
            log.warning("canceling %s failed: %s", sid, describe(exc))
            return False
        return str(c.status) == "canceled"

    async def close(self) -> None:
        await self.http.close()


def _call(c: Any) -> ProviderCall:
    return ProviderCall(str(c.sid), str(c.to), str(c.status), _as_datetime(c.date_created))


def _as_datetime(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        return parsedate_to_datetime(value)
    return None
