"""Dialer benchmark: placement rate against the carrier simulator at CPS 1, 5 and 30, and bulk scheduling.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.bench_dialer \
        [--calls 10000] [--workers 100000] [--cps 1 5 30]

Each rate run seeds ``--calls`` due calls, runs the real dialer loop (``run_dialer``) against the simulator,
and measures the simulator's receipt time of every Calls.json request. Dialer and simulator share one clock
that runs ``speed`` times faster than the wall clock, so CPS 1 over 10,000 calls does not take 3 hours.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from bongpheak.database import create_engine
from dialer.audio import SilentAudio
from dialer.clock import ScaledClock
from dialer.hours import CallingHours
from dialer.provider import TwilioProvider
from dialer.scheduling import schedule_job
from dialer.settings import DialerSettings
from dialer.simulator import CarrierSimulator, serve
from dialer.webhooks import VoiceDeps
from dialer.worker import run_dialer
from tests.database import fresh_database

ACCOUNT, TOKEN = "AC" + "3" * 32, "bench-secret"
TARGET_REAL_RATE = 120.0  # calls per wall-clock second the machine is asked to sustain


async def _reset(sessions: async_sessionmaker, workers: int, calls: int) -> None:  # type: ignore[type-arg]
    async with sessions() as session, session.begin():
        await session.execute(text("TRUNCATE calls, call_attempts, job_pitches, dialer_pacer, workers CASCADE"))
        await session.execute(
            text(
                """
                INSERT INTO workers (name, phone, gender, birth_year, province_code, sectors, consent, created_at)
                SELECT 'w' || g, '+85512' || lpad(g::text, 6, '0'), 'female', 1995, '12', '{}', 'consented', now()
                FROM generate_series(1, :n) g
                """
            ),
            {"n": workers},
        )
        if calls:
            await session.execute(
                text(
                    """
                    INSERT INTO calls (worker_id, purpose, job_ids, status, attempts, next_attempt_at, keys,
                                       flow_state, created_at)
                    SELECT id, 'checkin', '[]', 'pending', 0, now() - interval '1 day', '[]', '{}', now()
                    FROM workers WHERE id <= :n
                    """
                ),
                {"n": calls},
            )


async def rate_run(sessions: async_sessionmaker, calls: int, cps: float) -> dict[str, float]:  # type: ignore[type-arg]
    await _reset(sessions, calls, calls)
    speed = max(1.0, TARGET_REAL_RATE / cps)
    clock = ScaledClock(speed, start=datetime.now(UTC))
    simulator = CarrierSimulator(ACCOUNT, TOKEN, cps=cps, clock=clock, drive=False)
    runner, sim_url = await serve(simulator.app)
    settings = DialerSettings(
        account_sid=ACCOUNT,
        auth_token=TOKEN,
        api_base_url=sim_url,
        public_base_url="http://127.0.0.1:9",
        calling_hours_start=datetime.min.time(),
        calling_hours_end=datetime.min.time(),
        calls_per_second=cps,
        max_concurrent_calls=10**9,
        daily_calls_per_number=10**6,
        answering_machine_detection=False,
        orphan_grace=timedelta(hours=1),
        poll_interval=0.05,
    )
    provider = TwilioProvider(settings)
    stop = asyncio.Event()
    task = asyncio.create_task(run_dialer(VoiceDeps(settings, sessions, SilentAudio(), provider, clock), stop))
    started = time.monotonic()
    while len(simulator.placed) < calls:  # noqa: ASYNC110  # the simulator has no event to wait on
        await asyncio.sleep(0.2)
    stop.set()
    await task
    await provider.close()
    await runner.cleanup()
    times = sorted(c.created_at.timestamp() for c in simulator.placed)
    span = times[-1] - times[0]
    achieved = (len(times) - 1) / span
    limit = int(cps)
    worst = 0
    j = 0
    for i, t in enumerate(times):  # most requests inside any 1-second window [t, t + 1)
        while j < len(times) and times[j] < t + 1.0:
            j += 1
        worst = max(worst, j - i)
    return {
        "cps": cps,
        "calls": len(times),
        "speed": speed,
        "wall_seconds": round(time.monotonic() - started, 1),
        "achieved_cps": round(achieved, 3),
        "percent_of_limit": round(100 * achieved / cps, 2),
        "max_in_1s_window": worst,
        "limit": limit,
    }


async def schedule_run(sessions: async_sessionmaker, workers: int) -> float:  # type: ignore[type-arg]
    await _reset(sessions, workers, 0)
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        employer = await session.scalar(
            text(
                "INSERT INTO employers (name, contact_phone, province_code, kind, verification, created_at) "
                "VALUES ('Bench', '+85512000000', '12', 'employer', 'verified', now()) RETURNING id"
            )
        )
        job = await session.scalar(
            text(
                "INSERT INTO jobs (employer_id, title, description, sector_code, province_code, positions, gender, "
                "benefits, status, risk_reasons, voice_clip_approved, created_at, published_at) VALUES "
                "(:e, 'Bench job', '', 'manufacturing', '12', 1, 'any', '{}', 'published', '{}', false, now(), now()) "
                "RETURNING id"
            ),
            {"e": employer},
        )
    settings = DialerSettings(calling_hours_start=datetime.min.time(), calling_hours_end=datetime.min.time())
    started = time.monotonic()
    async with sessions() as session, session.begin():
        scheduled = await schedule_job(session, int(job), now, settings, CallingHours.of(settings))
    elapsed = time.monotonic() - started
    assert scheduled == workers, (scheduled, workers)
    return elapsed


async def main(args: argparse.Namespace, url: str) -> None:
    if True:
        engine = create_engine(url, pool_size=10)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        try:
            seconds = await schedule_run(sessions, args.workers)
            print(f"scheduling a job matching {args.workers} workers: {seconds:.2f} s")
            for cps in args.cps:
                print(await rate_run(sessions, args.calls, cps))
        finally:
            await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=100_000)
    parser.add_argument("--cps", type=float, nargs="+", default=[1.0, 5.0, 30.0])
    with fresh_database() as database:
        asyncio.run(main(parser.parse_args(), database))
