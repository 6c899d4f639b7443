"""`bongpheak demo`: the main job on a laptop — database up, migrate, seed demo data, print the monthly stats."""

from __future__ import annotations

import argparse
import asyncio

from sqlalchemy import select

from bongpheak.bootstrap import connect, running_database
from bongpheak.commands.seed import seed
from bongpheak.commands.stats import render_stats
from bongpheak.settings import Settings
from conversations.common import pitch_job
from jobs_core.model import Job
from media.composer import pitch_duration_report
from media.packs import load_packs

NEXT_STEPS = """Next:
  hear a listing:   .venv/bin/bongpheak voice render LISTING.json --lang km --format mp3 --out job.mp3
  screen listings:  .venv/bin/bongpheak screen FILE.jsonl
  talk to the bot:  not with this demo database, which never talks to real Telegram (docs/demo.md): put
                    TELEGRAM_BOT_TOKEN in .env, then DATA_DIR=var/live .venv/bin/bongpheak serve --polling
                    (every setting is in .env.example; deploying is in docs/operations.md)"""


async def pitch_lengths(url: str, settings: Settings) -> list[str]:
    """The distribution of pitch lengths over the demo's listings, per language, with the configured pack."""
    packs = load_packs(settings.audio_cache, settings.prompt_pack_dir, settings.ffmpeg_binary)
    async with connect(url, pool_size=1) as db, db.sessions() as session:
        jobs = [pitch_job(job, job.voice_clip_approved) for job in (await session.scalars(select(Job))).all()]
    return [f"{lang} ({packs[lang].describe()}): {pitch_duration_report(jobs, lang, packs[lang])}" for lang in packs]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("demo", help="start the database, migrate, seed demo data, print stats")
    parser.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    settings = Settings()
    where = settings.database_url or f"embedded PostgreSQL in {settings.data_dir / 'pgdata'}"
    print(f"database: {where} (demo data: it will talk only to local fakes, never to real people)")
    with running_database(settings) as url:
        asyncio.run(seed(url))
        print()
        print("Monthly figures (active relatives per channel, jobs published, applications by channel, calls, hires)")
        print(asyncio.run(render_stats(url)))
        print()
        print("Voice pitches of every demo listing (a whole call must fit one billed minute: pitch ≤ 45 s):")
        for line in asyncio.run(pitch_lengths(url, settings)):
            print(f"  {line}")
    print()
    print(NEXT_STEPS)
    return 0
