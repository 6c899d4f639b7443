"""Ages are counted on the Phnom Penh year: at 01:00 on 1 January there, UTC still says 31 December."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from jobs_core.matching import eligible_workers, jobs_fitting_worker
from jobs_core.model import Job, Worker
from tests.builders import Builder

# 18:00 UTC on 31 December 2026 is 01:00 on 1 January 2027 in Phnom Penh.
NEW_YEARS_NIGHT = datetime(2026, 12, 31, 18, 0, tzinfo=UTC)


@pytest.fixture
def now() -> datetime:
    return NEW_YEARS_NIGHT


async def test_a_worker_born_in_2012_is_15_and_fits_a_job_for_15_year_olds(build: Builder) -> None:
    job = await build.published(min_age=15, max_age=None)
    worker = await build.worker(birth_year=2012)  # refused as 14 on the UTC year
    young_job = await build.published(min_age=None, max_age=14)
    async with build.uow() as uow:
        assert await eligible_workers(uow.session, job, build.now) == [worker]
        assert await eligible_workers(uow.session, young_job, build.now) == []
        found = await uow.session.get(Worker, worker)
        assert found is not None
        fitting = (await uow.session.scalars(select(Job.id).where(*jobs_fitting_worker(found, build.now)))).all()
    assert list(fitting) == [job]
