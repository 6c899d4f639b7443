"""The app factory: one aiohttp application serving every webhook, wired from the settings.

    GET  /healthz              which parts are healthy: database, Telegram, dialer, background loops
    GET  /metrics              Prometheus metrics
    GET  /, /en/, /jobs/{id}   the public job website (bots/web), /sitemap.xml, /static/…
    POST /telegram/webhook     Telegram updates (secret token checked)
    GET/POST /messenger/webhook  Messenger's handshake and events (X-Hub-Signature-256 checked), when set
    POST /voice/...            Twilio-compatible voice webhooks (signature checked), GET /voice/media/...
    /admin/                    the operator's dashboard (staff sign-in; docs/dashboard.md)

Background work started with the app: the notifier (events → outbox), the Telegram sender election (the one
process holding the lock sends the Telegram outbox for all), and the sweeper that expires listings. The dialer
runs separately (`bongpheak dialer`) or inside serve (--dialer).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bongpheak.bakong import BakongClient
from bongpheak.bootstrap import Database
from bongpheak.commands import CommandError
from bongpheak.event_metrics import refresh_dead_letters
from bongpheak.health import OFF, OK, Health
from bongpheak.payments import Payments, billing_from
from bongpheak.settings import Settings
from bots.messenger import GraphClient, MessengerDeps, setup_messenger
from bots.telegram.deps import TelegramDeps, make_bot
from bots.telegram.dialog import conversation_dialog, conversation_preparer
from bots.telegram.updates import ALLOWED_UPDATES
from bots.telegram.webhook import setup_telegram
from bots.web import setup_web
from bots.web.admin import AdminDeps, setup_admin
from bots.web.deps import WebDeps
from conversations.notifier import run_notifier
from conversations.turn import DialogDeps
from conversations.voice_notes import VoiceNotes, employer_clip_normaliser, greeting_normaliser
from dialer.ivr.prompt_audio import MediaAudio
from dialer.ivr.webhooks import VoiceDeps, setup_voice
from dialer.providers.twilio import TwilioProvider
from dialer.runner import run_dialer
from dialer.settings import DialerSettings
from jobs_core.backoff import Backoff, one_line
from jobs_core.services.jobs import expire_jobs
from media.catalog import LANGUAGES
from media.ffmpeg import FfmpegError
from media.packs import PackError, load_packs, pack_root
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
    payments: Payments | None = None  # PAYMENTS on: the Bakong poller and "check payment"


def wire(settings: Settings, db: Database) -> Wiring:
    """Build the adapters' dependencies; nothing connects to an outside service here."""
    cache = settings.audio_cache
    try:
        packs = load_packs(cache, settings.prompt_pack_dir, settings.ffmpeg_binary)
    except (PackError, FfmpegError, OSError) as error:
        raise CommandError(
            f"the voice prompts cannot be used: {error} (check PROMPT_PACK_DIR, FFMPEG_BINARY)"
        ) from None
    renderer = Renderer(packs, cache, settings.ffmpeg_binary)
    voice_notes = VoiceNotes(renderer)  # one per process: its background renders are shared by every update
    billing = billing_from(settings)
    dialog = DialogDeps(
        session_factory=db.sessions,
        moderator_ids=frozenset(str(i) for i in settings.moderator_ids),
        moderators_chat_id=str(settings.moderators_chat_id) if settings.moderators_chat_id is not None else None,
        moderators_all_members=settings.moderators_all_members,
        moderators_language=settings.moderators_language,
        nominations_per_day=settings.nominations_per_day,
        audio=voice_notes.make,
        cached_audio=voice_notes.ready,
        clip_normaliser=employer_clip_normaliser(settings.data_dir / "employer-clips"),
        # Read by the dialer at call time, like employer clips: the same data folder.
        greeting_normaliser=greeting_normaliser(settings.data_dir / "greetings"),
        billing=billing,
    )
    payments = None
    if billing is not None:
        bakong = BakongClient(settings.bakong_api_base_url, settings.bakong_token or "", billing.merchant.account)
        payments = Payments(db.uow, billing, bakong)
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
            voice_provider=settings.voice_provider,
            public_base_url=settings.public_base_url or "",
            calls_per_second=settings.calls_per_second,
            max_concurrent_calls=settings.max_concurrent_calls,
            daily_calls_per_number=settings.daily_calls_per_number,
            answering_machine_detection=settings.answering_machine_detection,
            retry_unheard_pitches=settings.retry_unheard_pitches,
            provider_queue_limit=timedelta(minutes=settings.provider_queue_limit_minutes),
        )
        voice = VoiceDeps(dialer_settings, db.sessions, MediaAudio(renderer), TwilioProvider(dialer_settings))
    return Wiring(settings, db, renderer, dialog, voice, payments)


def check_telegram_settings(settings: Settings, *, polling: bool) -> str:
    """The bot token, or CommandError naming the missing setting in one line."""
    return settings.check_telegram(polling=polling)


def telegram_deps(wiring: Wiring, *, polling: bool, register_webhook: bool = True) -> TelegramDeps:
    """The Telegram adapter's dependencies; ``register_webhook=False``: the caller tells Telegram the webhook
    (``bongpheak serve`` does, once the app listens: see :func:`connect_telegram`)."""
    settings = wiring.settings
    token = check_telegram_settings(settings, polling=polling)
    return TelegramDeps(
        bot=make_bot(token, settings.telegram_api_base_url),
        session_factory=wiring.db.sessions,
        dialog=conversation_dialog(wiring.dialog),
        prepare=conversation_preparer(wiring.dialog),
        secret=settings.telegram_webhook_secret or "",
        moderators_chat_id=settings.moderators_chat_id,
        webhook_url=webhook_address(settings) if register_webhook and not polling else None,
        download_dir=settings.data_dir / "telegram-downloads",
    )


def messenger_deps(wiring: Wiring) -> MessengerDeps | None:
    """The Messenger adapter's dependencies when its settings are all set; None when none is; CommandError
    naming the missing one when only some are."""
    settings = wiring.settings
    if not settings.check_messenger():
        return None
    graph = GraphClient(
        settings.messenger_page_token or "",
        base_url=settings.messenger_api_base_url,
        version=settings.messenger_api_version,
    )
    return MessengerDeps(
        graph=graph,
        session_factory=wiring.db.sessions,
        dialog=conversation_dialog(wiring.dialog),
        prepare=conversation_preparer(wiring.dialog),
        app_secret=settings.messenger_app_secret or "",
        verify_token=settings.messenger_verify_token or "",
        page_id=settings.messenger_page_id or "",
        download_dir=settings.data_dir / "messenger-downloads",
    )


def webhook_address(settings: Settings) -> str:
    """The public URL of ``POST /telegram/webhook``."""
    return f"{settings.check_public_address('the Telegram webhook')}/telegram/webhook"


async def connect_telegram(
    bot: Bot,
    settings: Settings,
    health: Health,
    *,
    webhook_url: str | None,
    stop: asyncio.Event | None = None,
) -> None:
    """Tell Telegram the webhook (or, when polling, check the token with getMe), retrying an unreachable
    Telegram with back-off for up to STARTUP_TIMEOUT; CommandError in one line if it refuses or stays away."""
    where = settings.telegram_api_base_url or "https://api.telegram.org"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.startup_timeout
    backoff = Backoff(f"Telegram at {where}", logger=log, cap=5.0)
    token = settings.telegram_bot_token or ""
    while True:
        try:
            async with asyncio.timeout(max(1.0, deadline - loop.time())):
                if webhook_url is None:
                    await bot.get_me()
                else:
                    await bot.set_webhook(
                        webhook_url,
                        secret_token=settings.telegram_webhook_secret,
                        allowed_updates=ALLOWED_UPDATES,
                        drop_pending_updates=False,
                    )
        except TelegramUnauthorizedError:
            raise CommandError(f"Telegram at {where} refused TELEGRAM_BOT_TOKEN (Unauthorized)") from None
        except (TelegramNetworkError, TelegramServerError, TelegramRetryAfter, TimeoutError, OSError) as error:
            reason = one_line(error).replace(token, "<token>") if token else one_line(error)
            health.set("telegram", f"unreachable: {reason}")
            wait = error.retry_after if isinstance(error, TelegramRetryAfter) else backoff.delay_after_next()
            if loop.time() + wait > deadline or (stop is not None and stop.is_set()):
                raise CommandError(f"Telegram unreachable at {where} ({reason}); check TELEGRAM_API_BASE_URL") from None
            backoff.failed(error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for((stop or asyncio.Event()).wait(), wait)
            continue
        except TelegramAPIError as error:
            # 400 "bad webhook: …" and the like: the same request would be refused again.
            what = f"the webhook {webhook_url}" if webhook_url else "getMe"
            raise CommandError(f"Telegram refused {what}: {error.message} (check PUBLIC_BASE_URL)") from None
        if backoff.failures:
            backoff.succeeded()
        health.set("telegram", OK)
        return


async def metrics(request: web.Request) -> web.Response:
    await refresh_dead_letters(request.app[DB].sessions)
    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})


DB = web.AppKey("db", Database)
HEALTH = web.AppKey("health", Health)
TASKS = web.AppKey("background_tasks", list)
STOP = web.AppKey("stop", asyncio.Event)


def build_app(
    wiring: Wiring,
    telegram: TelegramDeps | None,
    *,
    run_dialer_too: bool = False,
    health: Health | None = None,
    messenger: MessengerDeps | None = None,
) -> web.Application:
    """The aiohttp application with every route and background task the wiring allows.

    ``health``: the parts start-up has reported so far (``bongpheak serve`` passes its own); each background
    loop's back-off is added to it, and the database is asked live.
    """
    app = web.Application(client_max_size=25 * 1024 * 1024)
    app[DB] = wiring.db
    if health is None:
        health = Health(telegram=OK if telegram is not None else OFF)
    health.engine = wiring.db.engine
    app[HEALTH] = health
    app.router.add_get("/healthz", health.handler)
    app.router.add_get("/metrics", metrics)
    if telegram is not None:
        sender = Backoff("telegram outbox", logger=log)
        health.watch("telegram outbox", sender)
        setup_telegram(app, telegram, backoff=sender)
    payments = wiring.payments
    check_payment = payments.check_now if payments is not None else None
    setup_web(
        app,
        WebDeps(
            wiring.dialog,
            public_base_url=wiring.settings.public_base_url,
            telegram_bot=wiring.settings.telegram_bot_username,
            messenger_page=wiring.settings.messenger_page_id if messenger is not None else None,
            check_payment=check_payment,
        ),
    )
    setup_admin(app, admin_deps(wiring))
    if messenger is not None:
        setup_messenger(app, messenger)
    if wiring.voice is not None:
        setup_voice(app, wiring.voice)
    else:
        log.warning("voice calls are off: set VOICE_ACCOUNT_SID and VOICE_AUTH_TOKEN to enable them")

    notifier, expiry = Backoff("notifier", logger=log), Backoff("listing expiry", logger=log)
    health.watch("notifier", notifier)
    health.watch("listing expiry", expiry)
    jobs: list[Callable[[asyncio.Event], Coroutine[Any, Any, None]]] = [
        lambda stop: run_notifier(wiring.dialog, stop, backoff=notifier),
        lambda stop: _expire_listings(wiring.db, stop, expiry),
    ]
    if payments is not None:
        bakong = Backoff("bakong payments", logger=log)
        health.watch("bakong payments", bakong)
        jobs.append(lambda stop: payments.run(stop, bakong))
    if run_dialer_too:
        if wiring.voice is None:
            raise CommandError("--dialer needs VOICE_ACCOUNT_SID and VOICE_AUTH_TOKEN")
        voice = wiring.voice
        dialer = Backoff("dialer", logger=log)
        health.watch("dialer", dialer)
        jobs.append(lambda stop: run_dialer(voice, stop, backoff=dialer))
    else:
        health.set("dialer", OFF)

    async def start(app: web.Application) -> None:
        app[STOP] = asyncio.Event()
        app[TASKS] = [asyncio.create_task(job(app[STOP])) for job in jobs]
        freeze_startup_heap()

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


def admin_deps(wiring: Wiring) -> AdminDeps:
    """The dashboard's dependencies: cookies marked Secure when the public address is https."""
    settings = wiring.settings
    return AdminDeps(
        sessions=wiring.db.sessions,
        secure_cookies=(settings.public_base_url or "").startswith("https://"),
        clips_dir=settings.data_dir / "employer-clips",
        prompt_packs={lang: pack_root(lang, settings.prompt_pack_dir) for lang in LANGUAGES},
        ffmpeg=settings.ffmpeg_binary,
        billing=wiring.dialog.billing,
    )


def freeze_startup_heap() -> None:
    """Move what exists once the app has started (modules, ORM mappers, pydantic schemas, pools: alive as long
    as the process) out of the garbage collector's scans. A full collection then looks only at what was made
    since: under load each one paused the event loop ~0.2 s, every update in flight waiting behind it
    (docs/performance-telegram.md)."""
    gc.freeze()


async def _expire_listings(db: Database, stop: asyncio.Event, backoff: Backoff) -> None:
    """Listings expire by themselves: a sweep every few minutes (browsing already hides expired ones)."""
    while not stop.is_set():
        try:
            expired = await expire_jobs(db.uow())
        except Exception as error:
            await backoff.pause(error, stop)
            continue
        backoff.succeeded()
        if expired:
            log.info("expired %d listings", expired)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), EXPIRY_SWEEP_SECONDS)
