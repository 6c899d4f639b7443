"""The dialer loop: schedule from events, settle orphans, claim due calls, place them at the paced rate.

``python -m dialer.worker`` runs it from environment variables (the crash test and the demo use this);
``bongpheak dialer`` calls ``run_dialer`` with the app's own dependencies.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import gc
import logging
import math
import os
import signal
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from dialer.audio import SilentAudio
from dialer.clock import Clock
from dialer.placing import ClaimedCall, Pacer, claim_due, place, recover_orphans, settle_stale
from dialer.provider import TwilioProvider
from dialer.scheduling import consume_events
from dialer.settings import DialerSettings
from dialer.webhooks import VoiceDeps
from jobs_core.backoff import Backoff

log = logging.getLogger(__name__)

RECOVERY_EVERY = 5.0  # seconds between sweeps for orphans and for calls whose final callback was lost
LOOKAHEAD = timedelta(seconds=1)  # claim the next batch when less than this is left to send


class PacedSender:
    """Sends claimed calls at their pacer slots, one after the other, while the loop claims the next batch.

    A call whose slot passed more than ``pacer.tolerance`` ago (the event loop was busy) is not sent late:
    it takes a fresh slot, so two sends are never closer than the pacer allows.
    """

    def __init__(
        self, pacer: Pacer, clock: Clock, send: Callable[[ClaimedCall, datetime], Coroutine[Any, Any, str | None]]
    ) -> None:
        self.pacer = pacer
        self.clock = clock
        self.send = send
        self.queue: list[tuple[datetime, int, ClaimedCall]] = []  # sorted by slot
        self.in_flight: set[asyncio.Task[str | None]] = set()
        self.sent = 0
        self.resent = 0  # sends moved to a fresh slot because the sender woke up too late
        self._wake = asyncio.Event()
        self._closing = False

    def push(self, calls: list[ClaimedCall], slots: list[datetime]) -> None:
        for call, slot in zip(calls, slots, strict=True):
            bisect.insort(self.queue, (slot, call.call_id, call))
        self._wake.set()

    def backlog(self, now: datetime) -> timedelta:
        """How long until the last queued call is sent."""
        return max(timedelta(0), self.queue[-1][0] - now) if self.queue else timedelta(0)

    async def run(self) -> None:
        while True:
            if not self.queue:
                if self._closing:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            await self.clock.sleep((self.queue[0][0] - self.clock.now()).total_seconds())
            slot, _, call = self.queue.pop(0)
            task = asyncio.create_task(self._send_at(call, slot))
            self.in_flight.add(task)
            task.add_done_callback(self._done)

    async def _send_at(self, call: ClaimedCall, slot: datetime) -> str | None:
        # Checked when the task runs, not when it was created: the loop may have been busy in between.
        now = self.clock.now()
        if now - slot > self.pacer.tolerance:
            self.resent += 1
            try:
                [fresh] = await self.pacer.reserve(1, now)
            except Exception:
                # Left queued without a SID: the recovery sweep makes it due again.
                log.exception("call %s: no fresh send slot; left for recovery", call.call_id)
                return None
            self.push([call], [fresh])
            return None
        self.sent += 1
        return await self.send(call, now)

    def _done(self, task: asyncio.Task[str | None]) -> None:
        self.in_flight.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("placing a call failed", exc_info=task.exception())

    async def close(self, runner: asyncio.Task[None]) -> None:
        """Send what is claimed already, then wait for the requests in flight."""
        self._closing = True
        self._wake.set()
        await runner
        while self.in_flight:
            await asyncio.gather(*self.in_flight, return_exceptions=True)
            if self.queue:  # a late send took a fresh slot meanwhile
                await self.run()


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
    sender = PacedSender(pacer, clock, lambda call, now: place(call, provider, deps.sessions, settings, now))
    sending = asyncio.create_task(sender.run())
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
                claimed = await claim_due(deps.sessions, settings, now, batch)
                backoff.succeeded()
                if not claimed:
                    await _wait(stop_event, settings.poll_interval)
                    continue
                sender.push(claimed, await pacer.reserve(len(claimed), clock.now()))
            except Exception as error:
                await backoff.pause(error, stop_event)
            if sending.done():
                break  # the sender failed: its exception is raised by close() below
    finally:
        await sender.close(sending)
        if stats is not None:
            stats.update(sent=sender.sent, resent=sender.resent)


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
        pacing_margin=float(get("DIALER_PACING_MARGIN", "0.015")),
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
