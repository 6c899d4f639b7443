"""Migration 0009 carries each consumer's progress over: an upgraded deployment re-sends no alert and re-places
no call; downgrading gives the old bookkeeping back."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from alembic import command
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bongpheak.database import create_engine, session_factory
from bongpheak.migrate import alembic_config
from conversations.notifier import CONSUMER as NOTIFIER
from conversations.notifier import notify_once
from conversations.turn import DialogDeps
from dialer.calls.scheduling import CONSUMER as SCHEDULER
from dialer.calls.scheduling import consume_events
from dialer.settings import DialerSettings
from jobs_core.event_log import floor_of, is_handled
from jobs_core.model import Call, CallPurpose, CallRequest, Consent
from tests.database import fresh_database
from tests.integration.dialer.support import NOW, add_employer, add_job, add_worker, phone

T = TypeVar("T")


def _run(url: str, work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    async def go() -> T:
        engine = create_engine(url, pool_size=2)
        try:
            return await work(session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(go())


async def _people(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    """A job and a nominated worker, made with today's models (so before downgrading: their rows outlive it)."""
    job = await add_job(sessions, await add_employer(sessions))
    worker, nomination = await add_worker(sessions, phone(7), consent=Consent.PENDING)
    return {"worker": worker, "job": job, "nomination": nomination}


async def _history_at_0008(sessions: async_sessionmaker[AsyncSession], people: dict[str, Any]) -> dict[str, Any]:
    """Four events as the old code left them: the notifier's floor and handled rows, the dialer's cursor."""
    job, worker, nomination = people["job"], people["worker"], people["nomination"]
    ids = {}
    async with sessions() as session, session.begin():
        for name, kind, payload in (
            ("old", "job.published", {"job_id": job}),
            ("requested", "job.call_requested", {"job_id": job, "worker_id": worker, "nomination_id": nomination}),
            ("published", "job.published", {"job_id": job}),
            ("nominated", "worker.nominated", {"worker_id": worker, "nomination_id": nomination}),
        ):
            ids[name] = await session.scalar(
                text(
                    "INSERT INTO events (kind, payload, created_at, attempts) "
                    "VALUES (:kind, CAST(:payload AS jsonb), :at, 0) RETURNING id"
                ),
                {"kind": kind, "payload": json.dumps(payload), "at": NOW},
            )
        # The notifier: floor above "old", "requested" and "published" handled above it.
        await session.execute(text("INSERT INTO event_floors VALUES ('conversations', :id)"), {"id": ids["requested"]})
        for name in ("requested", "published"):
            await session.execute(
                text("INSERT INTO handled_events VALUES ('conversations', :id, :at, NULL)"),
                {"id": ids[name], "at": NOW},
            )
        # The dialer: cursor at "old", "requested" and "published" handled above it; "nominated" by nobody.
        await session.execute(text("INSERT INTO dialer_event_cursor VALUES ('dialer', :id)"), {"id": ids["old"]})
        for name in ("requested", "published"):
            await session.execute(
                text("INSERT INTO dialer_handled_events VALUES (:id, :at)"), {"id": ids[name], "at": NOW}
            )
    return {"ids": ids, "worker": worker, "job": job, "nomination": nomination}


def test_upgrading_carries_progress_over_and_downgrading_gives_it_back() -> None:
    with fresh_database() as url:
        people = _run(url, _people)
        command.downgrade(alembic_config(url), "0008")
        history = _run(url, lambda sessions: _history_at_0008(sessions, people))
        ids, worker = history["ids"], history["worker"]
        command.upgrade(alembic_config(url), "head")

        async def after_upgrade(sessions: async_sessionmaker[AsyncSession]) -> None:
            async with sessions() as session:
                for consumer in (NOTIFIER, SCHEDULER):
                    for name in ("old", "requested", "published"):
                        assert await is_handled(session, consumer, ids[name]), (consumer, name)
                assert not await is_handled(session, SCHEDULER, ids["nominated"])
                requests = (await session.scalars(select(CallRequest))).all()
                assert [(r.worker_id, r.job_id, r.nomination_id) for r in requests] == [
                    (worker, history["job"], history["nomination"])
                ]
            # Nothing handled before is handled again: no alert, no pitch; only the nomination's consent call.
            assert await notify_once(DialogDeps(session_factory=sessions, clock=lambda: NOW)) == 0
            assert await consume_events(sessions, DialerSettings(), NOW) == 1
            async with sessions() as session:
                calls = (await session.scalars(select(Call.purpose).where(Call.worker_id == worker))).all()
                assert list(calls) == [CallPurpose.CONSENT]
                assert await floor_of(session, SCHEDULER) == ids["old"] + 1

        _run(url, after_upgrade)
        command.downgrade(alembic_config(url), "0008")

        async def after_downgrade(sessions: async_sessionmaker[AsyncSession]) -> None:
            async with sessions() as session:
                cursor = await session.scalar(text("SELECT last_event_id FROM dialer_event_cursor"))
                handled = (await session.scalars(text("SELECT event_id FROM dialer_handled_events ORDER BY 1"))).all()
                notified = (await session.scalars(text("SELECT event_id FROM handled_events ORDER BY 1"))).all()
            assert cursor == ids["old"]
            assert list(handled) == [ids["requested"], ids["published"], ids["nominated"]]
            assert list(notified) == [ids["requested"], ids["published"]]

        _run(url, after_downgrade)
        command.upgrade(alembic_config(url), "head")
