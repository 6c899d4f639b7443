"""BotPacer on a fake clock: the limits hold without waiting in real time."""

from __future__ import annotations

import itertools

from bots.telegram.pacing import BotPacer


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def pacer(clock: FakeClock, **kwargs: float) -> BotPacer:
    return BotPacer(clock=clock, sleep=clock.sleep, **kwargs)  # type: ignore[arg-type]


async def test_at_most_30_per_second_overall() -> None:
    clock = FakeClock()
    p = pacer(clock)
    start = clock.now
    stamps = []
    for i in range(300):
        await p.acquire(str(i))
        stamps.append(clock.now)
    rate = 299 / (stamps[-1] - start)
    assert 28.0 <= rate <= 30.0
    for i in range(len(stamps) - 30):
        assert stamps[i + 30] - stamps[i] >= 1.0


async def test_one_per_second_per_chat() -> None:
    clock = FakeClock()
    p = pacer(clock)
    stamps = []
    for _ in range(5):
        await p.acquire("42")
        stamps.append(clock.now)
        p.answered("42")  # at once: the renderer reports every answer
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(stamps))
    assert p.busy_chats() == ["42"]
    clock.now += 2
    assert p.busy_chats() == []


async def test_twenty_per_minute_per_group() -> None:
    clock = FakeClock()
    p = pacer(clock)
    stamps = []
    for _ in range(25):
        await p.acquire("-1001")
        stamps.append(clock.now)
    assert stamps[20] - stamps[0] >= 60.0
    assert stamps[19] - stamps[0] < 25


async def test_a_pause_holds_every_chat() -> None:
    clock = FakeClock()
    p = pacer(clock)
    await p.acquire("1")
    p.pause(7)
    before = clock.now
    await p.acquire("2")
    assert clock.now - before >= 7
    assert p.pauses == 1


async def test_acquire_without_per_chat_skips_the_per_chat_wait() -> None:
    clock = FakeClock()
    p = pacer(clock)
    await p.acquire("9", per_chat=False)
    before = clock.now
    await p.acquire("9", per_chat=False)
    assert clock.now - before < 0.1


async def test_a_chats_next_message_waits_a_second_from_telegrams_answer_to_the_last() -> None:
    """A request may reach Telegram long after it left a busy process; counting from the answer keeps the
    chat's messages a second apart where Telegram counts them."""
    clock = FakeClock()
    p = pacer(clock)
    await p.acquire("42")
    left = clock.now
    clock.now += 0.7  # the request travels slowly; Telegram answers 0.7 s later
    p.answered("42")
    assert "42" in p.busy_chats()
    await p.acquire("42")
    assert clock.now - left >= 0.7 + p.chat_interval
