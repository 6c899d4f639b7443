"""Benchmark of the Telegram webhook, end to end (a script, not a timed test).

Two routes on one aiohttp server, against the same fake Bot API over loopback HTTP, with the same updates
(a pressed "browse jobs" button) and the same number of Bot API calls per update:
  * ``POST /telegram/webhook``: our route, the real conversations engine, PostgreSQL. The update's
    transaction stores the replies; the bot's sender (elected in this process, as in a lone serve process)
    sends them after the 200: the browse page's three job cards (voice notes by file_id) and the paging
    message, plus answerCallbackQuery before the transaction;
  * ``POST /echo``: a bare aiogram handler, no database: parse the update, answerCallbackQuery, then as many
    sendMessage calls, in turn, as browse makes beyond it (counted from the fake API, not assumed).
An update is done when the webhook answered AND every Bot API call it causes has arrived at the fake API
(our replies leave after the 200, so the answer alone would flatter us). Each of the concurrent clients owns
its chats and posts its next update when the previous one is done. Pacing is lifted for the run (Telegram's
30 msg/s would cap both at the same number): this measures what the adapter costs, not Telegram's limit.
Each route's CPU time per update in this process (server, sender, fake API and clients) is printed beside
its rate: the process is CPU-bound, so at N closed-loop clients latency is about N times that CPU.

    DATABASE_URL=postgresql://… .venv/bin/python -m bench.bench_webhook [--updates 2000 --concurrency 16 --runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import itertools
import os
import platform
import pstats
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

from bench.listings import publish_listings
from bongpheak.app import freeze_startup_heap
from bongpheak.database import create_engine, session_factory
from bongpheak.scratch_database import fresh_database
from bots.telegram import BotPacer, TelegramDeps, make_bot, setup_telegram
from bots.telegram.dialog import conversation_dialog
from bots.telegram.webhook import ELECTION
from bots.web.demo.botapi import (
    ApiCall,
    RecordingBotAPI,  # the Telegram this benchmark talks to
    callback_update,
    message_update,
    user,
)
from conversations.replies import Incoming, Reply, Voice
from conversations.turn import DialogDeps
from jobs_core.model.base import utcnow
from media.composer import PitchJob

TOKEN = "123456789:AAFakeTokenForTheBongPheakBenchmark"
SECRET = "bench-secret"
ECHO = web.AppKey("echo_bot", Bot)
ECHO_SENDS = web.AppKey("echo_sends", list[int])  # one number, set once browse was counted
BROWSE = "jobs:-:-:0"


async def echo(request: web.Request) -> web.Response:
    """A minimal aiogram webhook making browse's number of calls: answer the button, then send in turn."""
    bot = request.app[ECHO]
    update = Update.model_validate(await request.json(), context={"bot": bot})
    query = update.callback_query
    if query is not None and query.message is not None:
        await bot.answer_callback_query(query.id)
        for n in range(request.app[ECHO_SENDS][0]):
            await bot.send_message(query.message.chat.id, f"{query.data} {n}")
    return web.Response()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Deliveries:
    """Counts, per chat, the Bot API calls that arrived at the fake API (answerCallbackQuery by its query
    id); a client waits on :meth:`expect` for all of its update's calls."""

    def __init__(self, api: RecordingBotAPI) -> None:
        self.query_chats: dict[str, str] = {}
        self._waiting: dict[str, tuple[int, asyncio.Future[float]]] = {}
        api.on_call.append(self._arrived)

    def expect(self, chat: str, query_id: str, calls: int) -> asyncio.Future[float]:
        """A future set to the arrival time of the ``calls``-th call for ``chat`` from now on."""
        self.query_chats[query_id] = chat
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiting[chat] = (calls, future)
        return future

    def _arrived(self, call: ApiCall) -> None:
        chat = call.chat_id or self.query_chats.get(str(call.params.get("callback_query_id")))
        if chat is None or chat not in self._waiting:
            return
        left, future = self._waiting[chat]
        if left <= 1:
            del self._waiting[chat]
            if not future.done():
                future.set_result(time.monotonic())
        else:
            self._waiting[chat] = (left - 1, future)


async def drive(
    url: str,
    updates: list[dict[str, Any]],
    concurrency: int,
    secret: str | None,
    deliveries: Deliveries | None = None,
    calls: int = 0,
) -> dict[str, float]:
    """Post ``updates`` from ``concurrency`` clients; client ``w`` posts the updates at ``w``, ``w+c``…, each
    once the previous is done (answered, and with ``deliveries``: its ``calls`` Bot API calls arrived)."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
    load: list[float] = []
    async with aiohttp.ClientSession() as client:

        async def worker(mine: list[dict[str, Any]]) -> None:
            for update in mine:
                done = None
                if deliveries is not None:
                    query = update["callback_query"]
                    done = deliveries.expect(str(query["message"]["chat"]["id"]), query["id"], calls)
                started = time.monotonic()
                async with client.post(url, json=update, headers=headers) as response:
                    await response.read()
                    statuses[response.status] = statuses.get(response.status, 0) + 1
                answered = time.monotonic()
                arrived = await asyncio.wait_for(done, 60) if done is not None else answered
                latencies.append(max(answered, arrived) - started)

        async def sample_load(stop: asyncio.Event) -> None:
            while not stop.is_set():
                load.append(os.getloadavg()[0])
                try:
                    await asyncio.wait_for(stop.wait(), 1.0)
                except TimeoutError:
                    pass

        stop = asyncio.Event()
        sampler = asyncio.create_task(sample_load(stop))
        began, cpu_began = time.monotonic(), time.process_time()
        await asyncio.gather(*(worker(updates[w::concurrency]) for w in range(concurrency)))
        elapsed, cpu = time.monotonic() - began, time.process_time() - cpu_began
        stop.set()
        await sampler
    assert set(statuses) == {200}, statuses
    return {
        "count": len(latencies),
        "per_second": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * percentile(latencies, 0.99),
        "load": max(load),
        "cpu_ms": 1000 * cpu / len(latencies),  # this process's CPU per update: server, clients and fake API
    }


async def run(
    database_url: str, n_updates: int, concurrency: int, runs: int, tmp: Path, profile: bool, stand_in: bool = False
) -> dict[str, Any]:
    engine = create_engine(database_url, pool_size=concurrency)
    sessions = session_factory(engine)
    # Four listings of one garment factory: only the titles differ, so every card's voice note is one file_id.
    titles = ("Sewing machine operators", "Security guards", "Kitchen helpers", "Rice farm workers")
    await publish_listings(
        sessions,
        utcnow(),
        [(title, "manufacturing", "Phnom Penh", ("overtime", "nssf")) for title in titles],
        description="Garment factory needs sewing operators. Overtime paid, NSSF.",
    )

    async def audio(job: PitchJob, language: str) -> Voice:
        audio_id = f"{language}-{job.sector}-{job.province_code}"
        path = tmp / f"{audio_id}.ogg"
        if not path.exists():
            path.write_bytes(b"OggS" + os.urandom(20_000))
        return Voice(audio_id=audio_id, ogg=path, mp3=None)

    async with RecordingBotAPI() as api:
        bot = make_bot(TOKEN, api.base_url)
        echo_bot = make_bot(TOKEN, api.base_url)
        dialog_deps = DialogDeps(session_factory=sessions, audio=audio)
        engine_dialog = conversation_dialog(dialog_deps)
        in_dialog: list[float] = []

        last_page: list[Sequence[Reply]] = []
        replay = False

        async def timed_dialog(incoming: Incoming, sessions: async_sessionmaker[AsyncSession]) -> Sequence[Reply]:
            started = time.perf_counter()
            try:
                if replay:  # --stand-in: the engine's own answer to a browse update, without the engine
                    return last_page[0]
                replies = await engine_dialog(incoming, sessions)
                if incoming.action == BROWSE:
                    last_page[:] = [replies]
                return replies
            finally:
                in_dialog.append(time.perf_counter() - started)

        deps = TelegramDeps(
            bot=bot,
            session_factory=sessions,
            dialog=timed_dialog,
            secret=SECRET,
            pacer=BotPacer(per_second=1_000_000, chat_interval=0.0, group_per_minute=1_000_000),
            download_dir=tmp,
        )
        app = web.Application()
        setup_telegram(app, deps)  # this process is the only one: it becomes the bot's sender
        app[ECHO] = echo_bot
        app[ECHO_SENDS] = [0]
        app.router.add_post("/echo", echo)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        base = f"http://127.0.0.1:{port}"
        async with asyncio.timeout(30):
            while True:
                if app[ELECTION].leading:
                    break
                await asyncio.sleep(0.05)
        freeze_startup_heap()  # as a serve process does once started
        deliveries = Deliveries(api)

        ids = itertools.count(1)
        chats = [500_000 + i for i in range(concurrency * 4)]

        async def settle() -> None:
            """Until every reply queued so far has reached the fake API."""
            while True:
                before = len(api.calls)
                await asyncio.sleep(0.5)
                if len(api.calls) == before:
                    return

        # Each chat starts once (language English, relative menu), so the measured step is browsing only.
        starts = [message_update(next(ids), c, "/start", from_user=user(c, language_code="en")) for c in chats]
        await _post_all(f"{base}/telegram/webhook", starts)
        await settle()
        await _post_all(f"{base}/telegram/webhook", [callback_update(next(ids), c, "lang:en") for c in chats])
        await settle()
        # One page per chat: every voice note is uploaded once (afterwards they go by file_id), and the calls a
        # browse update makes are counted.
        api.reset_calls()
        await _post_all(f"{base}/telegram/webhook", [callback_update(next(ids), c, BROWSE) for c in chats])
        await settle()
        calls_per_update = len(api.calls) / len(chats)
        calls = round(calls_per_update)
        app[ECHO_SENDS][0] = calls - 1  # answerCallbackQuery + the sends
        replay = stand_in

        results: list[dict[str, Any]] = []
        profiler = cProfile.Profile() if profile else None
        for _ in range(runs):
            browse = [callback_update(next(ids), chats[i % len(chats)], BROWSE) for i in range(n_updates)]
            echoes = [callback_update(next(ids), chats[i % len(chats)], BROWSE) for i in range(n_updates)]
            api.reset_calls()
            echo_result = await drive(f"{base}/echo", echoes, concurrency, None, deliveries, calls)
            echo_result["calls"] = len(api.calls) / n_updates
            api.reset_calls()
            in_dialog.clear()
            if profiler is not None:
                profiler.enable()
            browse_result = await drive(f"{base}/telegram/webhook", browse, concurrency, SECRET, deliveries, calls)
            if profiler is not None:
                profiler.disable()
            browse_result["calls"] = len(api.calls) / n_updates
            browse_result["dialog_ms"] = 1000 * statistics.mean(in_dialog)
            browse_result["uploads"] = sum(1 for c in api.calls if c.files)
            results.append(
                {
                    "echo": echo_result,
                    "browse": browse_result,
                    "ratio": browse_result["per_second"] / echo_result["per_second"],
                }
            )
        await runner.cleanup()
        await echo_bot.session.close()
    await engine.dispose()
    if profiler is not None:
        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime").print_stats(25)
    return {"runs": results, "calls_per_update": calls_per_update, "concurrency": concurrency}


async def _post_all(url: str, updates: list[dict[str, Any]]) -> None:
    """Set-up posts, 16 at a time, answers only."""
    await drive(url, updates, 16, SECRET)


def spread(values: list[float], fmt: str) -> str:
    return f"{format(statistics.median(values), fmt)} (min {format(min(values), fmt)}, max {format(max(values), fmt)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="print where the browse phase spends its CPU")
    parser.add_argument(
        "--stand-in",
        action="store_true",
        help="browse updates get the engine's browse page replayed without the engine: the adapter's own cost",
    )
    args = parser.parse_args()
    import tempfile

    with tempfile.TemporaryDirectory() as tmp, fresh_database() as url:
        result = asyncio.run(
            run(url, args.updates, args.concurrency, args.runs, Path(tmp), args.profile, args.stand_in)
        )
    machine = platform.processor() or platform.machine()
    print(f"machine: {machine}, {os.cpu_count()} cores, Python {platform.python_version()}")
    if args.stand_in:
        print("stand-in dialog: the browse page's replies replayed, the dialog engine not run")
    print(
        f"updates: {args.updates} per route per run, {result['concurrency']} concurrent clients, {args.runs} runs; "
        f"Bot API calls per browse update (counted): {result['calls_per_update']:.2f}"
    )
    for n, r in enumerate(result["runs"], 1):
        e, b = r["echo"], r["browse"]
        print(
            f"run {n}: echo {e['per_second']:6.1f}/s p50 {e['p50_ms']:6.1f} ms p99 {e['p99_ms']:6.1f} ms "
            f"({e['calls']:.2f} calls/update, CPU {e['cpu_ms']:.1f} ms/update, load {e['load']:.2f}) | "
            f"browse {b['per_second']:6.1f}/s p50 {b['p50_ms']:6.1f} ms p99 {b['p99_ms']:6.1f} ms "
            f"({b['calls']:.2f} calls/update, CPU {b['cpu_ms']:.1f} ms/update, load {b['load']:.2f}) | "
            f"ratio {r['ratio']:.2f} | dialog {b['dialog_ms']:.1f} ms | uploads {b['uploads']}"
        )
    runs = result["runs"]
    print("median over runs (min, max):")
    print(f"  echo   updates/s {spread([r['echo']['per_second'] for r in runs], '.1f')}")
    print(f"  echo   p50 ms    {spread([r['echo']['p50_ms'] for r in runs], '.1f')}")
    print(f"  echo   p99 ms    {spread([r['echo']['p99_ms'] for r in runs], '.1f')}")
    print(f"  browse updates/s {spread([r['browse']['per_second'] for r in runs], '.1f')}")
    print(f"  browse p50 ms    {spread([r['browse']['p50_ms'] for r in runs], '.1f')}")
    print(f"  browse p99 ms    {spread([r['browse']['p99_ms'] for r in runs], '.1f')}")
    print(f"  echo   CPU ms per update (this process) {spread([r['echo']['cpu_ms'] for r in runs], '.1f')}")
    print(f"  browse CPU ms per update (this process) {spread([r['browse']['cpu_ms'] for r in runs], '.1f')}")
    print(f"  ratio            {spread([r['ratio'] for r in runs], '.2f')}")
    print(f"  dialog engine ms per browse update {spread([r['browse']['dialog_ms'] for r in runs], '.1f')}")
    loads = [r[k]["load"] for r in runs for k in ("echo", "browse")]
    print(f"  1-min load average during the runs: {min(loads):.2f}-{max(loads):.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
