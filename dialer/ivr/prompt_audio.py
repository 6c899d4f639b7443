"""Where the dialer gets its audio: a URL path of a phone-line file for an utterance, or what of it can still be played.

The port is small so the flows and their tests do not care how audio is made; ``MediaAudio`` renders with
the media package (cached by content), ``SilentAudio`` is for tests that only look at the keys.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Protocol

from media.composer import ClipDurations, Utterance
from media.packs import PackError
from media.renderer import CONTENT_TYPES, PHONE_FORMAT, Renderer

log = logging.getLogger(__name__)

MEDIA_PREFIX = "/voice/media/"
# The phone format, and MP3: <Play> URLs handed out before the switch to 8 kHz WAV still answer.
_SAFE_NAME = re.compile(r"^[0-9a-f]{16,64}\.(wav|mp3)$")


class VoiceAudio(Protocol):
    async def url_path(self, utterance: Utterance) -> str:
        """The path (under our public base URL) of the utterance for a phone line; raises when it cannot be made."""
        ...

    def file(self, name: str) -> Path | None:
        """The audio file served under MEDIA_PREFIX + name, or None."""
        ...

    def durations(self, lang: str) -> ClipDurations | None:
        """Clip lengths of the language's pack (pitches are cut to fit 45 s), or None when unknown."""
        ...


def playable_part(utterance: Utterance, durations: ClipDurations | None) -> Utterance | None:
    """The utterance without its phrases whose clips cannot be read (each left-out key logged), or None when
    no phrase is left or none was missing. A call never falls back to an English <Say>: a Khmer listener
    would hear a foreign voice, and a placeholder where a recording should be."""
    if durations is None:
        return None
    kept, missing = [], []
    for phrase in utterance.phrases:
        try:
            for part in phrase:
                durations.duration_ms(part)
        except Exception:
            missing.append(phrase)
            continue
        kept.append(phrase)
    if not missing or not kept:
        return None
    for phrase in missing:
        log.error("clip missing at call time: %s left out", " ".join(map(str, phrase)))
    return Utterance(utterance.lang, tuple(kept))


class MediaAudio:
    """Utterances rendered by media's Renderer into its content-addressed cache and served from there."""

    def __init__(self, renderer: Renderer) -> None:
        self.renderer = renderer

    async def url_path(self, utterance: Utterance) -> str:
        # Rendered off the event loop and outside any transaction (the flows call this after committing).
        path = await self.renderer.render_async(utterance, PHONE_FORMAT)
        return MEDIA_PREFIX + path.name

    def file(self, name: str) -> Path | None:
        if not _SAFE_NAME.match(name):
            return None
        path = self.renderer.render_dir / name
        return path if path.is_file() else None

    def durations(self, lang: str) -> ClipDurations | None:
        try:
            return self.renderer.pack(lang)
        except PackError as exc:
            log.error("no clip lengths for %s: %s", lang, exc)
            return None


class SilentAudio:
    """No audio at all: every prompt is left out of the TwiML (tests of keys and state only)."""

    async def url_path(self, utterance: Utterance) -> str:
        raise LookupError("no audio configured")

    def file(self, name: str) -> Path | None:
        return None

    def durations(self, lang: str) -> ClipDurations | None:
        return None


def content_type(path: Path) -> str:
    """The Content-Type a provider needs to accept the file for <Play> (Twilio refuses others: error 13420)."""
    return CONTENT_TYPES.get(path.suffix.lstrip("."), "application/octet-stream")


def media_audio(cache_dir: Path, pack_dir: Path | None = None, ffmpeg: str | None = None) -> MediaAudio:
    """MediaAudio over the prompt packs (None: the bundled placeholder packs)."""
    from media.packs import load_packs

    return MediaAudio(Renderer(load_packs(cache_dir, pack_dir, ffmpeg), cache_dir, ffmpeg))
