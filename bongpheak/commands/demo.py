"""`bongpheak demo`: the main job on a laptop — database up, migrate, seed, print the monthly stats."""

from __future__ import annotations

import argparse
import asyncio

from bongpheak.bootstrap import running_database
from bongpheak.commands.seed import seed
from bongpheak.commands.stats import render_stats
from bongpheak.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("demo", help="start the database, migrate, seed demo data, print stats")
    parser.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    settings = Settings()
    where = settings.database_url or f"embedded PostgreSQL in {settings.data_dir / 'pgdata'}"
    print(f"database: {where}")
    with running_database(settings) as url:
        asyncio.run(seed(url))
        print()
        print("Monthly figures (active relatives per channel, jobs published, applications by channel, calls, hires)")
        print(asyncio.run(render_stats(url)))
    return 0
