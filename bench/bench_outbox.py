"""Benchmark of the Telegram outbox sender (a script, not a timed test).

Queues N alerts (text with a button) for N distinct chats in the real ``outbox`` table, then lets
``TelegramOutboxSender`` send them to the fake Bot API, which enforces Telegram's 30 messages/s per bot by
answering 429 (retry_after 1) beyond it and adds a network delay to every answer. Reports the achieved
rate and how many 429s the sender met (the goal: ≥ 28 msg/s and none).

    DATABASE_URL=postgresql://… .venv/bin/python -m bench.bench_outbox [--alerts 2000 --latency 0.05]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import time
from typing import Any

from bongpheak.database import create_engine, session_factory
from bots.telegram import BotPacer, TelegramDeps, TelegramOutboxSender, make_bot
from conversations.outbox import enqueue
from conversations.replies import Button, Text
from tests.database import fresh_database
from tests.fakes.telegram_api import FakeTelegramAPI

TOKEN = "123456789:AAFakeTokenForTheBongPheakBenchmark"


async def not_a_dialog(*_: Any) -> list[Any]:
    return []


async def run(database_url: str, alerts: int, latency: float, workers: int) -> dict[str, float]:
    engine = create_engine(database_url, pool_size=workers + 2)
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        for i in range(alerts):
            text = Text(f"New job: sewing machine operators #{i}", ((Button("Open", "job:1"),),))
            await enqueue(session, "telegram", str(1_000_000 + i), text, f"bench:{i}")
    async with FakeTelegramAPI() as api:
        api.max_per_second = 30
        api.latency = latency
        bot = make_bot(TOKEN, api.base_url)
        deps = TelegramDeps(bot=bot, session_factory=sessions, dialog=not_a_dialog, secret="x", pacer=BotPacer())
        sender = TelegramOutboxSender(deps, workers=workers)
        started = time.perf_counter()
        sent = await sender.drain()
        elapsed = time.perf_counter() - started
        sends = [c for c in api.calls if c.method == "sendMessage"]
        too_many = sum(1 for c in sends if c.status == 429)
        accepted = [c.at for c in sends if c.ok]
        # The steady rate as Telegram saw it: accepted messages over the span between the first and the last.
        steady = (len(accepted) - 1) / (max(accepted) - min(accepted))
        await bot.session.close()
    await engine.dispose()
    return {"sent": sent, "elapsed": elapsed, "rate": sent / elapsed, "steady": steady, "429s": too_many}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alerts", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the fake API takes to answer")
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    with fresh_database() as url:
        result = asyncio.run(run(url, args.alerts, args.latency, args.workers))
    machine = platform.processor() or platform.machine()
    print(f"machine: {machine}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"alerts: {args.alerts} to distinct chats, fake API at 30 msg/s, {args.latency * 1000:.0f} ms per answer")
    print(f"sent {result['sent']:.0f} in {result['elapsed']:.1f} s: {result['rate']:.2f} msg/s overall")
    print(f"steady rate seen by the API: {result['steady']:.2f} msg/s; 429 answers: {result['429s']:.0f}")


if __name__ == "__main__":
    main()
