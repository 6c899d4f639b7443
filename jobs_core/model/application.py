"""Applications to a job by a worker (over the phone) or by a relative for a family member."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jobs_core.model.base import Base, Channel, check_transition, enum_type, utcnow
from jobs_core.model.job import Job
from jobs_core.model.people import Relative, Worker


class Experience(enum.StrEnum):
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class ApplicationStatus(enum.StrEnum):
    # A relative applied for a family member: nothing reaches the employer until the worker presses 1.
    AWAITING_WORKER = "awaiting_worker"
    NEW = "new"
    SEEN = "seen"
    CONTACTED = "contacted"
    HIRED = "hired"
    NOT_HIRED = "not_hired"
    WITHDRAWN = "withdrawn"
    # The job closed while the application still waited for the worker.
    EXPIRED = "expired"


APPLICATION_STEPS = {
    ApplicationStatus.AWAITING_WORKER: frozenset(
        {ApplicationStatus.NEW, ApplicationStatus.WITHDRAWN, ApplicationStatus.EXPIRED}
    ),
    ApplicationStatus.NEW: frozenset({ApplicationStatus.SEEN, ApplicationStatus.WITHDRAWN}),
    ApplicationStatus.SEEN: frozenset(
        {ApplicationStatus.CONTACTED, ApplicationStatus.NOT_HIRED, ApplicationStatus.WITHDRAWN}
    ),
    ApplicationStatus.CONTACTED: frozenset(
        {ApplicationStatus.HIRED, ApplicationStatus.NOT_HIRED, ApplicationStatus.WITHDRAWN}
    ),
}


class Application(Base):
    __tablename__ = "applications"
    __table_args__ = (
        CheckConstraint("worker_id IS NOT NULL OR relative_id IS NOT NULL", name="has_applicant"),
        # A worker applies to a job once, whichever channel it came through.
        Index(
            "uq_applications_job_worker",
            "job_id",
            "worker_id",
            unique=True,
            postgresql_where="worker_id IS NOT NULL",
        ),
        Index("ix_applications_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), index=True)
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("workers.id"))
    relative_id: Mapped[int | None] = mapped_column(ForeignKey("relatives.id"))
    channel: Mapped[Channel] = mapped_column(enum_type(Channel))
    experience: Mapped[Experience] = mapped_column(enum_type(Experience), default=Experience.UNKNOWN)
    status: Mapped[ApplicationStatus] = mapped_column(enum_type(ApplicationStatus), default=ApplicationStatus.NEW)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status_changed_at: Mapped[datetime | None]
    # When the worker said yes (for their own application: when they made it). None while it awaits them and
    # for ever if they never did: only confirmed applications are shown to employers or counted.
    confirmed_at: Mapped[datetime | None]

    job: Mapped[Job] = relationship(lazy="selectin")
    worker: Mapped[Worker | None] = relationship(lazy="selectin")
    relative: Mapped[Relative | None] = relationship(lazy="selectin")

    def move_to(self, target: ApplicationStatus, at: datetime) -> None:
        check_transition("application", APPLICATION_STEPS, self.status, target)
        if self.status is ApplicationStatus.AWAITING_WORKER and target is ApplicationStatus.NEW:
            self.confirmed_at = at
        self.status = target
        self.status_changed_at = at

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None
