"""`bongpheak admin user`: staff accounts are made on the server; a new password signs the old sessions out."""

from __future__ import annotations

import asyncio
import io

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bongpheak.bootstrap import connect
from bongpheak.cli import main
from bots.web.admin.accounts import SignInRefused, sign_in
from bots.web.admin.models import Role, StaffAccount, StaffSession


def _run(url: str, name: str, password: str) -> tuple[str | None, int]:
    """Sign in on an engine of its own (the CLI ran its own event loops); the role, and sessions left."""

    async def attempt() -> tuple[str | None, int]:
        async with connect(url, pool_size=1) as db:
            try:
                _, staff = await sign_in(db.sessions, name, password)
                role: str | None = staff.role.value
            except SignInRefused:
                role = None
            async with db.sessions() as session:
                return role, await session.scalar(select(func.count()).select_from(StaffSession)) or 0

    return asyncio.run(attempt())


def test_an_account_is_made_and_its_password_changed_from_the_command_line(
    session_factory: async_sessionmaker[AsyncSession],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["admin", "user", "dara", "--password-stdin"]) == 2
    assert "at least 12 characters" in capsys.readouterr().err

    monkeypatch.setattr("sys.stdin", io.StringIO("first long password\n"))
    assert main(["admin", "user", "dara", "--password-stdin"]) == 0
    assert "created: dara (moderator)" in capsys.readouterr().out
    assert _run(database_url, "dara", "first long password") == (Role.MODERATOR.value, 1)

    monkeypatch.setattr("sys.stdin", io.StringIO("second long password\n"))
    assert main(["admin", "user", "dara", "--role", "operator", "--password-stdin"]) == 0
    assert "updated" in capsys.readouterr().out
    # The old session is gone, the old password refused, the new one works with the new role.
    assert _run(database_url, "dara", "first long password") == (None, 0)
    assert _run(database_url, "dara", "second long password") == (Role.OPERATOR.value, 1)

    async def stored() -> str:
        async with connect(database_url, pool_size=1) as db, db.sessions() as session:
            return await session.scalar(select(StaffAccount.password_hash)) or ""

    assert asyncio.run(stored()).startswith("scrypt$") and "second" not in asyncio.run(stored())
