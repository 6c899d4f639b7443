"""The notifier: events become outbox rows once, for the right people; the outbox claim."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations.notifier import CONSUMER, NOTIFIER, notify_once
from conversations.outbox import URGENT, OutboxMessage, claim, enqueue, mark_failed, mark_sent
from conversations.replies import JobCard, Text, Voice
from conversations.turn import DialogDeps
from jobs_core.event_log import floor_of, is_handled
from jobs_core.model import Consent, Event, EventFloor, EventMark, Nomination
from jobs_core.services.applications import Apply, ApplyForFamily, apply, apply_for_family
from jobs_core.services.employers import DecideEmployer, decide_employer
from jobs_core.services.people import RecordConsent, Subscribe, record_consent, subscribe
from media.composer import PitchJob
from tests.builders import Builder
from tests.integration.conversations.conftest import MODERATOR, Chat


async def outbox(session_factory: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with session_factory() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


async def drain(deps: DialogDeps) -> int:
    total = 0
    while handled := await notify_once(deps):
        total += handled
    return total


async def test_publishing_alerts_subscribers_once_and_tells_the_employer(
    deps: DialogDeps, build: Builder, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    kandal = await build.relative("8001")
    anywhere = await build.relative("8002")
    elsewhere = await build.relative("8003")
    stopped = await build.relative("8004")
    await subscribe(Subscribe(kandal, "Phnom Penh", "manufacturing"), build.uow())
    await subscribe(Subscribe(anywhere, None, None), build.uow())
    await subscribe(Subscribe(elsewhere, "Siem Reap", None), build.uow())
    await subscribe(Subscribe(stopped, None, None), build.uow())
    stopper = Chat(deps, "8004")
    await stopper.start()
    await stopper.send("/stop")
    employer_id = await build.employer(external_id="5001")
    job_id = await build.published(employer_id)
    await drain(deps)
    rows = await outbox(session_factory)
    alerts = [r for r in rows if isinstance(r.reply, JobCard)]
    assert sorted(r.chat_id for r in alerts) == ["8001", "8002"]
    card = alerts[0].reply
    assert isinstance(card, JobCard) and card.job_id == job_id and card.voice is not None and "117" in card.text
    notices = [r for r in rows if r.chat_id == "5001"]
    assert any("is published" in r.reply.text or "ផ្សព្វផ្សាយ" in r.reply.text for r in notices)  # type: ignore[union-attr]
    moderators = [r for r in rows if r.chat_id == MODERATOR]
    assert moderators  # employer.registered and job.submitted
    count = len(rows)
    # Handling the same events again (as after a crash before the commit) queues nothing new.
    async with session_factory() as session:
        await session.execute(EventMark.__table__.delete())
        await session.execute(EventFloor.__table__.delete())
        await session.commit()
    assert await drain(deps) > 0
    assert len(await outbox(session_factory)) == count
    assert await notify_once(deps) == 0


async def test_applications_reach_the_employer_with_the_phone_and_the_relative_without(
    deps: DialogDeps, build: Builder, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    employer_id = await build.employer(external_id="5001")
    await decide_employer(DecideEmployer(employer_id, "moderator:1", verify=True), build.uow())
    job_id = await build.published(employer_id)
    relative_id = await build.relative("8001")
    worker_id = await build.worker(relative_id, phone="012 345 678", name="Sophea")
    await drain(deps)
    before = len(await outbox(session_factory))
    await apply_for_family(ApplyForFamily(job_id, worker_id, relative_id, "telegram"), build.uow())
    await drain(deps)
    # Awaiting the worker: nobody is told anything yet.
    assert (await outbox(session_factory))[before:] == []
    await apply(Apply(job_id, "ivr", worker_id=worker_id), build.uow())  # the worker's 1
    await drain(deps)
    rows = (await outbox(session_factory))[before:]
    to_employer = [r.reply.text for r in rows if r.chat_id == "5001"]  # type: ignore[union-attr]
    to_relative = [r.reply.text for r in rows if r.chat_id == "8001"]  # type: ignore[union-attr]
    assert len(to_employer) == 1 and "012 345 678" in to_employer[0] and "Sophea" in to_employer[0]
    assert len(to_relative) == 1 and "012 345 678" not in to_relative[0]
    assert all(r.chat_id in ("5001", "8001") for r in rows)


async def test_consent_and_call_outcomes_reach_the_nominating_relatives(
    deps: DialogDeps, build: Builder, session_factory: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    first, second = await build.relative("8001"), await build.relative("8002")
    worker_id = await build.worker(first, consent=None, phone="012 345 678", name="Sophea")
    await build.worker(second, consent=None, phone="012 345 678", name="Sophea")
    await drain(deps)
    before = len(await outbox(session_factory))
    await record_consent(RecordConsent(worker_id, Consent.CONSENTED, "ivr:1"), build.uow())
    async with session_factory() as session:
        nomination_id = await session.scalar(select(Nomination.id).where(Nomination.relative_id == first))
        session.add(
            Event(kind="call.missed", payload={"worker_id": worker_id, "nomination_id": nomination_id}, created_at=now)
        )
        session.add(Event(kind="checkin.alarm", payload={"worker_id": worker_id, "report_id": 7}, created_at=now))
        session.add(Event(kind="something.new", payload={}, created_at=now))
        await session.commit()
    await drain(deps)
    rows = (await outbox(session_factory))[before:]
    texts = {(r.chat_id, r.reply.text) for r in rows}  # type: ignore[union-attr]
    consented = [chat for chat, text in texts if "agreed to receive job calls" in text or "បានយល់ព្រម" in text]
    assert sorted(consented) == ["8001", "8002"]
    missed = [chat for chat, text in texts if "Sophea" in text and ("could not reach" in text or "មិនអាចទាក់ទង" in text)]
    assert missed == ["8001"]
    alarm = [r for r in rows if r.chat_id == MODERATOR]
    assert len(alarm) == 1 and alarm[0].priority == URGENT
    async with session_factory() as session:
        mine = (await session.scalars(select(Event.id).where(Event.kind.in_(NOTIFIER.kinds)))).all()
        assert mine and all([await is_handled(session, CONSUMER, event_id) for event_id in mine])


async def test_moderators_group_gets_the_review_card(deps: DialogDeps, build: Builder, session_factory) -> None:  # type: ignore[no-untyped-def]
    group = replace(deps, moderators_chat_id="-1001", moderators_language="en")
    await build.employer()
    await drain(group)
    rows = await outbox(session_factory)
    assert [r.chat_id for r in rows] == ["-1001"]
    reply = rows[0].reply
    assert isinstance(reply, Text) and "Golden Thread Apparel" in reply.text
    assert next(b.action for row in reply.buttons for b in row).startswith("me:")


async def test_outbox_enqueue_is_idempotent_and_claim_skips_locked_rows(
    session_factory: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    async with session_factory() as session, session.begin():
        assert await enqueue(session, "telegram", "1", Text("a"), "k1", now=now)
        assert not await enqueue(session, "telegram", "1", Text("again"), "k1", now=now)
        assert await enqueue(session, "telegram", "2", Text("urgent"), "k2", priority=URGENT, now=now)
        assert await enqueue(
            session, "telegram", "3", Text("later"), "k3", now=now, not_before=now + timedelta(hours=1)
        )
        assert await enqueue(session, "messenger", "4", Text("other channel"), "k4", now=now)
    async with session_factory() as first, first.begin():
        claimed = await claim(first, "telegram", limit=1, now=now)
        assert [m.dedupe_key for m in claimed] == ["k2"]
        async with session_factory() as second, second.begin():
            assert [m.dedupe_key for m in await claim(second, "telegram", now=now)] == ["k1"]
        mark_sent(claimed[0], now)
    async with session_factory() as session, session.begin():
        (row,) = await claim(session, "telegram", now=now)
        mark_failed(row, "429", retry_after=timedelta(seconds=30), at=now)
    async with session_factory() as session, session.begin():
        assert await claim(session, "telegram", now=now) == []
        assert [m.dedupe_key for m in await claim(session, "telegram", now=now + timedelta(hours=2))] == ["k1", "k3"]


async def test_the_floor_rises_over_settled_handled_events_only(
    deps: DialogDeps, session_factory: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    # Suspending job 0 changes nothing: handled at once. Kinds the notifier does not know are passed by.
    async with session_factory() as session:
        old = [
            Event(kind="job.suspended", payload={"job_id": 0}, created_at=now - timedelta(hours=1)) for _ in range(3)
        ]
        unknown = Event(kind="something.old", payload={}, created_at=now - timedelta(hours=1))
        recent = Event(kind="job.suspended", payload={"job_id": 0}, created_at=now)
        session.add_all([*old, unknown, recent])
        await session.commit()
        ids = [e.id for e in (*old, unknown, recent)]
    assert await notify_once(deps) == 4
    async with session_factory() as session:
        assert await floor_of(session, CONSUMER) == ids[4]  # the recent one may still have company in flight
    later = replace(deps, clock=lambda: now + timedelta(hours=1))
    async with session_factory() as session:
        session.add(Event(kind="job.suspended", payload={"job_id": 0}, created_at=now + timedelta(hours=1)))
        await session.commit()
    assert await notify_once(later) == 1
    async with session_factory() as session:
        assert await floor_of(session, CONSUMER) == ids[4] + 1
        # The handled marks below the floor are forgotten; the floor says it all.
        marks = (await session.scalars(select(EventMark.event_id).where(EventMark.consumer == CONSUMER))).all()
    assert list(marks) == [ids[4] + 1]
    idle = replace(deps, clock=lambda: now + timedelta(hours=2))  # nothing to do: the floor still rises
    assert await notify_once(idle) == 0
    async with session_factory() as session:
        assert await floor_of(session, CONSUMER) == ids[4] + 2


async def test_publishing_renders_the_voice_notes_in_both_languages_even_without_subscribers(
    deps: DialogDeps, build: Builder
) -> None:
    """Rendered at publication, so no alert, browse or share later waits for ffmpeg."""
    rendered: list[tuple[str, str | None]] = []

    async def recording_audio(job: PitchJob, language: str) -> Voice:
        rendered.append((language, job.province_code))
        return Voice(audio_id=f"{language}-{job.sector}", ogg=None, mp3=None)

    await build.published(province="Kampot")
    await drain(replace(deps, audio=recording_audio))
    # Publication renders both languages; the moderators' review card (Khmer) comes with the same pitch (the
    # job has no recording of its own), rendered once for both.
    assert sorted(rendered) == [("en", "07"), ("km", "07")]


async def test_an_unreachable_number_reaches_its_relatives_and_a_voice_pause_the_moderators(
    deps: DialogDeps, build: Builder, session_factory: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    first, second = await build.relative("8001"), await build.relative("8002")
    worker_id = await build.worker(first, consent=None, phone="012 345 679", name="Dara")
    await build.worker(second, consent=None, phone="012 345 679", name="Dara")
    await drain(deps)
    before = len(await outbox(session_factory))
    async with session_factory() as session:
        session.add(Event(kind="call.unreachable", payload={"worker_id": worker_id}, created_at=now))
        session.add(Event(kind="voice.paused", payload={"reason": "HTTP 422: insufficient balance"}, created_at=now))
        session.add(Event(kind="voice.resumed", payload={"refusals": 3}, created_at=now))
        await session.commit()
    await drain(deps)
    rows = (await outbox(session_factory))[before:]
    told = sorted(r.chat_id for r in rows if "Dara" in r.reply.text)  # type: ignore[union-attr]
    assert told == ["8001", "8002"]
    moderators = [r for r in rows if r.chat_id == MODERATOR]
    assert len(moderators) == 2 and "insufficient balance" in moderators[0].reply.text  # type: ignore[union-attr]
    assert moderators[0].priority == URGENT
