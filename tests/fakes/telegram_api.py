"""The Telegram Bot API for tests: the demo's in-process server keeping every call, message and file
(:class:`bots.web.demo.botapi.RecordingBotAPI`, which the benchmarks use too; ``max_per_second`` makes it
answer 429 beyond a global rate, as Telegram does), plus switches injecting the errors a bot must survive: 429
with ``retry_after``, 403 for a blocked chat, 400 ``VOICE_MESSAGES_FORBIDDEN``.
"""

from __future__ import annotations

from collections import deque

from bots.web.demo.botapi import (
    MESSAGE_METHODS,
    SEND_METHODS,
    ApiCall,
    RecordingBotAPI,
    Refusal,
    callback_update,
    inline_query_update,
    message_update,
    private_chat,
    user,
)

__all__ = [
    "MESSAGE_METHODS",
    "SEND_METHODS",
    "ApiCall",
    "FakeTelegramAPI",
    "callback_update",
    "inline_query_update",
    "message_update",
    "private_chat",
    "user",
]


class FakeTelegramAPI(RecordingBotAPI):
    """Start with ``async with FakeTelegramAPI() as api:``; point a Bot at ``api.base_url``. Nothing is forgotten:
    a test looks at every call it caused."""

    def __init__(self, bot_id: int = 7000001, username: str = "BongPheakTestBot") -> None:
        super().__init__(bot_id, username)
        self._failures: dict[str, deque[Refusal]] = {}
        self._blocked_chats: set[str] = set()
        self._voice_forbidden: set[str] = set()

    async def __aenter__(self) -> FakeTelegramAPI:
        await self.start()
        return self

    # ------------------------------------------------------------------ switches

    def fail_next(
        self, method: str, status: int, description: str, *, retry_after: int | None = None, times: int = 1
    ) -> None:
        """The next ``times`` calls of ``method`` ("*" for any) fail with this error."""
        queue = self._failures.setdefault(method, deque())
        for _ in range(times):
            queue.append(Refusal(status, description, retry_after))

    def rate_limit_next(self, retry_after: int, method: str = "*", times: int = 1) -> None:
        self.fail_next(
            method, 429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after, times=times
        )

    def block(self, chat_id: int | str) -> None:
        """The user blocked the bot: every send to this chat answers 403."""
        self._blocked_chats.add(str(chat_id))

    def forbid_voice(self, chat_id: int | str) -> None:
        """The user's privacy settings refuse voice notes: sendVoice answers 400 VOICE_MESSAGES_FORBIDDEN."""
        self._voice_forbidden.add(str(chat_id))

    def refusal(self, method: str, call: ApiCall) -> Refusal | None:
        for key in (method, "*"):
            queue = self._failures.get(key)
            if queue:
                return queue.popleft()
        rate_limited = super().refusal(method, call)
        if rate_limited is not None:
            return rate_limited
        if method in SEND_METHODS and call.chat_id in self._blocked_chats:
            return Refusal(403, "Forbidden: bot was blocked by the user")
        if method == "sendVoice" and call.chat_id in self._voice_forbidden:
            return Refusal(400, "Bad Request: VOICE_MESSAGES_FORBIDDEN")
        return None
