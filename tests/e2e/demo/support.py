"""`bongpheak demo` as a newcomer runs it, in a process of its own (``tests.e2e.bongpheak_child``: it dies with
the test), leading a process group so a test can tell whether anything it started outlives it."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientError, ClientSession
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.e2e.test_startup import OURS

ROOT = Path(__file__).resolve().parents[3]
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Demo:
    process: asyncio.subprocess.Process
    url: str
    output: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self, tail: int | None = 4000) -> str:
        """What it printed (the end of it, for a failure message; ``tail=None``: all)."""
        text = self.output.read_text(errors="replace")
        return text if tail is None else text[-tail:]

    def descendants(self) -> set[int]:
        """Every process started by the demo (by parent, or in its process group), found in /proc."""
        parents: dict[int, int] = {}
        groups: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            parents[int(entry.name)], groups[int(entry.name)] = int(fields[1]), int(fields[2])
        found = {pid for pid, group in groups.items() if group == self.pid and pid != self.pid}
        frontier = [self.pid]
        while frontier:
            parent = frontier.pop()
            for pid, ppid in parents.items():
                if ppid == parent and pid not in found:
                    found.add(pid)
                    frontier.append(pid)
        return found

    async def stop(self, sig: int = signal.SIGINT, within: float = 60.0) -> int:
        self.process.send_signal(sig)
        return await asyncio.wait_for(self.process.wait(), within)


@dataclass
class Running:
    """A running demo and a way into its database."""

    demo: Demo
    sessions: async_sessionmaker[AsyncSession]


async def start_demo(folder: Path, port: int, **settings: str) -> Demo:
    """``bongpheak demo --port PORT`` with only the given settings (and none of the operator's .env)."""
    env = {k: v for k, v in os.environ.items() if k not in OURS}
    env["PYTHONPATH"] = str(ROOT)
    env.update(settings)
    output = folder / "demo-output.txt"
    with output.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.e2e.bongpheak_child",
            "demo",
            "--port",
            str(port),
            cwd=folder,
            env=env,
            stdout=sink,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # its own process group: what it starts is found by the group too
        )
    return Demo(process, f"http://127.0.0.1:{port}", output)


async def wait_for_demo(demo: Demo, within: float = 400.0) -> None:
    """Until /demo answers 200 (seeding and rendering the voice notes come first); fails with its output."""
    async with ClientSession() as http:
        async with asyncio.timeout(within):
            while True:
                if demo.process.returncode is not None:
                    raise AssertionError(f"the demo stopped ({demo.process.returncode}):\n{demo.log()}")
                try:
                    async with http.get(f"{demo.url}/demo") as response:
                        if response.status == 200:
                            return
                except ClientError:
                    pass
                await asyncio.sleep(0.5)


def children_of(parent: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == parent:
                found.add(int(entry.name))
        except OSError:
            continue
    return found


def alive(pids: set[int]) -> set[int]:
    """Those still running (a zombie has exited: only its parent has not read its status yet)."""
    running = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            running.add(pid)
    return running


def stop_quietly(demo: Demo) -> None:
    """After a failed test: nothing of the demo left running."""
    if demo.process.returncode is None:
        try:
            os.killpg(demo.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


# ---------------------------------------------------------------------- the phone page, as a worker uses it


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 60.0) -> None:
    async with asyncio.timeout(within):
        while True:
            if await check():
                return
            await asyncio.sleep(0.3)


async def answer_the_ringing_phone(page: Any, number: str) -> None:
    await page.wait_for_function(
        "n => document.getElementById('call-to').textContent === n"
        " && document.getElementById('call-status').textContent === 'Ringing…'",
        arg=number,
        timeout=90_000,
    )
    await page.click("#answer")
    await hear_a_prompt(page)


async def hear_a_prompt(page: Any, after: int = 0) -> None:
    """Until a prompt beyond the first ``after`` really plays in the browser (its audio moving)."""
    await page.wait_for_function(
        "after => document.querySelectorAll('#plays li').length > after"
        " && !document.getElementById('speaker').paused"
        " && document.getElementById('speaker').currentTime > 0.2",
        arg=after,
        timeout=30_000,
    )


async def plays(page: Any) -> int:
    return int(await page.evaluate("document.querySelectorAll('#plays li').length"))
