"""Alembic environment: async engine on asyncpg; the URL comes from the caller or DATABASE_URL."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

import bots.messenger.models
import bots.telegram.models
import bots.web.admin.models
import conversations.models
import dialer.models
from bongpheak.database import create_engine
from jobs_core.model import Base

# Every package's tables live on the domain's metadata; the imports above register them.
_ = (bots.messenger.models, bots.telegram.models, bots.web.admin.models, conversations.models, dialer.models)

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.attributes.get("url") or os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("alembic: set DATABASE_URL (or use `bongpheak db upgrade`, which starts a database)")
    return str(url)


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_engine(_url(), pool_size=1)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
