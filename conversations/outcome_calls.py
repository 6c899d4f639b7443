"""Outcomes a relative could not be told in chat, told to the worker by a short call instead.

The notifier names every row it queues after its event (``ev:<event id>:<channel>:<chat>``), so a row held
outside Messenger's 24-hour window leads back to what happened. When that is an application outcome worth a
call (``jobs_core.services.applications.OUTCOME_CALLS``) and the worker agreed to calls, the dialer is asked
to call the worker; the caller then closes the row ("went by a call"). See docs/messenger.md.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations.outbox import OutboxMessage
from jobs_core.model import Event
from jobs_core.services.applications import OUTCOME_CALLS, request_outcome_call
from jobs_core.uow import UnitOfWork

# The notifier's event kinds of the outcomes in OUTCOME_CALLS ("application.not_hired").
OUTCOME_EVENTS = frozenset(f"application.{status.value}" for status in OUTCOME_CALLS)
_EVENT_KEY = re.compile(r"ev:(\d{1,18}):")


def event_id(row: OutboxMessage) -> int | None:
    """The event a notifier's row was queued for; None for a reply to something the person did."""
    found = _EVENT_KEY.match(row.dedupe_key)
    return int(found.group(1)) if found else None


async def call_instead(
    sessions: async_sessionmaker[AsyncSession], row: OutboxMessage, relative_id: int, now: datetime
) -> bool:
    """Ask for the call that tells ``row``'s outcome to the worker; False when the row is no such outcome or
    no call may be made (the row then keeps waiting for the relative)."""
    found = event_id(row)
    if found is None:
        return False
    async with sessions() as session:
        event = await session.get(Event, found)
        await session.commit()
    if event is None or event.kind not in OUTCOME_EVENTS:
        return False
    application_id = (event.payload or {}).get("application_id")
    if not isinstance(application_id, int):
        return False
    return await request_outcome_call(UnitOfWork(sessions, now), application_id, relative_id)
