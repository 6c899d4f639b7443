"""``GET /healthz``: which parts of this process are healthy, from the first seconds of start-up on.

Answer: ``{"status": "ok" | "starting" | "unhealthy", "parts": {"database": "ok", "telegram": "starting", ...}}``,
HTTP 200 only when every part is "ok" (or "off": not run by this process), 503 otherwise. The database is
asked live (``SELECT 1``, bounded so the answer comes within about a second); the other parts report the state
their start-up step or their background loop's :class:`~jobs_core.backoff.Backoff` last saw.

Before the app is ready (while aiogram loads, the database is migrated, Telegram is told the webhook) a small
stand-in server answers on the same listening socket: ``/healthz`` with the parts so far, anything else 503.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from jobs_core.backoff import Backoff, one_line

log = logging.getLogger(__name__)

OK, OFF, STARTING = "ok", "off", "starting"
DATABASE_CHECK_SECONDS = 1.0


class Health:
    """Each part's state as a short string; "ok" when healthy."""

    def __init__(self, **parts: str) -> None:
        self._states: dict[str, str] = {"database": STARTING, **parts}
        self._watched: dict[str, Callable[[], str]] = {}
        self.engine: AsyncEngine | None = None
        # Repeated health checks during an outage log it once, not once per check.
        self._database_outage = Backoff("health check: database", logger=log)

    def set(self, part: str, state: str) -> None:
        self._states[part] = state
        self._watched.pop(part, None)

    def watch(self, part: str, backoff: Backoff) -> None:
        """From now on ``part`` is what ``backoff`` says (a background loop's failures)."""
        self._watched[part] = backoff.status

    async def parts(self) -> dict[str, str]:
        parts = dict(self._states)
        parts.update({part: status() for part, status in self._watched.items()})
        if self.engine is not None:
            parts["database"] = await self._ask_database(self.engine)
        return parts

    async def _ask_database(self, engine: AsyncEngine) -> str:
        try:
            async with asyncio.timeout(DATABASE_CHECK_SECONDS), engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as error:
            self._database_outage.failed(error)
            return f"unreachable: {one_line(error)}" if not isinstance(error, TimeoutError) else "no answer within 1 s"
        self._database_outage.succeeded()
        return OK

    async def handler(self, request: web.Request) -> web.Response:
        parts = await self.parts()
        if all(state in (OK, OFF) for state in parts.values()):
            return web.json_response({"status": OK, "parts": parts})
        status = STARTING if STARTING in parts.values() else "unhealthy"
        return web.json_response({"status": status, "parts": parts}, status=503)


async def answer_while_starting(sock: socket.socket, health: Health) -> web.AppRunner:
    """Serve ``/healthz`` (and 503 for anything else) on ``sock`` until the app takes over the same socket.

    It listens on a duplicate of the socket: the app listens on the original, then this runner's cleanup
    closes only the duplicate, so no connection is refused in between.
    """

    async def not_yet(request: web.Request) -> web.Response:
        return web.Response(status=503, text="starting", headers={"Retry-After": "5"})

    app = web.Application()
    app.router.add_get("/healthz", health.handler)
    app.router.add_route("*", "/{tail:.*}", not_yet)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock.dup()).start()
    return runner
