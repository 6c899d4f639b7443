"""A database outage while the app runs: every background loop backs off and says so once, /healthz names the
database, and each loop says once that it recovered.

The app (notifier, Telegram outbox sender, expiry sweep, dialer) reaches PostgreSQL through a TCP relay that
the test cuts: the listener closes (new connections are refused) and open connections are dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiohttp import ClientSession
from sqlalchemy.engine import make_url

from bongpheak.app import build_app, telegram_deps, wire
from bongpheak.bootstrap import Database
from bongpheak.database import create_engine
from bongpheak.database import session_factory as make_sessions
from bongpheak.settings import Settings
from dialer.simulator.carrier import CarrierSimulator, bind_local, serve
from tests.e2e.test_whole_system import eventually
from tests.fakes.telegram_api import FakeTelegramAPI

ACCOUNT = "AC" + "4" * 32
LOOPS = ("notifier", "telegram outbox", "dialer")


class Relay:
    """Forwards local TCP connections to PostgreSQL until cut."""

    def __init__(self, target_host: str | None, target_port: int, socket_dir: str | None = None) -> None:
        self.target = (target_host, target_port)
        # An embedded PostgreSQL listens on a Unix socket only.
        self.socket_path = None if target_host else f"{socket_dir}/.s.PGSQL.{target_port}"
        self.port = 0
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._connection, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.writers):
            writer.transport.abort()
        self.writers.clear()
        await self.server.wait_closed()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if self.socket_path is not None:
                up_reader, up_writer = await asyncio.open_unix_connection(self.socket_path)
            else:
                up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.writers |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (OSError, ConnectionError):
                pass
            finally:
                sink.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


@pytest.fixture
async def relay(database_url: str) -> AsyncIterator[tuple[Relay, str]]:
    url = make_url(database_url)
    port = int(url.port or url.query.get("port") or 5432)  # type: ignore[arg-type]
    relay = Relay(url.host, port, str(url.query.get("host") or ""))
    await relay.start()
    through = url.difference_update_query(["host", "port"]).set(host="127.0.0.1", port=relay.port)
    yield relay, through.render_as_string(hide_password=False)
    if relay.server is not None:
        relay.server.close()


async def test_an_outage_is_logged_once_per_loop_and_its_end_once(
    relay: tuple[Relay, str], session_factory: object, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    relay_server, url = relay
    engine = create_engine(url, pool_size=4)
    async with FakeTelegramAPI() as telegram:
        carrier = CarrierSimulator(ACCOUNT, "voice-secret", cps=20)
        carrier_runner, carrier_url = await serve(carrier.app)
        sock, base_url = bind_local()
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            data_dir=tmp_path,
            telegram_bot_token="123456789:AAFakeTokenForTheBongPheakTests_x",
            telegram_webhook_secret="outage-secret",
            telegram_api_base_url=telegram.base_url,
            public_base_url=base_url,
            voice_api_base_url=carrier_url,
            voice_account_sid=ACCOUNT,
            voice_auth_token="voice-secret",
            voice_from_number="+85523000000",
        )
        wiring = wire(settings, Database(engine, make_sessions(engine)))
        app = build_app(wiring, telegram_deps(wiring, polling=False), run_dialer_too=True)
        app_runner, _ = await serve(app, sock)
        health_url = f"{base_url}/healthz"
        try:
            async with ClientSession() as http:

                async def health() -> tuple[int, dict[str, str]]:
                    async with http.get(health_url) as response:
                        body = await response.json()
                        return response.status, body["parts"]

                await eventually(lambda: _status(health, 200), "healthy before the outage", within=60)
                caplog.clear()
                caplog.set_level(logging.INFO)

                await relay_server.cut()
                status, parts = await health()
                assert status == 503 and parts["database"] != "ok"
                # Every loop has met the outage, then it lasts a while longer (the old loops logged a
                # traceback per worker every half second).
                await eventually(lambda: _all_failing(health), "every loop reports the outage in /healthz", within=30)
                await asyncio.sleep(4)
                during = [r for r in caplog.records if r.levelno >= logging.WARNING]

                await relay_server.start()
                await eventually(lambda: _status(health, 200), "healthy again after the outage", within=60)
                await asyncio.sleep(1)
        finally:
            await app_runner.cleanup()
            await carrier_runner.cleanup()
            await engine.dispose()

    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    shown = "\n".join(f"{r.name}: {r.getMessage()}" for r in lines)
    assert len(lines) <= 14, shown  # one failing + one recovered line per loop and health check, no more
    assert not any(r.exc_info for r in lines), shown  # an unreachable database earns no traceback
    for loop in LOOPS:
        failing = [r for r in during if r.getMessage().startswith(f"{loop} failing")]
        recovered = [r for r in lines if r.getMessage().startswith(f"{loop} recovered")]
        assert len(failing) == 1, shown
        assert len(recovered) == 1, shown


async def _status(health: Callable[[], object], wanted: int) -> bool:
    status, _ = await health()  # type: ignore[misc]
    return bool(status == wanted)


async def _all_failing(health: Callable[[], object]) -> bool:
    _, parts = await health()  # type: ignore[misc]
    return all(str(parts[loop]).startswith("failing") for loop in ("notifier", "dialer"))
