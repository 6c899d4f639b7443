"""A fresh, migrated database for one test session or benchmark run: on DATABASE_URL's server if set, else an
embedded one; dropped afterwards. Here, not under tests/, because the benchmarks (bench/) use it too and must
not depend on test code."""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from bongpheak.database import database_url
from bongpheak.migrate import upgrade


def _asyncpg_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


async def _admin(url: str, statement: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def fresh_database() -> Iterator[str]:
    """Yield the URL of a newly created, migrated database, dropped afterwards."""
    with (
        tempfile.TemporaryDirectory(prefix="bongpheak-scratch-") as data_dir,
        database_url(os.environ.get("DATABASE_URL"), Path(data_dir)) as server_url,
    ):
        name = f"bongpheak_test_{uuid.uuid4().hex[:12]}"  # the prefix tells a leftover from a real database
        asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
        url = _asyncpg_dsn(server_url, name)
        try:
            upgrade(url)
            yield url
        finally:
            asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
