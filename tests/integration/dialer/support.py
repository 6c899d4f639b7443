"""Rows the dialer tests need: an employer, live jobs, a relative and the workers they nominate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import dialer.models  # noqa: F401  # registers the dialer's tables for the tests' truncation
from jobs_core.model import (
    Channel,
    Consent,
    Currency,
    Employer,
    Gender,
    Job,
    JobStatus,
    Nomination,
    Relationship,
    Relative,
    SalaryPeriod,
    Worker,
)

NOW = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)  # 10:00 in Phnom Penh, a Tuesday


class FakeClock:
    """A clock the test moves by hand; sleeping advances it."""

    def __init__(self, now: datetime = NOW) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at

    async def sleep(self, seconds: float) -> None:
        self.at += timedelta(seconds=max(0.0, seconds))

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


async def add_employer(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session, session.begin():
        employer = Employer(name="Angkor Garments", contact_phone="+85512345678", province_code="12")
        session.add(employer)
        await session.flush()
        return employer.id


async def add_job(
    sessions: async_sessionmaker[AsyncSession],
    employer_id: int,
    *,
    province: str | None = "12",
    sector: str = "manufacturing",
    now: datetime = NOW,
    status: JobStatus = JobStatus.PUBLISHED,
) -> int:
    async with sessions() as session, session.begin():
        job = Job(
            employer_id=employer_id,
            title="Sewing operator",
            sector_code=sector,
            province_code=province,
            salary_amount=Decimal(220),
            salary_currency=Currency.USD,
            salary_period=SalaryPeriod.MONTH,
            positions=5,
            benefits=["meals"],
            risk_reasons=[],
            status=status,
            published_at=now - timedelta(minutes=5),
            expires_at=now + timedelta(days=30),
        )
        session.add(job)
        await session.flush()
        return job.id


async def add_worker(
    sessions: async_sessionmaker[AsyncSession],
    phone: str,
    *,
    consent: Consent = Consent.CONSENTED,
    province: str = "12",
    relative_id: int | None = None,
    relation: Relationship = Relationship.SIBLING,
) -> tuple[int, int]:
    """A worker and the nomination of a relative (created when not given); returns (worker id, nomination id)."""
    async with sessions() as session, session.begin():
        if relative_id is None:
            relative = Relative(channel=Channel.TELEGRAM, external_id=f"tg-{phone}", name="Sokha")
            session.add(relative)
            await session.flush()
            relative_id = relative.id
        worker = Worker(
            name="Dara",
            phone=phone,
            gender=Gender.FEMALE,
            birth_year=1998,
            province_code=province,
            sectors=[],
            consent=consent,
        )
        session.add(worker)
        await session.flush()
        nomination = Nomination(worker_id=worker.id, relative_id=relative_id, relation=relation)
        session.add(nomination)
        await session.flush()
        return worker.id, nomination.id


def phone(n: int) -> str:
    """A valid Cambodian mobile number, different for each n."""
    return f"+85512{n:06d}"
