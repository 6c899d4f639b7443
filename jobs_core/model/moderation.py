"""Moderators' decisions on employers and listings, kept whole for accountability."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from jobs_core.model.base import Base, enum_type, utcnow


class Decision(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_CHANGES = "request_changes"
    VERIFY = "verify"


class ModerationDecision(Base):
    __tablename__ = "moderation_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"), index=True)
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("employers.id"), index=True)
    moderator: Mapped[str] = mapped_column(String(64))
    decision: Mapped[Decision] = mapped_column(enum_type(Decision))
    reason: Mapped[str | None] = mapped_column(String(500))
    # What the screener said when the moderator decided, so a later audit sees what they saw.
    risk: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
