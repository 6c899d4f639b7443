"""Pooled connections are checked before use only after sitting idle: a connection the database dropped while
it was idle is replaced unnoticed; one dropped while in use fails once, and the pool starts afresh."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bongpheak.database import async_url, ping_idle_connections


def pool_of_one(database_url: str, idle: float) -> AsyncEngine:
    engine = create_async_engine(async_url(database_url), pool_size=1, max_overflow=0)
    ping_idle_connections(engine, idle=idle)
    return engine


async def backend(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(text("SELECT pg_backend_pid()")) or 0)


async def kill(other: AsyncEngine, pid: int) -> None:
    async with other.connect() as connection:
        assert await connection.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


async def test_a_connection_dropped_while_idle_is_replaced_before_use(database_url: str) -> None:
    engine, other = pool_of_one(database_url, idle=0.0), pool_of_one(database_url, idle=0.0)
    try:
        first = await backend(engine)
        await kill(other, first)
        assert await backend(engine) != first  # no error: the dead connection was found and replaced
    finally:
        await engine.dispose()
        await other.dispose()


async def test_a_connection_in_use_a_moment_ago_is_not_pinged_and_a_drop_fails_once(database_url: str) -> None:
    engine, other = pool_of_one(database_url, idle=3600.0), pool_of_one(database_url, idle=0.0)
    try:
        first = await backend(engine)
        await kill(other, first)
        with pytest.raises(DBAPIError):
            await backend(engine)
        assert await backend(engine) != first  # the pool connected anew
    finally:
        await engine.dispose()
        await other.dispose()
