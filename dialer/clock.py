"""The dialer's clock: real time in production, a faster one for the benchmark and the simulator."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None: ...


class RealClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ScaledClock:
    """Time that runs ``speed`` times faster than the wall clock, from ``start``.

    Sleeping is precise: the event loop's timers wake up to about a millisecond late, which a clock running
    ``speed`` times faster would turn into ``speed`` milliseconds. So the last ``spin`` seconds (wall time) of a
    sleep are spent yielding to the loop until the deadline. Other delays (database, HTTP) still scale up.
    """

    def __init__(
        self, speed: float = 1.0, start: datetime | None = None, spin: float = 0.002, origin: float | None = None
    ) -> None:
        self.speed = speed
        self.spin = spin if speed > 1 else 0.0
        self.start = start or datetime.now(UTC)
        # time.monotonic() when the clock read ``start``; pass it on so another process keeps the same time.
        self.origin = time.monotonic() if origin is None else origin

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.monotonic() - self.origin) * self.speed)

    async def sleep(self, seconds: float) -> None:
        wall = max(0.0, seconds) / self.speed
        deadline = time.monotonic() + wall
        if wall > self.spin:
            await asyncio.sleep(wall - self.spin)
        while time.monotonic() < deadline:  # noqa: ASYNC110  # a deadline, not an event
            await asyncio.sleep(0)
