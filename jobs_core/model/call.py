"""Phone calls to workers as data: purpose, status, reason, attempts, provider id and the keys pressed.

Bong Pheak kept pressed keys in one shared file and calls overwrote each other; here every call is a row.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jobs_core.model.base import Base, check_transition, enum_type, utcnow
from jobs_core.model.people import Worker


class CallPurpose(enum.StrEnum):
    CONSENT = "consent"
    JOB_PITCH = "job_pitch"
    CALLBACK = "callback"
    CHECKIN = "checkin"
    # A short call telling a worker the outcome of their application, when the relative who applied for them
    # could not be reached in chat (docs/messenger.md, "Outcomes by a call").
    OUTCOME = "outcome"


class CallStatus(enum.StrEnum):
    PENDING = "pending"
    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    RETRY_WAIT = "retry_wait"
    FAILED = "failed"
    CANCELED = "canceled"


class CallReason(enum.StrEnum):
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    MACHINE = "machine"
    FAILED = "failed"
    REJECTED = "rejected"


CALL_STEPS = {
    CallStatus.PENDING: frozenset({CallStatus.QUEUED, CallStatus.CANCELED, CallStatus.FAILED}),
    CallStatus.RETRY_WAIT: frozenset({CallStatus.QUEUED, CallStatus.CANCELED, CallStatus.FAILED}),
    CallStatus.QUEUED: frozenset(
        {
            CallStatus.IN_PROGRESS,
            CallStatus.COMPLETED,
            CallStatus.RETRY_WAIT,
            CallStatus.FAILED,
            CallStatus.CANCELED,
        }
    ),
    CallStatus.IN_PROGRESS: frozenset({CallStatus.COMPLETED, CallStatus.RETRY_WAIT, CallStatus.FAILED}),
}


class Call(Base):
    __tablename__ = "calls"
    __table_args__ = (
        # The scheduler's claim: due calls in order of their next attempt.
        Index("ix_calls_due", "next_attempt_at", postgresql_where="status IN ('pending', 'retry_wait')"),
        # The daily cap per number counts today's placed calls of one worker.
        Index("ix_calls_worker_placed", "worker_id", "placed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"))
    purpose: Mapped[CallPurpose] = mapped_column(enum_type(CallPurpose))
    job_ids: Mapped[list[int]] = mapped_column(JSONB, default=list)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"))
    # The nomination whose relative is named as the recommender (and told the outcome).
    nomination_id: Mapped[int | None] = mapped_column(ForeignKey("nominations.id", ondelete="SET NULL"))
    status: Mapped[CallStatus] = mapped_column(enum_type(CallStatus), default=CallStatus.PENDING)
    reason: Mapped[CallReason | None] = mapped_column(enum_type(CallReason))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Every key pressed, in order: [{"step": "menu", "digits": "1", "at": "..."}]
    keys: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    # Where the call is in its flow (which job of job_ids, which menu), for webhooks that arrive later.
    flow_state: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    placed_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    # A dialer is asking the provider about this call (an orphan, a lost final callback) until then; after it,
    # the dialer is presumed dead and another one asks.
    checking_until: Mapped[datetime | None]

    worker: Mapped[Worker] = relationship(lazy="selectin")

    def move_to(self, target: CallStatus) -> None:
        check_transition("call", CALL_STEPS, self.status, target)
        self.status = target


class JobPitch(Base):
    """A job pitched (or scheduled to be pitched) to a worker: one per job per worker, ever."""

    __tablename__ = "job_pitches"
    __table_args__ = (UniqueConstraint("job_id", "worker_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"))
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"), index=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CallAttempt(Base):
    """One placed call (a row of ``calls`` is retried; each try is an attempt): the daily cap counts these."""

    __tablename__ = "call_attempts"
    __table_args__ = (Index("ix_call_attempts_worker_placed", "worker_id", "placed_at"),)

    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True)
    attempt: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id", ondelete="CASCADE"))
    placed_at: Mapped[datetime]
    provider_sid: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(24))
