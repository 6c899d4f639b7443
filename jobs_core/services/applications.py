"""Applications: made by a worker on the phone, or by a relative for a family member and then confirmed by the
worker on the phone; followed by the employer.

A relative's application waits for the worker (``awaiting_worker``): the worker is called, hears the job and
presses 1; only then is it an application (``application.created``) and does the employer see the worker's
phone. Nothing about it reaches the employer before.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from jobs_core.errors import InvalidField, NotAllowed, NotFound
from jobs_core.model import (
    Application,
    ApplicationStatus,
    CallRequest,
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
    """A worker applies themselves (on the phone): to a job, or confirming a relative's application for them."""

    job_id: int
    channel: str
    worker_id: int | None = None
    relative_id: int | None = None  # only for a relative applying for themselves, without a worker
    experience: str = "unknown"


async def apply(cmd: Apply, uow: UnitOfWork) -> tuple[int, bool]:
    """Apply to a live job; returns (application id, became an application now).

    A worker who applies where a relative's application awaits them confirms it. Applying twice keeps one.
    A relative applying *for* a worker goes through :func:`apply_for_family`.
    """
    if cmd.worker_id is None and cmd.relative_id is None:
        raise InvalidField("applicant", "required", "who is applying?")
    if cmd.worker_id is not None and cmd.relative_id is not None:
        raise InvalidField("applicant", "invalid_choice", "a relative applies for a worker with apply_for_family")
    try:
        channel, experience = Channel(cmd.channel), Experience(cmd.experience)
    except ValueError as exc:
        raise InvalidField("channel", "invalid_choice", str(exc)) from exc
    async with uow:
        job = await _live_job(uow, cmd.job_id)
        if cmd.worker_id is not None:
            worker = await uow.session.get(Worker, cmd.worker_id)
            if worker is None:
                raise NotFound("worker", cmd.worker_id)
            # Only a worker who said yes to job calls applies: nobody is hired who never agreed to anything.
            if worker.consent is not Consent.CONSENTED:
                raise NotAllowed("this person asked not to be contacted")
            awaiting = await uow.session.scalar(
                select(Application)
                .where(
                    Application.job_id == job.id,
                    Application.worker_id == worker.id,
                    Application.status == ApplicationStatus.AWAITING_WORKER,
                )
                .with_for_update()
            )
            if awaiting is not None:
                awaiting.experience = experience
                awaiting.move_to(ApplicationStatus.NEW, uow.now())
                _created(uow, awaiting, f"{channel.value}:{worker.id}", "application.confirmed")
                await uow.commit()
                return awaiting.id, True
        values = {
            "job_id": job.id,
            "worker_id": cmd.worker_id,
            "relative_id": cmd.relative_id,
            "channel": channel,
            "experience": experience,
            "status": ApplicationStatus.NEW,
            "created_at": uow.now(),
            "confirmed_at": uow.now(),
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
        application = await uow.session.get(Application, new_id)
        assert application is not None
        _created(uow, application, f"{channel.value}:{cmd.relative_id or cmd.worker_id}", "application.created")
        await uow.commit()
        return new_id, True


def _created(uow: UnitOfWork, application: Application, actor: str, action: str) -> None:
    uow.audit(actor, action, "application", application.id)
    uow.emit(
        "application.created",
        application_id=application.id,
        job_id=application.job_id,
        employer_id=application.job.employer_id,
    )


@dataclass(frozen=True)
class ApplyForFamily:
    job_id: int
    worker_id: int
    relative_id: int
    channel: str


@dataclass(frozen=True)
class FamilyApplication:
    """What a relative may be told: their own earlier application, or "we will call them to confirm"."""

    already_yours: bool
    application_id: int | None  # None when the answer must not point at someone else's application


async def apply_for_family(cmd: ApplyForFamily, uow: UnitOfWork) -> FamilyApplication:
    """A relative applies for a family member they nominated: recorded as awaiting the worker, who is called.

    The employer hears nothing until the worker pressed 1. The answer never depends on another family: if the
    worker already applied, or someone else applied for them, or they asked never to be called before this
    relative nominated them, the relative hears the same "we will call them to confirm" as for a fresh one.
    """
    try:
        channel = Channel(cmd.channel)
    except ValueError as exc:
        raise InvalidField("channel", "invalid_choice", str(exc)) from exc
    async with uow:
        job = await _live_job(uow, cmd.job_id)
        nomination = await uow.session.scalar(
            select(Nomination).where(Nomination.worker_id == cmd.worker_id, Nomination.relative_id == cmd.relative_id)
        )
        if nomination is None:
            raise NotAllowed("you can apply only for family members you nominated")
        if nomination.known_consent is Consent.OPTED_OUT:
            # They were told when it happened; to them it is no secret.
            raise NotAllowed("this person asked not to be contacted")
        new_id = await uow.session.scalar(
            insert(Application)
            .values(
                job_id=job.id,
                worker_id=cmd.worker_id,
                relative_id=cmd.relative_id,
                channel=channel,
                experience=Experience.UNKNOWN,
                status=ApplicationStatus.AWAITING_WORKER,
                created_at=uow.now(),
            )
            .on_conflict_do_nothing(
                index_elements=["job_id", "worker_id"], index_where=Application.worker_id.is_not(None)
            )
            .returning(Application.id)
        )
        if new_id is None:
            existing = await uow.session.scalar(
                select(Application).where(Application.job_id == job.id, Application.worker_id == cmd.worker_id)
            )
            assert existing is not None
            if existing.relative_id == cmd.relative_id:
                return FamilyApplication(already_yours=True, application_id=existing.id)
            return FamilyApplication(already_yours=False, application_id=None)
        uow.audit(f"relative:{cmd.relative_id}", "application.awaiting_worker", "application", new_id)
        # The dialer calls the worker (consent first if not given yet), pitches this job, 1 confirms it.
        request_call(
            uow,
            job_id=job.id,
            worker_id=cmd.worker_id,
            nomination_id=nomination.id,
            relative_id=cmd.relative_id,
            application_id=new_id,
        )
        await uow.commit()
        return FamilyApplication(already_yours=False, application_id=new_id)


def request_call(
    uow: UnitOfWork,
    *,
    job_id: int,
    worker_id: int,
    nomination_id: int | None,
    relative_id: int | None,
    application_id: int | None = None,
) -> None:
    """A relative asks us to call a family member about a job: the request is recorded (the dialer pitches
    requested jobs first once the worker agrees to calls) and ``job.call_requested`` emitted, in the caller's
    unit of work. The dialer decides what to call: consent first, never a worker who opted out."""
    uow.session.add(
        CallRequest(
            worker_id=worker_id,
            job_id=job_id,
            nomination_id=nomination_id,
            relative_id=relative_id,
            application_id=application_id,
            created_at=uow.now(),
        )
    )
    payload = {"job_id": job_id, "worker_id": worker_id, "nomination_id": nomination_id, "relative_id": relative_id}
    if application_id is not None:
        payload["application_id"] = application_id
    uow.emit("job.call_requested", **payload)


# The outcomes that become a call to the worker when the relative who applied for them cannot be told in chat
# (outside Messenger's 24-hour window, no Telegram linked): news the worker may not have. An employer who did
# not pick someone seldom tells them; a hire, a contact, a withdrawal or a confirmation they made or heard
# themselves, so those wait for the relative instead of costing one of the worker's calls of the day.
OUTCOME_CALLS = frozenset({ApplicationStatus.NOT_HIRED})
OUTCOME_CALL_REQUESTED = "application.outcome_call_requested"


async def request_outcome_call(uow: UnitOfWork, application_id: int, relative_id: int) -> bool:
    """The relative who applied for a worker cannot be told an outcome in chat: ask the dialer to tell the
    worker by a short call. True when asked (``application.outcome_call_requested`` emitted, committed);
    False when no call may be made: not this relative's application, an outcome not worth a call
    (:data:`OUTCOME_CALLS`), or a worker who has not agreed to calls (never asked, declined, or pressed 9).

    The dialer makes one outcome call per application whatever the number of requests, and checks consent,
    the number and the calling hours again when it places it."""
    async with uow:
        application = await uow.session.get(Application, application_id)
        if (
            application is None
            or application.relative_id != relative_id
            or application.worker_id is None
            or application.confirmed_at is None
            or application.status not in OUTCOME_CALLS
        ):
            return False
        worker = await uow.session.get(Worker, application.worker_id)
        if worker is None or worker.consent is not Consent.CONSENTED:
            return False
        uow.audit(f"relative:{relative_id}", OUTCOME_CALL_REQUESTED, "application", application.id)
        uow.emit(
            OUTCOME_CALL_REQUESTED,
            application_id=application.id,
            worker_id=application.worker_id,
            status=application.status.value,
        )
        await uow.commit()
        return True


async def close_awaiting(
    uow: UnitOfWork,
    target: ApplicationStatus,
    *,
    worker_id: int | None = None,
    job_ids: Iterable[int] = (),
    job_id: int | None = None,
    actor: str = "system",
) -> int:
    """Applications still awaiting the worker end: ``withdrawn`` (they declined or opted out) or ``expired``
    (the job closed). The applying relative is told; the employer never heard of them. Runs inside the caller's
    unit of work; returns how many."""
    query = select(Application).where(Application.status == ApplicationStatus.AWAITING_WORKER)
    if worker_id is not None:
        query = query.where(Application.worker_id == worker_id)
    ids = [*job_ids, *([job_id] if job_id is not None else [])]
    if ids:
        query = query.where(Application.job_id.in_(ids))
    elif worker_id is None:
        return 0
    rows = list((await uow.session.scalars(query.with_for_update())).all())
    for application in rows:
        application.move_to(target, uow.now())
        uow.audit(actor, f"application.{target.value}", "application", application.id)
        uow.emit(
            f"application.{target.value}",
            application_id=application.id,
            job_id=application.job_id,
            worker_id=application.worker_id,
            relative_id=application.relative_id,
        )
    return len(rows)


async def decline_application(uow: UnitOfWork, job_id: int, worker_id: int, actor: str) -> int:
    """The worker said no on the phone to a relative's application for them: it is withdrawn."""
    async with uow:
        closed = await close_awaiting(uow, ApplicationStatus.WITHDRAWN, worker_id=worker_id, job_id=job_id, actor=actor)
        await uow.commit()
        return closed


async def applications_for_job(uow: UnitOfWork, job_id: int, employer_id: int) -> list[Application]:
    """The employer's view of a job's confirmed applications; opening it marks new ones seen."""
    async with uow:
        job = await uow.session.get(Job, job_id)
        if job is None or job.employer_id != employer_id:
            raise NotFound("job", job_id)
        rows = list(
            (
                await uow.session.scalars(
                    select(Application)
                    .where(Application.job_id == job_id, Application.confirmed_at.is_not(None))
                    .order_by(Application.created_at)
                )
            ).all()
        )
        for application in rows:
            if application.status is ApplicationStatus.NEW:
                application.move_to(ApplicationStatus.SEEN, uow.now())
        await uow.commit()
        return rows


async def applicant_name(session: AsyncSession, application: Application) -> str:
    """The name to show for an application: what the applying relative typed, else the worker's first entry."""
    if application.relative_id is not None and application.worker_id is not None:
        typed = await session.scalar(
            select(Nomination.name).where(
                Nomination.worker_id == application.worker_id, Nomination.relative_id == application.relative_id
            )
        )
        if typed:
            return typed
    if application.worker is not None:
        return application.worker.name
    return application.relative.name if application.relative is not None else ""


@dataclass(frozen=True)
class SetApplicationStatus:
    application_id: int
    employer_id: int | None  # None: the applicant side (withdrawing)
    status: ApplicationStatus
    actor: str


async def set_application_status(cmd: SetApplicationStatus, uow: UnitOfWork) -> None:
    """Employer marks contacted / hired / not hired; a hire schedules the post-hire check-in calls.

    An application the worker has not confirmed does not exist for the employer.
    """
    async with uow:
        application = await uow.session.get(Application, cmd.application_id, with_for_update=True)
        if application is None or (
            cmd.employer_id is not None
            and (application.job.employer_id != cmd.employer_id or application.confirmed_at is None)
        ):
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


async def _live_job(uow: UnitOfWork, job_id: int) -> Job:
    """The job applied to, which must still be open."""
    job = await uow.session.get(Job, job_id)
    if job is None:
        raise NotFound("job", job_id)
    if not job.is_live(uow.now()):
        raise NotAllowed("this job is no longer open")
    return job
