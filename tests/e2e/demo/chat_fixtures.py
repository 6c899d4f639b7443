"""The chat simulator as the demo runs it: the app ``bongpheak serve`` builds, with the in-process Bot API
mounted on it (the bot's TELEGRAM_API_BASE_URL points back at the same app) and the chat pages; webhook mode,
the real aiogram Bot, the real conversations and voice packs, PostgreSQL. Debian's Chromium through Playwright
(skipped, saying why, when either is missing)."""

from __future__ import annotations

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
from dialer.simulator.carrier import bind_local, serve

TOKEN = "700000123:AAdemo-made-up-token-for-the-chat-tests"
SECRET = "demo-chat-secret"
MODERATORS_GROUP = -1002000001
MODERATOR = 7_300_001
ARTIFACTS = Path(__file__).resolve().parents[3] / "var" / "test-artifacts" / "demo-chat"
PHONE = {"width": 400, "height": 800}


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


WAIT = 60_000  # ms: a voice note is rendered by ffmpeg the first time
NEWEST = """([label, mark, selector]) => {
  for (const item of [...document.querySelectorAll("li.chat-message")].reverse()) {
    if (+item.dataset.id <= mark) break;
    const found = selector ? [...item.querySelectorAll(selector)] : [item];
    if (found.some(e => e.textContent.includes(label))) return +item.dataset.id;
  }
  return null;
}"""
LATEST_ID = "() => Math.max(0, ...[...document.querySelectorAll('li.chat-message')].map(e => +e.dataset.id))"


class ChatPage:
    """One visitor's chat page. Like a person, it acts on what arrived since its last action: ``mark`` is the
    newest message shown when it last did something."""

    def __init__(self, page: Any, name: str, folder: Path = ARTIFACTS) -> None:
        self.page, self.name, self.folder = page, name, folder
        self.shots = 0
        self.mark = 0

    async def shot(self, what: str) -> None:
        self.shots += 1
        await self.page.screenshot(path=str(self.folder / f"{self.name}-{self.shots}-{what}.png"), full_page=False)

    async def _acting(self) -> None:
        self.mark = int(await self.page.evaluate(LATEST_ID))

    async def send(self, text: str) -> None:
        await self._acting()
        await self.page.fill("#text", text)
        await self.page.click("#send")

    async def _newest(self, label: str, selector: str | None) -> int:
        try:
            handle = await self.page.wait_for_function(NEWEST, arg=[label, self.mark, selector], timeout=WAIT)
        except Exception:
            await self.shot("missing")
            shown = await self.page.locator("#log").inner_text()
            raise AssertionError(f"{self.name} never got {label!r}; the chat shows:\n{shown[-1500:]}") from None
        return int(await handle.json_value())

    async def sees(self, text: str) -> Any:
        """The newest message since the last action containing ``text`` (waiting for it to arrive)."""
        message_id = await self._newest(text, None)
        return self.page.locator(f'li.chat-message[data-id="{message_id}"]')

    async def press(self, label: str) -> None:
        """Press the button labelled ``label`` on the newest message since the last action that has one."""
        message_id = await self._newest(label, "button.chat-button")
        await self._acting()
        button = self.page.locator(f'li.chat-message[data-id="{message_id}"] button.chat-button', has_text=label)
        await button.first.click()


async def open_chat(browser: Any, url: str, name: str, folder: Path = ARTIFACTS) -> ChatPage:
    context = await browser.new_context(viewport=PHONE, device_scale_factor=1)
    page = await context.new_page()
    await page.goto(url)
    return ChatPage(page, name, folder)
