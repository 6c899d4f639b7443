"""Voice notes for the flows from media's composer and renderer, for the composition root to pass in.

    deps = DialogDeps(..., audio=renderer_audio(renderer), clip_normaliser=employer_clip_normaliser(clip_dir))

Tests pass fakes instead, so they run without ffmpeg.
"""

from __future__ import annotations

from pathlib import Path

from conversations.replies import Voice
from conversations.turn import AudioProvider, ClipNormaliser
from media.composer import PitchJob, compose_pitch
from media.employer_clip import normalise_employer_clip_async
from media.renderer import Renderer


def renderer_audio(renderer: Renderer) -> AudioProvider:
    """A job's pitch rendered to OGG (Telegram) and MP3 (Messenger, web); cached by content in the renderer."""

    async def provide(job: PitchJob, language: str) -> Voice | None:
        pack = renderer.pack(language)
        utterance = compose_pitch(job, language, durations=pack)
        ogg = await renderer.render_async(utterance, "ogg")
        mp3 = await renderer.render_async(utterance, "mp3")
        # The OGG's content hash names the audio, so Telegram's file_id cache is per distinct voice note.
        return Voice(audio_id=ogg.stem, ogg=ogg, mp3=mp3)

    return provide


def employer_clip_normaliser(out_dir: Path) -> ClipNormaliser:
    """An employer's upload → a normalised WAV under out_dir (raises EmployerClipRejected with a reason)."""

    async def normalise(upload: Path) -> Path:
        return await normalise_employer_clip_async(upload, out_dir)

    return normalise
