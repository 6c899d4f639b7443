"""One dialer process places calls at a time, so its pacing is exact whatever the number of dialers.

The provider's calls-per-second is one budget for the whole account. Every dialer process schedules, settles
and recovers; only the holder of a PostgreSQL session-level advisory lock, held on a connection of its own,
claims and places calls. The lock dies with the process or its connection, so when the placer is killed
another dialer takes over within a poll interval. The new placer starts no sooner than one window after it
got the lock: the old placer's requests were all answered, cut off or sent before it lost the lock.
"""

from __future__ import annotations

import logging
import zlib

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

PLACER_LOCK = zlib.crc32(b"bongpheak.dialer.calls.placer")


class PlacerLock:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.connection: AsyncConnection | None = None
        self.held = False

    async def hold(self) -> bool:
        """True while this process may place calls; tries to take the lock when it does not hold it.

        Raises when the database cannot be reached; the lock is then lost (its connection is dropped).
        """
        try:
            if self.connection is None:
                self.connection = await self.engine.connect()
                await self.connection.execution_options(isolation_level="AUTOCOMMIT")
            if self.held:
                # The lock lives as long as its connection: a round trip proves both.
                await self.connection.execute(text("SELECT 1"))
                return True
            self.held = bool(
                await self.connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": PLACER_LOCK})
            )
            if self.held:
                log.info("this dialer now places the calls")
            return self.held
        except Exception:
            await self.release()
            raise

    async def release(self) -> None:
        connection, self.connection, was_held = self.connection, None, self.held
        self.held = False
        if connection is None:
            return
        try:
            if was_held:
                await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": PLACER_LOCK})
        except Exception as exc:  # the connection is gone, and the lock with it
            log.warning("releasing the placer lock: %s", exc)
        finally:
            try:
                await connection.close()
            except Exception as exc:
                log.warning("closing the placer lock's connection: %s", exc)
