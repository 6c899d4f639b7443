"""Abuse reports on a job or an employer, including post-hire check-in alarms from the phone."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from jobs_core.model.base import Base, check_transition, enum_type, utcnow


class ReportStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"


class ReportPriority(enum.StrEnum):
    NORMAL = "normal"
    HIGH = "high"


REPORT_STEPS = {ReportStatus.OPEN: frozenset({ReportStatus.RESOLVED, ReportStatus.DISMISSED})}


class Report(Base):
    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"), index=True)
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("employers.id"), index=True)
    reason: Mapped[str] = mapped_column(String(40))
    details: Mapped[str] = mapped_column(Text, default="")
    reporter_relative_id: Mapped[int | None] = mapped_column(ForeignKey("relatives.id"))
    reporter_worker_id: Mapped[int | None] = mapped_column(ForeignKey("workers.id"))
    priority: Mapped[ReportPriority] = mapped_column(enum_type(ReportPriority), default=ReportPriority.NORMAL)
    status: Mapped[ReportStatus] = mapped_column(enum_type(ReportStatus), default=ReportStatus.OPEN, index=True)
    resolution: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]

    def close(self, target: ReportStatus, at: datetime, resolution: str | None = None) -> None:
        check_transition("report", REPORT_STEPS, self.status, target)
        self.status = target
        self.closed_at = at
        self.resolution = resolution
