"""Long polling (getUpdates) for running without a public URL; the same processing as the webhook: replies
are stored with the update and sent by the bot's one sender, which this process may become (the election)."""

from __future__ import annotations

import asyncio
import logging

from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError

from bots.telegram.deps import TelegramDeps
from bots.telegram.leader import SenderElection
from bots.telegram.updates import ALLOWED_UPDATES, UpdateProcessor
from jobs_core.backoff import Backoff, is_outage

log = logging.getLogger(__name__)

# An update that fails this many times in a row is skipped (logged), so one poison update cannot stop the bot.
MAX_TRIES = 5


async def run_polling(
    deps: TelegramDeps,
    stop: asyncio.Event | None = None,
    *,
    poll_timeout: int = 25,
    send_outbox: bool = True,
    retry_delay: float = 1.0,
) -> None:
    """Fetch and process updates until ``stop`` is set; the webhook is removed first (Telegram allows one)."""
    stop = stop or asyncio.Event()
    election = SenderElection(deps) if send_outbox else None
    processor = UpdateProcessor(deps, election)
    await deps.bot.delete_webhook(drop_pending_updates=False)
    # The sender has its own stop: leaving this loop (stopped or failing) ends it, without touching ``stop``.
    sender_stop = asyncio.Event()
    sender = asyncio.create_task(election.run(sender_stop)) if election is not None else None
    offset: int | None = None
    tries = 0
    polling = Backoff("telegram getUpdates", logger=log, first=retry_delay)
    processing = Backoff("telegram updates", logger=log, first=retry_delay)
    try:
        while not stop.is_set():
            try:
                poll = asyncio.ensure_future(
                    deps.bot.get_updates(offset=offset, timeout=poll_timeout, allowed_updates=ALLOWED_UPDATES)
                )
                stopped = asyncio.ensure_future(stop.wait())
                await asyncio.wait({poll, stopped}, return_when=asyncio.FIRST_COMPLETED)
                stopped.cancel()
                if not poll.done():
                    poll.cancel()
                    break
                updates = poll.result()
            except TelegramRetryAfter as error:
                await asyncio.sleep(error.retry_after)
                continue
            except (TelegramNetworkError, TelegramServerError) as error:
                await polling.pause(error, stop)
                continue
            polling.succeeded()
            for update in updates:
                try:
                    await processor.process(update)
                    processing.succeeded()
                except Exception as error:
                    if is_outage(error):
                        # The database is away, not the update at fault: retried (uncounted) once it is back.
                        await processing.pause(error, stop)
                        break
                    tries += 1
                    if tries < MAX_TRIES:
                        log.exception("telegram update %s failed (try %s); retrying", update.update_id, tries)
                        await asyncio.sleep(retry_delay)
                        break
                    log.exception("telegram update %s failed %s times; skipped", update.update_id, tries)
                tries = 0
                offset = update.update_id + 1
    finally:
        if sender is not None:
            sender_stop.set()
            await sender
