"""Voice notes for the flows from media's composer and renderer, for the composition root to pass in.

    notes = VoiceNotes(renderer)
    deps = DialogDeps(..., audio=notes.make, cached_audio=notes.ready,
                      clip_normaliser=employer_clip_normaliser(clip_dir))

Two ways to get a job's voice note, because rendering runs ffmpeg (hundreds of milliseconds) and a dialog turn
runs inside the update's database transaction, holding the person's conversation row locked:

* ``make`` renders now if the audio cache lacks the note. Only for callers with no transaction open: a
  listing's notes are made when it is published (the notifier) and its review pitch when it is submitted.
* ``ready`` only reads the cache: the note when it is rendered, else None at once; the missing note is then
  rendered in the background (in this process, outside any transaction, a few at a time) so the next card of
  that job has it. A dialog turn (browse, a job's card, the employer's preview, the moderators' review card)
  uses ``ready``: a card whose note is not rendered yet goes out with its text and buttons, without the voice
  note, and the update never waits for ffmpeg. Losing a background render (the process stops) costs only
  time: the cache is content-addressed and the next ``ready`` asks again.

Tests pass fakes instead, so they run without ffmpeg.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from pathlib import Path

from conversations.replies import Voice
from conversations.turn import AudioProvider, ClipNormaliser
from media.composer import PitchJob, Utterance, compose_pitch
from media.employer_clip import GREETING_MAX_SECONDS, normalise_employer_clip_async
from media.renderer import Renderer

log = logging.getLogger(__name__)

# Voice notes whose cache files are known, per (job facts, language): saves composing and hashing the pitch on
# every card. Safe to lose and to differ between processes: a miss recomputes the same content-addressed name.
REMEMBERED = 4096
RENDERS_AT_ONCE = 1  # background renders in flight per process: ffmpeg must not starve the webhook


class VoiceNotes:
    """A job's pitch as OGG (Telegram) and MP3 (Messenger, web) from the renderer's content-addressed cache."""

    def __init__(self, renderer: Renderer, renders_at_once: int = RENDERS_AT_ONCE) -> None:
        self.renderer = renderer
        self._known: OrderedDict[tuple[PitchJob, str], Voice] = OrderedDict()
        self._rendering: dict[tuple[PitchJob, str], asyncio.Task[Voice | None]] = {}
        self._renders_at_once = renders_at_once
        self._slots: asyncio.Semaphore | None = None

    async def ready(self, job: PitchJob, language: str) -> Voice | None:
        """The voice note if it is rendered; else None, and it is rendered in the background. Never ffmpeg."""
        key = (job, language)
        voice = self._remembered(key)
        if voice is not None:
            return voice
        utterance = self._utterance(job, language)
        voice = self._voice(self.renderer.cache_path(utterance, "ogg"), self.renderer.cache_path(utterance, "mp3"))
        if _exists(voice):
            return self._remember(key, voice)
        self.request(job, language)
        return None

    async def make(self, job: PitchJob, language: str) -> Voice | None:
        """The voice note, rendered now if the cache lacks it (runs ffmpeg: never inside a transaction)."""
        key = (job, language)
        voice = self._remembered(key)
        if voice is not None:
            return voice
        utterance = self._utterance(job, language)
        ogg = await self.renderer.render_async(utterance, "ogg")
        mp3 = await self.renderer.render_async(utterance, "mp3")
        return self._remember(key, self._voice(ogg, mp3))

    def request(self, job: PitchJob, language: str) -> None:
        """Render in the background (once, however many cards ask meanwhile); errors are logged."""
        key = (job, language)
        if key in self._rendering:
            return
        task = asyncio.get_running_loop().create_task(self._render_later(job, language))
        self._rendering[key] = task
        task.add_done_callback(lambda _task: self._rendering.pop(key, None))

    async def rendered(self) -> None:
        """Wait for the background renders asked for so far (tests, an orderly shutdown)."""
        while self._rendering:
            await asyncio.gather(*self._rendering.values(), return_exceptions=True)

    async def _render_later(self, job: PitchJob, language: str) -> Voice | None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._renders_at_once)
        async with self._slots:
            try:
                return await self.make(job, language)
            except Exception:  # the card already went without it; the next one asks again
                log.exception("rendering a voice note (%s) failed", language)
                return None

    def _utterance(self, job: PitchJob, language: str) -> Utterance:
        return compose_pitch(job, language, durations=self.renderer.pack(language))

    @staticmethod
    def _voice(ogg: Path, mp3: Path) -> Voice:
        # The OGG's content hash names the audio, so Telegram's file_id cache is per distinct voice note.
        return Voice(audio_id=ogg.stem, ogg=ogg, mp3=mp3)

    def _remembered(self, key: tuple[PitchJob, str]) -> Voice | None:
        voice = self._known.get(key)
        if voice is None:
            return None
        if not _exists(voice):  # the cache was cleared under us: compute and render again
            del self._known[key]
            return None
        self._known.move_to_end(key)
        return voice

    def _remember(self, key: tuple[PitchJob, str], voice: Voice) -> Voice:
        self._known[key] = voice
        self._known.move_to_end(key)
        while len(self._known) > REMEMBERED:
            self._known.popitem(last=False)
        return voice


def _exists(voice: Voice) -> bool:
    return all(path is not None and path.exists() for path in (voice.ogg, voice.mp3))


def renderer_audio(renderer: Renderer) -> AudioProvider:
    """A job's pitch rendered to OGG and MP3 now if need be (``VoiceNotes.make``)."""
    return VoiceNotes(renderer).make


def employer_clip_normaliser(out_dir: Path) -> ClipNormaliser:
    """An employer's upload → a normalised WAV under out_dir (raises EmployerClipRejected with a reason)."""

    async def normalise(upload: Path) -> Path:
        return await normalise_employer_clip_async(upload, out_dir)

    return normalise


def greeting_normaliser(out_dir: Path) -> ClipNormaliser:
    """A relative's greeting → a normalised WAV of at most five seconds under out_dir (raises
    EmployerClipRejected with a reason, "too_long" beyond five seconds)."""

    async def normalise(upload: Path) -> Path:
        return await normalise_employer_clip_async(upload, out_dir, max_seconds=GREETING_MAX_SECONDS)

    return normalise
