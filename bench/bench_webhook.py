"""Benchmark of the Telegram webhook (a script, not a timed test).

Two routes on one aiohttp server, in one run, against the same fake Bot API over loopback HTTP:
  * ``POST /telegram/webhook``: our route, the real conversations engine, PostgreSQL; each update is the
    browse flow's heavy step (the ``jobs:-:-:0`` page: live jobs, three job cards with their voice notes by
    file_id, the paging message), plus answerCallbackQuery;
  * ``POST /echo``: a bare aiogram echo (parse the Update, one sendMessage), no database: the floor.
Concurrent clients post updates for distinct chats; throughput, p50 and p99 latency are reported, and the
ratio of the two. Pacing is lifted for the run (Telegram's 30 msg/s would cap both at the same number):
this measures what the adapter costs, not Telegram's limit.

    DATABASE_URL=postgresql://… .venv/bin/python -m bench.bench_webhook [--updates 2000 --concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import platform
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp
from aiogram import Bot
from aiogram.types import Update
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bongpheak.database import create_engine, session_factory
from bots.telegram import BotPacer, TelegramDeps, make_bot, setup_telegram
from bots.telegram.dialog import conversation_dialog
from conversations.replies import Incoming, Reply, Voice
from conversations.turn import DialogDeps
from jobs_core.model.base import utcnow
from media.composer import PitchJob
from tests.builders import Builder
from tests.database import fresh_database
from tests.fakes.telegram_api import FakeTelegramAPI, callback_update, message_update, user

TOKEN = "123456789:AAFakeTokenForTheBongPheakBenchmark"
SECRET = "bench-secret"
ECHO = web.AppKey("echo_bot", Bot)


async def echo(request: web.Request) -> web.Response:
    """What a minimal aiogram webhook costs: parse the update, answer with one sendMessage."""
    bot = request.app[ECHO]
    update = Update.model_validate(await request.json(), context={"bot": bot})
    if update.message is not None and update.message.text:
        await bot.send_message(update.message.chat.id, update.message.text)
    return web.Response()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def drive(url: str, updates: list[dict[str, Any]], concurrency: int, secret: str | None) -> dict[str, float]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    queue = iter(updates)
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
    async with aiohttp.ClientSession() as client:

        async def worker() -> None:
            for update in queue:
                started = time.perf_counter()
                async with client.post(url, json=update, headers=headers) as response:
                    await response.read()
                    statuses[response.status] = statuses.get(response.status, 0) + 1
                latencies.append(time.perf_counter() - started)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    assert set(statuses) == {200}, statuses
    return {
        "count": len(latencies),
        "per_second": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * percentile(latencies, 0.99),
    }


async def run(database_url: str, n_updates: int, concurrency: int, tmp: Path) -> dict[str, Any]:
    engine = create_engine(database_url, pool_size=concurrency)
    sessions = session_factory(engine)
    builder = Builder(sessions, utcnow())
    employer = await builder.employer()
    for title in ("Sewing machine operators", "Security guards", "Kitchen helpers", "Rice farm workers"):
        await builder.published(employer, title=title)

    async def audio(job: PitchJob, language: str) -> Voice:
        audio_id = f"{language}-{job.sector}-{job.province_code}"
        path = tmp / f"{audio_id}.ogg"
        if not path.exists():
            path.write_bytes(b"OggS" + os.urandom(20_000))
        return Voice(audio_id=audio_id, ogg=path, mp3=None)

    async with FakeTelegramAPI() as api:
        bot = make_bot(TOKEN, api.base_url)
        echo_bot = make_bot(TOKEN, api.base_url)
        dialog_deps = DialogDeps(session_factory=sessions, audio=audio)
        engine_dialog = conversation_dialog(dialog_deps)
        in_dialog: list[float] = []

        async def timed_dialog(incoming: Incoming, sessions: async_sessionmaker[AsyncSession]) -> Sequence[Reply]:
            started = time.perf_counter()
            try:
                return await engine_dialog(incoming, sessions)
            finally:
                in_dialog.append(time.perf_counter() - started)

        deps = TelegramDeps(
            bot=bot,
            session_factory=sessions,
            dialog=timed_dialog,
            secret=SECRET,
            pacer=BotPacer(per_second=1_000_000, chat_interval=0.0),
            download_dir=tmp,
        )
        app = web.Application()
        setup_telegram(app, deps, send_outbox=False)
        app[ECHO] = echo_bot
        app.router.add_post("/echo", echo)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        base = f"http://127.0.0.1:{port}"

        ids = itertools.count(1)
        chats = [500_000 + i for i in range(concurrency * 4)]
        # Each chat starts once (language English, relative menu), so the measured step is browsing only.
        warmup: list[dict[str, Any]] = []
        for chat in chats:
            warmup.append(message_update(next(ids), chat, "/start", from_user=user(chat, language_code="en")))
        await drive(f"{base}/telegram/webhook", warmup, concurrency, SECRET)
        await drive(
            f"{base}/telegram/webhook", [callback_update(next(ids), c, "lang:en") for c in chats], concurrency, SECRET
        )
        # One warm-up page so every voice note is uploaded once; afterwards they go by file_id.
        await drive(f"{base}/telegram/webhook", [callback_update(next(ids), chats[0], "jobs:-:-:0")], 1, SECRET)
        browse = [callback_update(next(ids), chats[i % len(chats)], "jobs:-:-:0") for i in range(n_updates)]
        echoes = [message_update(next(ids), chats[i % len(chats)], f"echo {i}") for i in range(n_updates)]
        api.reset_calls()
        echo_result = await drive(f"{base}/echo", echoes, concurrency, None)
        api.reset_calls()
        in_dialog.clear()
        browse_result = await drive(f"{base}/telegram/webhook", browse, concurrency, SECRET)
        browse_result["dialog_ms"] = 1000 * statistics.mean(in_dialog)
        calls_per_update = len(api.calls) / n_updates
        uploads = sum(1 for c in api.calls if c.files)
        await runner.cleanup()
        await echo_bot.session.close()
    await engine.dispose()
    return {
        "browse": browse_result,
        "echo": echo_result,
        "ratio": browse_result["per_second"] / echo_result["per_second"],
        "calls_per_update": calls_per_update,
        "uploads_during_run": uploads,
        "concurrency": concurrency,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    import tempfile

    with tempfile.TemporaryDirectory() as tmp, fresh_database() as url:
        result = asyncio.run(run(url, args.updates, args.concurrency, Path(tmp)))
    b, e = result["browse"], result["echo"]
    machine = platform.processor() or platform.machine()
    print(f"machine: {machine}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"updates: {args.updates} per route, {result['concurrency']} concurrent clients")
    print(
        f"echo (bare aiogram):  {e['per_second']:7.1f} updates/s  p50 {e['p50_ms']:6.1f} ms  p99 {e['p99_ms']:6.1f} ms"
    )
    print(
        f"browse (our webhook): {b['per_second']:7.1f} updates/s  p50 {b['p50_ms']:6.1f} ms  p99 {b['p99_ms']:6.1f} ms"
    )
    print(
        f"ratio browse/echo: {result['ratio']:.2f}   Bot API calls per browse update: {result['calls_per_update']:.1f}"
    )
    print(f"mean time inside the dialog engine per browse update: {b['dialog_ms']:.1f} ms (the rest is the adapter)")
    print(f"uploads during the measured run: {result['uploads_during_run']} (voice notes go by file_id)")


if __name__ == "__main__":
    main()
