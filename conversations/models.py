"""Every table of the conversations package; importing this module registers them on ``Base.metadata``."""

from conversations.links import LinkCode, LinkedAccount
from conversations.outbox import OutboxMessage
from conversations.state import ConversationState

__all__ = ["ConversationState", "LinkCode", "LinkedAccount", "OutboxMessage"]
