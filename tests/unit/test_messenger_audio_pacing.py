"""Audio sends to Messenger keep ≤ 10 a second for the page when many chats are sent at once: the waits the
renderer asks for are recorded (no real sleeping), and the slots they lead to are a tenth of a second apart."""

from __future__ import annotations

import asyncio
from typing import cast

import pytest

from bots.messenger import render
from bots.messenger.graph import GraphClient
from bots.messenger.render import AUDIO_INTERVAL, MessengerRenderer


async def test_chats_waiting_at_once_each_get_their_own_audio_slot(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()
    slots: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(seconds: float) -> None:
        slots.append(loop.time() + seconds)  # when this send would go
        await real_sleep(0)  # the other chats run meanwhile, as they do while one waits

    monkeypatch.setattr(render.asyncio, "sleep", sleep)
    renderer = MessengerRenderer(cast(GraphClient, None), "page")

    async def chat() -> None:
        await renderer._pace_audio()

    await chat()  # the first audio goes at once
    await asyncio.gather(*(chat() for _ in range(15)))
    assert len(slots) == 15
    gaps = [b - a for a, b in zip(sorted(slots), sorted(slots)[1:], strict=False)]
    # Fifteen chats at once: fifteen slots spread over 1.5 s, never two in the same tenth of a second.
    assert min(gaps) >= AUDIO_INTERVAL * 0.99
