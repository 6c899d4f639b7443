"""Starting `bongpheak serve` / `bongpheak dialer` as an operator does, in a process of its own: whatever is
wrong (a setting, the database, Telegram, the port) is one line on stderr and exit code 2, never a traceback;
/healthz answers while start-up still waits for Telegram, and says which part is not healthy."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import ClientError, ClientSession

from tests.fakes.telegram_api import FakeTelegramAPI

TOKEN = "123456789:AAFakeTokenForTheBongPheakTests_x"
SECRET = "startup-secret"
ACCOUNT = "AC" + "3" * 32

# Settings a real deployment might have in its environment; each test starts from none of them.
OURS = (
    "DATABASE_URL",
    "DATA_DIR",
    "STARTUP_TIMEOUT",
    "PROMPT_PACK_DIR",
    "AUDIO_CACHE_DIR",
    "FFMPEG_BINARY",
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_WEBHOOK_SECRET",
    "TELEGRAM_API_BASE_URL",
    "MESSENGER_PAGE_TOKEN",
    "MESSENGER_APP_SECRET",
    "MESSENGER_VERIFY_TOKEN",
    "MESSENGER_PAGE_ID",
    "MESSENGER_API_BASE_URL",
    "MESSENGER_API_VERSION",
    "MODERATOR_IDS",
    "MODERATORS_CHAT_ID",
    "NOMINATIONS_PER_DAY",
    "PUBLIC_BASE_URL",
    "VOICE_API_BASE_URL",
    "VOICE_PROVIDER",
    "VOICE_ACCOUNT_SID",
    "VOICE_AUTH_TOKEN",
    "VOICE_FROM_NUMBER",
    "CALLING_HOURS_START",
    "CALLING_HOURS_END",
    "CALLING_HOLIDAYS",
    "CALLS_PER_SECOND",
    "MAX_CONCURRENT_CALLS",
    "DAILY_CALLS_PER_NUMBER",
    "ANSWERING_MACHINE_DETECTION",
    "RETRY_UNHEARD_PITCHES",
    "PROVIDER_QUEUE_LIMIT_MINUTES",
)


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str


@dataclass
class Bongpheak:
    """Runs the real command in a fresh process with only the settings a test gives."""

    database_url: str
    folder: Path
    telegram_url: str

    def env(self, **settings: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in OURS}
        base = {
            "DATABASE_URL": self.database_url,
            "DATA_DIR": str(self.folder),
            # Never the real Telegram: a local address in every run, replaced by the test where it matters.
            "TELEGRAM_API_BASE_URL": self.telegram_url,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "PUBLIC_BASE_URL": "https://jobs.example.org",
            "STARTUP_TIMEOUT": "0",
        }
        env.update({k: v for k, v in {**base, **settings}.items() if v is not None})
        return {k: v for k, v in env.items() if v != "<unset>"}

    async def start(self, args: list[str], **settings: str) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bongpheak.cli",
            *args,
            cwd=self.folder,  # no .env here
            env=self.env(**settings),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )

    async def run(self, args: list[str], **settings: str) -> Outcome:
        process = await self.start(args, **settings)
        try:
            out, err = await asyncio.wait_for(process.communicate(), 120)
        finally:
            if process.returncode is None:
                process.kill()
        return Outcome(process.returncode or 0, out.decode(), err.decode())


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI() as api:
        yield api


@pytest.fixture
def bongpheak(database_url: str, tmp_path: Path, telegram: FakeTelegramAPI) -> Bongpheak:
    return Bongpheak(database_url, tmp_path, telegram.base_url)


def assert_one_line(outcome: Outcome, *named: str) -> str:
    assert outcome.code == 2, (outcome.code, outcome.stderr[-2000:])
    assert "Traceback" not in outcome.stderr and "Traceback" not in outcome.stdout, outcome.stderr[-2000:]
    line = outcome.stderr.strip()
    assert "\n" not in line, line
    assert line.startswith("bongpheak: "), line
    for name in named:
        assert name in line, line
    return line


@pytest.mark.parametrize(
    ("args", "settings", "named"),
    [
        (["serve"], {"MODERATOR_IDS": "12345, 67890"}, "MODERATOR_IDS"),
        (["serve"], {"CALLS_PER_SECOND": "abc"}, "CALLS_PER_SECOND=abc"),
        (["serve"], {"CALLS_PER_SECOND": "0"}, "CALLS_PER_SECOND=0"),
        (["serve"], {"CALLING_HOURS_START": "25:99"}, "CALLING_HOURS_START=25:99"),
        (["serve"], {"CALLING_HOLIDAYS": '["2026-02-30"]'}, "CALLING_HOLIDAYS"),
        (["serve"], {"DATABASE_URL": "not a database url"}, "DATABASE_URL"),
        (["serve"], {"PROMPT_PACK_DIR": "/no/such/prompt/folder"}, "PROMPT_PACK_DIR"),
        (["serve"], {"PUBLIC_BASE_URL": "<unset>"}, "PUBLIC_BASE_URL"),
        (["serve"], {"PUBLIC_BASE_URL": "http://jobs.example.org"}, "PUBLIC_BASE_URL"),
        (["serve"], {"VOICE_ACCOUNT_SID": ACCOUNT}, "VOICE_AUTH_TOKEN"),
        (["serve"], {"MESSENGER_PAGE_TOKEN": "EAAB", "MESSENGER_APP_SECRET": "s"}, "MESSENGER_VERIFY_TOKEN"),
        (["serve", "--dialer"], {"VOICE_ACCOUNT_SID": ACCOUNT, "VOICE_AUTH_TOKEN": "t"}, "VOICE_FROM_NUMBER"),
        (["dialer"], {"VOICE_ACCOUNT_SID": ACCOUNT, "VOICE_AUTH_TOKEN": "t"}, "VOICE_FROM_NUMBER"),
        (
            ["dialer"],
            {"VOICE_ACCOUNT_SID": ACCOUNT, "VOICE_AUTH_TOKEN": "t", "VOICE_FROM_NUMBER": "+85523000000"}
            | {"PUBLIC_BASE_URL": "<unset>"},
            "PUBLIC_BASE_URL",
        ),
        (["dialer"], {"VOICE_ACCOUNT_SID": ACCOUNT, "VOICE_AUTH_TOKEN": "t", "VOICE_FROM_NUMBER": "123"}, "VOICE_FROM"),
    ],
)
async def test_a_bad_or_missing_setting_is_one_line_naming_it(
    bongpheak: Bongpheak, telegram: FakeTelegramAPI, args: list[str], settings: dict[str, str], named: str
) -> None:
    outcome = await bongpheak.run([*args, "--port", str(closed_port())] if args[0] == "serve" else args, **settings)
    assert_one_line(outcome, named)
    assert telegram.calls == []  # nothing was started on a bad setting


async def test_plain_http_is_accepted_for_a_loopback_public_address(bongpheak: Bongpheak) -> None:
    """Tests and the carrier simulator run on 127.0.0.1 without TLS; start-up gets past the address check."""
    outcome = await bongpheak.run(
        ["serve", "--port", str(closed_port())],
        PUBLIC_BASE_URL="http://127.0.0.1:9",
        TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{closed_port()}",
    )
    line = assert_one_line(outcome, "Telegram unreachable")
    assert "PUBLIC_BASE_URL" not in line


async def test_database_unreachable_is_one_line_naming_its_address(bongpheak: Bongpheak) -> None:
    port = closed_port()
    outcome = await bongpheak.run(
        ["serve", "--port", str(closed_port())], DATABASE_URL=f"postgresql://bongpheak:pw@127.0.0.1:{port}/jobs"
    )
    line = assert_one_line(outcome, "database unreachable", f"127.0.0.1:{port}")
    assert "pw" not in line.replace("postgresql", "")  # never the password


async def test_database_unreachable_stops_the_dialer_too(bongpheak: Bongpheak) -> None:
    port = closed_port()
    voice = {"VOICE_ACCOUNT_SID": ACCOUNT, "VOICE_AUTH_TOKEN": "t", "VOICE_FROM_NUMBER": "+85523000000"}
    outcome = await bongpheak.run(["dialer"], DATABASE_URL=f"postgresql://u@127.0.0.1:{port}/jobs", **voice)
    assert_one_line(outcome, "database unreachable", f"127.0.0.1:{port}")


async def test_telegram_unreachable_is_one_line_naming_its_address(bongpheak: Bongpheak) -> None:
    nowhere = f"http://127.0.0.1:{closed_port()}"
    outcome = await bongpheak.run(
        ["serve", "--port", str(closed_port())], TELEGRAM_API_BASE_URL=nowhere, STARTUP_TIMEOUT="1"
    )
    assert_one_line(outcome, "Telegram unreachable", nowhere)


async def test_telegram_refusing_the_webhook_is_one_line(bongpheak: Bongpheak, telegram: FakeTelegramAPI) -> None:
    telegram.fail_next("setWebhook", 400, "Bad Request: bad webhook: Failed to resolve host")
    outcome = await bongpheak.run(["serve", "--port", str(closed_port())], STARTUP_TIMEOUT="30")
    assert_one_line(outcome, "Telegram refused", "https://jobs.example.org/telegram/webhook", "Failed to resolve host")
    assert len(telegram.calls_of("setWebhook")) == 1  # a refusal is not retried


async def test_a_port_in_use_is_one_line_and_telegram_never_hears_of_us(
    bongpheak: Bongpheak, telegram: FakeTelegramAPI
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        outcome = await bongpheak.run(["serve", "--host", "127.0.0.1", "--port", str(port)])
    assert_one_line(outcome, f"127.0.0.1:{port}", "--port")
    assert telegram.calls_of("setWebhook") == []


async def _health(url: str) -> tuple[int, dict[str, object]] | None:
    try:
        async with ClientSession() as http, http.get(url) as response:
            return response.status, json.loads(await response.text())
    except (ClientError, OSError, json.JSONDecodeError):
        return None


async def test_healthz_answers_while_telegram_is_unreachable_then_reports_it_healthy(
    bongpheak: Bongpheak, database_url: str
) -> None:
    telegram_port, port = closed_port(), closed_port()
    process = await bongpheak.start(
        ["serve", "--host", "127.0.0.1", "--port", str(port)],
        TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{telegram_port}",
        STARTUP_TIMEOUT="120",
    )
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        # Start-up is still waiting for Telegram (it is not there yet); /healthz answers and names the part.
        async with asyncio.timeout(90):
            while True:
                answer = await _health(url)
                if answer is not None and answer[1]["parts"]["database"] == "ok":  # type: ignore[index]
                    break
                assert process.returncode is None
                await asyncio.sleep(0.1)
        status, body = answer
        assert status == 503 and body["status"] in ("starting", "unhealthy")
        parts = body["parts"]
        assert isinstance(parts, dict)
        assert parts["telegram"] != "ok" and parts["dialer"] == "off"

        async with FakeTelegramAPI() as telegram:
            await telegram.stop()
            await telegram.start(telegram_port)  # Telegram comes back on the address the bot was given
            async with asyncio.timeout(60):
                while True:
                    answer = await _health(url)
                    if answer is not None and answer[0] == 200:
                        break
                    await asyncio.sleep(0.2)
            status, body = answer
            assert body["status"] == "ok" and body["parts"]["telegram"] == "ok"  # type: ignore[index]
            [registered] = telegram.calls_of("setWebhook")
            assert registered.params["url"] == "https://jobs.example.org/telegram/webhook"
            assert registered.params["secret_token"] == SECRET
            process.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 0 and "Traceback" not in err.decode()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
