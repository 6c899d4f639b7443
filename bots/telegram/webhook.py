"""``POST /telegram/webhook``: Telegram's updates, checked, de-duplicated and processed before the 200.

The 200 means the update's changes and its replies are committed; the replies leave right after, from the
bot's one sender process (see :mod:`bots.telegram.leader`, which every process running this app joins).
"""

from __future__ import annotations

import asyncio
import hmac
import logging

from aiogram.types import Update
from aiohttp import web

from bots.telegram.deps import TelegramDeps
from bots.telegram.leader import SenderElection
from bots.telegram.updates import ALLOWED_UPDATES, MalformedUpdate, UpdateProcessor, prune_handled_updates
from jobs_core.backoff import Backoff

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
PROCESSOR = web.AppKey("telegram_processor", UpdateProcessor)
DEPS = web.AppKey("telegram_deps", TelegramDeps)
SENDER_TASK = web.AppKey("telegram_outbox_task", asyncio.Task[None])
SENDER_STOP = web.AppKey("telegram_outbox_stop", asyncio.Event)
ELECTION = web.AppKey("telegram_sender_election", SenderElection)
# Telegram's updates nest a dozen levels at most and their integers fit 64 bits (ids have 52 significant bits).
MAX_DEPTH = 32
INT64 = 2**63


def secret_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison: the time taken tells an attacker nothing about the secret."""
    return bool(expected) and hmac.compare_digest((given or "").encode(), expected.encode())


async def telegram_webhook(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    if not secret_matches(request.headers.get(SECRET_HEADER), deps.secret):
        return web.Response(status=403, text="forbidden")
    try:
        # ValueError covers bad JSON, bad UTF-8, an integer too long to parse and a failed validation;
        # RecursionError JSON nested deeper than Python's stack.
        payload = await request.json()
        if not plausible(payload):
            raise ValueError("nested too deep or an integer beyond 64 bits")
        update = Update.model_validate(payload, context={"bot": deps.bot})
    except (ValueError, RecursionError):
        # Not an update at all: retrying it would not help, so no 5xx.
        return web.Response(status=400, text="not an update")
    try:
        await request.app[PROCESSOR].process(update)
    except MalformedUpdate as exc:
        log.warning("telegram update %s refused: %s", update.update_id, exc)
        return web.Response(status=400, text="not an update")
    except Exception:
        # Rolled back (nothing stored, nothing sent): Telegram delivers the same update_id again.
        log.exception("telegram update %s failed; Telegram will retry it", update.update_id)
        return web.Response(status=500, text="retry")
    return web.Response(status=200)


def plausible(payload: object) -> bool:
    """Could this parsed JSON be a Telegram update? Shallow enough, and every integer fits the database's 64 bits."""
    stack = [(payload, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return False
        if isinstance(value, dict):
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, int) and not -INT64 <= value < INT64:
            return False
    return True


def setup_telegram(
    app: web.Application,
    deps: TelegramDeps,
    *,
    path: str = WEBHOOK_PATH,
    send_outbox: bool = True,
    backoff: Backoff | None = None,
) -> None:
    """Add the webhook route; on startup register the webhook (if ``deps.webhook_url``) and join the election of
    the bot's sender (if ``send_outbox``: the elected process sends the outbox); on cleanup leave it (the next
    process takes over) and close the Bot's HTTP session. ``backoff``: the sender's, for /healthz."""
    app[DEPS] = deps
    election = SenderElection(deps, backoff=backoff) if send_outbox else None
    # The processor hands the replies of updates handled here to this process's sender, while it is the one.
    app[PROCESSOR] = UpdateProcessor(deps, election)
    app.router.add_post(path, telegram_webhook)

    async def on_startup(app: web.Application) -> None:
        await prune_handled_updates(deps.session_factory)
        if deps.webhook_url:
            await deps.bot.set_webhook(
                deps.webhook_url, secret_token=deps.secret, allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False
            )
        if election is not None:
            stop = asyncio.Event()
            app[SENDER_STOP] = stop
            app[ELECTION] = election
            app[SENDER_TASK] = asyncio.create_task(election.run(stop), name="telegram-sender-election")

    async def on_cleanup(app: web.Application) -> None:
        if SENDER_TASK in app:
            app[SENDER_STOP].set()
            await app[SENDER_TASK]
        await deps.bot.session.close()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
