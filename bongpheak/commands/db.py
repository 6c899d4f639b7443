"""`bongpheak db upgrade`: bring the schema up to date."""

from __future__ import annotations

import argparse

from bongpheak.bootstrap import running_database
from bongpheak.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("db", help="database schema")
    db_sub = parser.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    up = db_sub.add_parser("upgrade", help="apply every migration")
    up.set_defaults(handler=_upgrade)


def _upgrade(args: argparse.Namespace) -> int:
    with running_database(Settings(), migrate=True):
        print("database schema is up to date")
    return 0
