"""Registering employers and agencies, linking chat identities, and verification by moderators."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from jobs_core import geo
from jobs_core.company import Company, read_company
from jobs_core.errors import NotAllowed, NotFound
from jobs_core.model import (
    Channel,
    Decision,
    Employer,
    EmployerIdentity,
    ModerationDecision,
    Verification,
    WebRegistration,
)
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
    company = read_company(
        {"name": cmd.name, "phone": cmd.phone, "province": cmd.province, "kind": cmd.kind, "licence_no": cmd.licence_no}
    )
    district = geo.district(company.province, cmd.district) if cmd.district else None
    async with uow:
        employer = await _add_employer(uow, company, district.code if district else None, cmd.channel, cmd.external_id)
        await uow.commit()
        return employer.id


async def _add_employer(
    uow: UnitOfWork, company: Company, district: str | None, channel: str | None, external_id: str | None
) -> Employer:
    """The employer row, its chat identity, the audit line and ``employer.registered`` (the moderators' card):
    what every registration writes, whichever way it came."""
    employer = Employer(
        name=company.name,
        contact_phone=company.phone,
        province_code=company.province,
        district_code=district,
        kind=company.kind,
        licence_no=company.licence_no,
        created_at=uow.now(),
    )
    uow.session.add(employer)
    await uow.session.flush()
    if channel and external_id:
        uow.session.add(EmployerIdentity(employer_id=employer.id, channel=Channel(channel), external_id=external_id))
    uow.audit(f"{channel}:{external_id}", "employer.registered", "employer", employer.id)
    uow.emit("employer.registered", employer_id=employer.id)
    return employer


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


# ------------------------------------------------------------------------------------------------ from the website

REGISTRATION_HOURS = 24
# Unused registrations are deleted this long after they expired (a used one is kept with its employer).
REGISTRATIONS_KEPT = timedelta(days=7)
# The reasons a registration link cannot be used, as ``NotAllowed.reason`` (adapters word them).
LINK_USED = "this registration link was already used"
LINK_EXPIRED = "this registration link has expired"
LINK_UNKNOWN = "this registration link is not known"
ALREADY_EMPLOYER = "this account already acts for a company"


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def hold_registration(company: Company, uow: UnitOfWork) -> str:
    """Keep a company typed on the website until someone confirms it in the chat; returns the link's token
    (random; only its hash is stored)."""
    token = secrets.token_urlsafe(24)  # 32 characters: "reg_" and it fit a Telegram start payload (64)
    now = uow.now()
    async with uow:
        await uow.session.execute(
            delete(WebRegistration).where(
                WebRegistration.used_at.is_(None), WebRegistration.expires_at < now - REGISTRATIONS_KEPT
            )
        )
        uow.session.add(
            WebRegistration(
                token_hash=_token_hash(token),
                name=company.name,
                contact_phone=company.phone,
                province_code=company.province,
                kind=company.kind.value,
                licence_no=company.licence_no,
                created_at=now,
                expires_at=now + timedelta(hours=REGISTRATION_HOURS),
            )
        )
        await uow.commit()
    return token


def _usable(registration: WebRegistration | None, now: datetime) -> WebRegistration:
    if registration is None:
        raise NotAllowed(LINK_UNKNOWN)
    if registration.used_at is not None:
        raise NotAllowed(LINK_USED)
    if registration.expires_at <= now:
        raise NotAllowed(LINK_EXPIRED)
    return registration


async def pending_registration(uow: UnitOfWork, token: str) -> WebRegistration:
    """The registration a link's token names, if it can still be confirmed; else ``NotAllowed`` saying why."""
    async with uow:
        wanted = select(WebRegistration).where(WebRegistration.token_hash == _token_hash(token))
        found = await uow.session.scalar(wanted)
        return _usable(found, uow.now())


@dataclass(frozen=True)
class ConfirmRegistration:
    registration_id: int
    channel: str
    external_id: str


async def confirm_registration(cmd: ConfirmRegistration, uow: UnitOfWork) -> int:
    """The chat account that confirms a website registration becomes the company's: the same employer row,
    identity, audit line and moderators' card as a registration in the chat. Once only; an account that
    already acts for a company is refused and nothing is changed."""
    async with uow:
        if await employer_for_identity(uow, cmd.channel, cmd.external_id) is not None:
            raise NotAllowed(ALREADY_EMPLOYER)
        # Locked: two people pressing Confirm on one link at once make one employer, not two.
        registration = _usable(
            await uow.session.get(WebRegistration, cmd.registration_id, with_for_update=True), uow.now()
        )
        # Read again: the rules may have changed since the form was sent.
        company = read_company(
            {
                "name": registration.name,
                "phone": registration.contact_phone,
                "province": registration.province_code,
                "kind": registration.kind,
                "licence_no": registration.licence_no,
            }
        )
        employer = await _add_employer(uow, company, None, cmd.channel, cmd.external_id)
        registration.used_at = uow.now()
        registration.employer_id = employer.id
        await uow.commit()
        return employer.id
