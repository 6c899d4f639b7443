"""The voice provider port: what the dialer asks of a provider, and the two refusals it must tell apart.

``dialer.providers.twilio`` implements it for every Twilio-compatible API (Twilio, Somleng, SignalWire, the
simulator); the tests' fakes implement it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class ProviderRejected(Exception):
    """The provider refused the call for good (bad number, blocked destination): no point retrying."""


class ProviderAccountRefused(Exception):
    """The provider refused our account, not the call: every call would be refused alike until someone fixes it."""


@dataclass(frozen=True)
class OutboundCall:
    to: str
    from_: str
    url: str
    status_callback: str
    machine_detection: bool
    timeout: int = 30


@dataclass(frozen=True)
class ProviderCall:
    sid: str
    to: str
    status: str
    created_at: datetime | None


class VoiceProvider(Protocol):
    async def create_call(self, call: OutboundCall) -> str:
        """Ask the provider to place a call; returns its call SID."""
        ...

    async def calls_to(self, number: str, since: datetime) -> list[ProviderCall]:
        """Calls to ``number`` created at or after ``since``, newest first (recovering a placement whose SID
        was never stored). Matched here on the number and the creation time, whatever the provider's filter
        did: Somleng ignores ``To`` and lists every call of the account."""
        ...

    async def fetch(self, sid: str) -> ProviderCall | None:
        """The provider's call resource (its current status), or None when the provider does not know it."""
        ...

    async def hang_up(self, sid: str) -> None: ...

    async def cancel(self, sid: str) -> bool:
        """Cancel a call the provider has not dialled yet; True when it was still queued and is now canceled."""
        ...

    async def close(self) -> None: ...
