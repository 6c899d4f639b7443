"""The dialer's own bookkeeping tables: the pacer, the account alarm, the incoming calls it handled.

They live on the domain's metadata so ``alembic check`` and the tests' truncation see them, but only the
dialer reads or writes them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from jobs_core.model.base import Base, utcnow


class DialerPacer(Base):
    """The next free slot of the provider's calls-per-second budget, shared by every dialer process."""

    __tablename__ = "dialer_pacer"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    next_slot_at: Mapped[datetime]


class DialerAccountAlarm(Base):
    """Placing is paused: the provider refused the account itself (credentials, caller ID), not a call.

    While the row exists no call is claimed, except one every ``probe_at`` that tries the account again; the
    first call the provider accepts deletes the row. Shared, so every dialer process pauses.
    """

    __tablename__ = "dialer_account_alarm"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    reason: Mapped[str] = mapped_column(String(240))
    raised_at: Mapped[datetime]
    probe_at: Mapped[datetime]
    refusals: Mapped[int] = mapped_column(default=1)


class DialerIncomingCall(Base):
    """A worker's missed call already handled, by the provider's CallSid: a replayed webhook schedules nothing."""

    __tablename__ = "dialer_incoming_calls"

    call_sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class DialerUnreachableNumber(Base):
    """A worker's number the network says does not exist (SIP 404 on every try, 410, 484, 604): not called again.

    The relatives who nominated the worker are told; the row goes when someone fixes the number (a moderator
    deletes it) — the claim cancels the worker's calls while it is there.
    """

    __tablename__ = "dialer_unreachable_numbers"

    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id", ondelete="CASCADE"), primary_key=True)
    sip_code: Mapped[int]
    marked_at: Mapped[datetime]
