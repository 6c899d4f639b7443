"""The provider account's alarm: when the provider refuses the account itself, placing pauses.

Bad credentials (HTTP 401/403, Twilio 20003), a suspended account (20005, 10001), a caller ID it will not use
(21210, 21212) refuse every call alike: marking each refused call failed would burn the whole queue in
seconds. Instead the refused call goes back to waiting (its try does not count), the alarm is raised (an
ERROR line, ``bongpheak_voice_placing_paused`` = 1) and claims stop. Every ``PROBE_EVERY`` one call is let
through to try the account again; the first the provider takes clears the alarm. The alarm is a database row,
so every dialer process pauses, and a restart with fixed settings resumes at the next probe.
"""

from __future__ import annotations

import enum
import logging
from datetime import datetime, timedelta

from prometheus_client import Counter, Gauge
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.models import DialerAccountAlarm
from jobs_core.services.calls import calls_paused, calls_resumed
from jobs_core.uow import SavepointUnitOfWork

log = logging.getLogger(__name__)

ALARM = "voice"
# How often one call tries the account again while the alarm is raised (one refused request, harmless).
PROBE_EVERY = timedelta(minutes=2)

PAUSED = Gauge(
    "bongpheak_voice_placing_paused", "1 while placing calls is paused because the provider refused the account"
)
REFUSALS = Counter(
    "bongpheak_voice_account_refusals_total", "Calls the provider refused because of the account, not the call"
)


class Gate(enum.Enum):
    OPEN = "open"
    PAUSED = "paused"
    PROBE = "probe"  # paused, but one call may try the account now


async def gate(session: AsyncSession, now: datetime) -> Gate:
    """May calls be claimed now? A PROBE is handed out once: the next one is ``PROBE_EVERY`` later."""
    alarm = await session.scalar(select(DialerAccountAlarm).where(DialerAccountAlarm.name == ALARM).with_for_update())
    if alarm is None:
        PAUSED.set(0)
        return Gate.OPEN
    PAUSED.set(1)
    if alarm.probe_at > now:
        return Gate.PAUSED
    alarm.probe_at = now + PROBE_EVERY
    return Gate.PROBE


async def raise_alarm(session: AsyncSession, reason: str, now: datetime) -> datetime:
    """Record a refusal of the account; returns when the next call may try it. Logs ERROR when newly raised."""
    probe_at = now + PROBE_EVERY
    reason = reason[:240]
    row = (
        await session.execute(
            insert(DialerAccountAlarm)
            .values(name=ALARM, reason=reason, raised_at=now, probe_at=probe_at, refusals=1)
            .on_conflict_do_update(
                index_elements=["name"],
                set_={"reason": reason, "refusals": DialerAccountAlarm.refusals + 1},
            )
            .returning(DialerAccountAlarm.refusals)
        )
    ).one()
    REFUSALS.inc()
    PAUSED.set(1)
    if row.refusals == 1:
        log.error("ALARM: the voice provider refused the account (%s): placing calls is paused", reason)
        # The moderators' chat hears of it (conversations/notifier.py), once per pause.
        calls_paused(SavepointUnitOfWork(session, now=now), reason)
    else:
        log.warning("the voice provider still refuses the account (%s); placing stays paused", reason)
    return probe_at


async def clear_alarm(sessions: async_sessionmaker[AsyncSession], now: datetime) -> None:
    """The provider took a call again: placing resumes."""
    async with sessions() as session, session.begin():
        cleared = await session.scalar(
            delete(DialerAccountAlarm).where(DialerAccountAlarm.name == ALARM).returning(DialerAccountAlarm.refusals)
        )
        if cleared is not None:
            calls_resumed(SavepointUnitOfWork(session, now=now), cleared)
    PAUSED.set(0)
    if cleared is not None:
        log.warning("the voice provider accepts the account again: placing calls resumed")
