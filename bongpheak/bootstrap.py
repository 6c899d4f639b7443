"""Opening the database for a command: start (or connect to) PostgreSQL, migrate, hand out units of work."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bongpheak.database import create_engine, database_url, session_factory, wait_for_database
from bongpheak.migrate import upgrade
from bongpheak.settings import Settings
from jobs_core.uow import UnitOfWork


@contextmanager
def running_database(settings: Settings, migrate: bool = True) -> Iterator[str]:
    """The database URL for this process, migrated to the newest schema; an embedded server lives as long.

    An unreachable database (after STARTUP_TIMEOUT seconds) or one that refuses us is a one-line CommandError.
    """
    with database_url(settings.database_url, settings.data_dir) as url:
        asyncio.run(wait_for_database(url, settings.startup_timeout))
        if migrate:
            upgrade(url)
        yield url


@dataclass
class Database:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions)


@asynccontextmanager
async def connect(url: str, pool_size: int = 10) -> AsyncIterator[Database]:
    engine = create_engine(url, pool_size=pool_size)
    try:
        yield Database(engine, session_factory(engine))
    finally:
        await engine.dispose()
