"""Listings: drafting, submitting (with screening), moderation, and closing; expiry by itself."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Integer, Select, bindparam, case, func, select, update
from sqlalchemy.orm import joinedload

from jobs_core import geo
from jobs_core.errors import IllegalTransition, InvalidField, NotAllowed, NotFound
from jobs_core.model import (
    ApplicationStatus,
    Benefit,
    Currency,
    Decision,
    Employer,
    GenderPreference,
    Job,
    JobStatus,
    ModerationDecision,
    SalaryPeriod,
    Sector,
    Verification,
)
from jobs_core.numbers import latin_digits, parse_amount, parse_int
from jobs_core.screening import Listing, screen
from jobs_core.services.applications import close_awaiting
from jobs_core.services.billing import Billing, close_invoices_of, end_featured, issue_invoice, listing_charge
from jobs_core.text import clean_text
from jobs_core.uow import UnitOfWork

DEFAULT_LIFETIME = timedelta(days=30)
EDITABLE = (JobStatus.DRAFT, JobStatus.CHANGES_REQUESTED)

# Upper bounds that catch typing mistakes (an extra zero) without judging generous pay; the screener does that.
MAX_SALARY = {
    (Currency.USD, SalaryPeriod.MONTH): Decimal(20_000),
    (Currency.USD, SalaryPeriod.DAY): Decimal(1_000),
    (Currency.USD, SalaryPeriod.HOUR): Decimal(200),
    (Currency.USD, SalaryPeriod.PIECE): Decimal(1_000),
    (Currency.KHR, SalaryPeriod.MONTH): Decimal(80_000_000),
    (Currency.KHR, SalaryPeriod.DAY): Decimal(4_000_000),
    (Currency.KHR, SalaryPeriod.HOUR): Decimal(800_000),
    (Currency.KHR, SalaryPeriod.PIECE): Decimal(4_000_000),
}


@dataclass(frozen=True)
class JobFields:
    """A listing as an employer typed it; values may be text with Latin or Khmer digits."""

    title: str
    sector: str
    province: str | None = None  # None only for work abroad (``country``)
    description: str = ""
    district: str | None = None
    country: str | None = None
    salary_amount: str | int | Decimal | None = None
    salary_currency: str | None = None
    salary_period: str | None = None
    hours_start: str | time | None = None
    hours_end: str | time | None = None
    days_per_week: str | int | None = None
    positions: str | int = 1
    gender: str = "any"
    min_age: str | int | None = None
    max_age: str | int | None = None
    benefits: Sequence[str] = field(default_factory=tuple)
    start_date: str | date | None = None
    contact: str | None = None


def _choice(field_name: str, enum_cls: Any, value: str | None) -> Any:
    try:
        return enum_cls(value)
    except ValueError as exc:
        allowed = ", ".join(m.value for m in enum_cls)
        raise InvalidField(field_name, "invalid_choice", f"one of {allowed}") from exc


def _time(field_name: str, value: str | time | None) -> time | None:
    if value is None or isinstance(value, time):
        return value
    text = latin_digits(value).strip().replace(".", ":").replace("h", ":")
    try:
        hour, _, minute = text.partition(":")
        return time(int(hour), int(minute or 0))
    except ValueError as exc:
        raise InvalidField(field_name, "invalid_time", "expected a time like 07:30") from exc


def _date(field_name: str, value: str | date | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(latin_digits(value).strip())
    except ValueError as exc:
        raise InvalidField(field_name, "invalid_date", "expected a date like 2026-12-01") from exc


async def validate_fields(uow: UnitOfWork, fields: JobFields) -> dict[str, Any]:
    """Column values for a job from what an employer typed; InvalidField names the first bad field."""
    values: dict[str, Any] = {
        "title": clean_text("title", fields.title, max_length=120, required=True),
        "description": clean_text("description", fields.description, max_length=2000),
        "contact": clean_text("contact", fields.contact, max_length=120) or None,
    }
    if await uow.session.get(Sector, fields.sector) is None:
        raise InvalidField("sector", "unknown_sector", f"unknown sector {fields.sector!r}")
    values["sector_code"] = fields.sector
    country = clean_text("country", fields.country, max_length=60) or None
    values["country"] = country
    if country is None or fields.province:
        if not fields.province:
            raise InvalidField("province", "required", "where is the work?")
        province = geo.province(fields.province)
        values["province_code"] = province.code
        values["district_code"] = geo.district(province.code, fields.district).code if fields.district else None
    else:
        values["province_code"] = values["district_code"] = None

    if fields.salary_amount is not None and fields.salary_amount != "":
        currency = _choice("salary_currency", Currency, fields.salary_currency)
        period = _choice("salary_period", SalaryPeriod, fields.salary_period)
        values["salary_amount"] = parse_amount(
            "salary_amount",
            fields.salary_amount,
            minimum=Decimal("0.01"),
            maximum=MAX_SALARY[currency, period],
        )
        values["salary_currency"], values["salary_period"] = currency, period
    else:
        values["salary_amount"] = values["salary_currency"] = values["salary_period"] = None

    values["hours_start"] = _time("hours_start", fields.hours_start)
    values["hours_end"] = _time("hours_end", fields.hours_end)
    values["days_per_week"] = (
        parse_int("days_per_week", fields.days_per_week, minimum=1, maximum=7)
        if fields.days_per_week not in (None, "")
        else None
    )
    values["positions"] = parse_int("positions", fields.positions, minimum=1, maximum=10_000)
    values["gender"] = _choice("gender", GenderPreference, fields.gender)
    min_age = parse_int("min_age", fields.min_age, minimum=0, maximum=99) if fields.min_age not in (None, "") else None
    max_age = parse_int("max_age", fields.max_age, minimum=0, maximum=99) if fields.max_age not in (None, "") else None
    if min_age is not None and max_age is not None and min_age > max_age:
        raise InvalidField("max_age", "below_min_age", "the maximum age is below the minimum age")
    values["min_age"], values["max_age"] = min_age, max_age
    values["benefits"] = sorted({_choice("benefits", Benefit, b).value for b in fields.benefits})
    values["start_date"] = _date("start_date", fields.start_date)
    return values


def listing_of(job: Job, employer: Employer) -> Listing:
    """What the screener reads of a job: the same fields as a listing in the sample file."""
    location = f"abroad: {job.country}" if job.country else geo.province(job.province_code or "").name_en
    return Listing(
        title=job.title,
        description=job.description,
        employer_name=employer.name,
        employer_kind=employer.kind.value,
        licence_no=employer.licence_no,
        location=location,
        sector=job.sector_code,
        salary_amount=float(job.salary_amount) if job.salary_amount is not None else None,
        salary_currency=job.salary_currency.value if job.salary_currency else None,
        salary_period=job.salary_period.value if job.salary_period else None,
        min_age=job.min_age,
        max_age=job.max_age,
        contact=job.contact or employer.contact_phone,
    )


async def _employer_job(uow: UnitOfWork, job_id: int, employer_id: int) -> Job:
    job = await uow.session.get(Job, job_id, with_for_update=True)
    if job is None or job.employer_id != employer_id:
        raise NotFound("job", job_id)
    return job


@dataclass(frozen=True)
class CreateJob:
    employer_id: int
    fields: JobFields
    actor: str


async def create_job(cmd: CreateJob, uow: UnitOfWork) -> int:
    """Save a draft listing."""
    async with uow:
        employer = await uow.session.get(Employer, cmd.employer_id)
        if employer is None:
            raise NotFound("employer", cmd.employer_id)
        if employer.verification is Verification.REJECTED:
            raise NotAllowed("this employer was rejected by the moderators")
        values = await validate_fields(uow, cmd.fields)
        job = Job(employer_id=employer.id, status=JobStatus.DRAFT, created_at=uow.now(), **values)
        uow.session.add(job)
        await uow.session.flush()
        uow.audit(cmd.actor, "job.created", "job", job.id)
        await uow.commit()
        return job.id


@dataclass(frozen=True)
class EditJob:
    job_id: int
    employer_id: int
    fields: JobFields
    actor: str


async def edit_job(cmd: EditJob, uow: UnitOfWork) -> None:
    """Change a draft, or a listing the moderators sent back for changes."""
    async with uow:
        job = await _employer_job(uow, cmd.job_id, cmd.employer_id)
        if job.status not in EDITABLE:
            raise NotAllowed(f"a {job.status.value} listing cannot be edited")
        for name, value in (await validate_fields(uow, cmd.fields)).items():
            setattr(job, name, value)
        uow.audit(cmd.actor, "job.edited", "job", job.id)
        await uow.commit()


# What an employer's edit may change: copied onto the published listing when its revision is approved.
REVISED_COLUMNS = (
    "title",
    "description",
    "contact",
    "sector_code",
    "country",
    "province_code",
    "district_code",
    "salary_amount",
    "salary_currency",
    "salary_period",
    "hours_start",
    "hours_end",
    "days_per_week",
    "positions",
    "gender",
    "min_age",
    "max_age",
    "benefits",
    "start_date",
    "voice_clip",
)
OPEN_REVISION = (JobStatus.DRAFT, JobStatus.PENDING_REVIEW, JobStatus.CHANGES_REQUESTED)


@dataclass(frozen=True)
class ReviseJob:
    job_id: int
    employer_id: int
    actor: str


async def revise_job(cmd: ReviseJob, uow: UnitOfWork) -> int:
    """The editable revision of a published listing: the one already open, or a new draft copy of it. The
    public version stays as it is until a moderator approves the revision."""
    async with uow:
        job = await _employer_job(uow, cmd.job_id, cmd.employer_id)
        if job.status is not JobStatus.PUBLISHED:
            raise NotAllowed(f"a {job.status.value} listing cannot be edited")
        revision = await open_revision(uow, job.id)
        if revision is not None:
            if revision.status not in EDITABLE:
                raise NotAllowed("changes to this listing are waiting for review")
            return revision.id
        copy = Job(
            employer_id=job.employer_id,
            status=JobStatus.DRAFT,
            created_at=uow.now(),
            revision_of=job.id,
            **{name: getattr(job, name) for name in REVISED_COLUMNS},
        )
        copy.benefits = list(job.benefits or [])
        uow.session.add(copy)
        await uow.session.flush()
        uow.audit(cmd.actor, "job.revision_started", "job", job.id, revision=copy.id)
        await uow.commit()
        return copy.id


async def open_revision(uow: UnitOfWork, job_id: int) -> Job | None:
    """A published listing's edit not decided yet (draft, waiting for review, or sent back for changes)."""
    return await uow.session.scalar(
        select(Job).where(Job.revision_of == job_id, Job.status.in_(OPEN_REVISION)).order_by(Job.id.desc()).limit(1)
    )


@dataclass(frozen=True)
class AttachVoiceClip:
    job_id: int
    employer_id: int
    clip: str  # a normalised file (media checked length and format); approved with the listing
    actor: str


async def attach_voice_clip(cmd: AttachVoiceClip, uow: UnitOfWork) -> None:
    async with uow:
        job = await _employer_job(uow, cmd.job_id, cmd.employer_id)
        if job.status not in EDITABLE:
            raise NotAllowed(f"a {job.status.value} listing cannot be edited")
        job.voice_clip, job.voice_clip_approved = cmd.clip, False
        uow.audit(cmd.actor, "job.voice_clip", "job", job.id)
        await uow.commit()


@dataclass(frozen=True)
class SubmitJob:
    job_id: int
    employer_id: int
    actor: str


def missing_facts(job: Job) -> tuple[str, ...]:
    """What a listing cannot be sent to moderation without (pay, hours, place, a description written or
    spoken): a worker deciding whether to travel for a job needs each of them. Every channel asks for them."""
    missing = []
    if job.salary_amount is None:
        missing.append("pay")
    if job.hours_start is None or job.hours_end is None:
        missing.append("hours")
    if not job.province_code and not job.country:
        missing.append("place")
    if not job.description and not job.voice_clip:
        missing.append("description")
    return tuple(missing)


async def submit_job(cmd: SubmitJob, uow: UnitOfWork) -> tuple[str, tuple[str, ...]]:
    """Screen the listing and queue it for a moderator; returns the risk and its reasons."""
    async with uow:
        job = await _employer_job(uow, cmd.job_id, cmd.employer_id)
        missing = missing_facts(job)
        if missing:
            raise InvalidField("job", "incomplete", f"a listing needs {', '.join(missing)} before it is sent")
        job.move_to(JobStatus.PENDING_REVIEW, uow.now())
        assessment = screen(listing_of(job, job.employer))
        job.risk, job.risk_reasons = assessment.risk.value, list(assessment.reasons)
        uow.audit(cmd.actor, "job.submitted", "job", job.id, risk=job.risk, reasons=job.risk_reasons)
        uow.emit("job.submitted", job_id=job.id, risk=job.risk)
        await uow.commit()
        return job.risk, assessment.reasons


@dataclass(frozen=True)
class ModerateJob:
    job_id: int
    moderator: str
    decision: Decision
    reason: str | None = None
    # Payments on: an approved listing whose employer must pay waits for its invoice (awaiting_payment).
    billing: Billing | None = None


async def moderate_job(cmd: ModerateJob, uow: UnitOfWork) -> JobStatus:
    """Approve (publish, or invoice the employer first when payments are on and they must pay), reject or send
    back a pending listing; the row lock makes one decision win."""
    reason = clean_text("reason", cmd.reason, max_length=500) or None
    if cmd.decision in (Decision.REJECT, Decision.REQUEST_CHANGES) and not reason:
        raise InvalidField("reason", "required", "say why, so the employer can act on it")
    async with uow:
        job = await uow.session.get(Job, cmd.job_id, with_for_update=True)
        if job is None:
            raise NotFound("job", cmd.job_id)
        if job.status is not JobStatus.PENDING_REVIEW:
            # Only a listing waiting for review is decided here; a suspended one waits for its report's decision.
            raise IllegalTransition("job", job.status.value, cmd.decision.value)
        now = uow.now()
        if cmd.decision is Decision.APPROVE and job.revision_of is not None:
            await _apply_revision(uow, job, now)
        elif cmd.decision is Decision.APPROVE and (charge := await listing_charge(uow, job, cmd.billing)):
            assert cmd.billing is not None
            job.move_to(JobStatus.AWAITING_PAYMENT, now)
            job.voice_clip_approved = job.voice_clip is not None
            job.rejection_reason = job.change_note = None
            await issue_invoice(uow, job, charge, cmd.billing, cmd.moderator)
        elif cmd.decision is Decision.APPROVE:
            job.move_to(JobStatus.PUBLISHED, now)
            job.expires_at = now + DEFAULT_LIFETIME
            job.voice_clip_approved = job.voice_clip is not None
            job.rejection_reason = job.change_note = None
        elif cmd.decision is Decision.REJECT:
            job.move_to(JobStatus.REJECTED, now)
            job.rejection_reason = reason
        elif cmd.decision is Decision.REQUEST_CHANGES:
            job.move_to(JobStatus.CHANGES_REQUESTED, now)
            job.change_note = reason
        else:
            raise InvalidField("decision", "invalid_choice", "approve, reject or request_changes")
        uow.session.add(
            ModerationDecision(
                job_id=job.id,
                moderator=cmd.moderator,
                decision=cmd.decision,
                reason=reason,
                risk=job.risk,
                created_at=now,
            )
        )
        uow.audit(cmd.moderator, f"job.{cmd.decision.value}", "job", job.id, reason=reason)
        if job.revision_of is not None and cmd.decision is Decision.APPROVE:
            # The published listing now has the new facts: its voice notes are rendered anew (notifier).
            uow.emit("job.revised", job_id=job.revision_of, revision_id=job.id, employer_id=job.employer_id)
            await uow.commit()
            return JobStatus.PUBLISHED
        uow.emit(f"job.{job.status.value}", job_id=job.id, employer_id=job.employer_id, reason=reason)
        await uow.commit()
        return job.status


async def _apply_revision(uow: UnitOfWork, revision: Job, now: datetime) -> None:
    """The approved edit onto its published listing (which keeps its id, place in lists and applications);
    the revision row is closed, its decision kept."""
    job = await uow.session.get(Job, revision.revision_of, with_for_update=True)
    if job is None or job.status not in (JobStatus.PUBLISHED, JobStatus.SUSPENDED):
        raise IllegalTransition("job", job.status.value if job else "missing", "revise")
    for name in REVISED_COLUMNS:
        setattr(job, name, getattr(revision, name))
    job.benefits = list(revision.benefits or [])
    job.voice_clip_approved = job.voice_clip is not None
    revision.move_to(JobStatus.WITHDRAWN, now)
    revision.rejection_reason = revision.change_note = None


@dataclass(frozen=True)
class CloseJob:
    job_id: int
    employer_id: int
    actor: str
    filled: bool  # True: all positions filled; False: withdrawn


async def close_job(cmd: CloseJob, uow: UnitOfWork) -> None:
    async with uow:
        job = await _employer_job(uow, cmd.job_id, cmd.employer_id)
        job.move_to(JobStatus.FILLED if cmd.filled else JobStatus.WITHDRAWN, uow.now())
        if (revision := await open_revision(uow, job.id)) is not None:  # an edit of a closed listing is moot
            revision.move_to(JobStatus.WITHDRAWN, uow.now())
        uow.audit(cmd.actor, f"job.{job.status.value}", "job", job.id)
        uow.emit(f"job.{job.status.value}", job_id=job.id)
        await close_invoices_of(uow, job, cmd.actor, f"listing {job.status.value} by the employer")
        await close_awaiting(uow, ApplicationStatus.EXPIRED, job_id=job.id)
        await uow.commit()


async def expire_jobs(uow: UnitOfWork) -> int:
    """Mark published listings past their expiry as expired; returns how many."""
    async with uow:
        now = uow.now()
        expired = (
            await uow.session.scalars(
                update(Job)
                .where(Job.status == JobStatus.PUBLISHED, Job.expires_at <= now)
                .values(status=JobStatus.EXPIRED, closed_at=now)
                .returning(Job.id)
            )
        ).all()
        for job_id in expired:
            uow.audit("system", "job.expired", "job", job_id)
        await close_awaiting(uow, ApplicationStatus.EXPIRED, job_ids=expired)
        await end_featured(uow)
        await uow.commit()
        return len(expired)


@cache
def _live_jobs_statement(by_province: bool, by_sector: bool, counted: bool) -> Select[Any]:
    """The page query for one combination of filters, built once: building it (the joined loads' options
    especially) cost more CPU than the round trip it makes. The values come as bind parameters: ``now``,
    ``province``, ``sector``, ``offset``, ``limit``."""
    now = bindparam("now", type_=Job.expires_at.type)
    query = select(Job).where(Job.status == JobStatus.PUBLISHED, Job.expires_at > now)
    if by_province:
        query = query.where(Job.province_code == bindparam("province"))
    if by_sector:
        query = query.where(Job.sector_code == bindparam("sector"))
    if counted:  # how many rows the filters match, counted before OFFSET and LIMIT apply
        query = query.add_columns(func.count().over().label("total"))
    # Paid featured weeks put a listing first, but only among the listings the filters chose.
    featured = case((Job.featured_until > now, 0), else_=1)
    return (
        query.order_by(featured, Job.published_at.desc(), Job.id.desc())
        .offset(bindparam("offset", type_=Integer))
        .limit(bindparam("limit", type_=Integer))
        # A page of job cards shows each employer's name: joined here instead of three more round trips (the
        # employers, their sectors, the employers' chat identities, which no card shows).
        .options(
            joinedload(Job.employer, innerjoin=True).raiseload(Employer.identities),
            joinedload(Job.sector, innerjoin=True),
        )
    )


def _live_jobs_params(
    now: datetime, province_code: str | None, sector_code: str | None, offset: int, limit: int
) -> dict[str, Any]:
    return {"now": now, "province": province_code, "sector": sector_code, "offset": offset, "limit": limit}


async def live_jobs(
    uow: UnitOfWork,
    *,
    province_code: str | None = None,
    sector_code: str | None = None,
    offset: int = 0,
    limit: int = 5,
    now: datetime | None = None,
) -> list[Job]:
    """Published, unexpired listings, featured ones first then newest first, optionally by province and
    sector."""
    query = _live_jobs_statement(bool(province_code), bool(sector_code), counted=False)
    params = _live_jobs_params(now or uow.now(), province_code, sector_code, offset, limit)
    async with uow:
        return list((await uow.session.scalars(query, params)).all())


async def live_jobs_page(
    uow: UnitOfWork,
    *,
    province_code: str | None = None,
    sector_code: str | None = None,
    offset: int = 0,
    limit: int = 5,
) -> tuple[list[Job], int]:
    """A page of ``live_jobs`` and how many listings the filters match in all, in one query: the count is a
    window over the filtered rows (computed before OFFSET and LIMIT), so a list that says its count costs no
    second round trip. A page past the end has no rows to carry the count: it comes back as 0."""
    query = _live_jobs_statement(bool(province_code), bool(sector_code), counted=True)
    params = _live_jobs_params(uow.now(), province_code, sector_code, offset, limit)
    async with uow:
        rows = (await uow.session.execute(query, params)).all()
    return [row[0] for row in rows], (int(rows[0][1]) if rows else 0)
