"""The Messenger adapter through HTTP: our webhook routes on a TestServer, the adapter's Graph client against
the fake Graph API, PostgreSQL for the rest. Events are processed and the outbox sent by ``MessengerPage.settle``
(the background loops are off, so a test sees exactly what one round does)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.messenger import GraphClient, MessengerDeps, MessengerSender, setup_messenger
from bots.messenger.webhook import PROCESSOR, SIGNATURE_HEADER, WEBHOOK_PATH
from conversations.replies import Button, Incoming, JobCard, Reply, Text, Voice
from jobs_core.model.base import utcnow
from jobs_core.services.people import relative_for
from jobs_core.uow import UnitOfWork
from tests.fakes.messenger_api import VERSION, FakeGraphAPI, Send

APP_SECRET = "app-secret-for-tests"
VERIFY_TOKEN = "verify-me"
PAGE_ID = "1122334455"
Client = TestClient[web.Request, web.Application]
_ids = itertools.count(1)


@dataclass
class Clock:
    at: datetime = field(default_factory=utcnow)

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@dataclass
class StandInDialog:
    """Records what came in, writes the relative (so 551 has someone to mark), answers predictably."""

    voice: Voice
    seen: list[Incoming] = field(default_factory=list)

    async def __call__(self, incoming: Incoming, sessions: async_sessionmaker[AsyncSession]) -> Sequence[Reply]:
        self.seen.append(incoming)
        async with UnitOfWork(sessions) as uow:
            await relative_for(uow, "messenger", incoming.user_id, name=incoming.user_name)
            await uow.commit()
        text = incoming.text or ""
        if text == "boom":
            raise RuntimeError("the dialog broke")
        if incoming.action == "jobs":
            card = JobCard(7, "Sewing machine operators\n$210/month, Phnom Penh", self.voice)
            buttons = ((Button("📤 Share", "job:7:share", kind="share"), Button("Apply", "job:7:apply")),)
            return [card, JobCard(8, "Security guards", None, buttons)]
        if text == "long":
            return [Text("ក" * 4500)]
        if text == "many":
            return [Text("Choose:", tuple((Button(f"Province number {n} of the list", f"p:{n}"),) for n in range(16)))]
        if incoming.voice is not None:
            return [Text(f"Got your recording ({incoming.voice.stat().st_size} bytes)")]
        if incoming.contact_phone:
            return [Text(f"Thanks, {incoming.contact_phone}")]
        return [Text(f"You said: {text or incoming.action}", ((Button("🔎 Jobs", "jobs"),),))]


@pytest.fixture
async def graph_api() -> AsyncIterator[FakeGraphAPI]:
    async with FakeGraphAPI() as api:
        yield api


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def voice(tmp_path: Path) -> Voice:
    mp3 = tmp_path / "job-7.mp3"
    mp3.write_bytes(b"ID3\x03" + b"mp3-job-7" * 50)
    return Voice("audio-job-7", None, mp3)


@pytest.fixture
def dialog(voice: Voice) -> StandInDialog:
    return StandInDialog(voice)


@pytest.fixture
async def deps(
    graph_api: FakeGraphAPI,
    session_factory: async_sessionmaker[AsyncSession],
    dialog: StandInDialog,
    clock: Clock,
    tmp_path: Path,
) -> AsyncIterator[MessengerDeps]:
    graph = GraphClient(graph_api.token, base_url=graph_api.base_url, version=VERSION)
    yield MessengerDeps(
        graph=graph,
        session_factory=session_factory,
        dialog=dialog,
        app_secret=APP_SECRET,
        verify_token=VERIFY_TOKEN,
        page_id=PAGE_ID,
        download_dir=tmp_path / "downloads",
        clock=clock,
    )
    await graph.close()


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def stamp(offset_ms: int = 0) -> int:
    """An event timestamp (ms) of now, give or take: each call a little later than the one before."""
    return int(utcnow().timestamp() * 1000) + offset_ms + next(_ids)


def message_event(psid: str, text: str | None = None, *, at: int | None = None, **message: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"mid": f"m_{next(_ids)}", **message}
    if text is not None:
        body["text"] = text
    return {
        "sender": {"id": psid},
        "recipient": {"id": PAGE_ID},
        "timestamp": at if at is not None else stamp(),
        "message": body,
    }


def postback_event(psid: str, payload: str, title: str = "", **extra: Any) -> dict[str, Any]:
    return {
        "sender": {"id": psid},
        "recipient": {"id": PAGE_ID},
        "timestamp": stamp(),
        "postback": {"mid": f"pb_{next(_ids)}", "title": title, "payload": payload, **extra},
    }


def page_body(*events: dict[str, Any]) -> dict[str, Any]:
    return {"object": "page", "entry": [{"id": PAGE_ID, "time": 1, "messaging": [e]} for e in events]}


class MessengerPage:
    """The page as a serve process runs it, with the event loop and the sender driven by the test."""

    def __init__(self, client: Client, deps: MessengerDeps, api: FakeGraphAPI) -> None:
        self.client, self.deps, self.api = client, deps, api
        self.sender = MessengerSender(deps)

    async def post(self, body: dict[str, Any], *, signature: str | None = "valid", settle: bool = True) -> int:
        raw = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if signature == "valid":
            headers[SIGNATURE_HEADER] = sign(raw)
        elif signature is not None:
            headers[SIGNATURE_HEADER] = signature
        response = await self.client.post(WEBHOOK_PATH, data=raw, headers=headers)
        await response.read()
        if response.status == 200 and settle:
            await self.settle()
        return response.status

    async def settle(self) -> None:
        await self.client.server.app[PROCESSOR].drain()
        await self.sender.drain()


@pytest.fixture
async def page(deps: MessengerDeps, graph_api: FakeGraphAPI) -> AsyncIterator[MessengerPage]:
    app = web.Application()
    setup_messenger(app, deps, background=False)
    async with TestClient(TestServer(app)) as client:
        yield MessengerPage(client, deps, graph_api)


__all__ = ["Send"]
