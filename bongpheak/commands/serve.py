"""`bongpheak serve` (webhooks, background work) and `bongpheak dialer` (the IVR call placer)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from aiohttp import web

from bongpheak.app import build_app, check_telegram_settings, telegram_deps, wire
from bongpheak.bootstrap import connect, running_database
from bongpheak.commands import CommandError
from bongpheak.demo_guard import refuse_real_services_on_demo_data
from bongpheak.settings import Settings
from bots.telegram.polling import run_polling
from dialer.worker import run_dialer

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    serve = sub.add_parser("serve", help="serve the webhooks (Telegram, voice), media and health checks")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--polling", action="store_true", help="fetch Telegram updates instead of a webhook")
    serve.add_argument("--dialer", action="store_true", help="also place calls in this process")
    serve.set_defaults(handler=_serve)
    dialer = sub.add_parser("dialer", help="place the due IVR calls (several may run at once)")
    dialer.set_defaults(handler=_dialer)


def _serve(args: argparse.Namespace) -> int:
    settings = Settings()
    check_telegram_settings(settings, polling=args.polling)  # before starting anything
    with running_database(settings) as url:
        refuse_real_services_on_demo_data(settings, url, telegram=True)
        asyncio.run(serve(settings, url, args.host, args.port, polling=args.polling, with_dialer=args.dialer))
    return 0


def _dialer(args: argparse.Namespace) -> int:
    settings = Settings()
    for name in ("voice_account_sid", "voice_auth_token", "voice_from_number"):
        if not getattr(settings, name):
            raise CommandError(f"{name.upper()} is not set (see .env.example)")
    with running_database(settings) as url:
        refuse_real_services_on_demo_data(settings, url, telegram=False)
        asyncio.run(dial(settings, url))
    return 0


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


async def serve(settings: Settings, url: str, host: str, port: int, *, polling: bool, with_dialer: bool) -> None:
    """Run the web app (and the polling loop) until SIGINT/SIGTERM."""
    stop = asyncio.Event()
    _stop_on_signals(stop)
    async with connect(url) as db:
        wiring = wire(settings, db)
        telegram = telegram_deps(wiring, polling=polling)
        app = build_app(wiring, None if polling else telegram, run_dialer_too=with_dialer)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        log.info("serving on http://%s:%d (%s)", host, port, "polling Telegram" if polling else "webhooks")
        try:
            if polling:
                await run_polling(telegram, stop)
                await telegram.bot.session.close()
            else:
                await stop.wait()
        finally:
            await runner.cleanup()


async def dial(settings: Settings, url: str) -> None:
    """Place due calls until SIGINT/SIGTERM."""
    stop = asyncio.Event()
    _stop_on_signals(stop)
    async with connect(url) as db:
        voice = wire(settings, db).voice
        assert voice is not None
        try:
            await run_dialer(voice, stop)
        finally:
            if voice.provider is not None:
                await voice.provider.close()
