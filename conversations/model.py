"""Every table of the conversations package; importing this module registers them on ``Base.metadata``."""

from conversations.outbox import OutboxMessage
from conversations.state import ConversationState

__all__ = ["ConversationState", "OutboxMessage"]
