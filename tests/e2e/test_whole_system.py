"""The whole product through the composition root: the app `bongpheak serve` builds, a fake Telegram Bot API,
the carrier simulator, real media and PostgreSQL.

A relative nominates a family member; the dialer asks the worker's consent by phone; the worker presses 1,
hears a matching job and applies with one key; the relative and the employer hear back in Telegram.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import ClientSession
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bongpheak.app import build_app, telegram_deps, wire
from bongpheak.bootstrap import Database
from bongpheak.settings import Settings
from bots.telegram.webhook import SECRET_HEADER, WEBHOOK_PATH
from dialer.simulator.carrier import CarrierSimulator, Script, bind_local, serve
from jobs_core.model import Application, Call, CallPurpose, Channel, Consent, Worker
from jobs_core.services.employers import DecideEmployer, decide_employer
from jobs_core.services.people import NominateWorker, nominate_worker
from tests.builders import Builder
from tests.fakes.telegram_api import FakeTelegramAPI, message_update

TOKEN = "123456789:AAFakeTokenForTheBongPheakTests_x"
SECRET = "whole-system-secret"
ACCOUNT = "AC" + "2" * 32
VOICE_TOKEN = "voice-secret"
RELATIVE_CHAT = 4242
EMPLOYER_CHAT = 5001
WORKER_PHONE = "+85512777888"


@dataclass
class System:
    base_url: str
    telegram: FakeTelegramAPI
    carrier: CarrierSimulator
    sessions: async_sessionmaker[AsyncSession]


@asynccontextmanager
async def running_system(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    script: Callable[[str], Script | None],
    secret: str = SECRET,
) -> AsyncIterator[System]:
    """The whole app (webhooks, notifier, outbox, dialer) against the fake Bot API and the carrier simulator,
    whose worker on the phone does what ``script(phone)`` says."""
    async with FakeTelegramAPI() as telegram:
        carrier = CarrierSimulator(ACCOUNT, VOICE_TOKEN, cps=20, script=script)
        carrier_runner, carrier_url = await serve(carrier.app)
        sock, base_url = bind_local()
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            data_dir=tmp_path,
            telegram_bot_token=TOKEN,
            telegram_webhook_secret=secret,
            telegram_api_base_url=telegram.base_url,
            public_base_url=base_url,
            voice_api_base_url=carrier_url,
            voice_account_sid=ACCOUNT,
            voice_auth_token=VOICE_TOKEN,
            voice_from_number="+85523000000",
            calling_hours_start="00:00",
            calling_hours_end="23:59",
            calls_per_second=20,
        )
        wiring = wire(settings, Database(engine, session_factory))
        app = build_app(wiring, telegram_deps(wiring, polling=False), run_dialer_too=True)
        app_runner, _ = await serve(app, sock)
        try:
            yield System(base_url, telegram, carrier, session_factory)
        finally:
            await app_runner.cleanup()
            await carrier_runner.cleanup()


@pytest.fixture
async def system(
    engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession], tmp_path: Path
) -> AsyncIterator[System]:
    async with running_system(engine, session_factory, tmp_path, lambda to: Script(keys=["1", "1", "1"])) as system:
        yield system


async def eventually(check: Callable[[], object], what: str, within: float = 90.0) -> None:
    """Wait until ``check()`` (or its coroutine) is true; fail naming ``what`` if it is not within the time."""
    try:
        async with asyncio.timeout(within):
            while True:
                result = check()
                if asyncio.iscoroutine(result):
                    result = await result
                if result:
                    return
                await asyncio.sleep(0.1)
    except TimeoutError:
        raise AssertionError(what) from None


def texts_to(telegram: FakeTelegramAPI, chat: int) -> list[str]:
    return [str(c.params.get("text", "")) for c in telegram.calls_of("sendMessage", chat_id=chat)]


async def test_nomination_to_consent_to_application_with_everyone_told(system: System) -> None:
    build = Builder(system.sessions, now=None)  # type: ignore[arg-type]  # the real clock, as the app uses
    async with ClientSession() as http:
        health = await http.get(f"{system.base_url}/healthz")
        assert health.status == 200
        # A relative starts the bot through the real webhook (and the webhook refuses a wrong secret).
        update = message_update(1, RELATIVE_CHAT, "/start")
        refused = await http.post(f"{system.base_url}{WEBHOOK_PATH}", json=update, headers={SECRET_HEADER: "nope"})
        assert refused.status == 403
        accepted = await http.post(f"{system.base_url}{WEBHOOK_PATH}", json=update, headers={SECRET_HEADER: SECRET})
        assert accepted.status == 200
    # The reply leaves after the 200, from the bot's sender.
    await eventually(lambda: system.telegram.calls_of("sendMessage", chat_id=RELATIVE_CHAT), "the relative answered")

    employer = await build.employer(external_id=str(EMPLOYER_CHAT))
    # Only a verified employer is given applicants' phones.
    await decide_employer(DecideEmployer(employer, "moderator:1", verify=True), build.uow())
    job = await build.published(employer, province="Kampong Cham", sector="manufacturing")
    relative = await build.relative(external_id=str(RELATIVE_CHAT))
    await nominate_worker(
        NominateWorker(
            relative,
            "Sophea",
            "012 777 888",
            "sibling",
            "female",
            2000,
            "Kampong Cham",
            ("manufacturing",),
            agreed_to_calls=True,
        ),
        build.uow(),
    )

    async def consented() -> bool:
        async with system.sessions() as session:
            worker = await session.scalar(select(Worker).where(Worker.phone == WORKER_PHONE))
            return worker is not None and worker.consent is Consent.CONSENTED

    await eventually(consented, "the worker consented on the phone")

    async def applied() -> bool:
        async with system.sessions() as session:
            application = await session.scalar(select(Application).where(Application.job_id == job))
            return application is not None and application.channel is Channel.IVR

    await eventually(applied, "the worker applied with one key")
    async with system.sessions() as session:
        purposes = [c.purpose for c in (await session.scalars(select(Call).order_by(Call.id))).all()]
    assert purposes[:2] == [CallPurpose.CONSENT, CallPurpose.JOB_PITCH]
    calls = [c for c in system.carrier.placed if c.to == WORKER_PHONE]
    # Consent came first: nothing about a job was played on the first call.
    assert calls[0].pressed[:1] == ["1"] and len(calls) >= 2

    def relative_heard_both() -> bool:
        texts = texts_to(system.telegram, RELATIVE_CHAT)
        return any("Sophea" in t and "Sewing machine operators" in t for t in texts) and len(texts) >= 3

    await eventually(relative_heard_both, "the relative heard of the consent and the application")
    await eventually(
        lambda: any("Sophea" in t for t in texts_to(system.telegram, EMPLOYER_CHAT)), "the employer was told"
    )
    relative_texts = texts_to(system.telegram, RELATIVE_CHAT)
    employer_texts = texts_to(system.telegram, EMPLOYER_CHAT)
    # Consent, then the application: both named, in Khmer (the default language).
    assert any("Sophea" in t and "Sewing" not in t for t in relative_texts[1:])
    assert all(any("\u1780" <= ch <= "\u17ff" for ch in t) for t in relative_texts)
    # The employer, and only the employer, sees the applicant's phone.
    assert any("012 777 888" in t and "Sophea" in t for t in employer_texts)
    assert not any("777" in t for t in relative_texts)
