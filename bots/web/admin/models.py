"""Who may sign in to the operator's dashboard, and their sessions (PostgreSQL, so every serve process agrees)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from jobs_core.model.base import Base, enum_type, utcnow


class Role(enum.StrEnum):
    """Moderators decide listings, reports and companies; operators do that too and run the service."""

    MODERATOR = "moderator"
    OPERATOR = "operator"


class StaffAccount(Base):
    """A moderator or operator of the dashboard, created with ``bongpheak admin user NAME``."""

    __tablename__ = "staff_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    role: Mapped[Role] = mapped_column(enum_type(Role))
    # scrypt$<n>$<r>$<p>$<salt>$<hash>, base64: never the password itself.
    password_hash: Mapped[str] = mapped_column(String(200))
    failed_sign_ins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StaffSession(Base):
    """A signed-in browser: the cookie holds a random token, the row only its SHA-256 (a leaked table signs
    no one in). Each session has its own CSRF token, put in every form it is shown."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
