"""`bongpheak admin`: staff accounts for the dashboard at /admin/ (docs/dashboard.md)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from bongpheak.bootstrap import connect, running_database
from bongpheak.commands import CommandError
from bongpheak.settings import Settings
from bots.web.admin.accounts import MIN_PASSWORD_LENGTH, save_account
from bots.web.admin.models import Role


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("admin", help="dashboard accounts for moderators and operators")
    actions = parser.add_subparsers(dest="admin_command", required=True, metavar="ACTION")
    user = actions.add_parser("user", help="create a staff account, or set its role and password")
    user.add_argument("name", help="the name they sign in with")
    user.add_argument("--role", choices=[r.value for r in Role], default=Role.MODERATOR.value)
    user.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input (for scripts)"
    )
    user.set_defaults(handler=_user)


def _user(args: argparse.Namespace) -> int:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for {args.name} (at least {MIN_PASSWORD_LENGTH} characters): ")
        if getpass.getpass("again: ") != password:
            raise CommandError("the two passwords differ; nothing was changed")
    with running_database(Settings()) as url:
        created = asyncio.run(_save(url, args.name, Role(args.role), password))
    print(f"{'created' if created else 'updated (signed out everywhere)'}: {args.name} ({args.role})")
    return 0


async def _save(url: str, name: str, role: Role, password: str) -> bool:
    async with connect(url, pool_size=1) as db:
        try:
            return await save_account(db.sessions, name, role, password)
        except ValueError as error:
            raise CommandError(f"{error}; nothing was changed") from None
