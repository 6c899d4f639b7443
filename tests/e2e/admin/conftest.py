"""The dashboard through the real app (``build_app`` as ``bongpheak serve`` runs it) on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bongpheak.app import Wiring, build_app, wire
from bongpheak.bootstrap import Database
from bongpheak.settings import Settings
from bots.web.admin.accounts import save_account
from bots.web.admin.models import Role
from tests.e2e.admin.html_page import Element, parse

NAME, PASSWORD = "sokha", "long enough pass phrase"
Client = TestClient[web.Request, web.Application]


@pytest.fixture
def wiring(engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession], tmp_path: Path) -> Wiring:
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    return wire(settings, Database(engine, session_factory))


@pytest.fixture
async def client(wiring: Wiring) -> AsyncIterator[Client]:
    async with TestClient(TestServer(build_app(wiring, None))) as test_client:
        yield test_client


@pytest.fixture
async def operator(session_factory: async_sessionmaker[AsyncSession]) -> str:
    await save_account(session_factory, NAME, Role.OPERATOR, PASSWORD)
    return NAME


async def page(client: Client, path: str, status: int = 200) -> Element:
    response = await client.get(path)
    assert response.status == status, await response.text()
    return parse(await response.text())


async def sign_in(client: Client, name: str = NAME, password: str = PASSWORD, status: int = 200) -> Element:
    """Fill in the sign-in form as a browser would (its CSRF field and cookie included)."""
    form = (await page(client, "/admin/sign-in")).find("form", id="sign-in")
    assert form is not None
    fields = form.form_fields() | {"name": name, "password": password}
    response = await client.post("/admin/sign-in", data=fields)
    assert response.status == status, await response.text()
    return parse(await response.text())


async def submit(client: Client, form: Element, **choices: str) -> tuple[int, Element]:
    """Send a form found on a page with some fields chosen (a pressed button is a field too)."""
    response = await client.post(form.attrs["action"], data=form.form_fields() | choices)
    return response.status, parse(await response.text())
