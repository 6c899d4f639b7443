"""A relative's "call my family member about this job", kept as a row of its own.

The dialer reads it twice: when the request arrives (a consent call first, or the pitch), and again when the
worker agrees to calls later (the requested jobs are pitched first, even outside the worker's profile).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from jobs_core.model.base import Base, utcnow


class CallRequest(Base):
    __tablename__ = "call_requests"
    __table_args__ = (Index("ix_call_requests_worker_created", "worker_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id", ondelete="CASCADE"))
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    nomination_id: Mapped[int | None] = mapped_column(ForeignKey("nominations.id", ondelete="SET NULL"))
    relative_id: Mapped[int | None] = mapped_column(ForeignKey("relatives.id", ondelete="SET NULL"))
    # Set when the relative applied for the worker: the pitch then asks the worker to confirm with 1.
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
