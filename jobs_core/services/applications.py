"""Applications: made by a worker on the phone or by a relative for a family member; followed by the employer."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from jobs_core.errors import InvalidField, NotAllowed, NotFound
from jobs_core.model import (
    Application,
    ApplicationStatus,
    Channel,
    Consent,
    Experience,
    Job,
    Nomination,
    Worker,
)
from jobs_core.uow import UnitOfWork


@dataclass(frozen=True)
class Apply:
    job_id: int
    channel: str
    worker_id: int | None = None
    relative_id: int | None = None
    experience: str = "unknown"


async def apply(cmd: Apply, uow: UnitOfWork) -> tuple[int, bool]:
    """Apply to a live job; returns (application id, created). Applying twice for one worker keeps one."""
    if cmd.worker_id is None and cmd.relative_id is None:
        raise InvalidField("applicant", "required", "who is applying?")
    try:
        channel, experience = Channel(cmd.channel), Experience(cmd.experience)
    except ValueError as exc:
        raise InvalidField("channel", "invalid_choice", str(exc)) from exc
    async with uow:
        job = await uow.session.get(Job, cmd.job_id)
        if job is None:
            raise NotFound("job", cmd.job_id)
        if not job.is_live(uow.now()):
            raise NotAllowed("this job is no longer open")
        if cmd.worker_id is not None:
            worker = await uow.session.get(Worker, cmd.worker_id)
            if worker is None:
                raise NotFound("worker", cmd.worker_id)
            if worker.consent is Consent.OPTED_OUT and channel is not Channel.IVR:
                raise NotAllowed("this person asked not to be contacted")
            if cmd.relative_id is not None:
                linked = await uow.session.scalar(
                    select(Nomination.id).where(
                        Nomination.worker_id == cmd.worker_id, Nomination.relative_id == cmd.relative_id
                    )
                )
                if linked is None:
                    raise NotAllowed("you can apply only for family members you nominated")
        values = {
            "job_id": job.id,
            "worker_id": cmd.worker_id,
            "relative_id": cmd.relative_id,
            "channel": channel,
            "experience": experience,
            "status": ApplicationStatus.NEW,
            "created_at": uow.now(),
        }
        statement = insert(Application).values(**values)
        if cmd.worker_id is not None:
            statement = statement.on_conflict_do_nothing(
                index_elements=["job_id", "worker_id"], index_where=Application.worker_id.is_not(None)
            )
        new_id = await uow.session.scalar(statement.returning(Application.id))
        if new_id is None:
            existing = await uow.session.scalar(
                select(Application.id).where(Application.job_id == job.id, Application.worker_id == cmd.worker_id)
            )
            assert existing is not None
            return existing, False
        uow.audit(
            f"{channel.value}:{cmd.relative_id or cmd.worker_id}",
            "application.created",
            "application",
            new_id,
        )
        uow.emit("application.created", application_id=new_id, job_id=job.id, employer_id=job.employer_id)
        await uow.commit()
        return new_id, True


async def applications_for_job(uow: UnitOfWork, job_id: int, employer_id: int) -> list[Application]:
    """The employer's view of a job's applications; opening it marks new ones seen."""
    async with uow:
        job = await uow.session.get(Job, job_id)
        if job is None or job.employer_id != employer_id:
            raise NotFound("job", job_id)
        rows = list(
            (
                await uow.session.scalars(
                    select(Application).where(Application.job_id == job_id).order_by(Application.created_at)
                )
            ).all()
        )
        for application in rows:
            if application.status is ApplicationStatus.NEW:
                application.move_to(ApplicationStatus.SEEN, uow.now())
        await uow.commit()
        return rows


@dataclass(frozen=True)
class SetApplicationStatus:
    application_id: int
    employer_id: int | None  # None: the applicant side (withdrawing)
    status: ApplicationStatus
    actor: str


async def set_application_status(cmd: SetApplicationStatus, uow: UnitOfWork) -> None:
    """Employer marks contacted / hired / not hired; a hire schedules the post-hire check-in calls."""
    async with uow:
        application = await uow.session.get(Application, cmd.application_id, with_for_update=True)
        if application is None or (cmd.employer_id is not None and application.job.employer_id != cmd.employer_id):
            raise NotFound("application", cmd.application_id)
        application.move_to(cmd.status, uow.now())
        uow.audit(cmd.actor, f"application.{cmd.status.value}", "application", application.id)
        uow.emit(
            f"application.{cmd.status.value}",
            application_id=application.id,
            job_id=application.job_id,
            worker_id=application.worker_id,
            relative_id=application.relative_id,
        )
        await uow.commit()
