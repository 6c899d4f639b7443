"""Telegram channel: aiogram's Bot client, our own webhook route and long polling, the outbox sender and the
election that makes one process per bot its sender."""

from bots.telegram.deps import DialogHandler, TelegramDeps, make_bot
from bots.telegram.leader import SenderElection
from bots.telegram.outbox import TelegramOutboxSender
from bots.telegram.pacing import BotPacer
from bots.telegram.polling import run_polling
from bots.telegram.webhook import WEBHOOK_PATH, setup_telegram

__all__ = [
    "WEBHOOK_PATH",
    "BotPacer",
    "DialogHandler",
    "SenderElection",
    "TelegramDeps",
    "TelegramOutboxSender",
    "make_bot",
    "run_polling",
    "setup_telegram",
]
