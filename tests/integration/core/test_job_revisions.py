"""Editing a published listing: the edit is a revision waiting for review; the public version stays until it
is approved, then takes the revision's facts and keeps its id, place and applications."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import select

from jobs_core.errors import IllegalTransition, NotAllowed, NotFound
from jobs_core.model import Decision, Event, Job, JobStatus
from jobs_core.services.jobs import (
    CloseJob,
    EditJob,
    ModerateJob,
    ReviseJob,
    SubmitJob,
    close_job,
    edit_job,
    live_jobs,
    moderate_job,
    revise_job,
    submit_job,
)
from tests.builders import GARMENT_JOB, Builder


async def _revised(build: Builder, employer: int, job_id: int, **changes: object) -> int:
    revision = await revise_job(ReviseJob(job_id, employer, "employer"), build.uow())
    await edit_job(EditJob(revision, employer, replace(GARMENT_JOB, **changes), "employer"), build.uow())  # type: ignore[arg-type]
    await submit_job(SubmitJob(revision, employer, "employer"), build.uow())
    return revision


async def _job(build: Builder, job_id: int) -> Job:
    async with build.uow() as uow:
        job = await uow.session.get(Job, job_id)
        assert job is not None
        return job


async def test_the_public_version_stays_until_the_edit_is_approved(build: Builder) -> None:
    employer = await build.employer()
    job_id = await build.published(employer)
    revision = await _revised(build, employer, job_id, salary_amount="260", title="Sewing operators")
    async with build.uow() as uow:
        live = await live_jobs(uow)
    assert [(j.id, j.salary_amount, j.title) for j in live] == [(job_id, Decimal(210), GARMENT_JOB.title)]
    # A second edit while the first waits is refused.
    with pytest.raises(NotAllowed):
        await revise_job(ReviseJob(job_id, employer, "employer"), build.uow())

    assert await moderate_job(ModerateJob(revision, "moderator:1", Decision.APPROVE), build.uow()) is (
        JobStatus.PUBLISHED
    )
    public, closed = await _job(build, job_id), await _job(build, revision)
    assert (public.status, public.salary_amount) == (JobStatus.PUBLISHED, Decimal(260))
    assert public.title == "Sewing operators"
    assert closed.status is JobStatus.WITHDRAWN and closed.published_at is None
    async with build.uow() as uow:
        events = [(e.kind, (e.payload or {}).get("job_id")) for e in await uow.session.scalars(select(Event))]
    assert events[-1] == ("job.revised", job_id)
    assert [kind for kind, _ in events].count("job.published") == 1  # subscribers are not alerted again


async def test_changes_asked_for_an_edit_reuse_that_revision_and_a_rejected_edit_leaves_the_listing(
    build: Builder,
) -> None:
    employer = await build.employer()
    job_id = await build.published(employer)
    revision = await _revised(build, employer, job_id, salary_amount="9999")
    await moderate_job(ModerateJob(revision, "moderator:1", Decision.REQUEST_CHANGES, "Too high?"), build.uow())
    assert await revise_job(ReviseJob(job_id, employer, "employer"), build.uow()) == revision
    await submit_job(SubmitJob(revision, employer, "employer"), build.uow())
    await moderate_job(ModerateJob(revision, "moderator:1", Decision.REJECT, "Not a real wage"), build.uow())
    public = await _job(build, job_id)
    assert public.status is JobStatus.PUBLISHED and public.salary_amount == Decimal(210)
    # Rejected: a new edit starts from the public version.
    fresh = await revise_job(ReviseJob(job_id, employer, "employer"), build.uow())
    assert fresh != revision and (await _job(build, fresh)).salary_amount == Decimal(210)


async def test_closing_a_listing_withdraws_its_edit_and_a_late_approval_is_refused(build: Builder) -> None:
    employer = await build.employer()
    job_id = await build.published(employer)
    revision = await _revised(build, employer, job_id, salary_amount="250")
    await close_job(CloseJob(job_id, employer, "employer", filled=True), build.uow())
    assert (await _job(build, revision)).status is JobStatus.WITHDRAWN
    with pytest.raises(IllegalTransition):
        await moderate_job(ModerateJob(revision, "moderator:1", Decision.APPROVE), build.uow())


async def test_only_a_published_listing_of_ones_own_is_revised(build: Builder) -> None:
    employer, other = await build.employer(), await build.employer("Other", external_id="5002")
    draft = await build.draft(employer)
    with pytest.raises(NotAllowed):
        await revise_job(ReviseJob(draft, employer, "employer"), build.uow())
    job_id = await build.published(employer)
    with pytest.raises(NotFound):
        await revise_job(ReviseJob(job_id, other, "employer"), build.uow())
