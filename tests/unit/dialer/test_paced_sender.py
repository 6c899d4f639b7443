"""The paced sender on a fake clock: a call is never sent late; a late one takes a fresh slot."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta

from dialer.placing import ClaimedCall
from dialer.worker import PacedSender

START = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)


class Clock:
    """Sleeping advances the time, plus a stall on the sleeps listed in ``stalls`` (the loop was busy)."""

    def __init__(self, stalls: dict[int, float]) -> None:
        self.at = START
        self.sleeps = 0
        self.stalls = stalls

    def now(self) -> datetime:
        return self.at

    async def sleep(self, seconds: float) -> None:
        # Other tasks get their turn at the current time first, as they would before a real sleep.
        await asyncio.sleep(0)
        self.sleeps += 1
        self.at += timedelta(seconds=max(0.0, seconds) + self.stalls.get(self.sleeps, 0.0))


class Pacer:
    def __init__(self, cps: float, margin: float = 0.015) -> None:
        self.interval = timedelta(seconds=(1 + margin) / cps)
        self.tolerance = timedelta(seconds=margin / 2)
        self.next = START

    async def reserve(self, count: int, now: datetime) -> list[datetime]:
        first = max(self.next, now)
        self.next = first + self.interval * count
        return [first + self.interval * i for i in range(count)]


def claimed(n: int) -> list[ClaimedCall]:
    return [ClaimedCall(i, 1, i, f"+85512{i:06d}", START) for i in range(n)]


async def run(stalls: dict[int, float], calls: int = 10) -> tuple[PacedSender, dict[int, datetime], Pacer]:
    clock, pacer = Clock(stalls), Pacer(cps=5)
    sent: dict[int, datetime] = {}

    async def send(call: ClaimedCall, now: datetime) -> str:
        assert call.call_id not in sent, "sent twice"
        sent[call.call_id] = now
        return f"CA{call.call_id}"

    sender = PacedSender(pacer, clock, send)  # type: ignore[arg-type]
    runner = asyncio.create_task(sender.run())
    batch = claimed(calls)
    sender.push(batch, await pacer.reserve(len(batch), clock.now()))
    await sender.close(runner)
    return sender, sent, pacer


async def test_on_time_sends_are_one_slot_apart() -> None:
    sender, sent, pacer = await run({})
    times = sorted(sent.values())
    assert len(times) == 10 and sender.resent == 0
    assert all(b - a == pacer.interval for a, b in itertools.pairwise(times))


async def test_a_late_wake_up_takes_a_fresh_slot_instead_of_crowding_the_next_call() -> None:
    sender, sent, pacer = await run({4: 0.1})  # the fourth sleep ends 100 ms late
    assert len(sent) == 10 and sender.resent == 1
    times = sorted(sent.values())
    # However the sends shift, no two are closer than a slot minus the tolerance, so at 5 calls a second no
    # 1-second window holds a sixth.
    assert min(b - a for a, b in itertools.pairwise(times)) >= pacer.interval - pacer.tolerance
    assert all(times[i + 5] - times[i] >= timedelta(seconds=1) for i in range(len(times) - 5))


async def test_a_small_delay_within_the_tolerance_is_sent() -> None:
    sender, sent, _ = await run({3: 0.005})
    assert len(sent) == 10 and sender.resent == 0
