"""Job listings, their sectors and their lifecycle from draft to filled, expired or withdrawn."""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text

# PostgreSQL's ARRAY (not the generic one) has the containment operators matching uses.
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jobs_core.model.base import Base, check_transition, enum_type, utcnow
from jobs_core.model.employer import Employer


class Sector(Base):
    """A sector workers can choose; a table so operators can add sectors without a release."""

    __tablename__ = "sectors"

    code: Mapped[str] = mapped_column(String(24), primary_key=True)
    name_en: Mapped[str] = mapped_column(String(60))
    name_km: Mapped[str] = mapped_column(String(60))
    position: Mapped[int] = mapped_column(default=0)


# Seeded by the first migration; the codes are shared with media's clip keys and the screener's norms.
DEFAULT_SECTORS: tuple[tuple[str, str, str], ...] = (
    ("manufacturing", "Garment / manufacturing", "រោងចក្រ ឬកាត់ដេរ"),
    ("construction", "Construction", "សំណង់"),
    ("hospitality", "Hotels and restaurants", "សណ្ឋាគារ និងភោជនីយដ្ឋាន"),
    ("security", "Security", "សន្តិសុខ"),
    ("agriculture", "Agriculture", "កសិកម្ម"),
    ("fishing", "Fishing", "នេសាទ"),
    ("domestic", "Domestic work", "ការងារបម្រើតាមផ្ទះ"),
    ("retail", "Shops and sales", "លក់ដូរ"),
    ("transport", "Transport and driving", "ដឹកជញ្ជូន"),
    ("other", "Other", "ផ្សេងៗ"),
)


class JobStatus(enum.StrEnum):
    DRAFT = "draft"
    PENDING_REVIEW = "pending_review"
    PUBLISHED = "published"
    FILLED = "filled"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    REJECTED = "rejected"
    CHANGES_REQUESTED = "changes_requested"
    # Off browsing, alerts and calls while a report of fees, kept documents or abuse waits for a moderator.
    SUSPENDED = "suspended"
    # Approved by a moderator; published once its invoice is paid (only when payments are on).
    AWAITING_PAYMENT = "awaiting_payment"


JOB_STEPS = {
    JobStatus.DRAFT: frozenset({JobStatus.PENDING_REVIEW, JobStatus.WITHDRAWN}),
    JobStatus.PENDING_REVIEW: frozenset(
        {
            JobStatus.PUBLISHED,
            JobStatus.REJECTED,
            JobStatus.CHANGES_REQUESTED,
            JobStatus.WITHDRAWN,
            JobStatus.AWAITING_PAYMENT,
        }
    ),
    JobStatus.AWAITING_PAYMENT: frozenset({JobStatus.PUBLISHED, JobStatus.WITHDRAWN, JobStatus.REJECTED}),
    JobStatus.CHANGES_REQUESTED: frozenset({JobStatus.PENDING_REVIEW, JobStatus.WITHDRAWN}),
    JobStatus.PUBLISHED: frozenset(
        {JobStatus.FILLED, JobStatus.EXPIRED, JobStatus.WITHDRAWN, JobStatus.SUSPENDED, JobStatus.REJECTED}
    ),
    # A report upheld takes the listing down (rejected); dismissed, it is live again.
    JobStatus.SUSPENDED: frozenset(
        {JobStatus.PUBLISHED, JobStatus.REJECTED, JobStatus.WITHDRAWN, JobStatus.FILLED, JobStatus.EXPIRED}
    ),
}


class Currency(enum.StrEnum):
    USD = "USD"
    KHR = "KHR"


class SalaryPeriod(enum.StrEnum):
    MONTH = "month"
    DAY = "day"
    HOUR = "hour"
    PIECE = "piece"


class GenderPreference(enum.StrEnum):
    ANY = "any"
    MALE = "male"
    FEMALE = "female"


class Benefit(enum.StrEnum):
    MEALS = "meals"
    ACCOMMODATION = "accommodation"
    TRANSPORT = "transport"
    OVERTIME = "overtime"
    NSSF = "nssf"


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        # Browsing and matching look at live listings by place and sector, newest first.
        Index(
            "ix_jobs_live",
            "province_code",
            "sector_code",
            "published_at",
            postgresql_where="status = 'published'",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    sector_code: Mapped[str] = mapped_column(ForeignKey("sectors.code"))
    province_code: Mapped[str | None] = mapped_column(String(4))
    district_code: Mapped[str | None] = mapped_column(String(8))
    # Work abroad (only through licensed agencies); None means in Cambodia.
    country: Mapped[str | None] = mapped_column(String(60))
    salary_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    salary_currency: Mapped[Currency | None] = mapped_column(enum_type(Currency))
    salary_period: Mapped[SalaryPeriod | None] = mapped_column(enum_type(SalaryPeriod))
    hours_start: Mapped[time | None]
    hours_end: Mapped[time | None]
    days_per_week: Mapped[int | None]
    positions: Mapped[int] = mapped_column(default=1)
    gender: Mapped[GenderPreference] = mapped_column(enum_type(GenderPreference), default=GenderPreference.ANY)
    min_age: Mapped[int | None]
    max_age: Mapped[int | None]
    benefits: Mapped[list[str]] = mapped_column(ARRAY(String(24)), default=list)
    start_date: Mapped[date | None]
    contact: Mapped[str | None] = mapped_column(String(120))
    expires_at: Mapped[datetime | None]
    # Paid featured weeks: until then the listing comes first in browsing (within the chosen filters).
    featured_until: Mapped[datetime | None]
    status: Mapped[JobStatus] = mapped_column(enum_type(JobStatus), default=JobStatus.DRAFT, index=True)
    rejection_reason: Mapped[str | None] = mapped_column(String(500))
    change_note: Mapped[str | None] = mapped_column(String(500))
    risk: Mapped[str | None] = mapped_column(String(8))
    risk_reasons: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    # The employer's own recording: a normalised file, spliced into the pitch only once approved.
    voice_clip: Mapped[str | None] = mapped_column(String(200))
    voice_clip_approved: Mapped[bool] = mapped_column(default=False)
    # A published listing's edit waits for review as its own row (a revision) while the public version stays;
    # approving the revision copies its facts onto this listing (jobs_core.services.jobs.moderate_job).
    revision_of: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    employer: Mapped[Employer] = relationship(lazy="selectin")
    sector: Mapped[Sector] = relationship(lazy="selectin")

    def move_to(self, target: JobStatus, at: datetime) -> None:
        """Change status if the lifecycle allows it, stamping when."""
        check_transition("job", JOB_STEPS, self.status, target)
        self.status = target
        if target is JobStatus.PENDING_REVIEW:
            self.submitted_at = at
        elif target is JobStatus.PUBLISHED:
            # Back from a suspension it keeps its place: it is not a new listing.
            self.published_at = self.published_at or at
        elif target in (JobStatus.FILLED, JobStatus.EXPIRED, JobStatus.WITHDRAWN, JobStatus.REJECTED):
            self.closed_at = at

    def is_featured(self, now: datetime) -> bool:
        return self.featured_until is not None and self.featured_until > now

    def is_live(self, now: datetime) -> bool:
        """Published and not past its expiry (the sweeper may not have run yet)."""
        return self.status is JobStatus.PUBLISHED and (self.expires_at is None or self.expires_at > now)
