"""The dialer loop: schedule from events, settle orphans, claim due calls, place them at the paced rate.

``python -m dialer.worker`` runs it from environment variables (the crash test and the demo use this);
``bongpheak dialer`` calls ``run_dialer`` with the app's own dependencies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import signal
from datetime import timedelta

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from dialer.audio import SilentAudio
from dialer.placing import Pacer, claim_due, place, recover_orphans
from dialer.provider import TwilioProvider
from dialer.scheduling import consume_events
from dialer.settings import DialerSettings
from dialer.webhooks import VoiceDeps

log = logging.getLogger(__name__)

RECOVERY_EVERY = 5.0  # seconds between orphan sweeps


async def run_dialer(deps: VoiceDeps, stop_event: asyncio.Event) -> None:
    """Run until ``stop_event`` is set; several of these may run against one database."""
    settings, clock = deps.settings, deps.clock
    if deps.provider is None:
        raise ValueError("the dialer needs a voice provider")
    provider = deps.provider
    pacer = Pacer(deps.sessions, settings.calls_per_second)
    batch = max(1, math.ceil(settings.calls_per_second * 2))
    in_flight: set[asyncio.Task[str | None]] = set()
    last_recovery = -math.inf
    loop = asyncio.get_running_loop()
    while not stop_event.is_set():
        try:
            now = clock.now()
            await consume_events(deps.sessions, settings, now)
            if loop.time() - last_recovery >= RECOVERY_EVERY:
                last_recovery = loop.time()
                await recover_orphans(provider, deps.sessions, settings, now)
            claimed = await claim_due(deps.sessions, settings, now, batch)
            if not claimed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop_event.wait(), settings.poll_interval)
                continue
            slots = await pacer.reserve(len(claimed), clock.now())
            for call, slot in zip(claimed, slots, strict=True):
                await clock.sleep((slot - clock.now()).total_seconds())
                task = asyncio.create_task(place(call, provider, deps.sessions, settings, clock.now()))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
        except Exception:
            log.exception("dialer loop failed; retrying shortly")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop_event.wait(), 2.0)
    if in_flight:
        await asyncio.gather(*in_flight, return_exceptions=True)


def settings_from_env(env: dict[str, str] | os._Environ[str] = os.environ) -> DialerSettings:
    """DialerSettings from the same variable names as the app's settings."""

    def get(name: str, default: str) -> str:
        return env.get(name, default)

    return DialerSettings.from_values(
        calling_hours_start=get("CALLING_HOURS_START", "08:00"),
        calling_hours_end=get("CALLING_HOURS_END", "20:00"),
        calling_holidays=[d for d in get("CALLING_HOLIDAYS", "").split(",") if d.strip()],
        account_sid=get("VOICE_ACCOUNT_SID", "AC00000000000000000000000000000000"),
        auth_token=get("VOICE_AUTH_TOKEN", ""),
        from_number=get("VOICE_FROM_NUMBER", "+85523000000"),
        api_base_url=env.get("VOICE_API_BASE_URL") or None,
        public_base_url=get("PUBLIC_BASE_URL", "http://127.0.0.1:8080"),
        calls_per_second=float(get("CALLS_PER_SECOND", "1")),
        max_concurrent_calls=int(get("MAX_CONCURRENT_CALLS", "10")),
        daily_calls_per_number=int(get("DAILY_CALLS_PER_NUMBER", "2")),
        answering_machine_detection=get("ANSWERING_MACHINE_DETECTION", "true").lower() in ("1", "true", "yes"),
        orphan_grace=timedelta(seconds=float(get("DIALER_ORPHAN_GRACE_SECONDS", "30"))),
        request_timeout=float(get("DIALER_REQUEST_TIMEOUT", "10")),
        poll_interval=float(get("DIALER_POLL_INTERVAL", "0.5")),
    )


async def _main() -> None:
    url = make_url(os.environ["DATABASE_URL"]).set(drivername="postgresql+asyncpg")
    engine = create_async_engine(url, pool_size=4)
    settings = settings_from_env()
    provider = TwilioProvider(settings)
    deps = VoiceDeps(settings, async_sessionmaker(engine, expire_on_commit=False), SilentAudio(), provider)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await run_dialer(deps, stop)
    finally:
        await provider.close()
        await engine.dispose()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(_main())
