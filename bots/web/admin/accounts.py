"""Staff sign-in: scrypt password hashes, a lock after repeated failures, sessions as hashed random tokens.

Why passwords and not a code sent to Telegram: the dashboard must work when Telegram is blocked or the bot is
down (that is when operators need it most), and an operator may have no Telegram account. Accounts are made
on the server by someone with shell access (``bongpheak admin user NAME``), so there is no sign-up form to
abuse.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.web.admin.models import Role, StaffAccount, StaffSession
from jobs_core.model import AuditEntry
from jobs_core.model.base import utcnow

SESSION_LIFETIME = timedelta(hours=12)
MAX_FAILURES = 5  # wrong passwords in a row before the account waits
LOCK_TIME = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 12
# scrypt's cost: about 50 ms and 16 MiB per try, so guessing offline from a leaked table is slow.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    encode = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${encode(salt).decode()}${encode(digest).decode()}"


def password_matches(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p))
    except ValueError:
        return False
    return hmac.compare_digest(got, expected)


# Checked against when the name is unknown, so a wrong name takes as long as a wrong password.
_DECOY = hash_password(secrets.token_urlsafe(16))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SignedIn:
    """The staff member behind a request."""

    account_id: int
    name: str
    role: Role
    csrf_token: str

    @property
    def actor(self) -> str:
        """How their decisions are recorded in the audit log and moderation decisions."""
        return f"staff:{self.name}"


class SignInRefused(Exception):
    """Wrong name or password (never which), or too many failures: ``locked`` says which message to show."""

    def __init__(self, locked: bool = False) -> None:
        super().__init__("locked" if locked else "refused")
        self.locked = locked


async def save_account(sessions: async_sessionmaker[AsyncSession], name: str, role: Role, password: str) -> bool:
    """Create the account, or set its role and password (ending its sessions); True when created."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    name = name.strip()
    if not name or len(name) > 60:
        raise ValueError("the name must have 1 to 60 characters")
    hashed = await asyncio.to_thread(hash_password, password)
    async with sessions.begin() as session:
        account = await session.scalar(select(StaffAccount).where(StaffAccount.name == name).with_for_update())
        if account is None:
            session.add(StaffAccount(name=name, role=role, password_hash=hashed, failed_sign_ins=0))
            return True
        account.role, account.password_hash = role, hashed
        account.failed_sign_ins, account.locked_until = 0, None
        await session.execute(delete(StaffSession).where(StaffSession.account_id == account.id))
        return False


async def sign_in(sessions: async_sessionmaker[AsyncSession], name: str, password: str) -> tuple[str, SignedIn]:
    """A new session's cookie token, or SignInRefused. Failures are counted per account; the scrypt check
    runs outside the transaction (it is slow on purpose), the count is written in a short one."""
    async with sessions() as session:
        account = await session.scalar(select(StaffAccount).where(StaffAccount.name == name.strip()))
    now = utcnow()
    if account is None:
        await asyncio.to_thread(password_matches, password, _DECOY)
        raise SignInRefused()
    if account.locked_until is not None and account.locked_until > now:
        raise SignInRefused(locked=True)
    ok = await asyncio.to_thread(password_matches, password, account.password_hash)
    async with sessions.begin() as session:
        row = await session.get(StaffAccount, account.id, with_for_update=True)
        if row is None:
            raise SignInRefused()
        if not ok:
            row.failed_sign_ins += 1
            if row.failed_sign_ins >= MAX_FAILURES:
                row.failed_sign_ins, row.locked_until = 0, now + LOCK_TIME
                session.add(_audit(row, "staff.locked", now))
            raise_after = SignInRefused(locked=row.locked_until is not None and row.locked_until > now)
        else:
            row.failed_sign_ins, row.locked_until = 0, None
            token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            session.add(
                StaffSession(
                    token_hash=token_hash(token),
                    account_id=row.id,
                    csrf_token=csrf,
                    created_at=now,
                    expires_at=now + SESSION_LIFETIME,
                )
            )
            session.add(_audit(row, "staff.signed_in", now))
            return token, SignedIn(row.id, row.name, row.role, csrf)
    raise raise_after


def _audit(account: StaffAccount, action: str, now: datetime) -> AuditEntry:
    """Sign-ins and locks in the audit log, beside the decisions they led to."""
    return AuditEntry(
        actor=f"staff:{account.name}", action=action, subject_type="staff", subject_id=account.id, detail={}, at=now
    )


async def signed_in(sessions: async_sessionmaker[AsyncSession], token: str | None, now: datetime) -> SignedIn | None:
    """The staff member whose session cookie this is, if it is still valid."""
    if not token or len(token) > 100:
        return None
    async with sessions() as session:
        row = await session.execute(
            select(StaffSession.csrf_token, StaffAccount.id, StaffAccount.name, StaffAccount.role)
            .join(StaffAccount, StaffAccount.id == StaffSession.account_id)
            .where(StaffSession.token_hash == token_hash(token), StaffSession.expires_at > now)
        )
        found = row.first()
    if found is None:
        return None
    csrf, account_id, name, role = found
    return SignedIn(account_id, name, role, csrf)


async def sign_out(sessions: async_sessionmaker[AsyncSession], token: str) -> None:
    """End this session; expired ones of anyone are swept at the same time."""
    async with sessions.begin() as session:
        await session.execute(
            delete(StaffSession).where(
                (StaffSession.token_hash == token_hash(token)) | (StaffSession.expires_at <= utcnow())
            )
        )
