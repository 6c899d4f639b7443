"""The Bakong Open API, as much of it as paid listings need: "was this KHQR paid?"

    POST {BAKONG_API_BASE_URL}/v1/check_transaction_by_md5   Authorization: Bearer {BAKONG_TOKEN}
    {"md5": "<the KHQR's md5>"}
    → {"responseCode": 0, "data": {"hash", "fromAccountId", "toAccountId", "currency", "amount",
                                   "createdDateMs", "acknowledgedDateMs", ...}}          paid
    → {"responseCode": 1, "errorCode": 1, "data": null}                                  not found (not paid)
    → {"responseCode": 1, "errorCode": 3, "data": null}                                  failed (not paid)

Our own aiohttp client, not the ``bakong-khqr`` library's: that one blocks the event loop (http.client) and
cannot be pointed at another address (a test fake, a sandbox).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal

import aiohttp

from jobs_core.model import Currency
from jobs_core.pricing import to_minor
from jobs_core.services.billing import SeenPayment

log = logging.getLogger(__name__)
BAKONG_API = "https://api-bakong.nbc.gov.kh"
NOT_PAID_ERRORS = (1, 3)  # not found, transaction failed


class BakongError(Exception):
    """Bakong could not answer (down, refused our token, said something unreadable): ask again later."""


class BakongClient:
    def __init__(self, base_url: str | None, token: str, merchant_account: str, timeout: float = 15) -> None:
        self.url = (base_url or BAKONG_API).rstrip("/") + "/v1/check_transaction_by_md5"
        self._token = token
        self._merchant = merchant_account
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def check(self, md5: str) -> SeenPayment | None:
        """The payment for this KHQR, or None while it is not paid; BakongError when Bakong cannot say."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        headers = {"Authorization": f"Bearer {self._token}"}
        try:
            async with self._session.post(self.url, json={"md5": md5}, headers=headers) as response:
                if response.status in (401, 403):
                    raise BakongError(f"Bakong refused BAKONG_TOKEN (HTTP {response.status})")
                if response.status >= 400:
                    raise BakongError(f"Bakong answered HTTP {response.status}")
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise BakongError(f"Bakong unreachable: {error!r}") from None
        if not isinstance(body, dict):
            raise BakongError("Bakong answered something that is not a JSON object")
        data = body.get("data")
        if body.get("responseCode") == 0 and isinstance(data, dict):
            return self._payment(data)
        if body.get("errorCode") in NOT_PAID_ERRORS:
            return None
        raise BakongError(f"Bakong said: {body.get('responseMessage') or body.get('errorCode')}")

    def _payment(self, data: dict[str, object]) -> SeenPayment:
        try:
            currency = Currency(str(data["currency"]))
            amount = to_minor(currency, Decimal(str(data["amount"])), "amount")
            at_ms = data.get("acknowledgedDateMs") or data.get("createdDateMs")
            paid_at = datetime.fromtimestamp(int(str(at_ms)) / 1000, UTC) if at_ms else datetime.now(UTC)
            ref = str(data["hash"])
        except (KeyError, ValueError) as error:
            raise BakongError(f"Bakong's transaction is unreadable: {error}") from None
        to = data.get("toAccountId")
        if to and to != self._merchant:
            raise BakongError(f"Bakong's transaction went to {to}, not to KHQR_MERCHANT_ACCOUNT")
        from_account = data.get("fromAccountId")
        return SeenPayment(ref, currency, amount, str(from_account) if from_account else None, paid_at)
