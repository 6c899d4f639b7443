"""Shared fixtures. Tests needing PostgreSQL ask for ``uow``/``session_factory``; others never start it."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import bots.messenger.models
import bots.telegram.models
import bots.web.admin.models
import conversations.models
import dialer.models
from bongpheak.database import create_engine
from bongpheak.database import session_factory as make_session_factory
from jobs_core.model import Base
from jobs_core.uow import UnitOfWork
from tests.builders import Builder
from tests.database import fresh_database

# Every package's tables are on Base.metadata once imported, so the truncation below empties them all.
_ = (bots.messenger.models, bots.telegram.models, bots.web.admin.models, conversations.models, dialer.models)

# Tables whose rows come from migrations and stay between tests.
REFERENCE_TABLES = {"sectors"}


class NetworkAccessForbidden(BaseException):
    """Derived from BaseException so no `except Exception` can swallow an un-faked call to the internet."""


@pytest.fixture(autouse=True)
def _no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only loopback and Unix sockets: every external service in the tests is a local fake."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            host = str(address[0]) if isinstance(address, tuple) else str(address)
            if not (host.startswith("127.") or host in ("localhost", "::1")):
                raise NetworkAccessForbidden(f"test tried to reach {address!r}")
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    with fresh_database() as url:
        yield url


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=5)
    yield engine
    await engine.dispose()


@pytest.fixture
async def session_factory(engine: AsyncEngine) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A session factory on an emptied database (reference tables kept)."""
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables if t.name not in REFERENCE_TABLES)
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield make_session_factory(engine)


@pytest.fixture
def now() -> datetime:
    """A fixed moment (a Tuesday, 10:00 in Phnom Penh) so date rules are repeatable."""
    return datetime(2026, 3, 10, 3, 0, tzinfo=UTC)


@pytest.fixture
def uow(session_factory: async_sessionmaker[AsyncSession], now: datetime) -> UnitOfWork:
    return UnitOfWork(session_factory, now=now)


@pytest.fixture
def build(session_factory: async_sessionmaker[AsyncSession], now: datetime) -> Builder:
    return Builder(session_factory, now)
