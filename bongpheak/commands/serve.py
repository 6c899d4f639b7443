"""`bongpheak serve` (webhooks, background work) and `bongpheak dialer` (the IVR call placer).

Start-up, in this order, each failure one line on stderr and exit code 2 (see docs/operations.md):
the settings (values, then what this command needs), the port (bound before anything is registered anywhere),
``/healthz`` answering on it, the database (reachable, migrated), the app, then Telegram (the webhook).
The heavy imports (aiogram alone takes seconds) happen after ``/healthz`` answers, off the event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import logging
import signal
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, ExitStack, asynccontextmanager
from typing import TYPE_CHECKING

from aiohttp import web

from bongpheak.bootstrap import Database, connect, running_database
from bongpheak.commands import CommandError
from bongpheak.database import database_url, wait_for_database
from bongpheak.demo_guard import refuse_real_services_on_demo_data
from bongpheak.health import OFF, STARTING, Health, answer_while_starting
from bongpheak.migrate import upgrade
from bongpheak.settings import Settings

if TYPE_CHECKING:
    from bongpheak.app import Wiring

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    serve = sub.add_parser("serve", help="serve the webhooks (Telegram, voice), media and health checks")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--polling", action="store_true", help="fetch Telegram updates instead of a webhook")
    serve.add_argument("--dialer", action="store_true", help="also place calls in this process")
    # A service's log goes to stdout; stderr carries only why it stopped.
    serve.set_defaults(handler=_serve, log_to_stdout=True)
    dialer = sub.add_parser("dialer", help="place the due IVR calls (several may run at once)")
    dialer.add_argument(
        "--check",
        action="store_true",
        help="only check that the provider can reach our voice webhooks through PUBLIC_BASE_URL (exit 1 if not)",
    )
    dialer.set_defaults(handler=_dialer, log_to_stdout=True)


def _serve(args: argparse.Namespace) -> int:
    settings = Settings()
    check_serve_settings(settings, polling=args.polling, with_dialer=args.dialer)  # before starting anything
    sock = listen(args.host, args.port)
    try:
        asyncio.run(serve(settings, sock, polling=args.polling, with_dialer=args.dialer))
    finally:
        sock.close()
    return 0


def _dialer(args: argparse.Namespace) -> int:
    settings = Settings()
    if args.check:
        return check_voice_webhooks(settings)
    settings.check_voice(placing_calls=True)
    with running_database(settings) as url:
        asyncio.run(dial(settings, url))
    return 0


def check_voice_webhooks(settings: Settings) -> int:
    """`bongpheak dialer --check`: one line on stdout, exit 0 when a signed request round-trips, else 1."""
    from dialer.ivr.selfcheck import self_check
    from dialer.settings import DialerSettings

    settings.check_voice(placing_calls=False)
    dialer_settings = DialerSettings(
        account_sid=settings.voice_account_sid or "",
        auth_token=settings.voice_auth_token or "",
        public_base_url=settings.public_base_url or "",
    )
    result = asyncio.run(self_check(dialer_settings))
    print(result.line)
    return 0 if result.ok else 1


def check_serve_settings(settings: Settings, *, polling: bool, with_dialer: bool) -> None:
    """What `serve` needs: the bot token (and webhook secret and public https address, unless polling);
    the voice account if any of it is set (with the caller id when this process places calls)."""
    settings.check_telegram(polling=polling)
    if not polling:
        settings.check_public_address("the Telegram webhook")
    if with_dialer or settings.voice_configured():
        settings.check_voice(placing_calls=with_dialer)


def listen(host: str, port: int) -> socket.socket:
    """The server's listening socket, bound now: a port in use stops start-up before Telegram hears of us."""
    try:
        return socket.create_server((host, port), backlog=512)
    except OSError as error:
        raise CommandError(
            f"cannot listen on {host}:{port}: {error.strerror or error} (stop what uses it, or choose another --port)"
        ) from None


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


async def serve(
    settings: Settings,
    sock: socket.socket,
    *,
    polling: bool,
    with_dialer: bool,
    mount: Callable[[web.Application, Wiring], None] | None = None,
    ready: Callable[[], None] | None = None,
) -> None:
    """Run the web app (and the polling loop) on ``sock`` until SIGINT/SIGTERM.

    ``mount`` adds routes to the app before it starts, ``ready`` is told once everything runs (`bongpheak demo`
    adds its pages and the local fakes this way, and prints its address)."""
    stop = asyncio.Event()
    _stop_on_signals(stop)
    health = Health(telegram=STARTING, dialer=STARTING if with_dialer else OFF)
    async with AsyncExitStack() as stack:
        starting = await answer_while_starting(sock, health)
        stack.push_async_callback(starting.cleanup)
        # aiogram's import takes seconds: in a thread, so /healthz keeps answering meanwhile.
        await asyncio.to_thread(importlib.import_module, "bongpheak.app")
        db = await stack.enter_async_context(_open_database(settings, stop))
        from bongpheak.app import build_app, connect_telegram, messenger_deps, telegram_deps, webhook_address, wire

        wiring = wire(settings, db)
        telegram = telegram_deps(wiring, polling=polling, register_webhook=False)
        stack.push_async_callback(telegram.bot.session.close)
        messenger = messenger_deps(wiring)
        app = build_app(
            wiring, None if polling else telegram, run_dialer_too=with_dialer, health=health, messenger=messenger
        )
        if mount is not None:
            mount(app, wiring)
        runner = web.AppRunner(app)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        await web.SockSite(runner, sock).start()
        await starting.cleanup()  # the app answers on the socket now
        host, port = sock.getsockname()[:2]
        log.info("serving on http://%s:%d (%s)", host, port, "polling Telegram" if polling else "webhooks")
        if messenger is None:
            log.info(
                "Messenger is off: set MESSENGER_PAGE_TOKEN, MESSENGER_APP_SECRET, MESSENGER_VERIFY_TOKEN and "
                "MESSENGER_PAGE_ID"
            )
        if with_dialer and wiring.voice is not None:
            from dialer.ivr.selfcheck import log_self_check

            # Now that the app answers; logged, never fatal (docs/ivr.md, "Self-check").
            checking = asyncio.create_task(log_self_check(wiring.voice.settings), name="voice-self-check")
            stack.push_async_callback(_finish, checking)
        # Only now that the app answers: Telegram may deliver updates as soon as it knows the webhook.
        await connect_telegram(
            telegram.bot, settings, health, webhook_url=None if polling else webhook_address(settings), stop=stop
        )
        if ready is not None:
            ready()
        if polling:
            from bots.telegram.polling import run_polling

            await run_polling(telegram, stop)
        else:
            await stop.wait()


@asynccontextmanager
async def _open_database(settings: Settings, stop: asyncio.Event) -> AsyncIterator[Database]:
    """The database for `serve`: started (embedded) or reached, migrated, connected; /healthz keeps answering
    meanwhile (starting an embedded PostgreSQL and migrating block, so they run in threads)."""
    with ExitStack() as stack:
        url = await asyncio.to_thread(stack.enter_context, database_url(settings.database_url, settings.data_dir))
        await wait_for_database(url, settings.startup_timeout, stop)
        await asyncio.to_thread(upgrade, url)
        # Before anything could send: Telegram is reached, and background work starts, only after this.
        await refuse_real_services_on_demo_data(settings, url, telegram=True)
        async with connect(url) as db:
            yield db


async def _finish(task: asyncio.Task[object]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def dial(settings: Settings, url: str) -> None:
    """Place due calls until SIGINT/SIGTERM (after logging the voice self-check's one line)."""
    from bongpheak.app import wire
    from dialer.ivr.selfcheck import log_self_check
    from dialer.runner import run_dialer

    await refuse_real_services_on_demo_data(settings, url, telegram=False)
    stop = asyncio.Event()
    _stop_on_signals(stop)
    async with connect(url) as db:
        voice = wire(settings, db).voice
        assert voice is not None
        # A failed check is logged as an error and the dialer still starts: the webhooks may be served by
        # another process that is not up yet; `bongpheak dialer --check` (exit 1) is there to refuse a start.
        await log_self_check(voice.settings)
        try:
            await run_dialer(voice, stop)
        finally:
            if voice.provider is not None:
                await voice.provider.close()
