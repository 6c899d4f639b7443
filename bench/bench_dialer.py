"""Dialer benchmark: bulk scheduling of a job matching 100,000 workers, and the placement rate at CPS 1, 5, 30.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -u -m bench.bench_dialer \\
        [--workers 100000] [--calls 10000] [--cps 1 5 30] [--speed 1 1 1] [--wall 180] [--explain] \\
        [--skip-schedule] [--skip-rate] [--runs 1] [--burn] [--simulator-nice -10]

Scheduling: ``--workers`` consented workers who match one published job (plus a fifth as many who do not,
each with a relative's nomination), ANALYZE, then ``schedule_job`` in one transaction, timed. ``--explain``
prints the plan of the same statement (EXPLAIN ANALYZE on a second job, rolled back).

Rate: ``schedule_job`` schedules ``--calls`` pitch calls, then the real dialer loop (``run_dialer``: claims,
the shared pacer, the sender) places them through the twilio client against the carrier simulator, which
records when each Calls.json request arrived; it runs in a process of its own, as a provider would, at a
higher scheduling priority (``--simulator-nice``, -10 by default; 0 to share the cores evenly): a real
provider's answers are not slowed by the load on our machine, and the simulator shares our cores. Dialer
and simulator share a ``ScaledClock`` (``--speed`` 1 by default: real time; a faster clock multiplies every
real delay, including the provider's answer the pacing waits for); a run stops when every call is placed or
after ``--wall`` seconds of wall time, whichever comes first (at CPS 1, 10,000 calls are 2.8 hours).
Reported per CPS, in simulated seconds: calls placed, the achieved rate over whole windows
(``achieved_rate``; ``first_to_last_percent`` is the older (requests - 1) / (last - first), which overstates
a rate sent in bursts), the most requests inside any window [t, t + 1), the smallest and the longest gap
between two requests, the round trip of ``create_call`` (median/90th percentile/maximum, ms) split at the
simulator's receipt into the way out and the way back, and the machine's 1-minute load average sampled
during the run (min-max). ``--runs`` repeats each measurement and prints the spread; ``--burn`` keeps a CPU
burner (``while True: pass``) running throughout.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import logging
import math
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bongpheak.database import create_engine
from bongpheak.scratch_database import fresh_database
from dialer.calls.hours import CallingHours
from dialer.calls.scheduling import pitch_job_statement, schedule_job
from dialer.clock import ScaledClock
from dialer.ivr.prompt_audio import SilentAudio
from dialer.ivr.webhooks import VoiceDeps
from dialer.providers.base import OutboundCall
from dialer.providers.twilio import TwilioProvider
from dialer.runner import run_dialer
from dialer.settings import DialerSettings
from dialer.simulator.carrier import CarrierSimulator, serve
from jobs_core.model import Job

ACCOUNT, TOKEN = "AC" + "3" * 32, "bench-secret"
DEFAULT_SPEED = {1.0: 1.0, 5.0: 1.0, 30.0: 1.0}
BY_TO: dict[str, float] = {}
ANY_TIME = datetime.min.time()  # calling hours start == end: calls allowed at any time

Sessions = async_sessionmaker[AsyncSession]


async def _seed(engine: AsyncEngine, sessions: Sessions, matching: int) -> int:
    """``matching`` workers who fit the job, a fifth as many who do not, a nomination each; returns the job id."""
    others = matching // 5
    async with sessions() as session, session.begin():
        await session.execute(
            text("TRUNCATE calls, call_attempts, job_pitches, dialer_pacer, nominations, relatives, workers CASCADE")
        )
        await session.execute(
            text(
                """
                INSERT INTO workers (name, phone, gender, birth_year, province_code, sectors, consent, created_at)
                SELECT 'w' || g, '+8551' || lpad(g::text, 7, '0'),
                       CASE WHEN g % 2 = 0 THEN 'female' ELSE 'male' END, 1980 + g % 25,
                       CASE WHEN g <= CAST(:n AS int) THEN '12' ELSE lpad((1 + g % 11)::text, 2, '0') END,
                       CASE WHEN g % 3 = 0 THEN '{manufacturing}'::varchar[] ELSE '{}' END,
                       CASE WHEN g <= CAST(:n AS int) OR g % 2 = 0 THEN 'consented' ELSE 'pending' END, now()
                FROM generate_series(1, CAST(:n AS int) + CAST(:others AS int)) g
                """
            ),
            {"n": matching, "others": others},
        )
        await session.execute(
            text(
                """
                INSERT INTO relatives (channel, external_id, language, name, unreachable, stopped, created_at)
                SELECT 'telegram', 'r' || id, 'km', 'r', false, false, now() FROM workers
                """
            )
        )
        await session.execute(
            text(
                """
                INSERT INTO nominations (worker_id, relative_id, relation, created_at)
                SELECT w.id, r.id, 'sibling', now() FROM workers w JOIN relatives r ON r.external_id = 'r' || w.id
                """
            )
        )
        await session.execute(text("DELETE FROM jobs"))
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
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text("ANALYZE"))
    return int(job)


@contextmanager
def _explained(engine: AsyncEngine) -> Iterator[None]:
    """Statements executed inside run as EXPLAIN (ANALYZE, BUFFERS): they return the plan instead."""

    def prefix(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> Any:
        return "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters

    event.listen(engine.sync_engine, "before_cursor_execute", prefix, retval=True)
    try:
        yield
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", prefix)


async def schedule_run(engine: AsyncEngine, sessions: Sessions, workers: int, explain: bool) -> dict[str, Any]:
    started = time.monotonic()
    job_id = await _seed(engine, sessions, workers)
    seeded = time.monotonic() - started
    now = datetime.now(UTC)
    settings = DialerSettings(calling_hours_start=ANY_TIME, calling_hours_end=ANY_TIME)
    hours = CallingHours.of(settings)
    if explain:
        async with sessions() as session:
            job = await session.get(Job, job_id)
        assert job is not None
        async with engine.connect() as connection, connection.begin() as transaction:
            with _explained(engine):
                result = await connection.execute(pitch_job_statement(job, now, hours))
                plan = [str(line) for line in result.scalars()]
            await transaction.rollback()
        print("\n".join(plan))
    load = LoadSampler()
    started = time.monotonic()
    async with sessions() as session, session.begin():
        scheduled = await schedule_job(session, job_id, now, settings, hours)
    elapsed = time.monotonic() - started
    assert scheduled == workers, (scheduled, workers)
    started = time.monotonic()
    async with sessions() as session, session.begin():
        again = await schedule_job(session, job_id, now, settings, hours)
    assert again == 0, again
    return {
        "workers_matching": workers,
        "seed_seconds": round(seeded, 1),
        "schedule_seconds": round(elapsed, 2),
        "rerun_seconds": round(time.monotonic() - started, 2),
        "load_1min": load.span(),
    }


class TimedProvider(TwilioProvider):
    """The real provider client, noting when each ``create_call`` began and returned (by number called).

    With the simulator's arrival times this splits the round trip the sender's window waits for into the way
    out (ours to the provider's receipt) and the way back (its receipt to our having the answer)."""

    def __init__(self, settings: DialerSettings, clock: ScaledClock) -> None:
        super().__init__(settings)
        self.clock = clock
        self.began: dict[str, float] = {}
        self.returned: dict[str, float] = {}

    async def create_call(self, call: OutboundCall) -> str:
        self.began[call.to] = self.clock.now().timestamp()
        try:
            return await super().create_call(call)
        finally:
            self.returned[call.to] = self.clock.now().timestamp()


def percentiles(values: list[float]) -> str:
    """Median, 90th percentile and maximum, in milliseconds."""
    if not values:
        return "-"
    ordered = sorted(values)
    at = [ordered[min(len(ordered) - 1, int(q * len(ordered)))] for q in (0.5, 0.9)]
    return "/".join(f"{1000 * v:.1f}" for v in [*at, ordered[-1]])


class LoadSampler:
    """The machine's 1-minute load average (``os.getloadavg``), sampled during a run: min–max."""

    def __init__(self) -> None:
        self.samples = [os.getloadavg()[0]]

    def sample(self) -> None:
        self.samples.append(os.getloadavg()[0])

    def span(self) -> str:
        self.sample()
        return f"{min(self.samples):.2f}-{max(self.samples):.2f}"


@contextmanager
def cpu_burner(on: bool) -> Iterator[None]:
    """A process spinning on one core for the duration (the other core stays for the dialer and the simulator)."""
    if not on:
        yield
        return
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        burner.terminate()
        burner.wait()


def achieved_rate(times: list[float], cps: float) -> float:
    """Requests per second over whole windows: ``m / (times[m] - times[0])``, ``m`` a multiple of the calls a
    window allows (``floor(cps)``), the largest below the count.

    ``(count - 1) / (last - first)`` overstates a rate sent in bursts (a window's calls leave together when
    the sender waited for an answer): the last burst adds its calls and next to no time. Over whole windows,
    a sender that keeps every window within the limit measures at most 100 %.
    """
    per_window = max(1, math.floor(cps))
    m = (len(times) - 1) // per_window * per_window
    return m / (times[m] - times[0])


def window_stats(times: list[float]) -> tuple[int, float]:
    """The most timestamps inside any window [t, t + 1), and the smallest gap between neighbours."""
    worst, j = 0, 0
    for i, t in enumerate(times):
        while j < len(times) and times[j] < t + 1.0:
            j += 1
        worst = max(worst, j - i)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    return worst, min(gaps) if gaps else 0.0


def _simulator_main(cps: float, speed: float, start: str, origin: float, nice: int, url_out: Connection) -> None:
    """The carrier simulator in a process of its own, on the dialer's clock, like a real remote provider.

    A real provider runs on machines of its own: the load on ours does not slow its answers. The simulator
    shares our cores, so it runs at a higher scheduling priority (``nice``, negative) than the dialer, the
    database and the burner, which keeps the round trips it adds to the dialer's close to a provider's.
    """
    if nice:
        try:
            os.setpriority(os.PRIO_PROCESS, 0, nice)
        except PermissionError:
            print({"simulator_nice": f"{nice} refused (needs root or CAP_SYS_NICE); runs at 0"}, flush=True)
    clock = ScaledClock(speed, datetime.fromisoformat(start), origin=origin)
    simulator = CarrierSimulator(ACCOUNT, TOKEN, cps=cps, clock=clock, drive=False)

    async def placed(request: web.Request) -> web.Response:
        body: dict[str, Any] = {"count": len(simulator.placed)}
        if request.query.get("times"):
            body["times"] = [c.created_at.timestamp() for c in simulator.placed]
            body["by_to"] = {c.to: c.created_at.timestamp() for c in simulator.placed}
        return web.json_response(body)

    simulator.app.router.add_get("/bench/placed", placed)

    async def run() -> None:
        runner, url = await serve(simulator.app)
        # The measuring instrument must not pause: with 10,000 calls held, a full collection in this process
        # stalls it and requests that arrived paced are stamped together. (The dialer's collector stays on.)
        gc.freeze()
        gc.disable()
        url_out.send(url)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        await runner.cleanup()

    asyncio.run(run())


def _start_simulator(cps: float, clock: ScaledClock, nice: int) -> tuple[BaseProcess, str, int]:
    """The simulator's process, its URL and the scheduling priority it got (its nice value)."""
    parent, child = multiprocessing.get_context("spawn").Pipe()
    process = multiprocessing.get_context("spawn").Process(
        target=_simulator_main,
        args=(cps, clock.speed, clock.start.isoformat(), clock.origin, nice, child),
        daemon=True,
    )
    process.start()
    url = str(parent.recv())
    assert process.pid is not None
    return process, url, os.getpriority(os.PRIO_PROCESS, process.pid)


async def rate_run(
    engine: AsyncEngine, sessions: Sessions, calls: int, cps: float, speed: float, wall: float, simulator_nice: int
) -> dict[str, Any]:
    job_id = await _seed(engine, sessions, calls)
    clock = ScaledClock(speed, start=datetime.now(UTC))
    settings = DialerSettings(
        calling_hours_start=ANY_TIME,
        calling_hours_end=ANY_TIME,
        calls_per_second=cps,
        max_concurrent_calls=10**9,
        daily_calls_per_number=10**6,
    )
    async with sessions() as session, session.begin():
        scheduled = await schedule_job(session, job_id, clock.now(), settings, CallingHours.of(settings))
    assert scheduled == calls, scheduled
    simulator, sim_url, sim_nice = _start_simulator(cps, clock, simulator_nice)
    settings = DialerSettings(
        **{
            **settings.__dict__,
            "account_sid": ACCOUNT,
            "auth_token": TOKEN,
            "api_base_url": sim_url,
            "public_base_url": "http://127.0.0.1:9",
            "answering_machine_detection": False,
            # No call is ever settled (the simulator does not drive them), so recovery must not step in.
            "orphan_grace": timedelta(days=1),
            "poll_interval": 0.05,
        }
    )
    provider = TimedProvider(settings, clock)
    stop = asyncio.Event()
    stats: dict[str, int] = {}
    task = asyncio.create_task(run_dialer(VoiceDeps(settings, sessions, SilentAudio(), provider, clock), stop, stats))
    started = time.monotonic()
    load = LoadSampler()
    async with aiohttp.ClientSession(sim_url) as http:
        while time.monotonic() - started < wall and not task.done():
            async with http.get("/bench/placed") as response:
                if (await response.json())["count"] >= calls:
                    break
            load.sample()
            await asyncio.sleep(0.5)
        stop.set()
        await task
        wall_seconds = time.monotonic() - started
        await provider.close()
        async with http.get("/bench/placed", params={"times": "1"}) as response:
            got = await response.json()
            times = sorted(got["times"])
            by_to = got["by_to"]
            BY_TO.update(by_to)
    simulator.terminate()
    simulator.join()
    span = times[-1] - times[0]
    achieved = achieved_rate(times, cps)
    worst, smallest_gap = window_stats(times)
    sent = [to for to in by_to if to in provider.began and to in provider.returned]
    way_out = [by_to[to] - provider.began[to] for to in sent]
    way_back = [provider.returned[to] - by_to[to] for to in sent]
    round_trip = [provider.returned[to] - provider.began[to] for to in sent]
    return {
        "cps_limit": cps,
        "speed": speed,
        "calls_scheduled": calls,
        "calls_placed": len(times),
        "simulated_seconds": round(span, 1),
        "wall_seconds": round(wall_seconds, 1),
        "achieved_cps": round(achieved, 4),
        "percent_of_limit": round(100 * achieved / cps, 2),
        "first_to_last_percent": round(100 * (len(times) - 1) / span / cps, 2),
        "max_in_any_1s_window": worst,
        "smallest_gap_s": round(smallest_gap, 4),
        "sends_held_back": stats.get("held_back", 0),
        "sender_ran_dry": stats.get("ran_dry", 0),
        "longest_gap_s": round(max(b - a for a, b in itertools.pairwise(times)), 4),
        "round_trip_ms_p50_p90_max": percentiles(round_trip),
        "way_out_ms": percentiles(way_out),
        "way_back_ms": percentiles(way_back),
        "simulator_nice": sim_nice,
        "load_1min": load.span(),
    }


def spread(values: list[float]) -> str:
    return f"{min(values)}-{max(values)}" if len(values) > 1 else str(values[0])


async def main(args: argparse.Namespace, url: str) -> None:
    engine = create_engine(url, pool_size=10)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        with cpu_burner(args.burn):
            if not args.skip_schedule:
                times = []
                for _ in range(args.runs):
                    result = await schedule_run(engine, sessions, args.workers, args.explain)
                    print(result, flush=True)
                    times.append(result["schedule_seconds"])
                print({"schedule_seconds_runs": len(times), "spread": spread(times)}, flush=True)
            if not args.skip_rate:
                speeds = args.speed or [DEFAULT_SPEED.get(cps, 1.0) for cps in args.cps]
                for cps, speed in zip(args.cps, speeds, strict=True):
                    rows = []
                    for _ in range(args.runs):
                        rows.append(
                            await rate_run(engine, sessions, args.calls, cps, speed, args.wall, args.simulator_nice)
                        )
                        print(rows[-1], flush=True)
                    summary = {
                        "cps_limit": cps,
                        "runs": len(rows),
                        "burner": args.burn,
                        "percent_of_limit": spread([r["percent_of_limit"] for r in rows]),
                        "max_in_any_1s_window": spread([r["max_in_any_1s_window"] for r in rows]),
                        "smallest_gap_s": spread([r["smallest_gap_s"] for r in rows]),
                        "load_1min": ", ".join(r["load_1min"] for r in rows),
                    }
                    print(summary, flush=True)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--cps", type=float, nargs="+", default=[1.0, 5.0, 30.0])
    parser.add_argument("--speed", type=float, nargs="+", help="clock speed per --cps (default 1 each)")
    parser.add_argument("--wall", type=float, default=180.0, help="wall-clock seconds at most per rate run")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--skip-schedule", action="store_true")
    parser.add_argument("--skip-rate", action="store_true")
    parser.add_argument("--runs", type=int, default=1, help="repeat each measurement this many times")
    parser.add_argument(
        "--simulator-nice",
        type=int,
        default=-10,
        help="the simulator's scheduling priority (nice; negative: ahead of the dialer, the database and the burner)",
    )
    parser.add_argument("--burn", action="store_true", help="keep one core busy with a CPU burner meanwhile")
    with fresh_database() as database:
        asyncio.run(main(parser.parse_args(), database))
