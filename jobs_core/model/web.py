"""What the public website keeps: counters per day, the keys it signs with, employers' sign-in codes and sessions.

No visitor is identified: a visitor is a hash of (the day's salt, address, browser) and the salt of a day is
replaced the next day, so yesterday's hashes can no longer be linked to anyone, nor to today's.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from jobs_core.model.base import Base, utcnow


class WebKey(Base):
    """A secret the website signs or salts with: ``csrf`` (kept), ``visitor`` (replaced every day)."""

    __tablename__ = "web_keys"

    purpose: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[date | None]
    secret: Mapped[bytes] = mapped_column(LargeBinary)


class WebCount(Base):
    """How many times something happened on one day: ``view`` (a page), ``play`` (a voice note), ``share``.

    ``job_id`` 0 is the job list (and pages about no job); a job id is kept without a foreign key so that
    counts outlive a deleted listing."""

    __tablename__ = "web_counts"

    day: Mapped[date] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), primary_key=True)
    job_id: Mapped[int] = mapped_column(primary_key=True, default=0)
    count: Mapped[int] = mapped_column(default=0)


class WebVisitor(Base):
    """One row per distinct visitor per day: the day's salted hash, never an address."""

    __tablename__ = "web_visitors"

    day: Mapped[date] = mapped_column(primary_key=True)
    visitor: Mapped[bytes] = mapped_column(LargeBinary(16), primary_key=True)


class WebSignInCode(Base):
    """A one-time code sent to an employer's Telegram chat to sign in on the website; only its hash is kept."""

    __tablename__ = "web_sign_in_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    tries: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None]


class WebSession(Base):
    """A signed-in employer's session (the cookie holds the token; the table only its hash)."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
