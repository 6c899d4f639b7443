"""Telegram's sending limits for one bot: ~30 messages/s overall, ~1/s per chat, 20/min per group, and a
429's ``retry_after`` pausing the whole bot."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

GROUP_WINDOW = 60.0


def is_group(chat_id: str) -> bool:
    """Group and channel chat ids are negative; private chats' are the user's (positive) id."""
    return chat_id.startswith("-")


class BotPacer:
    """Waits before each send so the bot stays inside Telegram's limits; shared by every sender in a process.

    The global limit is a sliding window slightly longer than a second (``margin``) plus even spacing, so
    the server, which sees requests a little later and jittered, never counts more than ``per_second``.
    """

    def __init__(
        self,
        per_second: int = 30,
        chat_interval: float = 1.05,
        group_per_minute: int = 20,
        *,
        margin: float = 0.04,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.per_second = per_second
        self.chat_interval = chat_interval
        self.group_per_minute = group_per_minute
        self._window = 1.0 + margin
        self._spacing = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._sends: deque[float] = deque()
        self._chat_next: dict[str, float] = {}
        self._group_sends: dict[str, deque[float]] = {}
        self._paused_until = 0.0
        self._in_flight: set[str] = set()  # chats whose last send has not been answered yet
        self.pauses = 0  # how many 429s paused the bot (for logs and the benchmark)

    def answered(self, chat_id: str) -> None:
        """Telegram answered the send ``acquire`` allowed to ``chat_id``: the chat's next message waits a whole
        interval from now. Telegram counts when a request arrives, which may be well after it left a busy
        process; the answer proves it has arrived, so spacing from the answer holds 1 per second per chat
        however late the request travelled."""
        if chat_id in self._in_flight:
            self._in_flight.discard(chat_id)
            self._chat_next[chat_id] = max(self._chat_next.get(chat_id, 0.0), self._clock() + self.chat_interval)

    def pause(self, seconds: float) -> None:
        """Telegram said 429: nothing is sent by this bot until ``seconds`` have passed."""
        self.pauses += 1
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    @property
    def paused_for(self) -> float:
        return max(0.0, self._paused_until - self._clock())

    def _global_wait(self, now: float) -> float:
        while self._sends and now - self._sends[0] >= self._window:
            self._sends.popleft()
        wait = 0.0
        if len(self._sends) >= self.per_second:
            wait = self._sends[0] + self._window - now
        if self._sends:
            wait = max(wait, self._sends[-1] + self._spacing - now)
        return wait

    def chat_wait(self, chat_id: str, now: float | None = None) -> float:
        """Seconds before ``chat_id`` may get its next message."""
        now = self._clock() if now is None else now
        wait = self._chat_next.get(chat_id, 0.0) - now
        if is_group(chat_id):
            sends = self._group_sends.get(chat_id)
            if sends:
                while sends and now - sends[0] >= GROUP_WINDOW:
                    sends.popleft()
                if len(sends) >= self.group_per_minute:
                    wait = max(wait, sends[0] + GROUP_WINDOW - now)
        return max(0.0, wait)

    def busy_chats(self) -> list[str]:
        """Chats that cannot get a message right now (so a sender picks other chats' messages first)."""
        now = self._clock()
        for chat in [c for c, t in self._chat_next.items() if t <= now]:
            del self._chat_next[chat]
        busy = set(self._chat_next) | self._in_flight
        busy.update(c for c in self._group_sends if self.chat_wait(c, now) > 0)
        return sorted(busy)

    async def acquire(self, chat_id: str | None = None, *, per_chat: bool = True) -> None:
        """Wait until one more message may go (to ``chat_id``), then count it as sent."""
        while True:
            now = self._clock()
            wait = max(self._paused_until - now, self._global_wait(now))
            if chat_id is not None and per_chat:
                wait = max(wait, self.chat_wait(chat_id, now))
            if wait <= 0:
                break
            await self._sleep(wait)
        self._sends.append(now)
        if chat_id is not None:
            self._chat_next[chat_id] = now + self.chat_interval
            self._in_flight.add(chat_id)
            if is_group(chat_id):
                self._group_sends.setdefault(chat_id, deque()).append(now)
