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


class WebRegistration(Base):
    """A company typed on the website's form, waiting to be confirmed in Telegram by whoever opens its link.

    The website cannot know a person's Telegram account, so the link (``t.me/<bot>?start=reg_<token>``) carries
    a random token; the table keeps only its hash. Whoever confirms in the chat becomes the company's account,
    and the company then goes to the moderators like one registered in the chat. Used once; expires.
    """

    __tablename__ = "web_registrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    contact_phone: Mapped[str] = mapped_column(String(20))
    province_code: Mapped[str] = mapped_column(String(4))
    kind: Mapped[str] = mapped_column(String(16))
    licence_no: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]
    # The employer its confirmation made (kept when the employer is deleted, to read what happened).
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("employers.id", ondelete="SET NULL"))
