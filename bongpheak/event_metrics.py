"""The event log's alarm in the metrics: events each consumer gave up on, read from the table at scrape time.

Read from PostgreSQL rather than counted in memory, so every serve process shows the same figure whichever
process dead-lettered the event, and the figure survives restarts. An alert on ``> 0`` (or on an increase)
goes with the message the moderators' chat already got.
"""

from __future__ import annotations

import asyncio
import logging

from prometheus_client import Gauge
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations.notifier import CONSUMER as NOTIFIER
from dialer.calls.scheduling import CONSUMER as SCHEDULER
from jobs_core.backoff import one_line
from jobs_core.event_log import dead_letters

log = logging.getLogger(__name__)

DEAD_LETTERED = Gauge(
    "bongpheak_events_dead_lettered",
    "Events a consumer gave up on after its last try (the moderators' chat was told of each)",
    ["consumer"],
)
CONSUMERS = (NOTIFIER, SCHEDULER)  # always shown, 0 included, so an alert rule has a series to watch
READ_WITHIN = 2.0  # seconds: a slow database must not hang the scrape


async def refresh_dead_letters(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Set the gauge from the table; on failure the last figures stay (the health check reports the database)."""
    try:
        async with asyncio.timeout(READ_WITHIN), sessions() as session:
            counts = await dead_letters(session)
    except Exception as error:
        log.warning("dead-lettered events not counted: %s", one_line(error))
        return
    for consumer in sorted({*CONSUMERS, *counts}):
        DEAD_LETTERED.labels(consumer).set(counts.get(consumer, 0))
