"""Employers and recruitment agencies, their verification and the chat identities that act for them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jobs_core.model.base import Base, Channel, check_transition, enum_type, utcnow


class EmployerKind(enum.StrEnum):
    EMPLOYER = "employer"
    AGENCY = "agency"
    # Kinds an operator may choose not to charge (the prices file's free.kinds).
    NGO = "ngo"
    COOPERATIVE = "cooperative"


class Verification(enum.StrEnum):
    UNVERIFIED = "unverified"
    VERIFIED = "verified"
    REJECTED = "rejected"


VERIFICATION_STEPS = {
    Verification.UNVERIFIED: frozenset({Verification.VERIFIED, Verification.REJECTED}),
}


class Employer(Base):
    __tablename__ = "employers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    contact_phone: Mapped[str] = mapped_column(String(20))
    province_code: Mapped[str] = mapped_column(String(4))
    district_code: Mapped[str | None] = mapped_column(String(8))
    kind: Mapped[EmployerKind] = mapped_column(enum_type(EmployerKind), default=EmployerKind.EMPLOYER)
    licence_no: Mapped[str | None] = mapped_column(String(40))
    verification: Mapped[Verification] = mapped_column(
        enum_type(Verification), default=Verification.UNVERIFIED, index=True
    )
    rejection_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    verified_at: Mapped[datetime | None]

    identities: Mapped[list[EmployerIdentity]] = relationship(back_populates="employer", lazy="selectin")

    def set_verification(self, target: Verification, at: datetime, reason: str | None = None) -> None:
        check_transition("employer", VERIFICATION_STEPS, self.verification, target)
        self.verification = target
        self.verified_at = at
        self.rejection_reason = reason


class EmployerIdentity(Base):
    """A chat account (Telegram user, Messenger PSID) allowed to act for an employer."""

    __tablename__ = "employer_identities"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id", ondelete="CASCADE"), index=True)
    channel: Mapped[Channel] = mapped_column(enum_type(Channel))
    external_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    employer: Mapped[Employer] = relationship(back_populates="identities")
