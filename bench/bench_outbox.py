"""Benchmark of the Telegram outbox sender (a script, not a timed test).

Queues N alerts (text with a button) for N distinct chats in the real ``outbox`` table, then lets
``TelegramOutboxSender`` (claim a batch, commit, send concurrently through the pacer, settle in batches) send
them to the fake Bot API, which enforces Telegram's 30 messages/s per bot by answering 429 (retry_after 1)
beyond it and adds a network delay to every answer. Reports the achieved rate, the busiest 1-second window
and how many 429s the sender met (the goal: ≥ 28 msg/s, never above 30 in a second, no 429). ``--unpaced``
lifts the pacer and the fake's limit instead: how fast the sender itself can claim, send and settle.

    DATABASE_URL=postgresql://… .venv/bin/python -m bench.bench_outbox [--alerts 2000 --latency 0.05 --runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import os
import platform
import statistics
import time
from typing import Any

from bongpheak.database import create_engine, session_factory
from bongpheak.scratch_database import fresh_database
from bots.telegram import BotPacer, TelegramDeps, TelegramOutboxSender, make_bot
from bots.web.demo.botapi import RecordingBotAPI
from conversations.outbox import enqueue
from conversations.replies import Button, Text

TOKEN = "123456789:AAFakeTokenForTheBongPheakBenchmark"


async def not_a_dialog(*_: Any) -> list[Any]:
    return []


async def run(
    database_url: str, alerts: int, latency: float, workers: int, run_no: int, unpaced: bool
) -> dict[str, float]:
    engine = create_engine(database_url, pool_size=4)
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        for i in range(alerts):
            text = Text(f"New job: sewing machine operators #{i}", ((Button("Open", "job:1"),),))
            await enqueue(session, "telegram", str(1_000_000 + i), text, f"bench:{run_no}:{i}")
    async with RecordingBotAPI() as api:
        api.max_per_second = None if unpaced else 30
        api.latency = latency
        bot = make_bot(TOKEN, api.base_url)
        pacer = BotPacer(per_second=1_000_000, chat_interval=0.0) if unpaced else BotPacer()
        deps = TelegramDeps(bot=bot, session_factory=sessions, dialog=not_a_dialog, secret="x", pacer=pacer)
        sender = TelegramOutboxSender(deps, workers=workers)
        load = os.getloadavg()[0]
        started = time.perf_counter()
        sent = await sender.drain()
        elapsed = time.perf_counter() - started
        load = max(load, os.getloadavg()[0])
        sends = [c for c in api.calls if c.method == "sendMessage"]
        too_many = sum(1 for c in sends if c.status == 429)
        accepted = sorted(c.at for c in sends if c.ok)
        # The steady rate as Telegram saw it: accepted messages over the span between the first and the last.
        steady = (len(accepted) - 1) / (accepted[-1] - accepted[0])
        busiest = max(bisect.bisect_left(accepted, t + 1.0) - i for i, t in enumerate(accepted))
        await bot.session.close()
    await engine.dispose()
    return {
        "sent": sent,
        "elapsed": elapsed,
        "rate": sent / elapsed,
        "steady": steady,
        "busiest": busiest,
        "429s": too_many,
        "load": load,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alerts", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the fake API takes to answer")
    parser.add_argument("--workers", type=int, default=64, help="chats sent to at once")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--unpaced", action="store_true", help="no pacer, no limit at the fake: the sender's own speed")
    args = parser.parse_args()
    results = []
    with fresh_database() as url:
        for n in range(args.runs):
            results.append(asyncio.run(run(url, args.alerts, args.latency, args.workers, n, args.unpaced)))
    machine = platform.processor() or platform.machine()
    print(f"machine: {machine}, {os.cpu_count()} cores, Python {platform.python_version()}")
    limit = "no limit (pacer lifted)" if args.unpaced else "fake API at 30 msg/s"
    print(
        f"alerts: {args.alerts} to distinct chats, {limit}, {args.latency * 1000:.0f} ms per answer, {args.runs} runs"
    )
    for n, r in enumerate(results, 1):
        print(
            f"run {n}: sent {r['sent']:.0f} in {r['elapsed']:.1f} s: {r['rate']:.2f} msg/s overall, steady "
            f"{r['steady']:.2f} msg/s, busiest 1-s window {r['busiest']:.0f}, 429s {r['429s']:.0f}, "
            f"load {r['load']:.2f}"
        )
    rates = [r["rate"] for r in results]
    print(
        f"overall rate median {statistics.median(rates):.2f} msg/s (min {min(rates):.2f}, max {max(rates):.2f}); "
        f"busiest window {max(r['busiest'] for r in results):.0f}; 429s {sum(r['429s'] for r in results):.0f}; "
        f"1-min load {min(r['load'] for r in results):.2f}-{max(r['load'] for r in results):.2f}"
    )


if __name__ == "__main__":
    main()
