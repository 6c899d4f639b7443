"""The dialer killed with SIGKILL at random moments over 1,000 calls: every due call is placed exactly once."""

from __future__ import annotations

import asyncio
import collections
import os
import random
import signal
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.simulator.carrier import CarrierSimulator, serve
from jobs_core.model import Call, CallStatus
from tests.integration.dialer.support import phone

CALLS = 1000
ACCOUNT, TOKEN = "AC" + "2" * 32, "crash-secret"


async def _seed(sessions: async_sessionmaker[AsyncSession]) -> None:
    due = datetime.now(UTC) - timedelta(minutes=1)
    async with sessions() as session, session.begin():
        await session.execute(
            text(
                """
                INSERT INTO workers (name, phone, gender, birth_year, province_code, sectors, consent, created_at)
                SELECT 'w' || g, :prefix || lpad(g::text, 6, '0'), 'female', 1995, '12', '{}', 'pending', now()
                FROM generate_series(1, :n) g
                """
            ),
            {"n": CALLS, "prefix": phone(0)[:-6]},
        )
        await session.execute(
            text(
                """
                INSERT INTO calls (worker_id, purpose, job_ids, status, attempts, next_attempt_at, keys,
                                   flow_state, created_at)
                SELECT id, 'consent', '[]', 'pending', 0, :due, '[]', '{}', now() FROM workers
                """
            ),
            {"due": due},
        )


@pytest.mark.slow
async def test_sigkill_at_random_points_places_every_call_exactly_once(
    session_factory: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    await _seed(session_factory)
    simulator = CarrierSimulator(ACCOUNT, TOKEN, cps=1000, drive=False)
    runner, sim_url = await serve(simulator.app)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "VOICE_API_BASE_URL": sim_url,
        "VOICE_ACCOUNT_SID": ACCOUNT,
        "VOICE_AUTH_TOKEN": TOKEN,
        "PUBLIC_BASE_URL": "http://127.0.0.1:9",
        "CALLS_PER_SECOND": "150",
        "MAX_CONCURRENT_CALLS": "100000",
        "CALLING_HOURS_START": "00:00",
        "CALLING_HOURS_END": "00:00",
        "ANSWERING_MACHINE_DETECTION": "false",
        "DIALER_ORPHAN_GRACE_SECONDS": "1.5",
        "DIALER_REQUEST_TIMEOUT": "1",
        "DIALER_POLL_INTERVAL": "0.2",
    }
    rng = random.Random(20260310)

    async def remaining() -> tuple[int, int]:
        async with session_factory() as session:
            due = await session.scalar(
                select(func.count()).select_from(Call).where(Call.status.in_((CallStatus.PENDING,)))
            )
            orphans = await session.scalar(select(func.count()).select_from(Call).where(Call.provider_sid.is_(None)))
            return int(due or 0), int(orphans or 0)

    kills = 0
    process: asyncio.subprocess.Process | None = None
    try:
        async with asyncio.timeout(300):
            while True:
                process = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "dialer.runner",
                    env=env,
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.DEVNULL,
                )
                if kills >= 12:
                    # Enough crashes: this dialer is left to finish (on a loaded machine its start-up alone
                    # can outlast any fixed pause, and a kill before it places anything proves nothing).
                    for _ in range(600):
                        if await remaining() == (0, 0):
                            break
                        await asyncio.sleep(0.5)
                due, orphans = await remaining()
                if due == 0 and orphans == 0:
                    process.send_signal(signal.SIGTERM)
                    await process.wait()
                    break
                await asyncio.sleep(rng.uniform(0.3, 2.5))
                process.send_signal(signal.SIGKILL)
                await process.wait()
                kills += 1
    finally:
        if process is not None and process.returncode is None:
            process.kill()  # never leave a dialer running after the test, whatever ended it
            await process.wait()
        await runner.cleanup()
    per_call = collections.Counter(int(c.query()["call"]) for c in simulator.placed)
    assert len(per_call) == CALLS
    assert [n for n in per_call.values() if n != 1] == []
    async with session_factory() as session:
        sids = set((await session.scalars(select(Call.provider_sid))).all())
    assert sids == {c.sid for c in simulator.placed}
    assert kills >= 3
