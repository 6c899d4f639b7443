"""What the event log means for people: a consumer giving up reaches the moderators' chat and the metrics;
voice notes are rendered before the notifier's claim, never while a transaction is open."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bongpheak.app import DB, metrics
from bongpheak.bootstrap import Database
from conversations.notifier import notify_once
from conversations.outbox import URGENT, OutboxMessage
from conversations.replies import JobCard, Text, Voice
from conversations.turn import DialogDeps
from dialer.calls import scheduling
from dialer.calls.scheduling import consume_events
from dialer.settings import DialerSettings
from jobs_core.event_log import MAX_ATTEMPTS
from jobs_core.model import Event
from jobs_core.services.people import Subscribe, subscribe
from media.composer import PitchJob
from tests.builders import Builder
from tests.integration.conversations.conftest import MODERATOR
from tests.integration.dialer.support import add_employer, add_job

OPEN_TRANSACTIONS = text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
    "AND backend_type = 'client backend' AND xact_start IS NOT NULL"
)


async def _scrape(engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> str:
    app = web.Application()
    app[DB] = Database(engine, sessions)
    app.router.add_get("/metrics", metrics)
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/metrics")
        assert response.status == 200
        return await response.text()


def _gauge(scraped: str, consumer: str) -> float:
    prefix = f'bongpheak_events_dead_lettered{{consumer="{consumer}"}} '
    [line] = [line for line in scraped.splitlines() if line.startswith(prefix)]
    return float(line.removeprefix(prefix))


async def test_an_event_the_dialer_gives_up_on_reaches_the_moderators_and_the_metrics(
    deps: DialogDeps,
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    now: datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(*args: object, **kwargs: object) -> int:
        raise RuntimeError("calls table is read-only")

    monkeypatch.setattr(scheduling, "schedule_job", broken)
    job = await add_job(session_factory, await add_employer(session_factory))
    async with session_factory() as session, session.begin():
        published = Event(kind="job.published", payload={"job_id": job}, created_at=now)
        session.add(published)
    assert _gauge(await _scrape(engine, session_factory), "dialer") == 0
    at = now
    for _ in range(MAX_ATTEMPTS):
        assert await consume_events(session_factory, DialerSettings(), at) == 1
        at += timedelta(hours=2)  # past any backoff
    assert await consume_events(session_factory, DialerSettings(), at) == 0  # given up: no ninth try
    while await notify_once(replace(deps, clock=lambda: at)):
        pass
    async with session_factory() as session:
        rows = (await session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == MODERATOR))).all()
    [alarm] = [r for r in rows if isinstance(r.reply, Text) and "job.published" in r.reply.text]
    assert alarm.priority == URGENT
    assert f"#{published.id}" in alarm.reply.text and "dialer" in alarm.reply.text  # type: ignore[union-attr]
    assert "calls table is read-only" in alarm.reply.text  # type: ignore[union-attr]
    scraped = await _scrape(engine, session_factory)
    assert _gauge(scraped, "dialer") == 1 and _gauge(scraped, "conversations") == 0


async def test_voice_notes_are_rendered_before_the_claim_with_no_transaction_open(
    deps: DialogDeps, build: Builder, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    open_while_rendering: list[int] = []

    async def probing_audio(job: PitchJob, language: str) -> Voice:
        async with session_factory() as probe:  # another connection: does any other hold a transaction open?
            open_while_rendering.append(int(await probe.scalar(OPEN_TRANSACTIONS) or 0))
        return Voice(audio_id=f"{language}-{job.sector}", ogg=None, mp3=None)

    async with session_factory() as held, held.begin():  # the probe sees an open transaction when there is one
        await held.execute(text("SELECT 1"))
        await probing_audio(PitchJob(sector="manufacturing"), "km")
    assert open_while_rendering == [1]
    open_while_rendering.clear()

    relative = await build.relative("8001")
    await subscribe(Subscribe(relative, None, None), build.uow())
    await build.published(province="Kampot")
    while await notify_once(replace(deps, audio=probing_audio)):
        pass
    assert len(open_while_rendering) == 2  # the pitch in both languages, once for the whole batch
    assert open_while_rendering == [0, 0]
    async with session_factory() as session:
        rows = (await session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == "8001"))).all()
    [card] = [r.reply for r in rows if isinstance(r.reply, JobCard)]
    assert isinstance(card, JobCard) and card.voice is not None  # the claim found the rendered note
