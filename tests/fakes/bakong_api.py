"""A fake Bakong Open API: ``POST /v1/check_transaction_by_md5`` with a Bearer token, answering "not found"
(responseCode 1, errorCode 1) until a test posts the payment a bank app would make for a KHQR.

    async with FakeBakongAPI() as bakong:
        bakong.pay(khqr_payload)                     # a payer scanned the code and paid the amount in it
        BakongClient(bakong.base_url, bakong.token, "bongpheak@aclb")
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

NOT_FOUND = {
    "responseCode": 1,
    "responseMessage": "Transaction could not be found. Please check and try again.",
    "errorCode": 1,
    "data": None,
}


def _tags(payload: str) -> dict[str, str]:
    tags, at = {}, 0
    while at < len(payload):
        tag, length = payload[at : at + 2], int(payload[at + 2 : at + 4])
        tags[tag] = payload[at + 4 : at + 4 + length]
        at += 4 + length
    return tags


@dataclass
class FakeBakongAPI:
    token: str = "bakong-token"
    paid: dict[str, dict[str, Any]] = field(default_factory=dict)  # md5 → transaction
    checks: list[str] = field(default_factory=list)  # md5s asked about, in order
    down: bool = False  # answer 503 (Bakong in maintenance)

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def __aenter__(self) -> FakeBakongAPI:
        app = web.Application()
        app.router.add_post("/v1/check_transaction_by_md5", self._check)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def pay(self, khqr: str, from_account: str = "dara_sok@aclb", at_ms: int = 1773111600000) -> str:
        """A bank app paid this KHQR: the amount, currency and account in it. Returns the transaction hash."""
        tags = _tags(khqr)
        account = _tags(tags["29"])["00"]
        currency = {"840": "USD", "116": "KHR"}[tags["53"]]
        md5 = hashlib.md5(khqr.encode()).hexdigest()
        transaction_hash = hashlib.sha256(f"tx{next(self._ids)}{md5}".encode()).hexdigest()
        self.paid[md5] = {
            "hash": transaction_hash,
            "fromAccountId": from_account,
            "toAccountId": account,
            "currency": currency,
            "amount": float(tags["54"]),
            "description": "",
            "createdDateMs": at_ms,
            "acknowledgedDateMs": at_ms + 1500,
            "externalRef": tags.get("62", ""),
        }
        return transaction_hash

    async def _check(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response(
                {"responseCode": 1, "responseMessage": "Unauthorized", "errorCode": 6, "data": None}, status=401
            )
        if self.down:
            return web.json_response({"responseCode": 1, "responseMessage": "Maintenance", "errorCode": 99}, status=503)
        body = await request.json()
        md5 = str(body.get("md5", ""))
        self.checks.append(md5)
        if md5 not in self.paid:
            return web.json_response(NOT_FOUND)
        return web.json_response(
            {
                "responseCode": 0,
                "responseMessage": "Getting transaction successfully.",
                "errorCode": None,
                "data": self.paid[md5],
            }
        )
