"""The dialer's settings: provider account, public address, calling hours, pacing and caps."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, time, timedelta

from dialer.providers.profiles import ProviderProfile, profile

TWILIO_API_BASE_URL = "https://api.twilio.com"
DEFAULT_RETRY_LADDER = (timedelta(minutes=10), timedelta(hours=1), timedelta(days=1))


def parse_clock(value: str | time) -> time:
    """ "08:00" → time(8, 0)."""
    if isinstance(value, time):
        return value
    hours, _, minutes = value.strip().partition(":")
    return time(int(hours), int(minutes or 0))


@dataclass(frozen=True)
class DialerSettings:
    """Everything the dialer and its webhooks need to know; built by the composition root."""

    account_sid: str = "AC00000000000000000000000000000000"
    auth_token: str = ""
    from_number: str = "+85523000000"
    # None: Twilio itself. Somleng, SignalWire or the carrier simulator by their base URL.
    api_base_url: str | None = None
    # Which provider's behaviour to expect (dialer/providers/profiles.py): "twilio" or "somleng".
    voice_provider: str = "twilio"
    # Without answering-machine detection, a pitch that ends with no key pressed may have been a voicemail:
    # True puts it back on the retry ladder (a check-in always is; see lifecycle.py).
    retry_unheard_pitches: bool = True
    # Where the provider reaches our webhooks and media; signatures are computed over this, not the Host header.
    public_base_url: str = "http://127.0.0.1:8080"
    calling_hours_start: time = time(8, 0)
    calling_hours_end: time = time(20, 0)
    holidays: frozenset[date] = frozenset()
    calls_per_second: float = 1.0
    # Send slots are (1 + margin) / cps apart (the pace); the sender's window keeps the provider's count within cps.
    pacing_margin: float = 0.005
    max_concurrent_calls: int = 10
    daily_calls_per_number: int = 2
    answering_machine_detection: bool = True
    retry_ladder: tuple[timedelta, ...] = DEFAULT_RETRY_LADDER
    max_attempts: int = 3
    checkin_after_days: tuple[int, ...] = (7, 30)
    jobs_per_call: int = 3
    language: str = "km"
    # How long a claimed call may wait for its provider SID before the recovery sweep asks the provider.
    orphan_grace: timedelta = timedelta(seconds=30)
    # A placed call still open this long after it was placed lost its final status callback: the sweep asks
    # the provider how it ended. (Our calls last a few minutes: three pitches of at most 45 s and their menus.)
    stale_call_after: timedelta = timedelta(minutes=20)
    # A call the provider still holds in its own queue (every trunk channel busy) this long after it was
    # placed, or this close to the end of calling hours, is cancelled there and due again.
    provider_queue_limit: timedelta = timedelta(minutes=5)
    hold_before_closing: timedelta = timedelta(minutes=10)
    request_timeout: float = 10.0
    poll_interval: float = 0.5
    ring_timeout: int = 30
    gather_timeout: int = 6
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_values(
        cls,
        *,
        calling_hours_start: str | time = "08:00",
        calling_hours_end: str | time = "20:00",
        calling_holidays: Iterable[str | date] = (),
        **values: object,
    ) -> DialerSettings:
        """Settings from the operator's strings ("08:00", "2026-04-14")."""
        holidays = frozenset(d if isinstance(d, date) else date.fromisoformat(d.strip()) for d in calling_holidays)
        return cls(
            calling_hours_start=parse_clock(calling_hours_start),
            calling_hours_end=parse_clock(calling_hours_end),
            holidays=holidays,
            **values,  # type: ignore[arg-type]
        )

    @property
    def profile(self) -> ProviderProfile:
        return profile(self.voice_provider)

    @property
    def answering_machines_detected(self) -> bool:
        """AMD asked for and the provider honours it."""
        return self.answering_machine_detection and self.profile.amd

    @property
    def api_base(self) -> str:
        return (self.api_base_url or TWILIO_API_BASE_URL).rstrip("/")

    @property
    def public_base(self) -> str:
        return self.public_base_url.rstrip("/")
