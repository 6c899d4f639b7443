"""Several `bongpheak serve` and `bongpheak dialer` processes on one PostgreSQL, and the world around them.

:class:`OutsideWorld` runs what the product talks to — the fake Bot API, the carrier simulator, and the load
balancer that spreads the carrier's webhooks over the serve processes — on an event loop in a thread of its
own, so the moment a request arrives is stamped when it arrives, not when the test's own work lets it.
:class:`Fleet` starts the product's processes as an operator does (the real command, settings from the
environment, one port each), kills one with SIGKILL and starts it again on the same port, and never leaves one
behind: each leads a process group, which is killed whole at the end.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import itertools
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from aiohttp import web

from dialer.simulator.carrier import CarrierSimulator, Script, serve
from tests.e2e.test_startup import Bongpheak, closed_port
from tests.fakes.telegram_api import FakeTelegramAPI

T = TypeVar("T")
# The `bongpheak` command in the daytime whatever the hour, dying with the test (see the module), run from this
# checkout: by module name, so that its folder (with test packages named like the product's) is not on the path.
COMMAND = "tests.e2e.bongpheak_child"
ROOT = Path(__file__).resolve().parents[2]


HEARTBEAT = 0.01  # seconds between the outside world's checks of its own loop
LATE = 0.02  # a heartbeat later than this: the loop was held up (starved of CPU, or busy)


@dataclass
class Dial:
    """One Calls.json request the carrier accepted: when it arrived, from which connection, for which call."""

    at: float  # time.monotonic()
    client_port: int
    sid: str


HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "upgrade"}


class OutsideWorld:
    """``async with OutsideWorld(sid, token, script) as world:`` the fake Bot API (``world.telegram``), the carrier
    (``world.carrier``, whose accepted calls are ``world.dials``) and ``world.balancer_url``, which forwards to
    whichever of ``world.backends`` answers."""

    def __init__(self, account_sid: str, auth_token: str, script: Callable[[str], Script | None]) -> None:
        self.telegram = FakeTelegramAPI()
        # The carrier dials as fast as it is asked: the test checks the dialers' own pace.
        self.carrier = CarrierSimulator(account_sid, auth_token, cps=1000, script=script)
        self.carrier.app.middlewares.append(self._record_dial)
        self.dials: list[Dial] = []
        # (when the loop got going again, how long it had been held up): a request that arrived meanwhile
        # was stamped up to that much late.
        self.stalls: list[tuple[float, float]] = []
        self.backends: list[str] = []
        self.balancer_url = ""
        self.carrier_url = ""
        self._turn = itertools.count()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="outside-world", daemon=True)
        self._runners: list[web.AppRunner] = []
        self._http: aiohttp.ClientSession | None = None
        self._heartbeat: asyncio.Task[None] | None = None

    async def __aenter__(self) -> OutsideWorld:
        self._thread.start()
        await self._run(self._start())
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self._run(self._stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            await asyncio.to_thread(self._thread.join, 30)
            self._loop.close()

    async def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self._loop))

    async def _start(self) -> None:
        self._heartbeat = asyncio.create_task(self._beat())
        await self.telegram.start()
        runner, self.carrier_url = await serve(self.carrier.app)
        self._runners.append(runner)
        balancer = web.Application(client_max_size=25 * 1024 * 1024)
        balancer.router.add_route("*", "/{path:.*}", self._forward)
        runner, self.balancer_url = await serve(balancer)
        self._runners.append(runner)
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))

    async def _stop(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
        for runner in reversed(self._runners):
            await runner.cleanup()
        await self.telegram.stop()
        if self._http is not None:
            await self._http.close()

    async def _beat(self) -> None:
        while True:
            due = time.monotonic() + HEARTBEAT
            await asyncio.sleep(HEARTBEAT)
            now = time.monotonic()
            if now - due > LATE:
                began = due - HEARTBEAT
                if self.stalls and began <= self.stalls[-1][0] + LATE:
                    # Held up again right after catching up: one hold-up, as long as both (what piled up during
                    # the first may be handled, and stamped, only after the second).
                    end, held = self.stalls.pop()
                    began = end - held
                self.stalls.append((now, now - began))

    def lateness(self, stamped: float) -> float:
        """How much earlier than ``stamped`` a request may really have arrived: the part of a stall of this
        loop that lies before the stamp, or what a heartbeat cannot see."""
        longest = max((held for _, held in self.stalls), default=0.0)
        first = bisect.bisect_left(self.stalls, (stamped - LATE, 0.0))
        # A hold-up too short for a heartbeat to report late (HEARTBEAT + LATE) may precede any stamp.
        late = HEARTBEAT + LATE
        for end, held in self.stalls[first:]:
            if end - longest > stamped:
                break
            if end - held <= stamped:
                late = max(late, stamped - (end - held))
        return late

    @web.middleware
    async def _record_dial(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        at = time.monotonic()
        response = await handler(request)
        if request.method == "POST" and request.path.endswith("/Calls.json") and response.status == 201:
            assert isinstance(response, web.Response) and response.text is not None
            peer = request.transport.get_extra_info("peername") if request.transport else None
            self.dials.append(Dial(at, int(peer[1]) if peer else 0, json.loads(response.text)["sid"]))
        return response

    async def _forward(self, request: web.Request) -> web.Response:
        """A load balancer: the next backend in turn; one that does not answer (killed) is skipped."""
        assert self._http is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("content-type", "x-twilio-signature")}
        for _ in range(3 * max(1, len(self.backends))):
            backend = self.backends[next(self._turn) % len(self.backends)]
            try:
                async with self._http.request(
                    request.method, backend + request.path_qs, data=body, headers=headers, allow_redirects=False
                ) as answer:
                    content = await answer.read()
                    # The answer's own headers pass (the voice self-check's proof among them); hop-by-hop and
                    # length headers are the proxy's to set.
                    passed = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
                    return web.Response(status=answer.status, body=content, headers=passed)
            except (aiohttp.ClientConnectionError, TimeoutError):
                await asyncio.sleep(0.2)
        return web.Response(status=502, text="no backend answered")


@dataclass
class Member:
    """One process of the fleet: what it runs, where it logs, and (serve) its port."""

    name: str
    args: list[str]
    log: Path
    port: int | None = None
    process: asyncio.subprocess.Process | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None


@dataclass
class Fleet:
    """``serves`` serve processes and ``dialers`` dialer processes with the same settings."""

    bongpheak: Bongpheak
    settings: dict[str, str]
    serves: int = 3
    dialers: int = 2
    members: list[Member] = field(default_factory=list)

    def __post_init__(self) -> None:
        for i in range(self.serves):
            port = closed_port()
            args = ["serve", "--host", "127.0.0.1", "--port", str(port)]
            self.members.append(Member(f"serve-{i}", args, self.bongpheak.folder / f"serve-{i}.log", port))
        for i in range(self.dialers):
            self.members.append(Member(f"dialer-{i}", ["dialer"], self.bongpheak.folder / f"dialer-{i}.log"))

    @property
    def serve_members(self) -> list[Member]:
        return [m for m in self.members if m.port is not None]

    @property
    def dialer_members(self) -> list[Member]:
        return [m for m in self.members if m.port is None]

    def env(self) -> dict[str, str]:
        env = self.bongpheak.env(**self.settings)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
        return env

    async def start(self, member: Member) -> None:
        with member.log.open("a") as log:
            log.write(f"--- start {member.starts + 1} at {time.monotonic():.3f}\n")
            log.flush()
            member.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                COMMAND,
                *member.args,
                cwd=self.bongpheak.folder,  # no .env here
                env=self.env(),
                stdin=asyncio.subprocess.DEVNULL,
                # A file, not a pipe: nobody reads a pipe while the test runs, and a full one stalls the process.
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,  # a process group of its own, with the ffmpeg it starts
            )
        member.starts += 1

    async def start_all(self) -> None:
        for member in self.members:
            await self.start(member)

    async def ready(self, member: Member, within: float = 180.0) -> None:
        """Wait until a serve process answers /healthz with 200 (database, Telegram and its loops ok)."""
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
            deadline = time.monotonic() + within
            while time.monotonic() < deadline:
                if not member.alive:
                    raise AssertionError(f"{member.name} stopped while starting:\n{self.tail(member)}")
                with contextlib.suppress(aiohttp.ClientError, OSError, TimeoutError):
                    async with http.get(f"{member.url}/healthz") as answer:
                        if answer.status == 200:
                            return
                await asyncio.sleep(0.3)
        raise AssertionError(f"{member.name} was not healthy within {within:.0f} s:\n{self.tail(member)}")

    def kill(self, member: Member) -> None:
        """SIGKILL, the process and everything it started: no clean-up code runs."""
        assert member.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(member.process.pid, signal.SIGKILL)

    async def stop_all(self, grace: float = 20.0) -> None:
        """SIGTERM (each process finishes what it holds), then SIGKILL for any left; always every group."""
        running = [m for m in self.members if m.process is not None]
        for member in running:
            assert member.process is not None
            if member.alive:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(member.process.pid, signal.SIGTERM)
        for member in running:
            assert member.process is not None
            try:
                await asyncio.wait_for(member.process.wait(), grace)
            except TimeoutError:
                pass
            # The group too: a child (ffmpeg) may outlive its parent.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(member.process.pid, signal.SIGKILL)
            await member.process.wait()

    def tail(self, member: Member, lines: int = 30) -> str:
        try:
            return "\n".join(member.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def errors(self) -> list[str]:
        """Each process's first ERROR line and how many there were (for a failure message)."""
        found = []
        for member in self.members:
            try:
                text = member.log.read_text(errors="replace")
            except OSError:
                continue
            bad = [line for line in text.splitlines() if " ERROR " in line or line.startswith("Traceback")]
            if bad:
                found.append(f"{member.name}: {len(bad)} error lines, first: {bad[0][:300]}")
        return found


def tcp_ports(pid: int) -> set[int]:
    """The local ports of a process's TCP connections (Linux /proc): the client ports a server sees it use."""
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                if link.startswith("socket:["):
                    inodes.add(link[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as rows:
            next(rows)
            for row in rows:
                fields = row.split()
                if fields[9] in inodes:
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports
