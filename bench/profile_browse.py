"""Time inside the dialog engine per browse update (a script, not a timed test).

The dialog engine alone, called the way the Telegram adapter calls it: inside an open transaction on one
connection, given a session factory that joins that transaction (``bots/telegram/updates.py``), through
``bots.telegram.dialog.conversation_dialog``. Each update is the browse flow's heavy step, the button
``jobs:-:-:0`` (live jobs, three job cards with their voice notes, the paging message), for a relative who
started in English, as in ``bench/bench_webhook.py``. One update at a time, so the figure is the engine's own
cost, not time spent waiting for the event loop behind other updates (``--concurrency 16`` shows that wait,
as ``bench_webhook``'s 16 clients see it). The process's CPU time per update is printed too.

Voice notes come from the production wiring: the real renderer with the bundled prompt packs, in a temporary
audio cache, the listings rendered beforehand as publication does (``--audio none``: no voice notes).

    DATABASE_URL=postgresql://… .venv/bin/python -m bench.profile_browse [--updates 300 --runs 5]
        [--concurrency 16] [--audio none] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import platform
import pstats
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.listings import publish_listings
from bongpheak.database import create_engine, session_factory
from bongpheak.scratch_database import fresh_database
from bots.telegram.deps import DialogHandler
from bots.telegram.dialog import conversation_dialog
from conversations.replies import Incoming, JobCard, Text
from conversations.turn import DialogDeps
from conversations.voice_notes import VoiceNotes
from jobs_core.model.base import utcnow
from jobs_core.services.jobs import (
    live_jobs,
)
from jobs_core.uow import UnitOfWork
from media.listing_pitch import pitch_job
from media.packs import load_packs
from media.renderer import Renderer

BROWSE = "jobs:-:-:0"
CHATS = 64

# ------------------------------------------------------------------------------------------------ the engine


def incoming(chat: int, *, text: str | None = None, action: str | None = None) -> Incoming:
    return Incoming(
        channel="telegram",
        chat_id=str(chat),
        user_id=str(chat),
        user_name="Dara Sok",
        language_hint="en",
        text=text,
        action=action,
        extra={"message_id": "1"},
    )


async def in_update_transaction(
    dialog: DialogHandler, sessions: async_sessionmaker[AsyncSession], update: Incoming
) -> tuple[float, list[object]]:
    """One update as the adapter runs it; returns the seconds spent inside the dialog engine and its replies."""
    async with sessions() as session, session.begin():
        connection = await session.connection()
        in_transaction = async_sessionmaker(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        started = time.perf_counter()
        replies = await dialog(update, in_transaction)
        elapsed = time.perf_counter() - started
    return elapsed, list(replies)


def check_browse_page(replies: list[object], with_voice: bool) -> None:
    """The measured step must be the real page: three cards (with voice notes) and the paging message."""
    cards = [r for r in replies if isinstance(r, JobCard)]
    assert len(cards) == 3 and isinstance(replies[-1], Text), replies
    if with_voice:
        assert all(c.voice is not None for c in cards), "a job card went out without its voice note"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run_updates(
    dialog: DialogHandler, sessions: async_sessionmaker[AsyncSession], chats: list[int], args: argparse.Namespace
) -> list[float]:
    """``args.updates`` browse updates, ``args.concurrency`` at a time for distinct chats; ms in the engine each."""
    times: list[float] = []
    queue = iter(range(args.updates))

    async def client() -> None:
        for i in queue:  # as bench_webhook: update i for chat i mod 64, so updates in flight are for distinct chats
            update = incoming(chats[i % len(chats)], action=BROWSE)
            elapsed, replies = await in_update_transaction(dialog, sessions, update)
            check_browse_page(replies, with_voice=args.audio == "renderer")
            times.append(1000 * elapsed)

    await asyncio.gather(*(client() for _ in range(args.concurrency)))
    return times


async def measure(url: str, args: argparse.Namespace, cache: Path) -> None:
    engine = create_engine(url, pool_size=max(4, args.concurrency))
    sessions = session_factory(engine)
    await publish_listings(sessions, utcnow())
    deps = DialogDeps(session_factory=sessions)
    if args.audio == "renderer":
        voice_notes = VoiceNotes(Renderer(load_packs(cache), cache))
        deps = DialogDeps(session_factory=sessions, audio=voice_notes.make, cached_audio=voice_notes.ready)
    dialog = conversation_dialog(deps)
    chats = [500_000 + i for i in range(CHATS)]
    for chat in chats:  # each relative starts once, in English: the measured step is browsing only
        await in_update_transaction(dialog, sessions, incoming(chat, text="/start"))
        await in_update_transaction(dialog, sessions, incoming(chat, action="lang:en"))
    if args.audio == "renderer":
        # Publication renders every live listing in both languages before anyone browses (the notifier).
        for job in await live_jobs(UnitOfWork(sessions), limit=100):
            for lang in ("km", "en"):
                await voice_notes.make(pitch_job(job, job.voice_clip_approved), lang)
    # Warm-up: first imports, compiled statements, connections in the pool.
    for chat in chats:
        await in_update_transaction(dialog, sessions, incoming(chat, action=BROWSE))

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print(
        f"audio: {args.audio}; {args.runs} runs x {args.updates} browse updates ({BROWSE}), "
        + ("one at a time" if args.concurrency == 1 else f"{args.concurrency} at a time, for distinct chats")
    )
    all_ms: list[float] = []
    run_p50s: list[float] = []
    loads: list[float] = []
    cpu_ms: list[float] = []  # this process's CPU per update: the engine's own work, whatever waits for others
    for run in range(1, args.runs + 1):
        loads.append(os.getloadavg()[0])
        cpu = time.process_time()
        times = await run_updates(dialog, sessions, chats, args)
        cpu_ms.append(1000 * (time.process_time() - cpu) / args.updates)
        loads.append(os.getloadavg()[0])
        run_p50s.append(statistics.median(times))
        all_ms += times
        print(
            f"run {run}: p50 {statistics.median(times):6.2f} ms  p95 {percentile(times, 0.95):6.2f} ms  "
            f"mean {statistics.mean(times):6.2f} ms  min {min(times):6.2f}  max {max(times):6.2f}  "
            f"CPU {cpu_ms[-1]:5.2f} ms/update"
        )
    print(
        f"all runs ({len(all_ms)} updates): p50 {statistics.median(all_ms):.2f} ms  "
        f"p95 {percentile(all_ms, 0.95):.2f} ms  mean {statistics.mean(all_ms):.2f} ms; "
        f"p50 of the runs {min(run_p50s):.2f}–{max(run_p50s):.2f} ms"
    )
    print(f"CPU of this process per update (engine, SQLAlchemy, asyncpg): {min(cpu_ms):.2f}–{max(cpu_ms):.2f} ms")
    print(f"load average (1 min) during the runs: {min(loads):.2f}–{max(loads):.2f} on {os.cpu_count()} cores")

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        await run_updates(dialog, sessions, chats, args)
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs()
        print(f"\ncProfile of {args.updates} more browse updates (the event loop included), by cumulative time:")
        stats.sort_stats("cumulative").print_stats(args.top)
        print(out.getvalue())
        out.seek(0)
        out.truncate()
        print("by own time:")
        stats.sort_stats("tottime").print_stats(args.top)
        print(out.getvalue())
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--updates", type=int, default=300, help="browse updates per run")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=1, help="updates in flight at once (bench_webhook uses 16)")
    parser.add_argument("--audio", choices=("renderer", "none"), default="renderer")
    parser.add_argument("--profile", action="store_true", help="then print a cProfile summary of one more run")
    parser.add_argument("--top", type=int, default=30, help="rows of the profile summary")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bongpheak-profile-") as tmp:
        with fresh_database() as url:
            asyncio.run(measure(url, args, Path(tmp) / "audio"))


if __name__ == "__main__":
    main()
