"""`bongpheak demo`: the main job on a laptop — database up, migrate, seed demo data, then the whole system in a
browser at http://127.0.0.1:8080/demo (bongpheak/demo_run.py); ``--no-serve`` prints the monthly stats instead."""

from __future__ import annotations

import argparse
import asyncio
import signal

from sqlalchemy import select

from bongpheak import demo_run
from bongpheak.bootstrap import connect, running_database
from bongpheak.commands.seed import seed
from bongpheak.commands.stats import render_stats
from bongpheak.demo_live import real_bot
from bongpheak.settings import Settings
from jobs_core.model import Job
from media.composer import pitch_duration_report
from media.listing_pitch import pitch_job
from media.packs import load_packs

NEXT_STEPS = """Next:
  see it all work:  .venv/bin/bongpheak demo, then open http://127.0.0.1:8080/demo (chats, calls, website)
  hear a listing:   .venv/bin/bongpheak voice render LISTING.json --lang km --format mp3 --out job.mp3
  screen listings:  .venv/bin/bongpheak screen FILE.jsonl
  talk to the bot:  put TELEGRAM_BOT_TOKEN in .env: `bongpheak demo` then also runs the real bot, on a
                    database of its own (var/live; the demo's made-up people never reach Telegram)
                    (every setting is in .env.example; deploying is in docs/operations.md)"""


async def pitch_lengths(url: str, settings: Settings) -> list[str]:
    """The distribution of pitch lengths over the demo's listings, per language, with the configured pack."""
    packs = load_packs(settings.audio_cache, settings.prompt_pack_dir, settings.ffmpeg_binary)
    async with connect(url, pool_size=1) as db, db.sessions() as session:
        jobs = [pitch_job(job, job.voice_clip_approved) for job in (await session.scalars(select(Job))).all()]
    return [f"{lang} ({packs[lang].describe()}): {pitch_duration_report(jobs, lang, packs[lang])}" for lang in packs]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("demo", help="seed a demo database and run the whole system in a browser")
    parser.add_argument("--port", type=int, default=8080, help="where the demo answers on 127.0.0.1 (default 8080)")
    parser.add_argument(
        "--no-serve", action="store_true", help="only seed, print the monthly stats and pitch lengths, and exit"
    )
    parser.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    settings = Settings()
    where = settings.database_url or f"embedded PostgreSQL in {settings.data_dir / 'pgdata'}"
    print(f"database: {where} (demo data: it will talk only to local fakes, never to real people)")
    if args.no_serve:
        return _print_stats(settings)
    sock = demo_run.bind(args.port)  # a port in use stops us before the database is started
    # SIGTERM while seeding or rendering stops like Ctrl-C: the embedded database is shut down on the way out.
    # (Once the demo serves, serve's own handlers stop it cleanly on either signal.)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        with running_database(settings) as url:
            asyncio.run(seed(url))
            asyncio.run(demo_run.render_voice_notes(url, settings))
            # The real bot's own serve answers /healthz on the port after the demo's.
            with real_bot(settings, sock.getsockname()[1] + 1):
                asyncio.run(demo_run.run_demo(settings, url, sock, _announce))
    finally:
        sock.close()
    print("stopped")
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _announce(address: str) -> None:
    print()
    print(f"Open {address}")
    print("Ctrl-C to stop", flush=True)


def _print_stats(settings: Settings) -> int:
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
