"""Build domain objects through the real services, so tests start from states users can reach."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs_core.model import Consent, Decision
from jobs_core.services.employers import RegisterEmployer, register_employer
from jobs_core.services.jobs import CreateJob, JobFields, ModerateJob, SubmitJob, create_job, moderate_job, submit_job
from jobs_core.services.people import NominateWorker, RecordConsent, nominate_worker, record_consent, relative_for
from jobs_core.uow import UnitOfWork

GARMENT_JOB = JobFields(
    title="Sewing machine operators",
    description="Garment factory needs sewing operators. Overtime paid, NSSF.",
    sector="manufacturing",
    province="Phnom Penh",
    salary_amount="210",
    salary_currency="USD",
    salary_period="month",
    hours_start="07:00",
    hours_end="16:00",
    days_per_week=6,
    positions=20,
    min_age=18,
    max_age=45,
    benefits=("overtime", "nssf"),
)


class Builder:
    """Shortcuts over the services, all at one fixed moment."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], now: datetime) -> None:
        self.sessions = sessions
        self.now = now
        self._phones = 0

    def uow(self, now: datetime | None = None) -> UnitOfWork:
        return UnitOfWork(self.sessions, now=now or self.now)

    def next_phone(self) -> str:
        self._phones += 1
        return f"012 {self._phones:06d}".replace(" 0", " 8", 1)

    async def employer(self, name: str = "Golden Thread Apparel", external_id: str = "5001") -> int:
        return await register_employer(
            RegisterEmployer(name, "023 880 112", "Phnom Penh", channel="telegram", external_id=external_id),
            self.uow(),
        )

    async def draft(self, employer_id: int, fields: JobFields = GARMENT_JOB, **changes: Any) -> int:
        return await create_job(CreateJob(employer_id, replace(fields, **changes), "employer"), self.uow())

    async def published(self, employer_id: int | None = None, **changes: Any) -> int:
        employer_id = employer_id or await self.employer(external_id=f"e{self._phones}")
        job_id = await self.draft(employer_id, **changes)
        await submit_job(SubmitJob(job_id, employer_id, "employer"), self.uow())
        await moderate_job(ModerateJob(job_id, "moderator:1", Decision.APPROVE), self.uow())
        return job_id

    async def relative(self, external_id: str = "7001", channel: str = "telegram") -> int:
        async with self.uow() as uow:
            relative = await relative_for(uow, channel, external_id, name="Dara")
            await uow.commit()
            return relative.id

    async def worker(
        self,
        relative_id: int | None = None,
        consent: Consent | None = Consent.CONSENTED,
        **fields: object,
    ) -> int:
        relative_id = relative_id or await self.relative(external_id=f"r{self._phones}")
        values: dict[str, object] = {
            "relative_id": relative_id,
            "name": "Sophea",
            "phone": self.next_phone(),
            "relation": "sibling",
            "gender": "female",
            "birth_year": 2000,
            "province": "Phnom Penh",
            "sectors": ("manufacturing",),
            "agreed_to_calls": True,
        }
        values.update(fields)
        result = await nominate_worker(NominateWorker(**values), self.uow(), per_day=1000)  # type: ignore[arg-type]
        if consent is not None and consent is not Consent.PENDING:
            await record_consent(RecordConsent(result.worker_id, consent, "test"), self.uow())
        return result.worker_id
