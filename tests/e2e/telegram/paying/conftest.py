"""What the Telegram tests of paid listings share: a fake Bakong API, the chats' dependencies with billing on,
the poller, and the webhook client. Each test module defines ``billing`` (its prices)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bongpheak.bakong import BakongClient
from bongpheak.payments import Payments
from bots.telegram import TelegramDeps, setup_telegram
from bots.telegram.dialog import conversation_dialog, conversation_preparer
from conversations.turn import DialogDeps
from jobs_core.khqr import Merchant
from jobs_core.services.billing import Billing
from jobs_core.uow import UnitOfWork
from tests.e2e.telegram.conftest import quick_pacer
from tests.e2e.telegram.test_flows import MODERATOR, MODERATORS_GROUP
from tests.fakes.bakong_api import FakeBakongAPI

Client = TestClient[web.Request, web.Application]
MERCHANT = Merchant("bongpheak@aclb", "Bong Pheak", "Phnom Penh")


@pytest.fixture
async def bakong() -> AsyncIterator[FakeBakongAPI]:
    async with FakeBakongAPI() as fake:
        yield fake


@pytest.fixture
def dialog_deps(session_factory: async_sessionmaker[AsyncSession], billing: Billing) -> DialogDeps:
    return DialogDeps(
        session_factory=session_factory,
        moderators_chat_id=str(MODERATORS_GROUP),
        moderator_ids=frozenset({str(MODERATOR)}),
        moderators_language="en",
        billing=billing,
    )


@pytest.fixture
async def payments(
    session_factory: async_sessionmaker[AsyncSession], bakong: FakeBakongAPI, billing: Billing
) -> AsyncIterator[Payments]:
    client = BakongClient(bakong.base_url, bakong.token, MERCHANT.account)
    yield Payments(lambda: UnitOfWork(session_factory), billing, client)
    await client.close()


@pytest.fixture
async def flow_client(deps: TelegramDeps, dialog_deps: DialogDeps) -> AsyncIterator[Client]:
    app = web.Application()
    dialog = conversation_dialog(dialog_deps)
    setup_telegram(app, replace(deps, dialog=dialog, prepare=conversation_preparer(dialog_deps), pacer=quick_pacer()))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client
