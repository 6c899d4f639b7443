"""Benchmark of the statements production runs for a published job, at national scale (a script, not a test).

Bulk-loads workers, relatives and their nominations, alert subscriptions, published jobs, past pitches, calls and
their placed attempts with COPY into a fresh migrated database, then times, for random live jobs, what happens
when a job is published:

- the dialer's scheduling: ``dialer.calls.scheduling.schedule_job`` (its one INSERT ... SELECT,
  ``pitch_job_statement``: job_pitches and pending pitch calls for every eligible consented worker), each in a
  transaction rolled back afterwards so every job starts from the same data;
- the alerts: ``jobs_core.matching.matching_subscribers``, the query the notifier's ``job_published`` handler
  runs to pick the relatives whose subscriptions match the job.

Each pass over the sampled jobs is repeated ``--runs`` times; p50/p95/max per pass, the spread over the passes
and the machine's load average (``os.getloadavg``) sampled during each pass are reported, with the query plans,
and written into docs/performance-matching.md.

    .venv/bin/python -m bench.bench_matching [--workers N --jobs N --samples 200 --schedule-samples 20 --runs 3]

DATABASE_URL picks the server (a new database is created on it and dropped afterwards, unless --keep);
unset, an embedded PostgreSQL is started. ``--url`` reruns the timings on a database kept earlier.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import itertools
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession
from tqdm import tqdm

from bongpheak.database import create_engine, session_factory
from bongpheak.migrate import upgrade
from dialer.calls.hours import CallingHours
from dialer.calls.scheduling import schedule_job
from dialer.settings import DialerSettings
from jobs_core.clock import start_of_local_day
from jobs_core.matching import DEFAULT_DAILY_CALL_CAP, matching_subscribers
from jobs_core.model import Job

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance-matching.md"
RESULTS_START = "<!-- bench:results:start (written by bench/bench_matching.py; edit outside these markers) -->"
RESULTS_END = "<!-- bench:results:end -->"
CHUNK = 50_000
TABLES = (
    "workers",
    "relatives",
    "nominations",
    "subscriptions",
    "employers",
    "jobs",
    "job_pitches",
    "calls",
    "call_attempts",
)
# Tables whose id is a sequence, moved past the copied ids (call_attempts' key is (call_id, attempt)).
SERIAL_TABLES = tuple(table for table in TABLES if table != "call_attempts")
# Scheduling at any hour: the calls' first due time is not what is measured.
ANY_TIME = datetime.min.time()
SCHEDULING = DialerSettings(calling_hours_start=ANY_TIME, calling_hours_end=ANY_TIME)

# 2019 census population by province code: workers are spread like people, Phnom Penh ('12') the biggest.
PROVINCE_POPULATION = {
    "01": 861_883,  # Banteay Meanchey
    "02": 997_169,  # Battambang
    "03": 899_791,  # Kampong Cham
    "04": 527_027,  # Kampong Chhnang
    "05": 877_523,  # Kampong Speu
    "06": 677_260,  # Kampong Thom
    "07": 592_845,  # Kampot
    "08": 1_201_581,  # Kandal
    "09": 123_618,  # Koh Kong
    "10": 372_825,  # Kratie
    "11": 88_649,  # Mondulkiri
    "12": 2_281_951,  # Phnom Penh
    "13": 254_827,  # Preah Vihear
    "14": 1_057_720,  # Prey Veng
    "15": 411_759,  # Pursat
    "16": 204_027,  # Ratanakiri
    "17": 1_014_234,  # Siem Reap
    "18": 310_072,  # Preah Sihanouk
    "19": 165_713,  # Stung Treng
    "20": 525_497,  # Svay Rieng
    "21": 900_914,  # Takeo
    "22": 276_038,  # Oddar Meanchey
    "23": 41_798,  # Kep
    "24": 75_112,  # Pailin
    "25": 776_841,  # Tboung Khmum
}
# Jobs sit where the employers are: the capital and the garment/tourism/port provinces get more than their share.
JOB_PROVINCE_BOOST = {"12": 2.0, "08": 1.5, "05": 1.5, "17": 1.5, "18": 1.5}
JOB_PROVINCE_WEIGHTS = {
    code: people * JOB_PROVINCE_BOOST.get(code, 1.0) for code, people in PROVINCE_POPULATION.items()
}
SECTOR_WEIGHTS = {
    "manufacturing": 30,
    "construction": 15,
    "agriculture": 12,
    "hospitality": 10,
    "retail": 8,
    "security": 6,
    "domestic": 6,
    "transport": 6,
    "fishing": 4,
    "other": 3,
}
CONSENT_WEIGHTS = {"consented": 70, "pending": 20, "declined": 7, "opted_out": 3}
JOB_GENDER_WEIGHTS = {"any": 80, "male": 10, "female": 10}
JOB_MIN_AGE_WEIGHTS = {18: 70, None: 15, 20: 10, 16: 5}
JOB_MAX_AGE_WEIGHTS = {None: 40, 35: 20, 40: 20, 45: 10, 50: 10}


class Picker:
    """Weighted choice from a fixed table, fast enough for millions of draws."""

    def __init__(self, rng: random.Random, weights: Mapping[Any, float]) -> None:
        self.rng = rng
        self.values = list(weights)
        self.cumulative = list(itertools.accumulate(weights.values()))
        self.total = self.cumulative[-1]

    def __call__(self) -> Any:
        return self.values[bisect.bisect_right(self.cumulative, self.rng.random() * self.total)]


@dataclass
class Options:
    workers: int
    jobs: int
    employers: int
    pitches: int
    calls_today: int
    calls_history: int
    samples: int
    schedule_samples: int
    runs: int
    warmup: int
    seed: int
    keep: bool
    url: str | None
    doc: Path | None


@dataclass
class Timings:
    """One pass of one statement over the sampled jobs."""

    label: str
    millis: list[float]
    sizes: list[int]
    job_ids: list[int]
    load: list[float]  # 1-minute load average sampled during the pass

    def pct(self, q: float) -> float:
        ordered = sorted(self.millis)
        # Nearest-rank percentile: the value below which q of the samples fall.
        return ordered[max(0, min(len(ordered) - 1, round(q * len(ordered) + 0.5) - 1))]

    def summary(self) -> dict[str, float]:
        return {
            "p50": self.pct(0.50),
            "p95": self.pct(0.95),
            "max": max(self.millis),
            "mean": statistics.fmean(self.millis),
            "rows_mean": statistics.fmean(self.sizes),
            "rows_median": statistics.median(self.sizes),
            "rows_max": max(self.sizes),
        }


@dataclass
class Report:
    options: Options
    now: datetime
    load_seconds: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)
    server_version: str = ""
    machine: dict[str, str] = field(default_factory=dict)
    timings: list[Timings] = field(default_factory=list)
    plans: list[tuple[str, str]] = field(default_factory=list)
    slowest: dict[str, list[tuple[float, int, dict[str, Any]]]] = field(default_factory=dict)


# --- database ---------------------------------------------------------------------------------------------------


def asyncpg_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


@contextmanager
def bench_database(options: Options) -> Iterator[str]:
    """The database to benchmark: given (--url), kept (--keep) or fresh and dropped afterwards."""
    if options.url:
        yield asyncpg_dsn(options.url)
        return
    if not options.keep:
        from bongpheak.scratch_database import fresh_database

        with fresh_database() as url:
            yield url
        return
    server = os.environ.get("DATABASE_URL")
    if not server:
        sys.exit("--keep needs DATABASE_URL: the embedded server is stopped and deleted on exit")
    name = f"bongpheak_bench_{uuid.uuid4().hex[:8]}"

    async def create() -> None:
        connection = await asyncpg.connect(asyncpg_dsn(server))
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    asyncio.run(create())
    url = asyncpg_dsn(server, name)
    upgrade(url)
    print(f"keeping the bench database: rerun the timings with --url {url}")
    yield url


@asynccontextmanager
async def connect(url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        yield connection
    finally:
        await connection.close()


# --- loading ------------------------------------------------------------------------------------------------------


async def copy_rows(
    connection: asyncpg.Connection,
    table: str,
    columns: Sequence[str],
    rows: Iterator[tuple[Any, ...]],
    total: int,
) -> float:
    """COPY ``rows`` into ``table`` in chunks, with a progress bar; returns the seconds it took."""
    started = time.perf_counter()
    with tqdm(total=total, desc=f"load {table}", unit="row", unit_scale=True, dynamic_ncols=True) as bar:
        while chunk := list(itertools.islice(rows, CHUNK)):
            await connection.copy_records_to_table(table, records=chunk, columns=list(columns))
            bar.update(len(chunk))
    return time.perf_counter() - started


def worker_rows(
    rng: random.Random, count: int, now: datetime, by_province: dict[str, list[int]]
) -> Iterator[tuple[Any, ...]]:
    province = Picker(rng, PROVINCE_POPULATION)
    consent = Picker(rng, CONSENT_WEIGHTS)
    sector = Picker(rng, SECTOR_WEIGHTS)
    for worker_id in range(1, count + 1):
        code = province()
        status = consent()
        wanted = rng.random()
        sectors: list[str] = []
        if wanted >= 0.20:  # 20% want any sector (empty array); the rest name one to three
            size = 1 if wanted < 0.60 else 2 if wanted < 0.85 else 3
            while len(sectors) < size:
                if (pick := sector()) not in sectors:
                    sectors.append(pick)
        # Young-skewed working population born 1966-2010.
        birth_year = min(2010, int(rng.triangular(1966, 2011, 1998)))
        created = now - timedelta(days=rng.uniform(0, 720))
        if status == "consented":
            by_province[code].append(worker_id)
        yield (
            worker_id,
            f"Worker {worker_id}",
            f"+85510{worker_id:08d}",
            "female" if rng.random() < 0.52 else "male",
            birth_year,
            code,
            sectors,
            status,
            created + timedelta(days=1) if status != "pending" else None,
            created,
        )


RELATIONS = {"sibling": 45, "relative": 35, "friend": 12, "acquaintance": 8}


def relative_rows(rng: random.Random, count: int, now: datetime) -> Iterator[tuple[Any, ...]]:
    """Relatives on Telegram: a few blocked the bot or sent /stop."""
    for relative_id in range(1, count + 1):
        created = now - timedelta(days=rng.uniform(0, 720))
        yield (
            relative_id,
            "telegram",
            str(10_000_000 + relative_id),
            "en" if rng.random() < 0.1 else "km",
            f"Relative {relative_id}",
            rng.random() < 0.03,
            rng.random() < 0.02,
            created,
        )


def nomination_rows(rng: random.Random, workers: int, relatives: int, now: datetime) -> Iterator[tuple[Any, ...]]:
    """Every worker nominated by one relative, one in ten by a second one too."""
    relation = Picker(rng, RELATIONS)
    nomination_id = 0
    for worker_id in range(1, workers + 1):
        first = rng.randint(1, relatives)
        chosen = [first]
        if rng.random() < 0.1 and relatives > 1:
            second = rng.randint(1, relatives - 1)
            chosen.append(second if second < first else second + 1)
        for relative_id in chosen:
            nomination_id += 1
            yield (nomination_id, worker_id, relative_id, relation(), "", [], now - timedelta(days=rng.uniform(0, 720)))


def subscription_rows(rng: random.Random, relatives: int, now: datetime) -> Iterator[tuple[Any, ...]]:
    """Four relatives in ten subscribe to one to three alerts; a fifth of them any province, a third any sector."""
    province = Picker(rng, PROVINCE_POPULATION)
    sector = Picker(rng, SECTOR_WEIGHTS)
    subscription_id = 0
    for relative_id in range(1, relatives + 1):
        if rng.random() >= 0.4:
            continue
        wanted = 1 if (r := rng.random()) < 0.6 else 2 if r < 0.9 else 3
        seen: set[tuple[str | None, str | None]] = set()
        for _ in range(wanted):
            key = (None if rng.random() < 0.2 else province(), None if rng.random() < 0.33 else sector())
            if key in seen:
                continue
            seen.add(key)
            subscription_id += 1
            yield (subscription_id, relative_id, key[0], key[1], now - timedelta(days=rng.uniform(0, 360)))


def employer_rows(rng: random.Random, count: int, now: datetime) -> Iterator[tuple[Any, ...]]:
    province = Picker(rng, JOB_PROVINCE_WEIGHTS)
    for employer_id in range(1, count + 1):
        created = now - timedelta(days=rng.uniform(30, 720))
        yield (
            employer_id,
            f"Employer {employer_id}",
            f"+85512{employer_id:07d}",
            province(),
            "agency" if rng.random() < 0.1 else "employer",
            "verified",
            created,
            created + timedelta(days=2),
        )


def job_rows(
    rng: random.Random, count: int, employers: int, now: datetime, provinces: dict[int, str]
) -> Iterator[tuple[Any, ...]]:
    province = Picker(rng, JOB_PROVINCE_WEIGHTS)
    sector = Picker(rng, SECTOR_WEIGHTS)
    gender = Picker(rng, JOB_GENDER_WEIGHTS)
    min_age = Picker(rng, JOB_MIN_AGE_WEIGHTS)
    max_age = Picker(rng, JOB_MAX_AGE_WEIGHTS)
    for job_id in range(1, count + 1):
        code = province()
        provinces[job_id] = code
        published = now - timedelta(days=rng.uniform(0, 30))
        yield (
            job_id,
            rng.randint(1, employers),
            f"Job {job_id}",
            "",
            sector(),
            code,
            1 + int(rng.expovariate(0.2)),
            gender(),
            min_age(),
            max_age(),
            [],
            now + timedelta(days=rng.uniform(1, 60)),
            "published",
            [],
            False,
            published - timedelta(days=1),
            published - timedelta(hours=12),
            published,
        )


def pitch_rows(
    rng: random.Random,
    total: int,
    now: datetime,
    job_provinces: dict[int, str],
    by_province: dict[str, list[int]],
) -> Iterator[tuple[Any, ...]]:
    """About ``total`` past pitches, 0..2x the average per job, to consented workers of the job's province."""
    average = total / max(1, len(job_provinces))
    pitch_id = 0
    for job_id, code in job_provinces.items():
        pool = by_province[code]
        size = min(len(pool), rng.randint(0, round(2 * average)))
        for worker_id in rng.sample(pool, size):
            pitch_id += 1
            yield (pitch_id, job_id, worker_id, now - timedelta(hours=rng.uniform(1, 720)))


def call_plan(
    rng: random.Random,
    today: int,
    history: int,
    now: datetime,
    consented: list[int],
    everyone: int,
) -> list[tuple[int, list[datetime]]]:
    """Calls as (worker, times of its placed attempts); call ids are positions + 1.

    ``today`` tries placed since local midnight: 30% of them by workers now at the daily cap of 2 (half of those
    as one call retried, half as two calls), the rest one try each. Then ``history`` older calls of 1-3 tries over
    the last 30 days, which the cap's "today" bound must skip.
    """
    midnight = start_of_local_day(now)
    seconds_today = max(1.0, (now - midnight).total_seconds())

    def today_at() -> datetime:
        return midnight + timedelta(seconds=rng.uniform(0, seconds_today))

    capped = round(today * 0.3) // DEFAULT_DAILY_CALL_CAP
    singles = today - capped * DEFAULT_DAILY_CALL_CAP
    chosen = rng.sample(consented, min(len(consented), capped + singles))
    plan: list[tuple[int, list[datetime]]] = []
    for index, worker_id in enumerate(chosen[:capped]):
        tries = sorted(today_at() for _ in range(DEFAULT_DAILY_CALL_CAP))
        if index % 2:
            plan.append((worker_id, tries))  # one call, retried
        else:
            plan.extend((worker_id, [placed]) for placed in tries)  # two calls
    plan.extend((worker_id, [today_at()]) for worker_id in chosen[capped:])
    for _ in range(history):
        # Mostly consented workers (pitches), some consent calls to anyone.
        worker_id = rng.choice(consented) if rng.random() < 0.8 else rng.randint(1, everyone)
        count = 1 if (r := rng.random()) < 0.7 else 2 if r < 0.9 else 3
        first = midnight - timedelta(seconds=rng.uniform(3 * 3600, 30 * 86400))
        plan.append((worker_id, [first + timedelta(hours=k) for k in range(count)]))
    return plan


def call_rows(plan: Sequence[tuple[int, list[datetime]]]) -> Iterator[tuple[Any, ...]]:
    """``calls`` rows consistent with their attempts: ``attempts`` is their count, ``placed_at`` the last one."""
    for call_id, (worker_id, tries) in enumerate(plan, start=1):
        placed = tries[-1]
        yield (
            call_id,
            worker_id,
            "job_pitch",
            "[]",
            "completed",
            len(tries),
            placed,
            "[]",
            "{}",
            tries[0] - timedelta(minutes=5),
            placed,
            placed + timedelta(seconds=5),
            placed + timedelta(seconds=60),
        )


def attempt_rows(plan: Sequence[tuple[int, list[datetime]]]) -> Iterator[tuple[Any, ...]]:
    """One ``call_attempts`` row per placed try: the earlier tries of a retried call got no answer."""
    for call_id, (worker_id, tries) in enumerate(plan, start=1):
        for attempt, placed in enumerate(tries, start=1):
            outcome = "completed" if attempt == len(tries) else "no_answer"
            yield (call_id, attempt, worker_id, placed, f"BENCH{call_id:09d}A{attempt}", outcome)


def relatives_for(workers: int) -> int:
    """Some relatives nominated several workers: seven relatives for ten workers."""
    return max(1, workers * 7 // 10)


async def load(url: str, options: Options, report: Report) -> None:
    rng = random.Random(options.seed)
    now = report.now
    by_province: dict[str, list[int]] = {code: [] for code in PROVINCE_POPULATION}
    job_provinces: dict[int, str] = {}
    started = time.perf_counter()
    async with connect(url) as connection:
        try:
            # Skip FK triggers while loading (superuser only): the generator only writes valid references.
            await connection.execute("SET session_replication_role = replica")
        except asyncpg.InsufficientPrivilegeError:
            print("not a superuser: loading with foreign-key checks on (slower)")
        seconds = report.load_seconds
        seconds["workers"] = await copy_rows(
            connection,
            "workers",
            (
                "id",
                "name",
                "phone",
                "gender",
                "birth_year",
                "province_code",
                "sectors",
                "consent",
                "consent_changed_at",
                "created_at",
            ),
            worker_rows(rng, options.workers, now, by_province),
            options.workers,
        )
        relatives = relatives_for(options.workers)
        seconds["relatives"] = await copy_rows(
            connection,
            "relatives",
            ("id", "channel", "external_id", "language", "name", "unreachable", "stopped", "created_at"),
            relative_rows(rng, relatives, now),
            relatives,
        )
        seconds["nominations"] = await copy_rows(
            connection,
            "nominations",
            ("id", "worker_id", "relative_id", "relation", "name", "sectors", "created_at"),
            nomination_rows(rng, options.workers, relatives, now),
            options.workers * 11 // 10,
        )
        seconds["subscriptions"] = await copy_rows(
            connection,
            "subscriptions",
            ("id", "relative_id", "province_code", "sector_code", "created_at"),
            subscription_rows(rng, relatives, now),
            relatives * 6 // 10,
        )
        seconds["employers"] = await copy_rows(
            connection,
            "employers",
            ("id", "name", "contact_phone", "province_code", "kind", "verification", "created_at", "verified_at"),
            employer_rows(rng, options.employers, now),
            options.employers,
        )
        seconds["jobs"] = await copy_rows(
            connection,
            "jobs",
            (
                "id",
                "employer_id",
                "title",
                "description",
                "sector_code",
                "province_code",
                "positions",
                "gender",
                "min_age",
                "max_age",
                "benefits",
                "expires_at",
                "status",
                "risk_reasons",
                "voice_clip_approved",
                "created_at",
                "submitted_at",
                "published_at",
            ),
            job_rows(rng, options.jobs, options.employers, now, job_provinces),
            options.jobs,
        )
        seconds["job_pitches"] = await copy_rows(
            connection,
            "job_pitches",
            ("id", "job_id", "worker_id", "created_at"),
            pitch_rows(rng, options.pitches, now, job_provinces, by_province),
            options.pitches,
        )
        consented = [w for pool in by_province.values() for w in pool]
        plan = call_plan(rng, options.calls_today, options.calls_history, now, consented, options.workers)
        seconds["calls"] = await copy_rows(
            connection,
            "calls",
            (
                "id",
                "worker_id",
                "purpose",
                "job_ids",
                "status",
                "attempts",
                "next_attempt_at",
                "keys",
                "flow_state",
                "created_at",
                "placed_at",
                "answered_at",
                "ended_at",
            ),
            call_rows(plan),
            len(plan),
        )
        seconds["call_attempts"] = await copy_rows(
            connection,
            "call_attempts",
            ("call_id", "attempt", "worker_id", "placed_at", "provider_sid", "outcome"),
            attempt_rows(plan),
            sum(len(tries) for _, tries in plan),
        )
        await connection.execute("RESET session_replication_role")
        for table in SERIAL_TABLES:
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 1) FROM {table}))"
            )
        copied = time.perf_counter()
        print("VACUUM (ANALYZE) of the loaded tables …")
        for table in tqdm(TABLES, desc="vacuum analyze"):
            await connection.execute(f"VACUUM (ANALYZE) {table}")
        seconds["vacuum_analyze"] = time.perf_counter() - copied
    seconds["total"] = time.perf_counter() - started


# --- measuring ----------------------------------------------------------------------------------------------------


async def describe(url: str, report: Report) -> None:
    async with connect(url) as connection:
        report.server_version = await connection.fetchval("SELECT version()")
        for name in (
            "shared_buffers",
            "work_mem",
            "effective_cache_size",
            "random_page_cost",
            "jit",
            "jit_above_cost",
            "max_parallel_workers_per_gather",
        ):
            report.settings[name] = await connection.fetchval(f"SHOW {name}")
        for table in TABLES:
            report.counts[table] = await connection.fetchval(f"SELECT count(*) FROM {table}")
        midnight = start_of_local_day(report.now)
        report.counts["consented workers"] = await connection.fetchval(
            "SELECT count(*) FROM workers WHERE consent = 'consented'"
        )
        report.counts["call attempts placed today"] = await connection.fetchval(
            "SELECT count(*) FROM call_attempts WHERE placed_at >= $1", midnight
        )
        report.counts["workers at the daily cap"] = await connection.fetchval(
            "SELECT count(*) FROM (SELECT worker_id FROM call_attempts WHERE placed_at >= $1 GROUP BY worker_id "
            "HAVING count(*) >= $2) capped",
            midnight,
            DEFAULT_DAILY_CALL_CAP,
        )
        report.counts["live jobs"] = await connection.fetchval(
            "SELECT count(*) FROM jobs WHERE status = 'published' AND expires_at > $1", report.now
        )
        report.counts["database size (MB)"] = round(
            await connection.fetchval("SELECT pg_database_size(current_database())") / 2**20
        )
    report.machine = machine()


def machine() -> dict[str, str]:
    def run(*command: str) -> str:
        try:
            return subprocess.run(command, capture_output=True, text=True, check=True).stdout.rstrip()
        except (OSError, subprocess.CalledProcessError):
            return "n/a"

    model = "n/a"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": run("nproc"),
        "cpu": model,
        "free -h": run("free", "-h"),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


Timed = Callable[[AsyncSession, int, datetime], Awaitable[int]]
Build = Callable[[AsyncSession, Job, datetime], Awaitable[tuple[str, Any]]]


async def scheduled(session: AsyncSession, job_id: int, now: datetime) -> int:
    """What the dialer runs when a job is published: the pitch calls of every eligible worker, in one statement.

    Rolled back afterwards (by the caller's session), so every sampled job meets the same data.
    """
    try:
        return await schedule_job(session, job_id, now, SCHEDULING, CallingHours.of(SCHEDULING))
    finally:
        await session.rollback()


async def subscribers(session: AsyncSession, job_id: int, now: datetime) -> int:
    """What the notifier runs when a job is published: the relatives whose alert subscriptions match it."""
    job = await session.get(Job, job_id)
    assert job is not None
    return len(await matching_subscribers(session, job))


async def live_jobs(url: str, now: datetime) -> list[int]:
    async with connect(url) as connection:
        return [
            r["id"]
            for r in await connection.fetch(
                "SELECT id FROM jobs WHERE status = 'published' AND expires_at > $1 ORDER BY id", now
            )
        ]


async def time_jobs(
    url: str, report: Report, label: str, timed: Timed, sample: list[int], warmup: list[int]
) -> Timings:
    """Time ``timed`` on each job of ``sample``, in a new session of the app's engine each."""
    engine = create_engine(url, pool_size=2)  # the app's engine: pool_pre_ping, jit = off
    sessions = session_factory(engine)
    try:
        for job_id in warmup:  # Fill the connection pool and the prepared-statement caches; not counted.
            async with sessions() as session:
                await timed(session, job_id, report.now)
        load = [os.getloadavg()[0]]
        millis: list[float] = []
        sizes: list[int] = []
        for job_id in tqdm(sample, desc=label, unit="job", dynamic_ncols=True):
            started = time.perf_counter()
            async with sessions() as session:
                size = await timed(session, job_id, report.now)
            millis.append((time.perf_counter() - started) * 1000)
            sizes.append(size)
            load.append(os.getloadavg()[0])
        timings = Timings(label, millis, sizes, sample, load)
        report.timings.append(timings)
        return timings
    finally:
        await engine.dispose()


async def schedule_sql(session: AsyncSession, job: Job, now: datetime) -> tuple[str, Any]:
    """The scheduling statement exactly as ``schedule_job`` sends it (captured from the cursor; rolled back)."""
    try:
        return await _captured(session, "job_pitches", scheduled(session, job.id, now))
    finally:
        await session.rollback()


async def subscribers_sql(session: AsyncSession, job: Job, now: datetime) -> tuple[str, Any]:
    """The subscribers' statement exactly as ``matching_subscribers`` sends it (captured from the cursor)."""
    return await _captured(session, "subscriptions", matching_subscribers(session, job))


async def _captured(session: AsyncSession, marker: str, running: Awaitable[Any]) -> tuple[str, Any]:
    """The first statement mentioning ``marker`` that ``running`` sends, with its parameters as sent."""
    captured: list[tuple[str, Any]] = []
    engine = session.bind.sync_engine  # type: ignore[union-attr]

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        await running
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    return next((s, p) for s, p in captured if marker in s)


async def explain(url: str, job_id: int, now: datetime, build: Build) -> tuple[str, dict[str, Any]]:
    """EXPLAIN (ANALYZE, BUFFERS) of a statement for one job, as the ORM sends it, in a transaction rolled back."""
    engine = create_engine(url, pool_size=1)
    try:
        async with session_factory(engine)() as session:
            job = await session.get(Job, job_id)
            assert job is not None
            facts = {"job": job_id, "province": job.province_code, "sector": job.sector_code}
            sql, params = await build(session, job, now)
            raw = await (await session.connection()).get_raw_connection()
            driver: asyncpg.Connection = raw.driver_connection
            rows = await driver.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *(params or ()))
            await session.rollback()
    finally:
        await engine.dispose()
    return "\n".join(r[0] for r in rows), facts


async def job_facts(url: str, job_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    async with connect(url) as connection:
        rows = await connection.fetch(
            "SELECT id, province_code, sector_code, gender, min_age, max_age FROM jobs WHERE id = ANY($1)",
            list(job_ids),
        )
    return {r["id"]: dict(r) for r in rows}


# --- reporting ------------------------------------------------------------------------------------------------------


def fmt_seconds(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def spread(values: Sequence[float]) -> str:
    return f"{min(values):.1f}–{max(values):.1f}"


def results_markdown(report: Report) -> str:
    o = report.options
    lines = [
        RESULTS_START,
        "",
        f"Run of {report.now:%Y-%m-%d %H:%M} UTC: `{' '.join(['python -m bench.bench_matching', *sys.argv[1:]])}`",
        "",
        "### Machine",
        "",
        f"- CPU: `nproc` = {report.machine.get('nproc')} ({report.machine.get('cpu')}); "
        f"Python {report.machine.get('python')}, Linux {report.machine.get('kernel')}",
        f"- PostgreSQL: {report.server_version}",
        "- Server settings (stock, untuned; the app's engine turns `jit` off per connection): "
        + ", ".join(f"`{name}={value}`" for name, value in report.settings.items()),
        "- Shared machine: other test suites and benchmarks ran on the same 2 cores and the same PostgreSQL "
        "server during the run; the 1-minute load average sampled during each pass is in the table.",
        "",
        "```text",
        "$ free -h",
        report.machine.get("free -h", ""),
        "```",
        "",
        "### Data",
        "",
        "| table / fact | rows |",
        "|---|---:|",
        *(f"| {name} | {count:,} |" for name, count in report.counts.items()),
        "",
    ]
    if report.load_seconds:
        lines += [
            "Load time (COPY through asyncpg `copy_records_to_table` in chunks of "
            f"{CHUNK:,} rows, generation in Python included; foreign-key triggers off while copying):",
            "",
            "| step | time |",
            "|---|---:|",
            *(f"| {step} | {fmt_seconds(seconds)} |" for step, seconds in report.load_seconds.items()),
            "",
        ]
    else:
        lines += ["(Timings rerun on a database loaded earlier with `--keep`; no load in this run.)", ""]
    lines += [
        "### Timings",
        "",
        f"- **scheduling**: `dialer.calls.scheduling.schedule_job` for {o.schedule_samples} random live jobs (its one "
        "INSERT … SELECT, `pitch_job_statement`), each in a transaction rolled back afterwards; rows = pitch calls "
        "it inserted.",
        f"- **subscribers**: `jobs_core.matching.matching_subscribers` (the notifier's `job_published`) for "
        f"{o.samples} random live jobs; rows = relatives it returned.",
        "",
        f"Each in a new session from the app's engine (`bongpheak.database.create_engine`: `pool_pre_ping`, "
        f"`jit = off`), timed from opening the session to the result; {o.warmup} warm-up calls on other jobs "
        f"first, not counted. {o.runs} passes over the same jobs (seed {o.seed}).",
        "",
        "| statement | pass | p50 | p95 | max | mean | rows: mean / median / max | load (1 min) during the pass |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    passes: dict[str, int] = {}
    for t in report.timings:
        passes[t.label] = passes.get(t.label, 0) + 1
        s = t.summary()
        lines.append(
            f"| {t.label} | {passes[t.label]} | {s['p50']:.1f} ms | {s['p95']:.1f} ms | {s['max']:.1f} ms "
            f"| {s['mean']:.1f} ms | {s['rows_mean']:,.0f} / {s['rows_median']:,.0f} / {s['rows_max']:,} "
            f"| {min(t.load):.2f}–{max(t.load):.2f} |"
        )
    lines += ["", "Spread over the passes (min–max of each pass's figure):", ""]
    for label in passes:
        runs = [t.summary() for t in report.timings if t.label == label]
        loads = [x for t in report.timings if t.label == label for x in t.load]
        lines.append(
            f"- {label}, {len(runs)} passes: p50 {spread([r['p50'] for r in runs])} ms, "
            f"p95 {spread([r['p95'] for r in runs])} ms, max {spread([r['max'] for r in runs])} ms; "
            f"load average {min(loads):.2f}–{max(loads):.2f}"
        )
    for label, slowest in report.slowest.items():
        lines += [
            "",
            f"Slowest jobs, {label} (last pass):",
            "",
            "| ms | rows | job | province | sector | gender | ages |",
            "|---:|---:|---:|---|---|---|---|",
        ]
        for millis, size, facts in slowest:
            lines.append(
                f"| {millis:.1f} | {size:,} | {facts['id']} | {facts['province_code']} | {facts['sector_code']} "
                f"| {facts['gender']} | {facts['min_age']}–{facts['max_age']} |"
            )
    for title, plan in report.plans:
        lines += ["", f"### {title}", "", "```text", plan, "```"]
    lines += ["", RESULTS_END]
    return "\n".join(lines)


DOC_TEMPLATE = """# Performance: what runs when a job is published

What the dialer's scheduling statement and the alerts' subscriber query cost at national scale, measured by
`bench/bench_matching.py`. The text outside the results markers is kept on every run.

```sh
DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.bench_matching
```

## Results

{results}
"""


def write_doc(path: Path, report: Report) -> None:
    results = results_markdown(report)
    if path.exists():
        text = path.read_text()
        pattern = re.compile(re.escape(RESULTS_START) + r".*?" + re.escape(RESULTS_END), re.S)
        if pattern.search(text):
            path.write_text(pattern.sub(lambda _: results, text, count=1))
            return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(DOC_TEMPLATE.replace("{results}", results))


def print_timings(timings: Timings) -> None:
    s = timings.summary()
    print(
        f"[{timings.label}] {len(timings.millis)} jobs: p50 {s['p50']:.1f} ms, p95 {s['p95']:.1f} ms, "
        f"max {s['max']:.1f} ms, mean {s['mean']:.1f} ms; rows mean {s['rows_mean']:,.0f}, "
        f"median {s['rows_median']:,.0f}, max {s['rows_max']:,}; load {min(timings.load):.2f}-{max(timings.load):.2f}"
    )


# --- main -----------------------------------------------------------------------------------------------------------


async def slowest_and_median(url: str, timings: Timings, report: Report) -> tuple[int, int]:
    """Record the five slowest jobs of a pass; return the ids of its median and slowest job."""
    by_time = sorted(zip(timings.millis, timings.sizes, timings.job_ids, strict=True))
    facts = await job_facts(url, [job_id for _, _, job_id in by_time[-5:]])
    report.slowest[timings.label] = [(ms, size, facts[job_id]) for ms, size, job_id in reversed(by_time[-5:])]
    return by_time[len(by_time) // 2][2], by_time[-1][2]


async def add_plan(url: str, report: Report, title: str, job_id: int, build: Build) -> None:
    plan, about = await explain(url, job_id, report.now, build)
    heading = f"{title} ({', '.join(f'{k} {v}' for k, v in about.items())})"
    print(f"\n== {heading}\n{plan}\n")
    report.plans.append((heading, plan))


async def run(url: str, options: Options) -> Report:
    report = Report(options=options, now=datetime.now(UTC))
    if options.url is None:
        await load(url, options, report)
        print(
            "loaded in " + ", ".join(f"{step} {fmt_seconds(seconds)}" for step, seconds in report.load_seconds.items())
        )
    await describe(url, report)
    print(json.dumps(report.counts, indent=2))
    live = await live_jobs(url, report.now)
    if not live:
        sys.exit("no live jobs in the database: load it first")
    rng = random.Random(options.seed + 1)
    sample = rng.sample(live, min(options.samples, len(live)))
    schedule_sample = sample[: options.schedule_samples]
    warmup = rng.sample(live, min(options.warmup, len(live)))
    last: dict[str, Timings] = {}
    for _ in range(options.runs):
        last["scheduling"] = await time_jobs(url, report, "scheduling", scheduled, schedule_sample, warmup[:2])
        print_timings(last["scheduling"])
        last["subscribers"] = await time_jobs(url, report, "subscribers", subscribers, sample, warmup)
        print_timings(last["subscribers"])
    median_job, slowest_job = await slowest_and_median(url, last["scheduling"], report)
    await add_plan(url, report, "Plan: scheduling, the median job", median_job, schedule_sql)
    await add_plan(url, report, "Plan: scheduling, the slowest job", slowest_job, schedule_sql)
    median_job, slowest_job = await slowest_and_median(url, last["subscribers"], report)
    await add_plan(url, report, "Plan: subscribers, the median job", median_job, subscribers_sql)
    await add_plan(url, report, "Plan: subscribers, the slowest job", slowest_job, subscribers_sql)
    return report


def parse(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=1_000_000)
    parser.add_argument("--jobs", type=int, default=10_000, help="published jobs")
    parser.add_argument("--employers", type=int, default=None, help="default: jobs / 5")
    parser.add_argument("--pitches", type=int, default=None, help="past job_pitches rows (default: 2 per worker)")
    parser.add_argument("--calls-today", type=int, default=None, help="default: 5%% of workers")
    parser.add_argument("--calls-history", type=int, default=None, help="older calls (default: 45%% of workers)")
    parser.add_argument("--samples", type=int, default=200, help="random jobs to time the subscribers' query on")
    parser.add_argument("--schedule-samples", type=int, default=20, help="of those, jobs to time scheduling on")
    parser.add_argument("--runs", type=int, default=3, help="passes over the sampled jobs")
    parser.add_argument("--warmup", type=int, default=20, help="untimed calls before timing")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--keep", action="store_true", help="keep the database (needs DATABASE_URL)")
    parser.add_argument("--url", help="time an already loaded database (kept with --keep); no load")
    parser.add_argument("--doc", type=Path, default=DOC, help="markdown file to write the results into")
    parser.add_argument("--no-doc", action="store_true", help="print only")
    args = parser.parse_args(argv)
    return Options(
        workers=args.workers,
        jobs=args.jobs,
        employers=args.employers or max(1, args.jobs // 5),
        pitches=args.pitches if args.pitches is not None else 2 * args.workers,
        calls_today=args.calls_today if args.calls_today is not None else args.workers // 20,
        calls_history=args.calls_history if args.calls_history is not None else args.workers * 45 // 100,
        samples=args.samples,
        schedule_samples=args.schedule_samples,
        runs=args.runs,
        warmup=args.warmup,
        seed=args.seed,
        keep=args.keep,
        url=args.url,
        doc=None if args.no_doc else args.doc,
    )


def main(argv: Sequence[str] | None = None) -> None:
    options = parse(argv)
    with bench_database(options) as url:
        report = asyncio.run(run(url, options))
    if options.doc is not None:
        write_doc(options.doc, report)
        print(f"results written to {options.doc}")


if __name__ == "__main__":
    main()
