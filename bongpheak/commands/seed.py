"""`bongpheak seed --demo`: realistic Cambodian demo data, into a database that is then a demo for good."""

from __future__ import annotations

import argparse
import asyncio

from tqdm import tqdm

from bongpheak.bootstrap import connect, running_database
from bongpheak.commands import CommandError
from bongpheak.demo_guard import DEMO_NOTICE, holds_demo_data
from bongpheak.demo_seed import holds_people, seed_demo
from bongpheak.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("seed", help="load demo data")
    parser.add_argument("--demo", action="store_true", help="employers, jobs, relatives, workers, calls, applications")
    parser.set_defaults(handler=_seed)


def _seed(args: argparse.Namespace) -> int:
    if not args.demo:
        raise CommandError("say what to seed: --demo")
    with running_database(Settings()) as url:
        asyncio.run(seed(url))
    return 0


async def seed(url: str) -> None:
    """Seed the demo once, and only into a database nobody uses yet (it will refuse real services after)."""
    async with connect(url) as db:
        if await holds_demo_data(db.sessions):
            print("demo data already present; nothing added")
            return
        if await holds_people(db.sessions):
            raise CommandError(
                "this database already holds employers, relatives or workers, so no demo data goes into it; "
                "seed the demo into a fresh database (DATABASE_URL) or another DATA_DIR"
            )
        with tqdm(total=5, desc="seeding demo", unit="step") as bar:
            report = await seed_demo(db.sessions, progress=lambda _n: bar.update(1))
    print(
        f"seeded {report.employers} employers, {report.jobs} listings ({report.flagged} flagged by screening), "
        f"{report.relatives} relatives, {report.workers} workers, {report.calls} calls, "
        f"{report.applications} applications"
    )
    print(DEMO_NOTICE)
