"""The paced sender on a virtual clock: what reaches the provider never exceeds the limit in any 1-s window,
however late requests arrive or the sender wakes up, and on-time answers leave the pace at the slots."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest

from dialer.calls.pacing import PacedSender, Responded
from dialer.calls.placing import ClaimedCall

START = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


class VirtualClock:
    """Time moves only when every task is waiting: to the earliest wake-up (plus a stall, if one is set)."""

    def __init__(self) -> None:
        self.at = START
        self._sleepers: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self.stalls: dict[int, float] = {}  # the n-th sleep of the sender wakes up this much later
        self.sender_sleeps = 0

    def now(self) -> datetime:
        return self.at

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.at + timedelta(seconds=max(0.0, seconds)), next(self._order), future))
        await future

    async def sender_sleep(self, seconds: float) -> None:
        self.sender_sleeps += 1
        await self.sleep(seconds + self.stalls.get(self.sender_sleeps, 0.0))

    async def run(self, until: asyncio.Task[None]) -> None:
        while not until.done():
            for _ in range(50):  # let every runnable task reach its next wait
                await asyncio.sleep(0)
            if until.done():
                break
            assert self._sleepers, "every task waits for something that never happens"
            wake, _, future = heapq.heappop(self._sleepers)
            self.at = max(self.at, wake)
            future.set_result(None)
        await until


class SenderClock:
    """The sender's view of the virtual clock: its own sleeps may be stalled (a busy event loop)."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock

    def now(self) -> datetime:
        return self.clock.now()

    async def sleep(self, seconds: float) -> None:
        await self.clock.sender_sleep(seconds)


class Pacer:
    def __init__(self, cps: float, margin: float = 0.005) -> None:
        self.calls_per_second = cps
        self.interval = timedelta(seconds=(1 + margin) / cps)
        self.next = START

    async def reserve(self, count: int, now: datetime) -> list[datetime]:
        first = max(self.next, now)
        self.next = first + self.interval * count
        return [first + self.interval * i for i in range(count)]


class Provider:
    """Receives request ``i`` ``delays[i]`` seconds after it was started (1 ms by default) and answers 1 ms later."""

    def __init__(self, clock: VirtualClock, delays: dict[int, float]) -> None:
        self.clock = clock
        self.delays = delays
        self.arrivals: list[datetime] = []
        self.started: list[datetime] = []

    async def send(self, call: ClaimedCall, started: datetime, responded: Responded) -> str:
        index = len(self.started)
        self.started.append(started)
        await self.clock.sleep(self.delays.get(index, 0.001))
        self.arrivals.append(self.clock.now())
        await self.clock.sleep(0.001)
        responded()
        return f"CA{call.call_id}"


def most_in_any_window(times: list[datetime]) -> int:
    times = sorted(times)
    worst, j = 0, 0
    for i, t in enumerate(times):
        while j < len(times) and times[j] < t + SECOND:
            j += 1
        worst = max(worst, j - i)
    return worst


async def run(
    cps: float, calls: int, delays: dict[int, float] | None = None, stalls: dict[int, float] | None = None
) -> tuple[PacedSender, Provider, Pacer]:
    clock = VirtualClock()
    clock.stalls = stalls or {}
    pacer = Pacer(cps)
    provider = Provider(clock, delays or {})
    sender = PacedSender(pacer, SenderClock(clock), provider.send)  # type: ignore[arg-type]

    async def drive() -> None:
        runner = asyncio.create_task(sender.run())
        batch = [ClaimedCall(i, 1, i, f"+85512{i:06d}", START) for i in range(calls)]
        sender.push(batch, await pacer.reserve(len(batch), clock.now()))
        await sender.close(runner)

    await clock.run(asyncio.create_task(drive()))
    assert len(provider.arrivals) == calls
    return sender, provider, pacer


async def test_answers_on_time_leave_every_send_at_its_slot() -> None:
    sender, provider, pacer = await run(cps=5, calls=20)
    assert all(b - a == pacer.interval for a, b in itertools.pairwise(provider.started))
    assert sender.held_back == 0
    assert most_in_any_window(provider.arrivals) == 5


async def test_a_request_reaching_the_provider_late_does_not_crowd_a_window() -> None:
    # The first request is on the way for 30 ms (a busy network or provider), the ones after it for 1 ms.
    # Sent at their slots, the sixth would arrive less than a second after the first: six in one window.
    sender, provider, _ = await run(cps=5, calls=20, delays={0: 0.030})
    assert most_in_any_window(provider.arrivals) <= 5
    assert provider.started[5] >= provider.arrivals[0] + SECOND
    assert sender.held_back > 0


async def test_late_arrivals_all_along_never_exceed_30_a_second() -> None:
    # Every seventh request is slow to arrive: the guard holds the count, whatever the pattern.
    delays = {i: 0.025 + 0.005 * (i % 3) for i in range(0, 300, 7)}
    _, provider, _ = await run(cps=30, calls=300, delays=delays)
    assert most_in_any_window(provider.arrivals) <= 30


async def test_a_sender_waking_up_late_does_not_burst_above_the_limit() -> None:
    # The sender's fourth sleep ends 100 ms late (the event loop was busy): the calls it then sends at once
    # plus the next on-time ones still fit the limit as the provider counts.
    _, provider, _ = await run(cps=5, calls=20, stalls={4: 0.1, 9: 0.35})
    assert len(provider.arrivals) == 20
    assert most_in_any_window(provider.arrivals) <= 5


async def test_a_send_waits_for_the_answer_of_the_one_a_window_before() -> None:
    # The provider takes 1.5 s to receive the first request at CPS 1: the second waits until it was answered.
    _, provider, _ = await run(cps=1, calls=3, delays={0: 1.5})
    assert provider.started[1] >= provider.arrivals[0] + timedelta(milliseconds=1) + SECOND
    assert most_in_any_window(provider.arrivals) == 1


async def test_one_slow_answer_holds_back_one_place_in_the_window_not_every_send_behind_it() -> None:
    # The first request takes 0.5 s to reach the provider at CPS 5. Of the five before the sixth send, four
    # were answered by 0.81 s: the sixth may leave a second after the earliest of those (0.2 s), not a second
    # after the slow one. Any six requests still span more than a second as the provider counts them.
    _, provider, _ = await run(cps=5, calls=20, delays={0: 0.5})
    slow_arrived = provider.started[0] + timedelta(seconds=0.5)
    second_answered = provider.started[1] + timedelta(milliseconds=2)
    assert provider.started[5] < slow_arrived + SECOND
    assert provider.started[5] >= second_answered + SECOND
    assert most_in_any_window(provider.arrivals) <= 5


async def test_out_of_order_answers_never_crowd_a_window_at_30() -> None:
    # Slow and fast requests interleaved: answers come back out of order all along.
    delays = {i: (0.3 if i % 4 == 0 else 0.001) + 0.01 * (i % 5) for i in range(300)}
    _, provider, _ = await run(cps=30, calls=300, delays=delays)
    assert most_in_any_window(provider.arrivals) <= 30


@pytest.mark.parametrize(("cps", "seed"), [(1, 1), (5, 2), (5, 3), (30, 4)])
async def test_random_delays_on_the_way_never_put_more_than_the_limit_in_a_second(cps: int, seed: int) -> None:
    rng = random.Random(seed)
    delays = {i: rng.choice((0.001, 0.004, 0.02, 0.15, 0.6)) for i in range(200)}
    _, provider, _ = await run(cps=cps, calls=200, delays=delays)
    assert most_in_any_window(provider.arrivals) <= cps


async def test_a_new_placer_waits_a_window_after_taking_over() -> None:
    clock = VirtualClock()
    pacer = Pacer(30)
    provider = Provider(clock, {})
    sender = PacedSender(pacer, SenderClock(clock), provider.send, not_before=START + SECOND)  # type: ignore[arg-type]

    async def drive() -> None:
        runner = asyncio.create_task(sender.run())
        batch = [ClaimedCall(i, 1, i, f"+85512{i:06d}", START) for i in range(3)]
        sender.push(batch, await pacer.reserve(len(batch), clock.now()))
        await sender.close(runner)

    await clock.run(asyncio.create_task(drive()))
    assert min(provider.started) >= START + SECOND
