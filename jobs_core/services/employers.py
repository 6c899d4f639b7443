"""Registering employers and agencies, linking chat identities, and verification by moderators."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from jobs_core import geo
from jobs_core.errors import InvalidField, NotFound
from jobs_core.model import (
    Channel,
    Decision,
    Employer,
    EmployerIdentity,
    EmployerKind,
    ModerationDecision,
    Verification,
)
from jobs_core.phones import normalize_phone
from jobs_core.text import clean_text
from jobs_core.uow import UnitOfWork


@dataclass(frozen=True)
class RegisterEmployer:
    name: str
    phone: str
    province: str
    kind: str = "employer"
    licence_no: str | None = None
    district: str | None = None
    channel: str | None = None
    external_id: str | None = None


async def register_employer(cmd: RegisterEmployer, uow: UnitOfWork) -> int:
    """Create an unverified employer (and link the chat identity that registered it)."""
    name = clean_text("name", cmd.name, max_length=120, required=True)
    phone = normalize_phone(cmd.phone)
    province = geo.province(cmd.province)
    district = geo.district(province.code, cmd.district) if cmd.district else None
    try:
        kind = EmployerKind(cmd.kind)
    except ValueError as exc:
        raise InvalidField("kind", "invalid_choice", "employer, agency, NGO or cooperative") from exc
    licence = clean_text("licence_no", cmd.licence_no or "", max_length=40) or None
    if kind is EmployerKind.AGENCY and not licence:
        raise InvalidField("licence_no", "required", "a recruitment agency needs its licence number")
    async with uow:
        employer = Employer(
            name=name,
            contact_phone=phone,
            province_code=province.code,
            district_code=district.code if district else None,
            kind=kind,
            licence_no=licence,
            created_at=uow.now(),
        )
        uow.session.add(employer)
        await uow.session.flush()
        if cmd.channel and cmd.external_id:
            uow.session.add(
                EmployerIdentity(employer_id=employer.id, channel=Channel(cmd.channel), external_id=cmd.external_id)
            )
        uow.audit(f"{cmd.channel}:{cmd.external_id}", "employer.registered", "employer", employer.id)
        uow.emit("employer.registered", employer_id=employer.id)
        await uow.commit()
        return employer.id


async def employer_for_identity(uow: UnitOfWork, channel: str, external_id: str) -> Employer | None:
    """The employer a chat account acts for, if any."""
    async with uow:
        return await uow.session.scalar(
            select(Employer)
            .join(EmployerIdentity)
            .where(EmployerIdentity.channel == Channel(channel), EmployerIdentity.external_id == external_id)
        )


@dataclass(frozen=True)
class DecideEmployer:
    employer_id: int
    moderator: str
    verify: bool
    reason: str | None = None


async def decide_employer(cmd: DecideEmployer, uow: UnitOfWork) -> None:
    """A moderator verifies or rejects an employer; a second decision on the same employer is refused."""
    async with uow:
        employer = await uow.session.get(Employer, cmd.employer_id, with_for_update=True)
        if employer is None:
            raise NotFound("employer", cmd.employer_id)
        target = Verification.VERIFIED if cmd.verify else Verification.REJECTED
        employer.set_verification(target, uow.now(), cmd.reason)
        uow.session.add(
            ModerationDecision(
                employer_id=employer.id,
                moderator=cmd.moderator,
                decision=Decision.VERIFY if cmd.verify else Decision.REJECT,
                reason=cmd.reason,
                created_at=uow.now(),
            )
        )
        uow.audit(cmd.moderator, f"employer.{target.value}", "employer", employer.id, reason=cmd.reason)
        uow.emit(f"employer.{target.value}", employer_id=employer.id)
        await uow.commit()
