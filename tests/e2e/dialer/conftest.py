"""The voice stack end to end: our webhooks on a local port, the carrier simulator on another, real media."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.calls.placing import claim_due, place
from dialer.calls.scheduling import consume_events
from dialer.ivr.prompt_audio import MediaAudio, media_audio
from dialer.ivr.webhooks import VoiceDeps, setup_voice
from dialer.providers.twilio import TwilioProvider
from dialer.settings import DialerSettings
from dialer.simulator.carrier import CarrierSimulator, Script, bind_local, serve
from jobs_core.model import Application, ApplicationStatus, Event
from media.composer import Utterance
from tests.integration.dialer.support import FakeClock, add_employer, add_job, add_worker

ACCOUNT = "AC" + "1" * 32
TOKEN = "simulator-secret"


@pytest.fixture(scope="session")
def audio(tmp_path_factory: pytest.TempPathFactory) -> MediaAudio:
    return media_audio(tmp_path_factory.mktemp("audio"))


@pytest.fixture
def spoken(audio: MediaAudio, monkeypatch: pytest.MonkeyPatch) -> list[Utterance]:
    """Every utterance the call flows rendered, in order."""
    heard: list[Utterance] = []
    render = audio.url_path

    async def recording(utterance: Utterance) -> str:
        heard.append(utterance)
        return await render(utterance)

    monkeypatch.setattr(audio, "url_path", recording)
    return heard


@pytest.fixture
def provider_mode() -> str:
    """How the carrier simulator behaves: "twilio" (the default) or "somleng"; call-flow tests run both."""
    return "twilio"


@dataclass
class VoiceStack:
    sessions: async_sessionmaker[AsyncSession]
    settings: DialerSettings
    simulator: CarrierSimulator
    provider: TwilioProvider
    clock: FakeClock
    app_url: str
    deps: VoiceDeps
    audio: MediaAudio
    scripts: dict[str, Script] = field(default_factory=dict)

    @property
    def somleng(self) -> bool:
        return self.simulator.somleng

    async def dial(self, limit: int = 50) -> list[int]:
        """One pass of the dialer at the fake clock's time; waits until the simulator played every call."""
        now = self.clock.now()
        await consume_events(self.sessions, self.settings, now)
        claimed = await claim_due(self.sessions, self.settings, now, limit)
        for call in claimed:
            await place(call, self.provider, self.sessions, self.settings, now)
        await self.simulator.settle()
        return [c.call_id for c in claimed]


@pytest.fixture
async def stack(
    session_factory: async_sessionmaker[AsyncSession], audio: MediaAudio, tmp_path: Path, provider_mode: str
) -> AsyncIterator[VoiceStack]:
    scripts: dict[str, Script] = {}
    clock = FakeClock()
    simulator = CarrierSimulator(
        ACCOUNT, TOKEN, cps=50, script=lambda to: scripts.get(to), clock=None, mode=provider_mode
    )
    sim_runner, sim_url = await serve(simulator.app)
    app = web.Application(client_max_size=25 * 1024 * 1024)  # as the real app (bongpheak/app.py)
    sock, app_url = bind_local()
    settings = DialerSettings(
        account_sid=ACCOUNT,
        auth_token=TOKEN,
        api_base_url=sim_url,
        public_base_url=app_url,
        voice_provider=provider_mode,
        calls_per_second=50,
        max_concurrent_calls=100,
        gather_timeout=1,
    )
    provider = TwilioProvider(settings)
    deps = VoiceDeps(settings, session_factory, audio, provider, clock)
    setup_voice(app, deps)
    app_runner, _ = await serve(app, sock)
    try:
        yield VoiceStack(session_factory, settings, simulator, provider, clock, app_url, deps, audio, scripts)
    finally:
        await provider.close()
        await sim_runner.cleanup()
        await app_runner.cleanup()


async def hire(stack: VoiceStack, phone: str) -> int:
    """A consented worker hired (with the worker's confirmed application) just now, the hire's event written;
    returns the worker id. The check-in calls follow once the dialer handles the event."""
    employer = await add_employer(stack.sessions)
    job = await add_job(stack.sessions, employer)
    worker, _ = await add_worker(stack.sessions, phone)
    async with stack.sessions() as session, session.begin():
        application = Application(
            job_id=job, worker_id=worker, channel="ivr", status=ApplicationStatus.HIRED, confirmed_at=stack.clock.now()
        )
        session.add(application)
        await session.flush()
        session.add(
            Event(
                kind="application.hired",
                payload={"application_id": application.id, "worker_id": worker},
                created_at=stack.clock.now(),
            )
        )
    return worker
