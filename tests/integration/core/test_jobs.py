"""Listings from draft to publication: validation, screening on submit, moderation races, expiry."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from jobs_core.errors import IllegalTransition, InvalidField, NotAllowed, NotFound
from jobs_core.model import AuditEntry, Decision, Event, Job, JobStatus, ModerationDecision
from jobs_core.services.jobs import (
    CloseJob,
    EditJob,
    ModerateJob,
    SubmitJob,
    close_job,
    edit_job,
    expire_jobs,
    live_jobs,
    live_jobs_page,
    moderate_job,
    submit_job,
)
from jobs_core.uow import UnitOfWork
from tests.builders import GARMENT_JOB, Builder


async def count(uow: UnitOfWork, model: type) -> int:
    async with uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_draft_keeps_every_field_typed_in_khmer_digits(build: Builder, uow: UnitOfWork) -> None:
    employer = await build.employer()
    job_id = await build.draft(
        employer,
        salary_amount="២១០",
        positions="២០",
        min_age="១៨",
        max_age="៤៥",
        days_per_week="៦",
        hours_start="០៧:០០",
        start_date="2026-04-01",
        district="Chbar Ampov",
    )
    async with uow:
        job = await uow.session.get(Job, job_id)
        assert job is not None
        assert (job.salary_amount, job.positions, job.min_age, job.max_age) == (Decimal("210.00"), 20, 18, 45)
        assert job.status is JobStatus.DRAFT and job.province_code == "12" and job.district_code is not None
        assert job.hours_start is not None and job.hours_start.hour == 7
        assert job.benefits == ["nssf", "overtime"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"salary_amount": "-5"}, "salary_amount"),
        ({"salary_amount": "2000000"}, "salary_amount"),
        ({"salary_amount": "lots"}, "salary_amount"),
        ({"salary_currency": "EUR"}, "salary_currency"),
        ({"province": "Atlantis"}, "province"),
        ({"district": "Nowhere"}, "district"),
        ({"title": "x" * 500}, "title"),
        ({"title": "  "}, "title"),
        ({"description": "y" * 5000}, "description"),
        ({"positions": "0"}, "positions"),
        ({"min_age": "40", "max_age": "20"}, "max_age"),
        ({"sector": "mining"}, "sector"),
        ({"benefits": ("pension",)}, "benefits"),
        ({"hours_start": "morning"}, "hours_start"),
        ({"gender": "robot"}, "gender"),
    ],
)
async def test_bad_input_names_the_field_and_writes_nothing(
    build: Builder, uow: UnitOfWork, changes: dict[str, object], field: str
) -> None:
    employer = await build.employer()
    audit_before = await count(uow, AuditEntry)
    with pytest.raises(InvalidField) as error:
        await build.draft(employer, **changes)
    assert error.value.field == field
    assert await count(uow, Job) == 0
    assert await count(uow, AuditEntry) == audit_before


async def test_submitting_screens_the_listing_and_queues_an_event(build: Builder, uow: UnitOfWork) -> None:
    employer = await build.employer()
    safe = await build.draft(employer)
    risk, reasons = await submit_job(SubmitJob(safe, employer, "employer"), uow)
    assert (risk, reasons) == ("low", ())
    risky = await build.draft(
        employer,
        title="Casino customer service",
        description="Poipet. No experience needed, high pay, free room and food.",
        province="Banteay Meanchey",
        salary_amount="1200",
        contact="telegram @vip_hr",
    )
    risk, reasons = await submit_job(SubmitJob(risky, employer, "employer"), uow)
    assert risk == "high" and reasons
    async with uow:
        job = await uow.session.get(Job, risky)
        assert job is not None and job.status is JobStatus.PENDING_REVIEW and job.risk == "high"
        kinds = (await uow.session.scalars(select(Event.kind))).all()
    assert kinds.count("job.submitted") == 2


async def test_high_risk_is_never_published_without_a_moderator(build: Builder, uow: UnitOfWork) -> None:
    employer = await build.employer()
    job_id = await build.draft(employer, description="Processing fee $150 paid before departure to Thailand.")
    await submit_job(SubmitJob(job_id, employer, "employer"), uow)
    assert await live_jobs(uow) == []
    status = await moderate_job(ModerateJob(job_id, "moderator:1", Decision.REJECT, "Fees charged to workers"), uow)
    assert status is JobStatus.REJECTED
    with pytest.raises(IllegalTransition):
        await moderate_job(ModerateJob(job_id, "moderator:2", Decision.APPROVE), uow)


async def test_rejection_and_changes_need_a_reason(build: Builder, uow: UnitOfWork) -> None:
    employer = await build.employer()
    job_id = await build.draft(employer)
    await submit_job(SubmitJob(job_id, employer, "employer"), uow)
    with pytest.raises(InvalidField):
        await moderate_job(ModerateJob(job_id, "moderator:1", Decision.REJECT, "  "), uow)


async def test_changes_requested_then_edited_and_resubmitted(build: Builder, uow: UnitOfWork) -> None:
    employer = await build.employer()
    job_id = await build.draft(employer)
    await submit_job(SubmitJob(job_id, employer, "employer"), uow)
    await moderate_job(ModerateJob(job_id, "moderator:1", Decision.REQUEST_CHANGES, "Say the working hours"), uow)
    await edit_job(EditJob(job_id, employer, GARMENT_JOB, "employer"), uow)
    await submit_job(SubmitJob(job_id, employer, "employer"), uow)
    status = await moderate_job(ModerateJob(job_id, "moderator:1", Decision.APPROVE), uow)
    assert status is JobStatus.PUBLISHED
    with pytest.raises(NotAllowed):
        await edit_job(EditJob(job_id, employer, GARMENT_JOB, "employer"), uow)


async def test_another_employer_cannot_touch_a_listing(build: Builder, uow: UnitOfWork) -> None:
    owner = await build.employer()
    other = await build.employer("Other Co.", external_id="5002")
    job_id = await build.published(owner)
    with pytest.raises(NotFound):
        await close_job(CloseJob(job_id, other, "employer", filled=True), uow)
    await close_job(CloseJob(job_id, owner, "employer", filled=True), uow)
    async with uow:
        job = await uow.session.get(Job, job_id)
        assert job is not None and job.status is JobStatus.FILLED


async def test_two_moderators_approving_at_once_record_one_decision(
    build: Builder, session_factory: object, now: datetime
) -> None:
    employer = await build.employer()
    job_id = await build.draft(employer)
    await submit_job(SubmitJob(job_id, employer, "employer"), build.uow())
    results = await asyncio.gather(
        moderate_job(ModerateJob(job_id, "moderator:1", Decision.APPROVE), build.uow()),
        moderate_job(ModerateJob(job_id, "moderator:2", Decision.APPROVE), build.uow()),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["IllegalTransition", "JobStatus"]
    async with build.uow() as uow:
        decisions = (await uow.session.scalars(select(ModerationDecision))).all()
        published = (await uow.session.scalars(select(Event).where(Event.kind == "job.published"))).all()
    assert len(decisions) == 1 and len(published) == 1


async def test_listings_expire_by_themselves(build: Builder, now: datetime) -> None:
    job_id = await build.published()
    assert [j.id for j in await live_jobs(build.uow())] == [job_id]
    later = now + timedelta(days=31)
    # Even before the sweeper runs, an expired listing is not shown.
    assert await live_jobs(build.uow(later)) == []
    assert await expire_jobs(build.uow(later)) == 1
    async with build.uow() as uow:
        job = await uow.session.get(Job, job_id)
        assert job is not None and job.status is JobStatus.EXPIRED
    assert await expire_jobs(build.uow(later)) == 0


async def test_browsing_is_newest_first_and_paged(build: Builder, now: datetime) -> None:
    employer = await build.employer()
    ids = []
    for hour in range(7):
        build.now = now + timedelta(hours=hour)
        ids.append(await build.published(employer, title=f"Job {hour}"))
    page1 = await live_jobs(build.uow(), limit=5)
    page2 = await live_jobs(build.uow(), offset=5, limit=5)
    assert [j.id for j in page1 + page2] == ids[::-1]
    assert await live_jobs(build.uow(), province_code="17") == []
    assert len(await live_jobs(build.uow(), sector_code="manufacturing", limit=10)) == 7


async def test_a_page_of_jobs_says_how_many_the_filters_match_in_all(build: Builder, now: datetime) -> None:
    employer = await build.employer()
    ids = []
    for hour in range(5):
        build.now = now + timedelta(hours=hour)
        ids.append(
            await build.published(employer, title=f"Job {hour}", province="Siem Reap" if hour < 2 else "Phnom Penh")
        )
    later = now + timedelta(days=400)  # every listing expired by then

    jobs, total = await live_jobs_page(build.uow(), offset=1, limit=2)
    assert ([j.id for j in jobs], total) == (ids[::-1][1:3], 5)
    jobs, total = await live_jobs_page(build.uow(), province_code="17", limit=1)
    assert ([j.id for j in jobs], total) == ([ids[1]], 2)
    assert await live_jobs_page(build.uow(), province_code="17", offset=2) == ([], 0)
    assert await live_jobs_page(build.uow(later)) == ([], 0)


@pytest.mark.parametrize(
    ("changes", "missing"),
    [
        ({"salary_amount": None}, "pay"),
        ({"hours_start": None, "hours_end": None}, "hours"),
        ({"description": ""}, "description"),
    ],
)
async def test_a_listing_without_pay_hours_place_or_description_is_not_sent_to_moderation(
    build: Builder, uow: UnitOfWork, changes: dict[str, object], missing: str
) -> None:
    employer = await build.employer()
    job_id = await build.draft(employer, **changes)
    events = await count(uow, Event)
    with pytest.raises(InvalidField) as refused:
        await submit_job(SubmitJob(job_id, employer, "employer"), uow)
    assert missing in refused.value.message
    async with uow:
        job = await uow.session.get(Job, job_id)
        assert job is not None and job.status is JobStatus.DRAFT and job.risk is None
    assert await count(uow, Event) == events
