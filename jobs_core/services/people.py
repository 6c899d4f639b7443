"""Relatives, the workers they nominate, consent, and job-alert subscriptions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from jobs_core import geo
from jobs_core.clock import local_date, month_of, start_of_local_day
from jobs_core.errors import InvalidField, LimitReached, NotAllowed, NotFound
from jobs_core.model import (
    Application,
    ApplicationStatus,
    Call,
    CallPurpose,
    CallStatus,
    Channel,
    Consent,
    Gender,
    Job,
    Language,
    Nomination,
    Relationship,
    Relative,
    RelativeActivity,
    Sector,
    Subscription,
    Worker,
)
from jobs_core.numbers import parse_int
from jobs_core.phones import display_phone, normalize_phone
from jobs_core.services.applications import close_awaiting
from jobs_core.text import clean_text
from jobs_core.uow import UnitOfWork

# Cambodian labour law's minimum working age; nobody younger is put on a calling list.
MIN_WORKER_AGE = 15
DEFAULT_NOMINATIONS_PER_DAY = 5


async def relative_for(
    uow: UnitOfWork, channel: str, external_id: str, *, language: str | None = None, name: str = ""
) -> Relative:
    """The relative behind a chat account, created on first contact; marks them active this month."""
    relative = await uow.session.scalar(
        select(Relative).where(Relative.channel == Channel(channel), Relative.external_id == external_id)
    )
    if relative is None:
        await uow.session.execute(
            insert(Relative)
            .values(
                channel=Channel(channel),
                external_id=external_id,
                language=Language(language or "km"),
                name=clean_text("name", name, max_length=120),
                unreachable=False,
                stopped=False,
                created_at=uow.now(),
            )
            .on_conflict_do_nothing(index_elements=["channel", "external_id"])
        )
        relative = await uow.session.scalar(
            select(Relative).where(Relative.channel == Channel(channel), Relative.external_id == external_id)
        )
        assert relative is not None
    await uow.session.execute(
        insert(RelativeActivity).values(relative_id=relative.id, month=month_of(uow.now())).on_conflict_do_nothing()
    )
    return relative


@dataclass(frozen=True)
class NominateWorker:
    relative_id: int
    name: str
    phone: str
    relation: str
    gender: str
    birth_year: str | int
    province: str
    sectors: Sequence[str] = field(default_factory=tuple)
    agreed_to_calls: bool = False
    greeting_clip: str | None = None  # the relative's normalised greeting recording, if they made one


@dataclass(frozen=True)
class NominationResult:
    """Deliberately says nothing about the worker's state: whether the phone was known, or had agreed or
    refused calls, is another family's business."""

    worker_id: int
    nomination_id: int


async def nominate_worker(
    cmd: NominateWorker, uow: UnitOfWork, per_day: int = DEFAULT_NOMINATIONS_PER_DAY
) -> NominationResult:
    """Link a relative to a worker by phone (one phone is one worker); the worker's consent is asked by call.

    A phone already known gets this relative's own link, with what they entered; the worker row keeps the
    first entry, and the worker's one consent and one opt-out stand. An opted-out worker is linked too (the
    relative hears the same as for anyone) but no call is asked for.
    """
    if not cmd.agreed_to_calls:
        raise InvalidField("agreed_to_calls", "required", "the family member must agree to be called first")
    name = clean_text("name", cmd.name, max_length=120, required=True)
    phone = normalize_phone(cmd.phone)
    try:
        relation = Relationship(cmd.relation)
    except ValueError as exc:
        raise InvalidField("relation", "invalid_choice", ", ".join(r.value for r in Relationship)) from exc
    try:
        gender = Gender(cmd.gender)
    except ValueError as exc:
        raise InvalidField("gender", "invalid_choice", "male or female") from exc
    this_year = local_date(uow.now()).year
    birth_year = parse_int("birth_year", cmd.birth_year, minimum=this_year - 80, maximum=this_year)
    if this_year - birth_year < MIN_WORKER_AGE:
        raise InvalidField("birth_year", "too_young", f"workers must be at least {MIN_WORKER_AGE}")
    province = geo.province(cmd.province)
    async with uow:
        for code in cmd.sectors:
            if await uow.session.get(Sector, code) is None:
                raise InvalidField("sectors", "unknown_sector", f"unknown sector {code!r}")
        relative = await uow.session.get(Relative, cmd.relative_id, with_for_update=True)
        if relative is None:
            raise NotFound("relative", cmd.relative_id)
        today = start_of_local_day(uow.now())
        made_today = await uow.session.scalar(
            select(func.count())
            .select_from(Nomination)
            .where(Nomination.relative_id == relative.id, Nomination.created_at >= today)
        )
        if (made_today or 0) >= per_day:
            raise LimitReached("nominations per day", per_day)
        # ON CONFLICT: two relatives nominating one phone at the same moment still make one worker.
        await uow.session.execute(
            insert(Worker)
            .values(
                name=name,
                phone=phone,
                gender=gender,
                birth_year=birth_year,
                province_code=province.code,
                sectors=sorted(set(cmd.sectors)),
                consent=Consent.PENDING,
                created_at=uow.now(),
            )
            .on_conflict_do_nothing(index_elements=["phone"])
        )
        worker = await uow.session.scalar(select(Worker).where(Worker.phone == phone))
        assert worker is not None
        nomination_id = await uow.session.scalar(
            insert(Nomination)
            .values(
                worker_id=worker.id,
                relative_id=relative.id,
                relation=relation,
                name=name,
                gender=gender,
                birth_year=birth_year,
                province_code=province.code,
                sectors=sorted(set(cmd.sectors)),
                created_at=uow.now(),
                greeting_clip=cmd.greeting_clip,
            )
            .on_conflict_do_nothing(index_elements=["worker_id", "relative_id"])
            .returning(Nomination.id)
        )
        if nomination_id is None:
            raise NotAllowed("you have already nominated this person")
        uow.audit(f"relative:{relative.id}", "worker.nominated", "worker", worker.id, nomination=nomination_id)
        if worker.consent is not Consent.OPTED_OUT:
            uow.emit("worker.nominated", worker_id=worker.id, nomination_id=nomination_id)
        await uow.commit()
        return NominationResult(worker.id, nomination_id)


@dataclass(frozen=True)
class RecordConsent:
    worker_id: int
    consent: Consent
    via: str  # "ivr:<call id>", "moderator:<id>", …


async def record_consent(cmd: RecordConsent, uow: UnitOfWork) -> Consent:
    """Change a worker's consent; opted-out is final, and asking for the same state again is a no-op.

    Saying no (declined, opted out) withdraws the applications relatives made for them that still awaited
    their yes: the employers never heard of those.
    """
    async with uow:
        worker = await uow.session.get(Worker, cmd.worker_id, with_for_update=True)
        if worker is None:
            raise NotFound("worker", cmd.worker_id)
        if worker.consent is cmd.consent:
            return worker.consent
        worker.set_consent(cmd.consent, uow.now())
        uow.audit(cmd.via, f"worker.{cmd.consent.value}", "worker", worker.id)
        uow.emit(f"worker.{cmd.consent.value}", worker_id=worker.id)
        if cmd.consent in (Consent.DECLINED, Consent.OPTED_OUT):
            await close_awaiting(uow, ApplicationStatus.WITHDRAWN, worker_id=worker.id, actor=cmd.via)
        await uow.commit()
        return worker.consent


@dataclass(frozen=True)
class OwnApplication:
    job_title: str
    status: ApplicationStatus


@dataclass(frozen=True)
class FamilyMember:
    """One of a relative's nominations as that relative may see it: what they entered, and the outcomes of
    their own nomination and applications. Nothing another family entered or caused."""

    nomination_id: int
    worker_id: int
    name: str  # as this relative typed it
    phone: str  # the number this relative typed
    relation: Relationship
    consent: Consent | None  # a decision taken since this relative nominated them, else None
    missed_call_at: datetime | None  # this nomination's consent call went unanswered
    call_planned: bool  # this nomination's consent call is still to come
    applications: tuple[OwnApplication, ...]


async def family_members(
    uow: UnitOfWork, relative_id: int, applications_shown: int = 3, *, offset: int = 0, limit: int | None = None
) -> list[FamilyMember]:
    """The workers a relative nominated (newest first), each as this relative may see them; ``offset`` and
    ``limit`` give a page of them."""
    async with uow:
        nominations = list(
            (
                await uow.session.scalars(
                    select(Nomination)
                    .where(Nomination.relative_id == relative_id)
                    .order_by(Nomination.created_at.desc(), Nomination.id.desc())
                    .offset(offset)
                    .limit(limit)
                )
            ).all()
        )
        members = []
        for n in nominations:
            consent = n.known_consent
            last_consent_call = await uow.session.scalar(
                select(Call)
                .where(Call.nomination_id == n.id, Call.purpose == CallPurpose.CONSENT)
                .order_by(Call.created_at.desc(), Call.id.desc())
                .limit(1)
            )
            own = (
                await uow.session.execute(
                    select(Job.title, Application.status)
                    .join(Job, Job.id == Application.job_id)
                    .where(Application.worker_id == n.worker_id, Application.relative_id == relative_id)
                    .order_by(Application.created_at.desc(), Application.id.desc())
                    .limit(applications_shown)
                )
            ).all()
            missed = None
            planned = False
            if consent is None and last_consent_call is not None:
                if last_consent_call.status is CallStatus.FAILED:
                    missed = last_consent_call.ended_at or last_consent_call.created_at
                planned = last_consent_call.status in (CallStatus.PENDING, CallStatus.QUEUED, CallStatus.RETRY_WAIT)
            members.append(
                FamilyMember(
                    nomination_id=n.id,
                    worker_id=n.worker_id,
                    name=n.name or display_phone(n.worker.phone),
                    phone=n.worker.phone,
                    relation=n.relation,
                    consent=consent,
                    missed_call_at=missed,
                    call_planned=planned,
                    applications=tuple(OwnApplication(title, status) for title, status in own),
                )
            )
        return members


@dataclass(frozen=True)
class Subscribe:
    relative_id: int
    province: str | None
    sector: str | None


async def subscribe(cmd: Subscribe, uow: UnitOfWork) -> int:
    """Alerts for new jobs in a province and/or sector; subscribing twice keeps one subscription."""
    province_code = geo.province(cmd.province).code if cmd.province else None
    async with uow:
        if cmd.sector and await uow.session.get(Sector, cmd.sector) is None:
            raise InvalidField("sector", "unknown_sector", f"unknown sector {cmd.sector!r}")
        await uow.session.execute(
            insert(Subscription)
            .values(
                relative_id=cmd.relative_id,
                province_code=province_code,
                sector_code=cmd.sector,
                created_at=uow.now(),
            )
            .on_conflict_do_nothing()
        )
        found = await uow.session.scalar(
            select(Subscription.id).where(
                Subscription.relative_id == cmd.relative_id,
                Subscription.province_code.is_not_distinct_from(province_code),
                Subscription.sector_code.is_not_distinct_from(cmd.sector),
            )
        )
        assert found is not None
        await uow.commit()
        return found


async def unsubscribe(uow: UnitOfWork, relative_id: int, subscription_id: int | None = None) -> int:
    """Remove one subscription (or all of a relative's); returns how many were removed."""
    async with uow:
        query = select(Subscription).where(Subscription.relative_id == relative_id)
        if subscription_id is not None:
            query = query.where(Subscription.id == subscription_id)
        removed = list((await uow.session.scalars(query)).all())
        for subscription in removed:
            await uow.session.delete(subscription)
        await uow.commit()
        return len(removed)


async def mark_unreachable(uow: UnitOfWork, relative_id: int, at: datetime | None = None) -> None:
    """The channel says this person blocked us: stop pushing to them."""
    async with uow:
        relative = await uow.session.get(Relative, relative_id)
        if relative is not None and not relative.unreachable:
            relative.unreachable = True
            uow.audit("channel", "relative.unreachable", "relative", relative_id)
            await uow.commit()
