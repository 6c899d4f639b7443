"""Placing calls at the provider's calls-per-second: send slots, and a window counted where the provider counts.

The provider counts the requests that reach it in any 1-second window. Spacing our sends evenly is not
enough: a request that leaves on time can reach the provider late (the event loop, the network, the
provider's own process were busy) and land right before the next one that did not wait. So the sender
closes the loop on what it can observe. A request reaches the provider after it was started and before its
answer came back; so when a send starts at least a second after the answers to all but ``n - 1`` of the
sends before it, no ``n + 1`` requests reach the provider within a second, whatever the delays on the way.
The slots of the ``Pacer`` set the pace; ``SendWindow`` is the guard.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import math
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.calls.placing import ClaimedCall
from dialer.clock import Clock
from dialer.models import DialerPacer

log = logging.getLogger(__name__)

EARLIEST = datetime.min.replace(tzinfo=UTC)
Responded = Callable[[], None]
Send = Callable[[ClaimedCall, datetime, Responded], Coroutine[Any, Any, str | None]]


class Pacer:
    """Hands out send slots ``(1 + margin) / cps`` apart, shared by every dialer process through one database row.

    The slots only set the pace (the rate is at most ``1 / (1 + margin)`` of the limit); the limit itself is
    held by the sender's ``SendWindow``, which a slot never overrides.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], calls_per_second: float, margin: float = 0.005):
        self.sessions = sessions
        self.calls_per_second = calls_per_second
        self.interval = timedelta(seconds=(1.0 + margin) / calls_per_second)

    async def reserve(self, count: int, now: datetime) -> list[datetime]:
        if count <= 0:
            return []
        async with self.sessions() as session, session.begin():
            await session.execute(insert(DialerPacer).values(name="calls", next_slot_at=now).on_conflict_do_nothing())
            first = await session.scalar(
                select(DialerPacer.next_slot_at).where(DialerPacer.name == "calls").with_for_update()
            )
            assert first is not None
            first = max(first, now)
            await session.execute(
                update(DialerPacer)
                .where(DialerPacer.name == "calls")
                .values(next_slot_at=first + self.interval * count)
            )
        return [first + self.interval * i for i in range(count)]


class SendWindow:
    """At most ``n`` requests in any ``span`` as the provider sees them, from what the sender can observe.

    A request reaches the provider somewhere between its start and its answer, and sends start in order. So
    ``n + 1`` requests can share a window only when the last of them started less than ``span`` after the
    answer to each of the ``n`` others (an unanswered one counts as answered never). Hence the rule: the next
    send starts once fewer than ``n`` sends are unanswered (``u`` of them) and ``span`` after the
    ``(n - u)``-th latest answer. It is exact: any earlier start could, for some arrival times the sender
    cannot rule out, put ``n + 1`` requests in one window; and it asks no more, so one slow answer holds back
    one place in the window, not every send behind it. ``n`` is the whole number of calls the limit allows per
    window: CPS 30 gives 30 a second, CPS 0.5 one every 2 seconds, CPS 2.5 two every 0.8 s (never more than
    2.5 a second in any window).
    """

    def __init__(self, calls_per_second: float, not_before: datetime | None = None) -> None:
        self.n = max(1, math.floor(calls_per_second))
        self.span = timedelta(seconds=self.n / calls_per_second)
        # Sends of an earlier holder of the right to place may still be counted this long: none before this.
        self.not_before = not_before
        self.started = 0
        self._unanswered: set[int] = set()
        self._latest: list[datetime] = []  # the ``n`` latest answers, oldest first (older ones never matter)
        self._changed = asyncio.Event()

    def opens_at(self) -> datetime | None:
        """When the next send may start at the earliest, or None while ``n`` sends are unanswered."""
        room = self.n - len(self._unanswered)
        if room <= 0:
            return None
        if len(self._latest) < room:
            opens = EARLIEST  # fewer than ``n`` sends so far: the next one cannot crowd a window
        else:
            opens = self._latest[-room] + self.span
        return opens if self.not_before is None else max(opens, self.not_before)

    def begin(self) -> int:
        index, self.started = self.started, self.started + 1
        self._unanswered.add(index)
        return index

    def answered(self, index: int, at: datetime) -> None:
        """Send ``index`` got its answer (or its failure) at ``at``; a second report of it is ignored."""
        if index not in self._unanswered:
            return
        self._unanswered.remove(index)
        bisect.insort(self._latest, at)
        del self._latest[: -self.n]
        self._changed.set()

    async def changed(self) -> None:
        self._changed.clear()
        await self._changed.wait()


class PacedSender:
    """Sends claimed calls at their pacer slots, within the ``SendWindow``, while the loop claims the next batch.

    A call is sent at its slot, or later when the window is not open yet (answers came back late); a call
    woken late (the event loop was busy) is sent as soon as the window allows: the window, not the slot
    spacing, keeps the provider's count within the limit.
    """

    def __init__(self, pacer: Pacer, clock: Clock, send: Send, not_before: datetime | None = None) -> None:
        self.pacer = pacer
        self.clock = clock
        self.send = send
        self.window = SendWindow(pacer.calls_per_second, not_before)
        self.queue: list[tuple[datetime, int, ClaimedCall]] = []  # sorted by slot
        self.in_flight: set[asyncio.Task[str | None]] = set()
        self.sent = 0
        self.held_back = 0  # sends that waited for the window after their slot
        self.ran_dry = 0  # times the queue ran empty while the loop was still claiming (nothing claimed in time)
        self._wake = asyncio.Event()
        self._closing = False

    def push(self, calls: list[ClaimedCall], slots: list[datetime]) -> None:
        for call, slot in zip(calls, slots, strict=True):
            bisect.insort(self.queue, (slot, call.call_id, call))
        self._wake.set()

    def backlog(self, now: datetime) -> timedelta:
        """How long until the last queued call is sent (by its slot, or by the pace when sending fell behind)."""
        if not self.queue:
            return timedelta(0)
        return max(self.queue[-1][0] - now, self.pacer.interval * len(self.queue), timedelta(0))

    def drop(self) -> list[ClaimedCall]:
        """Forget the calls not sent yet (this process may no longer place calls); they are left for recovery."""
        dropped = [call for _, _, call in self.queue]
        self.queue.clear()
        return dropped

    async def run(self) -> None:
        while True:
            if not self.queue:
                if self._closing:
                    return
                self.ran_dry += 1
                self._wake.clear()
                await self._wake.wait()
                continue
            now = self.clock.now()
            if self.queue[0][0] > now:
                # Slots only grow (one pacer row), so no call pushed meanwhile is due before this one.
                await self.clock.sleep((self.queue[0][0] - now).total_seconds())
                continue
            opens = self.window.opens_at()
            if opens is None:
                self.held_back += 1
                await self.window.changed()
                continue
            if opens > now:
                self.held_back += 1
                await self.clock.sleep((opens - now).total_seconds())
                continue
            _, _, call = self.queue.pop(0)
            index = self.window.begin()
            task = asyncio.create_task(self._send(call, index, now))
            self.in_flight.add(task)
            task.add_done_callback(self._done)

    async def _send(self, call: ClaimedCall, index: int, started: datetime) -> str | None:
        def responded() -> None:
            self.window.answered(index, self.clock.now())

        self.sent += 1
        try:
            return await self.send(call, started, responded)
        finally:
            responded()  # a send that failed before its answer counts from when it gave up

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
