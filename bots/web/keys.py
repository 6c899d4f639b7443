"""The website's secrets, made on first use and kept in PostgreSQL so every serve process shares them (no
setting to forget): the CSRF key, and the visitor salt that is replaced on each new Phnom Penh day."""

from __future__ import annotations

import secrets
from datetime import date

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs_core.model import WebKey


class Keys:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._csrf: bytes | None = None
        self._salt: tuple[date, bytes] | None = None

    async def csrf(self) -> bytes:
        if self._csrf is None:
            self._csrf = await self._key("csrf", None)
        return self._csrf

    async def salt(self, today: date) -> bytes:
        """Today's salt; yesterday's is overwritten, so nobody can link its hashes to an address any more."""
        if self._salt is None or self._salt[0] != today:
            self._salt = (today, await self._key("visitor", today))
        return self._salt[1]

    async def _key(self, purpose: str, day: date | None) -> bytes:
        async with self._sessions() as session:
            statement = insert(WebKey).values(purpose=purpose, day=day, secret=secrets.token_bytes(32))
            if day is None:
                statement = statement.on_conflict_do_nothing(index_elements=["purpose"])
            else:
                # Only a key of an earlier day is replaced: two processes at midnight agree on one salt.
                statement = statement.on_conflict_do_update(
                    index_elements=["purpose"],
                    set_={"day": statement.excluded.day, "secret": statement.excluded.secret},
                    where=WebKey.day < statement.excluded.day,
                )
            await session.execute(statement)
            secret = await session.scalar(select(WebKey.secret).where(WebKey.purpose == purpose))
            await session.commit()
        assert secret is not None
        return bytes(secret)
