"""The app factory: one aiohttp application serving every webhook, wired from the settings.

    GET  /healthz              the database answers
    GET  /metrics              Prometheus metrics
    POST /telegram/webhook     Telegram updates (secret token checked)
    POST /voice/...            Twilio-compatible voice webhooks (signature checked), GET /voice/media/...

Background work started with the app: the notifier (events → outbox), the Telegram outbox sender, and the
sweeper that expires listings. The dialer runs separately (`bongpheak dialer`) or inside serve (--dialer).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from bongpheak.bootstrap import Database
from bongpheak.commands import CommandError
from bongpheak.settings import Settings
from bots.telegram.deps import TelegramDeps, make_bot
from bots.telegram.dialog import conversation_dialog
from bots.telegram.webhook import setup_telegram
from conversations.audio import employer_clip_normaliser, renderer_audio
from conversations.notifier import run_notifier
from conversations.turn import DialogDeps
from dialer.audio import MediaAudio
from dialer.provider import TwilioProvider
from dialer.settings import DialerSettings
from dialer.webhooks import VoiceDeps, setup_voice
from dialer.worker import run_dialer
from jobs_core.services.jobs import expire_jobs
from media.packs import load_packs
from media.renderer import Renderer

log = logging.getLogger(__name__)

EXPIRY_SWEEP_SECONDS = 300.0


@dataclass
class Wiring:
    """Everything built from the settings, shared by the app, the polling loop and the dialer."""

    settings: Settings
    db: Database
    renderer: Renderer
    dialog: DialogDeps
    voice: VoiceDeps | None


def wire(settings: Settings, db: Database) -> Wiring:
    """Build the adapters' dependencies; nothing connects to an outside service here."""
    cache = settings.audio_cache
    renderer = Renderer(
        load_packs(cache, settings.prompt_pack_dir, settings.ffmpeg_binary), cache, settings.ffmpeg_binary
    )
    dialog = DialogDeps(
        session_factory=db.sessions,
        moderator_ids=frozenset(str(i) for i in settings.moderator_ids),
        moderators_chat_id=str(settings.moderators_chat_id) if settings.moderators_chat_id is not None else None,
        moderators_all_members=settings.moderators_all_members,
        nominations_per_day=settings.nominations_per_day,
        audio=renderer_audio(renderer),
        clip_normaliser=employer_clip_normaliser(settings.data_dir / "employer-clips"),
    )
    voice = None
    if settings.voice_account_sid and settings.voice_auth_token:
        dialer_settings = DialerSettings.from_values(
            calling_hours_start=settings.calling_hours_start,
            calling_hours_end=settings.calling_hours_end,
            calling_holidays=settings.calling_holidays,
            account_sid=settings.voice_account_sid,
            auth_token=settings.voice_auth_token,
            from_number=settings.voice_from_number or "",
            api_base_url=settings.voice_api_base_url,
            public_base_url=settings.public_base_url,
            calls_per_second=settings.calls_per_second,
            max_concurrent_calls=settings.max_concurrent_calls,
            daily_calls_per_number=settings.daily_calls_per_number,
            answering_machine_detection=settings.answering_machine_detection,
        )
        voice = VoiceDeps(dialer_settings, db.sessions, MediaAudio(renderer), TwilioProvider(dialer_settings))
    return Wiring(settings, db, renderer, dialog, voice)


def check_telegram_settings(settings: Settings, *, polling: bool) -> str:
    """The bot token, or CommandError naming the missing setting in one line."""
    if not settings.telegram_bot_token:
        raise CommandError("TELEGRAM_BOT_TOKEN is not set (the token @BotFather gave you)")
    if not polling and not settings.telegram_webhook_secret:
        raise CommandError("TELEGRAM_WEBHOOK_SECRET is not set (any long random string; or run with --polling)")
    return settings.telegram_bot_token


def telegram_deps(wiring: Wiring, *, polling: bool) -> TelegramDeps:
    """The Telegram adapter's dependencies."""
    settings = wiring.settings
    token = check_telegram_settings(settings, polling=polling)
    return TelegramDeps(
        bot=make_bot(token, settings.telegram_api_base_url),
        session_factory=wiring.db.sessions,
        dialog=conversation_dialog(wiring.dialog),
        secret=settings.telegram_webhook_secret or "",
        moderators_chat_id=settings.moderators_chat_id,
        webhook_url=None if polling else f"{settings.public_base_url.rstrip('/')}/telegram/webhook",
        download_dir=settings.data_dir / "telegram-downloads",
    )


async def healthz(request: web.Request) -> web.Response:
    db: Database = request.app[DB]
    try:
        async with db.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:
        log.exception("health check: database unreachable")
        return web.json_response({"status": "database unreachable"}, status=503)
    return web.json_response({"status": "ok"})


async def metrics(request: web.Request) -> web.Response:
    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})


DB = web.AppKey("db", Database)
TASKS = web.AppKey("background_tasks", list)
STOP = web.AppKey("stop", asyncio.Event)


def build_app(wiring: Wiring, telegram: TelegramDeps | None, *, run_dialer_too: bool = False) -> web.Application:
    """The aiohttp application with every route and background task the wiring allows."""
    app = web.Application(client_max_size=25 * 1024 * 1024)
    app[DB] = wiring.db
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    if telegram is not None:
        setup_telegram(app, telegram)
    if wiring.voice is not None:
        setup_voice(app, wiring.voice)
    else:
        log.warning("voice calls are off: set VOICE_ACCOUNT_SID and VOICE_AUTH_TOKEN to enable them")

    jobs: list[Callable[[asyncio.Event], Coroutine[Any, Any, None]]] = [
        lambda stop: run_notifier(wiring.dialog, stop),
        lambda stop: _expire_listings(wiring.db, stop),
    ]
    if run_dialer_too:
        if wiring.voice is None:
            raise CommandError("--dialer needs VOICE_ACCOUNT_SID and VOICE_AUTH_TOKEN")
        voice = wiring.voice
        jobs.append(lambda stop: run_dialer(voice, stop))

    async def start(app: web.Application) -> None:
        app[STOP] = asyncio.Event()
        app[TASKS] = [asyncio.create_task(job(app[STOP])) for job in jobs]

    async def stop(app: web.Application) -> None:
        app[STOP].set()
        await asyncio.gather(*app[TASKS], return_exceptions=True)
        if wiring.voice is not None and wiring.voice.provider is not None:
            close = getattr(wiring.voice.provider, "close", None)
            if close is not None:
                await close()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    return app


async def _expire_listings(db: Database, stop: asyncio.Event) -> None:
    """Listings expire by themselves: a sweep every few minutes (browsing already hides expired ones)."""
    while not stop.is_set():
        try:
            expired = await expire_jobs(db.uow())
            if expired:
                log.info("expired %d listings", expired)
        except Exception:
            log.exception("expiry sweep failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), EXPIRY_SWEEP_SECONDS)
