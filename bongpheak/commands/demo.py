"""`bongpheak demo`: the main job on a laptop — database up, migrate, seed, print the monthly stats."""

from __future__ import annotations

import argparse
import asyncio

from bongpheak.bootstrap import running_database
from bongpheak.commands.seed import seed
from bongpheak.commands.stats import render_stats
from bongpheak.settings import Settings

NEXT_STEPS = """Next:
  hear a listing:   .venv/bin/bongpheak voice render LISTING.json --lang km --format mp3 --out job.mp3
  screen listings:  .venv/bin/bongpheak screen FILE.jsonl
  talk to the bot:  put TELEGRAM_BOT_TOKEN in .env, then .venv/bin/bongpheak serve --polling
                    (every setting is in .env.example; deploying is in docs/operations.md)"""


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
    print()
    print(NEXT_STEPS)
    return 0
