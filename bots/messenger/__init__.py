"""Facebook Messenger channel: the Graph Send API over aiohttp, our webhook (signed, stored, then processed)
and the outbox sender that keeps Messenger's messaging window."""

from bots.messenger.deps import MessengerDeps
from bots.messenger.graph import GraphClient, GraphError
from bots.messenger.sender import MessengerSender
from bots.messenger.webhook import WEBHOOK_PATH, EventProcessor, setup_messenger

__all__ = [
    "WEBHOOK_PATH",
    "EventProcessor",
    "GraphClient",
    "GraphError",
    "MessengerDeps",
    "MessengerSender",
    "setup_messenger",
]
