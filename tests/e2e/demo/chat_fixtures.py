"""The chat simulator as the demo runs it: the app ``bongpheak serve`` builds, with the in-process Bot API
mounted on it (the bot's TELEGRAM_API_BASE_URL points back at the same app) and the chat pages; webhook mode,
the real aiogram Bot, the real conversations and voice packs, PostgreSQL. Debian's Chromium through Playwright
(skipped, saying why, when either is missing)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bongpheak.app import build_app, connect_telegram, telegram_deps, webhook_address, wire
from bongpheak.bootstrap import Database
from bongpheak.health import Health
from bongpheak.settings import Settings
from bots.telegram import BotPacer
from bots.web.demo.botapi import DemoBotAPI
from bots.web.demo.chat import setup_chat
from dialer.simulator import bind_local, serve

TOKEN = "700000123:AAdemo-made-up-token-for-the-chat-tests"
SECRET = "demo-chat-secret"
MODERATORS_GROUP = -1002000001
MODERATOR = 7_300_001
ARTIFACTS = Path(__file__).resolve().parents[3] / "var" / "test-artifacts" / "demo-chat"
PHONE = {"width": 400, "height": 800}
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")

try:
    from playwright.async_api import async_playwright
except ImportError:  # pragma: no cover - depends on the machine
    async_playwright = None  # type: ignore[assignment]

needs_browser = [
    pytest.mark.skipif(
        async_playwright is None, reason="Playwright for Python is not installed (pip install playwright)"
    ),
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (apt-get install chromium)"),
]


@dataclass
class Demo:
    base_url: str
    api: DemoBotAPI
    sessions: async_sessionmaker[AsyncSession]


@pytest.fixture
async def demo(
    engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession], tmp_path: Path
) -> AsyncIterator[Demo]:
    api = DemoBotAPI()
    sock, base_url = bind_local()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path,
        telegram_bot_token=TOKEN,
        telegram_webhook_secret=SECRET,
        telegram_api_base_url=f"{base_url}/demo/botapi",
        public_base_url=base_url,
        moderator_ids=[MODERATOR],
        moderators_chat_id=MODERATORS_GROUP,
    )
    wiring = wire(settings, Database(engine, session_factory))
    # The webhook is registered once the app listens (the Bot API answering it is the same app).
    deps = telegram_deps(wiring, polling=False, register_webhook=False)
    # Telegram's per-chat pace at a twentieth: a flow sends dozens of messages to one chat.
    deps = replace(deps, pacer=BotPacer(chat_interval=0.05, group_per_minute=1000))
    app = build_app(wiring, deps)
    api.mount(app, prefix="/demo/botapi")
    setup_chat(app, api, moderators_chat_id=MODERATORS_GROUP, moderator_ids=[MODERATOR], placeholder_voice=True)
    runner, _ = await serve(app, sock)
    try:
        await connect_telegram(deps.bot, settings, Health(), webhook_url=webhook_address(settings))
        yield Demo(base_url, api, session_factory)
    finally:
        await runner.cleanup()


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


def real_ogg(path: Path, seconds: int = 2) -> Path:
    """A tone as Ogg/Opus, what a Telegram app records."""
    import imageio_ffmpeg

    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=330:duration={seconds}",
            "-codec:a",
            "libopus",
            "-b:a",
            "24k",
            str(path),
        ],
        check=True,
    )
    return path
