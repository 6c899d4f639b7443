"""Demo data never reaches a real person: `bongpheak serve` and `bongpheak dialer`, run as the operator runs
them (a process, settings in the environment), against the recording fakes of Telegram and the carrier.

From a demo database they refuse, in one line and before any request, services configured as real; started
against services allowed for a demo (local fakes) they send nothing for the seeded history.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bongpheak.commands.seed import seed
from conversations.notifier import CONSUMER as NOTIFIER
from conversations.outbox import OutboxMessage
from dialer.calls.scheduling import CONSUMER as SCHEDULER
from dialer.simulator.carrier import CarrierSimulator, serve
from jobs_core.event_log import is_handled
from jobs_core.model import Call, CallPurpose, CallStatus, Consent, DemoData, Employer, Event, Worker
from jobs_core.model.base import utcnow
from jobs_core.phones import is_demo_phone
from tests.fakes.telegram_api import SEND_METHODS, FakeTelegramAPI

TOKEN = "123456789:AAFakeTokenForTheBongPheakTests_x"
ACCOUNT = "AC" + "3" * 32
VOICE_TOKEN = "demo-guard-secret"
MODERATORS_CHAT = "-1001234567890"
START_WITHIN = 120.0  # seconds for a command to start (or refuse) on a loaded machine


@dataclass
class Fakes:
    telegram: FakeTelegramAPI
    carrier_url: str
    carrier_requests: list[str] = field(default_factory=list)


@pytest.fixture
async def fakes() -> AsyncIterator[Fakes]:
    """The Telegram Bot API fake and the carrier simulator on 127.0.0.1, every request to either recorded."""
    async with FakeTelegramAPI() as telegram:
        carrier = CarrierSimulator(ACCOUNT, VOICE_TOKEN, cps=20)
        recorded = Fakes(telegram, "")

        @web.middleware
        async def record(
            request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
        ) -> web.StreamResponse:
            recorded.carrier_requests.append(f"{request.method} {request.path}")
            return await handler(request)

        carrier.app.middlewares.append(record)
        runner, recorded.carrier_url = await serve(carrier.app)
        try:
            yield recorded
        finally:
            await runner.cleanup()
            # Answer a long poll left open by a stopped `serve`, or the fake would wait out its timeout.
            telegram.queue_update({})


@pytest.fixture
async def demo_database(session_factory: async_sessionmaker[AsyncSession], database_url: str) -> str:
    """The database after `bongpheak seed --demo`."""
    await seed(database_url)
    return database_url


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _environment(database_url: str, data_dir: Path, fakes: Fakes, port: int, **extra: str) -> dict[str, str]:
    """Settings as an operator would give them; nothing inherited that could point elsewhere."""
    inherited = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR", "VIRTUAL_ENV")}
    return {
        **inherited,
        "DATABASE_URL": database_url,
        "DATA_DIR": str(data_dir),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": fakes.telegram.base_url,
        "MODERATORS_CHAT_ID": MODERATORS_CHAT,
        "VOICE_API_BASE_URL": fakes.carrier_url,
        "VOICE_ACCOUNT_SID": ACCOUNT,
        "VOICE_AUTH_TOKEN": VOICE_TOKEN,
        "VOICE_FROM_NUMBER": "+85523000000",
        "CALLING_HOURS_START": "00:00",
        "CALLING_HOURS_END": "23:59",
        **extra,
    }


async def _bongpheak(args: Sequence[str], env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bongpheak.cli",
        *args,
        env=env,
        cwd=cwd,  # no .env there
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _stop(process: asyncio.subprocess.Process) -> bytes:
    """Stop a command as the operator does (SIGTERM; SIGKILL if it hangs); returns its stderr."""
    if process.returncode is None:
        process.terminate()
    try:
        async with asyncio.timeout(30):
            _, err = await process.communicate()
    except TimeoutError:
        process.kill()
        _, err = await process.communicate()
    return err


async def _due_call_to_a_real_looking_number(sessions: async_sessionmaker[AsyncSession]) -> None:
    """What a demo seeded before demo numbers existed holds: a worker with a valid mobile number, a call due."""
    async with sessions() as session, session.begin():
        worker = await session.scalar(select(Worker).where(Worker.consent == Consent.PENDING).limit(1))
        assert worker is not None
        worker.phone = "+85512777888"
        session.add(
            Call(
                worker_id=worker.id,
                purpose=CallPurpose.CONSENT,
                job_ids=[],
                status=CallStatus.PENDING,
                attempts=0,
                next_attempt_at=utcnow() - timedelta(minutes=1),
                keys=[],
                flow_state={},
                created_at=utcnow(),
            )
        )


async def test_a_demo_database_refuses_services_configured_as_real_before_any_request(
    demo_database: str, session_factory: async_sessionmaker[AsyncSession], fakes: Fakes, tmp_path: Path
) -> None:
    await _due_call_to_a_real_looking_number(session_factory)
    # The fakes listen on 127.0.0.1; with only ::1 allowed they stand for api.telegram.org and Twilio.
    env = _environment(demo_database, tmp_path, fakes, _free_port(), DEMO_PROVIDER_HOSTS="::1")
    for command in (["serve", "--polling", "--dialer"], ["dialer"]):
        process = await _bongpheak(command, env, tmp_path)
        try:
            async with asyncio.timeout(START_WITHIN):
                await process.wait()
        except TimeoutError:
            await _stop(process)
            pytest.fail(
                f"{command[0]} started on a demo database: {len(fakes.telegram.calls)} requests reached Telegram, "
                f"{len(fakes.carrier_requests)} the carrier"
            )
        err = (await _stop(process)).decode()
        lines = err.strip().splitlines()
        assert process.returncode == 2, err
        assert len(lines) == 1, err
        assert lines[0].startswith("bongpheak: this database holds demo data")
        assert "DATABASE_URL" in lines[0] and "DATA_DIR" in lines[0]
        assert fakes.telegram.calls == [] and fakes.carrier_requests == []


async def _handled_by_both_consumers(sessions: async_sessionmaker[AsyncSession], event_id: int) -> bool:
    async with sessions() as session:
        return await is_handled(session, NOTIFIER, event_id) and await is_handled(session, SCHEDULER, event_id)


async def test_serve_and_the_dialer_on_local_fakes_send_nothing_for_the_seeded_history(
    demo_database: str, session_factory: async_sessionmaker[AsyncSession], fakes: Fakes, tmp_path: Path
) -> None:
    async with session_factory() as session:
        assert await session.get(DemoData, 1) is not None
        phones = list((await session.scalars(select(Worker.phone))).all())
        phones += [p for p in (await session.scalars(select(Employer.contact_phone))).all() if p]
    assert len(phones) > 150 and all(is_demo_phone(p) for p in phones)
    port = _free_port()
    env = _environment(demo_database, tmp_path, fakes, port)  # default demo hosts: loopback fakes allowed
    process = await _bongpheak(
        ["serve", "--polling", "--dialer", "--host", "127.0.0.1", "--port", str(port)], env, tmp_path
    )
    try:
        # A no-op for both consumers (there is no job 0). They take events oldest first, so once both have
        # handled this one they have been through everything written before it: the whole seeded history.
        async with session_factory() as session, session.begin():
            barrier = Event(kind="job.published", payload={"job_id": 0}, created_at=utcnow())
            session.add(barrier)
        async with asyncio.timeout(START_WITHIN):
            while not await _handled_by_both_consumers(session_factory, barrier.id):
                assert process.returncode is None, (await _stop(process)).decode()
                await asyncio.sleep(0.2)
    finally:
        err = (await _stop(process)).decode()
    assert fakes.telegram.calls_of("getUpdates"), err  # it did run, polling the allowed fake
    assert fakes.telegram.calls_of(*SEND_METHODS) == []
    assert fakes.carrier_requests == []
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        statuses = set((await session.scalars(select(Call.status).distinct())).all())
        assert statuses <= {CallStatus.COMPLETED, CallStatus.FAILED}  # only the seeded history, nothing scheduled
