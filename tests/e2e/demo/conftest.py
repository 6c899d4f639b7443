"""Fixtures of the demo's tests: the dialer's voice stack, a fresh database per demo, one shared audio cache,
`bongpheak demo` running as its own process, and Debian's Chromium."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bongpheak.database import create_engine, session_factory
from tests.database import fresh_database
from tests.e2e.demo.support import (
    CHROMIUM,
    Running,
    async_playwright,
    free_port,
    start_demo,
    stop_quietly,
    wait_for_demo,
)
from tests.e2e.dialer.conftest import audio, provider_mode, stack  # noqa: F401


@pytest.fixture(scope="session")
def audio_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One audio cache for every demo a test run starts: the voice notes are rendered once."""
    return tmp_path_factory.mktemp("demo-audio")


@pytest.fixture
def demo_database() -> Iterator[str]:
    """A fresh database of its own: the demo seeds it, and it is a demo database for good."""
    with fresh_database() as url:
        yield url


@pytest.fixture
async def running(demo_database: str, tmp_path: Path, audio_cache: Path) -> AsyncIterator[Running]:
    """`bongpheak demo` started as a newcomer starts it, on a fresh database; it must stop cleanly with Ctrl-C."""
    demo = await start_demo(
        tmp_path, free_port(), DATABASE_URL=demo_database, DATA_DIR=str(tmp_path), AUDIO_CACHE_DIR=str(audio_cache)
    )
    engine = create_engine(demo_database, pool_size=2)
    try:
        await wait_for_demo(demo)
        yield Running(demo, session_factory(engine))
        assert await demo.stop() == 0, demo.log()
    finally:
        await engine.dispose()
        stop_quietly(demo)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    assert async_playwright is not None and CHROMIUM is not None
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--autoplay-policy=no-user-gesture-required",
                # A microphone that plays a beep, allowed without asking: the page's recorder can be pressed.
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
            ],
        )
        try:
            yield launched
        finally:
            await launched.close()
