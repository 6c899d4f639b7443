"""Reports protect first: a report of fees, kept documents or abuse takes the listing off browsing, alerts
and calls until a moderator decides; it is first in the moderators' queue; the reporter hears the outcome."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations.notifier import notify_once
from conversations.outbox import OutboxMessage
from conversations.turn import DialogDeps
from dialer.calls.placing import claim_due
from dialer.calls.scheduling import consume_events
from dialer.settings import DialerSettings
from jobs_core.errors import IllegalTransition, NotFound
from jobs_core.matching import eligible_workers, jobs_fitting_worker
from jobs_core.model import (
    Call,
    CallStatus,
    Decision,
    Job,
    JobStatus,
    Language,
    Relative,
    Report,
    ReportPriority,
    Worker,
)
from jobs_core.services.jobs import ModerateJob, live_jobs, moderate_job
from jobs_core.services.people import Subscribe, subscribe
from jobs_core.services.reports import DecideReport, ReportProblem, decide_report, open_reports, report_problem
from tests.builders import Builder
from tests.integration.conversations.conftest import MODERATOR, Chat


async def drain(deps: DialogDeps) -> None:
    while await notify_once(deps):
        pass


async def outbox_to(sessions: async_sessionmaker[AsyncSession], chat_id: str) -> list[OutboxMessage]:
    async with sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.chat_id == chat_id).order_by(OutboxMessage.id)
        )
        return list(rows.all())


async def status(sessions: async_sessionmaker[AsyncSession], job_id: int) -> JobStatus:
    async with sessions() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        return job.status


async def test_a_report_of_kept_documents_takes_the_job_off_browsing_alerts_and_calls_at_once(
    deps: DialogDeps, build: Builder, session_factory: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    job_id = await build.published()
    worker_id = await build.worker()
    subscriber = await build.relative("8101")
    await subscribe(Subscribe(relative_id=subscriber, province=None, sector=None), build.uow())
    reporter = await build.relative("8102")
    async with session_factory() as session:
        assert await eligible_workers(session, job_id, now) == [worker_id]  # it fits before the report

    report_id = await report_problem(
        ReportProblem("documents", job_id=job_id, details="they keep the ID cards", reporter_relative_id=reporter),
        build.uow(),
    )

    assert await status(session_factory, job_id) is JobStatus.SUSPENDED
    assert await live_jobs(build.uow()) == []
    async with session_factory() as session:
        assert await eligible_workers(session, job_id, now) == []
        worker = await session.get(Worker, worker_id)
        assert worker is not None
        assert (await session.scalars(select(Job.id).where(*jobs_fitting_worker(worker, now)))).all() == []
    # The publication is handled after the report: no alert goes out and nobody is called.
    await drain(deps)
    assert await outbox_to(session_factory, "8101") == []
    assert await consume_events(session_factory, DialerSettings(), now) > 0
    async with session_factory() as session:
        assert (await session.scalars(select(Call))).all() == []
    async with build.uow() as uow:
        [first] = await open_reports(uow)
    assert first.id == report_id and first.priority is ReportPriority.HIGH


async def test_alerts_waiting_for_the_morning_are_withheld_when_the_job_is_reported(
    deps: DialogDeps, build: Builder, session_factory: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    night = now.replace(hour=15)  # 22:00 in Phnom Penh: alerts wait until 07:00
    subscriber = await build.relative("8201")
    await subscribe(Subscribe(relative_id=subscriber, province=None, sector=None), build.uow())
    job_id = await build.published()
    await drain(replace(deps, clock=lambda: night))
    [alert] = await outbox_to(session_factory, "8201")
    assert alert.sent_at is None and alert.not_before > night and not alert.failed

    await report_problem(ReportProblem("fees", job_id=job_id), build.uow(night))
    await drain(replace(deps, clock=lambda: night))
    [alert] = await outbox_to(session_factory, "8201")
    assert alert.failed and alert.sent_at is None and "withheld" in (alert.error or "")


async def test_an_upheld_report_takes_the_job_down_and_the_reporter_hears_it_in_their_language(
    deps: DialogDeps, build: Builder, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    job_id = await build.published(await build.employer(external_id="5001"), title="Sewing machine operators")
    reporter = await build.relative("8301")
    async with session_factory() as session, session.begin():
        relative = await session.get(Relative, reporter)
        assert relative is not None
        relative.language = Language.KM
    report_id = await report_problem(ReportProblem("abuse", job_id=job_id, reporter_relative_id=reporter), build.uow())
    await drain(deps)
    moderator = Chat(deps, MODERATOR)
    await moderator.start()
    await moderator.act("modr")
    await moderator.press("Uphold")
    assert f"Report #{report_id} closed" in moderator.text
    assert await status(session_factory, job_id) is JobStatus.REJECTED
    await drain(deps)
    [told] = await outbox_to(session_factory, "8301")
    assert "បានដកការងារនេះចេញ" in told.payload["text"] and "Sewing machine operators" in told.payload["text"]
    # The employer hears of the take-down (in Khmer: no language chosen), not who reported it.
    assert any("ត្រូវបានដកចេញ" in str(m.payload.get("text")) for m in await outbox_to(session_factory, "5001"))


async def test_a_dismissed_report_leaves_the_job_hidden_while_another_such_report_is_open(
    build: Builder, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    job_id = await build.published()
    first = await report_problem(ReportProblem("fees", job_id=job_id), build.uow())
    second = await report_problem(ReportProblem("documents", job_id=job_id), build.uow())
    await decide_report(DecideReport(first, "moderator:1", uphold=False), build.uow())
    assert await status(session_factory, job_id) is JobStatus.SUSPENDED
    await decide_report(DecideReport(second, "moderator:1", uphold=False), build.uow())
    assert await status(session_factory, job_id) is JobStatus.PUBLISHED
    assert [job.id for job in await live_jobs(build.uow())] == [job_id]


async def test_other_reports_do_not_suspend_and_wait_behind_the_urgent_ones(build: Builder) -> None:
    job_id = await build.published(await build.employer(external_id="5001"))
    other_job = await build.published(await build.employer(external_id="5002"))
    wages = await report_problem(ReportProblem("unpaid", job_id=job_id), build.uow(build.now - timedelta(hours=1)))
    fees = await report_problem(ReportProblem("fees", job_id=other_job), build.uow())
    assert [job.id for job in await live_jobs(build.uow())] == [job_id]
    async with build.uow() as uow:
        assert [r.id for r in await open_reports(uow)] == [fees, wages]


async def test_a_relative_cannot_report_a_job_never_shown_to_them(
    build: Builder, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    employer_id = await build.employer()
    draft = await build.draft(employer_id)
    reporter = await build.relative("8401")
    for job_id in (draft, 424242):
        try:
            await report_problem(ReportProblem("fees", job_id=job_id, reporter_relative_id=reporter), build.uow())
        except NotFound as refused:
            assert refused.subject == "job"
        else:  # pragma: no cover - the assertion's message
            raise AssertionError(f"job {job_id} was reportable")
    async with session_factory() as session:
        assert (await session.scalars(select(Report))).all() == []


async def test_a_suspended_listing_cannot_be_approved_again_from_its_old_review_card(
    deps: DialogDeps, build: Builder, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    job_id = await build.published()
    await report_problem(ReportProblem("fees", job_id=job_id), build.uow())
    with pytest.raises(IllegalTransition):
        await moderate_job(ModerateJob(job_id, "moderator:1", Decision.APPROVE), build.uow())
    moderator = Chat(deps, MODERATOR)
    await moderator.start()
    await moderator.act(f"mj:{job_id}:a")
    assert "already decided: on hold while a report is checked" in moderator.text
    assert await status(session_factory, job_id) is JobStatus.SUSPENDED


async def test_a_dismissed_report_puts_back_the_pitches_and_alerts_the_suspension_held_back(
    deps: DialogDeps, build: Builder, session_factory: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    night = now.replace(hour=15)  # 22:00 in Phnom Penh: the alert waits until 07:00
    subscriber = await build.relative("8401")
    await subscribe(Subscribe(relative_id=subscriber, province=None, sector=None), build.uow())
    job_id = await build.published()
    worker_id = await build.worker()
    await drain(replace(deps, clock=lambda: night))
    settings = DialerSettings()
    await consume_events(session_factory, settings, now)  # the pitch call is scheduled
    report_id = await report_problem(ReportProblem("fees", job_id=job_id), build.uow(night))
    await drain(replace(deps, clock=lambda: night))
    # While suspended, the due pitch call is canceled before it rings.
    assert await claim_due(session_factory, settings, now, 10) == []
    async with session_factory() as session:
        [canceled] = (await session.scalars(select(Call))).all()
    assert canceled.status is CallStatus.CANCELED and canceled.attempts == 0

    await decide_report(DecideReport(report_id, "moderator:1", uphold=False), build.uow(night))
    await drain(replace(deps, clock=lambda: night))
    await consume_events(session_factory, settings, now)

    [alert] = await outbox_to(session_factory, "8401")
    assert not alert.failed and alert.error is None and alert.sent_at is None  # goes out at 07:00 after all
    async with session_factory() as session:
        calls = (await session.scalars(select(Call).where(Call.status == CallStatus.PENDING))).all()
    assert [(c.worker_id, c.job_ids) for c in calls] == [(worker_id, [job_id])]
