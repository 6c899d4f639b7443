"""Live listings for the benchmarks, published through the real services as an employer and a moderator would
(register, create, submit, approve), so the browse path reads what production reads."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs_core.model import Decision
from jobs_core.services.employers import RegisterEmployer, register_employer
from jobs_core.services.jobs import CreateJob, JobFields, ModerateJob, SubmitJob, create_job, moderate_job, submit_job
from jobs_core.uow import UnitOfWork

# title, sector, province, benefits
Listing = tuple[str, str, str, tuple[str, ...]]
LISTINGS: tuple[Listing, ...] = (
    ("Sewing machine operators", "manufacturing", "Phnom Penh", ("overtime", "nssf")),
    ("Security guards", "security", "Siem Reap", ("meals",)),
    ("Kitchen helpers", "hospitality", "Preah Sihanouk", ("meals", "accommodation")),
    ("Rice farm workers", "agriculture", "Battambang", ("transport",)),
)


async def publish_listings(
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    listings: Iterable[Listing] = LISTINGS,
    description: str = "Paid on time every month. Free transport from the market.",
) -> list[int]:
    """The listings of one employer, live from ``now``; their ids in order."""
    employer = await register_employer(
        RegisterEmployer("Golden Thread Apparel", "023 880 112", "Phnom Penh", channel="telegram", external_id="5001"),
        UnitOfWork(sessions, now),
    )
    published = []
    for title, sector, province, benefits in listings:
        fields = JobFields(
            title=title,
            sector=sector,
            province=province,
            description=description,
            salary_amount="210",
            salary_currency="USD",
            salary_period="month",
            hours_start="07:00",
            hours_end="16:00",
            days_per_week=6,
            positions=20,
            min_age=18,
            max_age=45,
            benefits=benefits,
        )
        job_id = await create_job(CreateJob(employer, fields, "employer"), UnitOfWork(sessions, now))
        await submit_job(SubmitJob(job_id, employer, "employer"), UnitOfWork(sessions, now))
        await moderate_job(ModerateJob(job_id, "moderator:1", Decision.APPROVE), UnitOfWork(sessions, now))
        published.append(job_id)
    return published
