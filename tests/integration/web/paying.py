"""What the website's paying tests share: a site whose employers pay by KHQR against a fake Bakong API on a
clock the test moves, and posting a page's form as the browser would (its hidden fields, CSRF included)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bongpheak.bakong import BakongClient
from bongpheak.payments import Payments
from bots.web import setup_web
from bots.web.deps import WebDeps
from jobs_core.services.billing import Billing
from jobs_core.uow import UnitOfWork
from tests.builders import Builder
from tests.fakes.bakong_api import FakeBakongAPI
from tests.integration.web.support import Element, Site, open_site


class Clock:
    """The time the site and the payments poller see; a test moves it to expire a code."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@asynccontextmanager
async def paying_site(
    billing: Billing, session_factory: async_sessionmaker[AsyncSession], now: datetime, tmp_path: Path
) -> AsyncIterator[tuple[Site, FakeBakongAPI, Clock]]:
    """The website with paid listings on, "check payment" asking the fake Bakong at once."""
    clock = Clock(now)
    async with FakeBakongAPI() as bakong, open_site(session_factory, now, tmp_path) as plain:
        await plain.client.close()
        client = BakongClient(bakong.base_url, bakong.token, billing.merchant.account)
        payments = Payments(lambda: UnitOfWork(session_factory, now=clock.at), billing, client)
        deps = replace(plain.deps, billing=billing, clock=clock)
        app = web.Application()
        setup_web(app, WebDeps(deps, public_base_url="https://jobs.example.org", check_payment=payments.check_now))
        async with TestClient(TestServer(app)) as test_client:
            yield Site(test_client, Builder(session_factory, now), session_factory, deps), bakong, clock
        await client.close()


async def submit(site: Site, page: Element, cookie: str, **fields: str) -> web.StreamResponse:
    """Post the page's first form with its hidden fields and ``fields``, not following a redirect."""
    form = page.find("form")
    hidden = {i.attrs["name"]: i.attrs.get("value", "") for i in form.find_all("input", type="hidden")}
    return await site.client.post(
        form.attrs["action"], data={**hidden, **fields}, headers={"Cookie": cookie}, allow_redirects=False
    )
