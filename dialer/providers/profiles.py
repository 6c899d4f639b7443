"""What each voice provider really does with a call request, as data the dialer reads.

Twilio and Somleng speak the same REST API and webhooks, but Somleng's call-create accepts only To, From,
Url, Method, StatusCallback, StatusCallbackMethod and Twiml: ``Timeout``, ``StatusCallbackEvent`` and
answering-machine detection are dropped without an error. Its list of calls ignores the ``To`` filter, and
its limit is the SIP trunk's channels (calls beyond them wait inside Somleng), not calls per second.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProviderProfile:
    name: str
    # Answering-machine detection (AnsweredBy, async AMD callbacks): without it a voicemail "answers".
    amd: bool
    # StatusCallbackEvent honoured (initiated, ringing, answered); else one final callback only.
    progress_callbacks: bool
    # The Timeout (ring seconds) parameter honoured; else the trunk's own ring time applies.
    ring_timeout: bool
    # Listing calls honours the To filter; else every call of the account comes back.
    list_filter_to: bool
    # "cps": the provider paces calls per second; "channels": calls beyond the trunk's channels queue.
    limit: str


TWILIO = ProviderProfile(
    "twilio", amd=True, progress_callbacks=True, ring_timeout=True, list_filter_to=True, limit="cps"
)
SOMLENG = ProviderProfile(
    "somleng", amd=False, progress_callbacks=False, ring_timeout=False, list_filter_to=False, limit="channels"
)
PROFILES = {p.name: p for p in (TWILIO, SOMLENG)}


def profile(name: str) -> ProviderProfile:
    """The profile for VOICE_PROVIDER (twilio or somleng); ValueError names the choices."""
    try:
        return PROFILES[name.strip().lower()]
    except KeyError:
        raise ValueError(f"VOICE_PROVIDER={name!r}: expected one of {', '.join(PROFILES)}") from None
