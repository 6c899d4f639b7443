"""The dialer loop: schedule from events, settle orphans, claim due calls, place them at the paced rate.

``python -m dialer.runner`` runs it from environment variables (the crash test and the demo use this);
``bongpheak dialer`` calls ``run_dialer`` with the app's own dependencies.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import math
import os
import signal
from datetime import datetime, timedelta

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from dialer.calls.pacing import PacedSender, Pacer, Responded
from dialer.calls.placer import PlacerLock
from dialer.calls.placing import ClaimedCall, claim_due, place, recover_orphans, release_held, settle_stale
from dialer.calls.scheduling import consume_events
from dialer.ivr.prompt_audio import SilentAudio
from dialer.ivr.webhooks import VoiceDeps
from dialer.providers.twilio import TwilioProvider
from dialer.settings import DialerSettings
from jobs_core.backoff import Backoff

log = logging.getLogger(__name__)

RECOVERY_EVERY = 5.0  # seconds between sweeps for orphans and for calls whose final callback was lost
# Claim the next batch when less than this is left to send: room for a claim slowed by a busy database (with
# 1 s the sender ran dry some twenty times a minute at CPS 30 on a loaded machine; with 2 s, a few).
LOOKAHEAD = timedelta(seconds=2)


async def _wait(stop_event: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop_event.wait(), seconds)


async def run_dialer(
    deps: VoiceDeps,
    stop_event: asyncio.Event,
    stats: dict[str, int] | None = None,
    *,
    backoff: Backoff | None = None,
) -> None:
    """Run until ``stop_event`` is set; several of these may run against one database.

    ``stats`` (optional) receives how many calls were sent and how many took a fresh slot (the benchmark).
    ``backoff`` paces the retries while the loop fails (the app's health check reads it).
    """
    backoff = backoff or Backoff("dialer", logger=log)
    settings, clock = deps.settings, deps.clock
    if deps.provider is None:
        raise ValueError("the dialer needs a voice provider")
    provider = deps.provider
    # Everything alive now (modules, the twilio client's many classes) is long-lived: leave it out of the
    # garbage collector's full passes, which otherwise stall the paced sender for up to ~0.2 s.
    gc.freeze()
    pacer = Pacer(deps.sessions, settings.calls_per_second, settings.pacing_margin)
    batch = max(1, math.ceil(settings.calls_per_second * 2))

    async def send(call: ClaimedCall, started: datetime, responded: Responded) -> str | None:
        return await place(call, provider, deps.sessions, settings, started, responded)

    sender = PacedSender(pacer, clock, send)
    sending = asyncio.create_task(sender.run())
    placer = PlacerLock(deps.sessions.kw["bind"])
    last_recovery = -math.inf
    loop = asyncio.get_running_loop()
    try:
        while not stop_event.is_set():
            try:
                now = clock.now()
                ahead = sender.backlog(now)
                if ahead > LOOKAHEAD:
                    # Enough claimed already; claiming far ahead would only hold calls as queued for longer.
                    await clock.sleep((ahead - LOOKAHEAD).total_seconds())
                    continue
                await consume_events(deps.sessions, settings, now)
                if loop.time() - last_recovery >= RECOVERY_EVERY:
                    last_recovery = loop.time()
                    await recover_orphans(provider, deps.sessions, settings, now)
                    await settle_stale(provider, deps.sessions, settings, now)
                    await release_held(provider, deps.sessions, settings, now)
                was_placer = placer.held
                if not await placer.hold():
                    backoff.succeeded()
                    await _wait(stop_event, settings.poll_interval)
                    continue
                if not was_placer:
                    # Requests of the previous placer may still be counted by the provider for one window.
                    sender.window.not_before = clock.now() + sender.window.span
                claimed = await claim_due(deps.sessions, settings, now, batch)
                backoff.succeeded()
                if not claimed:
                    await _wait(stop_event, settings.poll_interval)
                    continue
                sender.push(claimed, await pacer.reserve(len(claimed), clock.now()))
            except Exception as error:
                if not placer.held and sender.queue:
                    # Another dialer may place calls now: these stay queued without a SID, so the recovery
                    # sweep asks the provider about them and makes them due again.
                    log.warning("no longer the placer: %s claimed calls left for recovery", len(sender.drop()))
                await backoff.pause(error, stop_event)
            if sending.done():
                break  # the sender failed: its exception is raised by close() below
    finally:
        await sender.close(sending)
        await placer.release()
        if stats is not None:
            stats.update(sent=sender.sent, held_back=sender.held_back, ran_dry=sender.ran_dry)


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
        voice_provider=get("VOICE_PROVIDER", "twilio"),
        retry_unheard_pitches=get("RETRY_UNHEARD_PITCHES", "true").lower() in ("1", "true", "yes"),
        provider_queue_limit=timedelta(minutes=float(get("PROVIDER_QUEUE_LIMIT_MINUTES", "5"))),
        public_base_url=get("PUBLIC_BASE_URL", "http://127.0.0.1:8080"),
        calls_per_second=float(get("CALLS_PER_SECOND", "1")),
        max_concurrent_calls=int(get("MAX_CONCURRENT_CALLS", "10")),
        daily_calls_per_number=int(get("DAILY_CALLS_PER_NUMBER", "2")),
        answering_machine_detection=get("ANSWERING_MACHINE_DETECTION", "true").lower() in ("1", "true", "yes"),
        orphan_grace=timedelta(seconds=float(get("DIALER_ORPHAN_GRACE_SECONDS", "30"))),
        request_timeout=float(get("DIALER_REQUEST_TIMEOUT", "10")),
        poll_interval=float(get("DIALER_POLL_INTERVAL", "0.5")),
        pacing_margin=float(get("DIALER_PACING_MARGIN", "0.005")),
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
