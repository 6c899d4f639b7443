"""Moderators: review queues with the screening's reasons, decisions, reports; everyone else is refused."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations.turn import DialogDeps
from jobs_core.model import Employer, Job, JobStatus, Report, ReportStatus, Verification
from jobs_core.services.jobs import SubmitJob, submit_job
from jobs_core.services.reports import ReportProblem, report_problem
from tests.builders import Builder
from tests.integration.conversations.conftest import MODERATOR, MODERATORS_GROUP, Chat


async def pending(build: Builder, **changes: object) -> int:
    build._phones += 1
    employer_id = await build.employer(external_id=f"p{build._phones}")
    job_id = await build.draft(employer_id, **changes)
    await submit_job(SubmitJob(job_id, employer_id, "employer"), build.uow())
    return job_id


async def test_non_moderators_are_refused(chat: Chat, build: Builder) -> None:
    job_id = await pending(build)
    await chat.start()
    for action in ("mod", "modq", "mode", "modr", f"mj:{job_id}:a", f"mj:{job_id}:r", "me:1:v", "mr:1:d"):
        await chat.act(action)
        assert "not allowed" in chat.text, action
    await chat.send("/mod")
    assert "not allowed" in chat.text
    assert "🛡 Moderation" not in [label for label in chat.labels()]


async def test_approve_with_the_screening_reasons_shown(
    deps: DialogDeps, build: Builder, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    job_id = await pending(
        build, description="Pay a deposit of $200 before starting. We keep your passport.", salary_amount="900"
    )
    moderator = Chat(deps, MODERATOR)
    await moderator.start()
    assert "🛡 Moderation" in moderator.labels()
    await moderator.send("/mod")
    await moderator.press("Jobs waiting for review")
    assert f"Job #{job_id} for review" in moderator.text
    assert "high risk" in moderator.text
    assert "asks workers to pay a fee or deposit" in moderator.text
    assert "keeps workers' ID cards or passports" in moderator.text
    await moderator.press("Approve")
    # High risk: a second, informed press, the reasons named again; nothing is published yet.
    assert f"Job #{job_id} is high risk" in moderator.text and "keeps workers' ID cards" in moderator.text
    async with session_factory() as session:
        job = await session.get(Job, job_id)
        assert job is not None and job.status is JobStatus.PENDING_REVIEW
    await moderator.press("Yes, publish it")
    assert f"Job #{job_id} approved" in moderator.text
    await moderator.act(f"mj:{job_id}:a")
    assert "already decided" in moderator.text
    async with session_factory() as session:
        job = await session.get(Job, job_id)
        assert job is not None and job.status is JobStatus.PUBLISHED


async def test_reject_and_request_changes_need_a_reason(
    deps: DialogDeps, build: Builder, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    first, second = await pending(build), await pending(build, title="Cooks")
    moderator = Chat(deps, MODERATOR)
    await moderator.start("km")
    await moderator.act(f"mj:{first}:r")
    assert "ហេតុអ្វី" in moderator.text
    await moderator.send(other_media=True)
    assert (await moderator.state()).step == "mod.job_reason"  # type: ignore[union-attr]
    await moderator.send("Fees charged to workers")
    await moderator.act(f"mj:{second}:c")
    await moderator.send("Please give the salary")
    async with session_factory() as session:
        a, b = await session.get(Job, first), await session.get(Job, second)
        assert a is not None and a.status is JobStatus.REJECTED and a.rejection_reason == "Fees charged to workers"
        assert b is not None and b.status is JobStatus.CHANGES_REQUESTED and b.change_note == "Please give the salary"


async def test_only_moderator_ids_decide_in_the_group_unless_every_member_is_allowed(
    deps: DialogDeps, build: Builder, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    from dataclasses import replace

    group_deps = replace(deps, moderators_chat_id=MODERATORS_GROUP)
    member = Chat(group_deps, "4242", chat_id=MODERATORS_GROUP, in_group=True)
    employer_id = await build.employer()
    await member.act(f"me:{employer_id}:v")
    assert "មិនអនុញ្ញាត" in member.text  # "not allowed", in Khmer until they choose
    await member.send("/mod")
    assert "មិនអនុញ្ញាត" in member.text
    async with session_factory() as session:
        employer = await session.get(Employer, employer_id)
        assert employer is not None and employer.verification is Verification.UNVERIFIED

    widened = Chat(replace(group_deps, moderators_all_members=True), "4242", chat_id=MODERATORS_GROUP, in_group=True)
    await widened.act("lang:en")
    await widened.send("/mod")
    await widened.press("Companies waiting")
    assert "Golden Thread Apparel" in widened.text and "023 880 112" in widened.text
    await widened.press("Reject")
    await widened.send("No such company at this address")
    async with session_factory() as session:
        employer = await session.get(Employer, employer_id)
        assert employer is not None and employer.verification is Verification.REJECTED
    # The same person outside the group is no moderator.
    outside = Chat(replace(group_deps, moderators_all_members=True), "4242")
    await outside.start()
    await outside.act("mode")
    assert "not allowed" in outside.text


async def test_verify_and_reports(
    deps: DialogDeps, build: Builder, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    employer_id = await build.employer()
    job_id = await build.published(employer_id)
    report_id = await report_problem(ReportProblem("cannot_leave", job_id=job_id, details="locked in"), build.uow())
    moderator = Chat(deps, MODERATOR)
    await moderator.start()
    await moderator.act("mode")
    await moderator.press("Verify")
    assert f"Company #{employer_id} verified" in moderator.text
    await moderator.act("modr")
    assert "Workers cannot leave" in moderator.text and "locked in" in moderator.text
    assert "hidden from browsing, alerts and calls" in moderator.text  # "cannot leave" suspends the job
    await moderator.press("Uphold")
    assert f"Report #{report_id} closed" in moderator.text
    await moderator.act("modr")
    assert "no open reports" in moderator.text
    async with session_factory() as session:
        report = await session.scalar(select(Report))
        assert report is not None and report.status is ReportStatus.RESOLVED
        employer = await session.get(Employer, employer_id)
        assert employer is not None and employer.verification is Verification.VERIFIED
        job = await session.get(Job, job_id)
        assert job is not None and job.status is JobStatus.REJECTED  # upheld: taken down


async def test_a_moderator_can_decide_from_a_review_card_without_starting_the_bot(
    deps: DialogDeps, build: Builder, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """The review card arrives in the moderators' group; pressing Approve there needs no /start first."""
    job_id = await pending(build)
    moderator = Chat(deps, MODERATOR)
    await moderator.act(f"mj:{job_id}:a")
    # Answered in the default language (Khmer): "job number N was approved and published".
    assert f"ការងារលេខ {job_id}" in moderator.text and "អនុម័ត" in moderator.text
    async with session_factory() as session:
        job = await session.get(Job, job_id)
        assert job is not None and job.status is JobStatus.PUBLISHED


async def test_a_reason_typed_after_another_moderator_decided_is_not_asked_for_again(
    deps: DialogDeps, build: Builder, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    from dataclasses import replace

    two = replace(deps, moderator_ids=frozenset({MODERATOR, "901"}))
    job_id = await pending(build)
    slow, quick = Chat(two, MODERATOR), Chat(two, "901")
    await slow.start()
    await slow.act(f"mj:{job_id}:r")
    await quick.act(f"mj:{job_id}:a")
    await slow.send("Fees charged to workers")
    assert f"Job #{job_id} was already decided: published." in slow.text
    assert (await slow.state()).step == "idle"  # type: ignore[union-attr]
    async with session_factory() as session:
        job = await session.get(Job, job_id)
        assert job is not None and job.status is JobStatus.PUBLISHED
