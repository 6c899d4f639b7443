"""Utterance → audio file: clips joined in-process with pydub, encoded by one ffmpeg, cached by content."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal

from media import audio
from media.audio import AudioSegment
from media.composer import PHRASE_PAUSE_MS, WORD_GAP_MS, Part, Utterance
from media.ffmpeg import FfmpegError, ffmpeg_exe, probe
from media.packs import PLACEHOLDER_NOTICE, PackError, PromptPack

log = logging.getLogger(__name__)

Format = Literal["ogg", "mp3", "wav"]
# What a message carries (a voice note and its MP3 twin); rendered ahead of time at publish.
FORMATS: tuple[Format, ...] = ("ogg", "mp3")
# What a phone line plays (<Play> on Twilio and Somleng): the line's own G.711 μ-law at 8 kHz mono, in a WAV
# header, so the provider neither decodes nor resamples it (measured and decided in docs/ivr.md).
PHONE_FORMAT: Format = "wav"
ALL_FORMATS: tuple[Format, ...] = (*FORMATS, PHONE_FORMAT)
CONTENT_TYPES: dict[str, str] = {"ogg": "audio/ogg", "mp3": "audio/mpeg", "wav": "audio/wav"}

# Telegram's sendVoice wants OGG/Opus (48 kHz mono); Messenger and the website get MP3; phone lines μ-law WAV.
ENCODER_ARGS: dict[str, list[str]] = {
    "ogg": ["-c:a", "libopus", "-b:a", "32k", "-ar", "48000", "-ac", "1", "-application", "voip", "-f", "ogg"],
    "mp3": ["-c:a", "libmp3lame", "-b:a", "48k", "-ar", "24000", "-ac", "1", "-f", "mp3"],
    # -bitexact: no encoder tag in the header, so the same utterance gives the same bytes on every machine.
    "wav": ["-c:a", "pcm_mulaw", "-ar", "8000", "-ac", "1", "-bitexact", "-f", "wav"],
}


class Renderer:
    """Renders utterances with the packs of each language into a content-addressed cache of audio files."""

    def __init__(self, packs: Mapping[str, PromptPack], cache_dir: Path, ffmpeg: str | None = None) -> None:
        self.packs = dict(packs)
        self.render_dir = cache_dir / "renders"
        self.ffmpeg = ffmpeg_exe(ffmpeg)
        self._announced: set[str] = set()
        self.remove_stale_parts()

    def remove_stale_parts(self, older_than_s: float = 3600) -> int:
        """Delete temp files left by a process killed mid-render (they are never served, only clutter)."""
        if not self.render_dir.is_dir():
            return 0
        cutoff, removed = time.time() - older_than_s, 0
        for path in self.render_dir.glob(".*.part"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                pass  # another process cleaned it first
        return removed

    def pack(self, lang: str) -> PromptPack:
        """The pack speaking lang."""
        try:
            return self.packs[lang]
        except KeyError:
            raise PackError(f"no prompt pack loaded for language {lang!r}") from None

    def cache_path(self, utterance: Utterance, fmt: Format) -> Path:
        """Where the rendering of utterance in fmt lives: named by a hash of everything that shapes it."""
        pack = self.pack(utterance.lang)
        recipe = {
            "pack": pack.identity,
            "encoder": ENCODER_ARGS[fmt],
            "pauses": [WORD_GAP_MS, PHRASE_PAUSE_MS],
            "phrases": [[_part_id(p) for p in phrase] for phrase in utterance.phrases],
        }
        digest = hashlib.sha256(json.dumps(recipe, separators=(",", ":")).encode()).hexdigest()
        return self.render_dir / f"{digest[:40]}.{fmt}"

    def render(self, utterance: Utterance, fmt: Format) -> Path:
        """The audio file for utterance in fmt, rendered now unless the cache already has it."""
        if fmt not in ENCODER_ARGS:
            raise ValueError(f"unknown audio format {fmt!r}; expected one of {', '.join(ALL_FORMATS)}")
        path = self.cache_path(utterance, fmt)
        if path.exists():
            return path
        pack = self.pack(utterance.lang)
        if pack.manifest.placeholder and pack.lang not in self._announced:
            self._announced.add(pack.lang)
            log.warning("rendering %s with a %s", pack.lang, PLACEHOLDER_NOTICE)
        self._encode(self.join(utterance), fmt, path)
        return path

    async def render_async(self, utterance: Utterance, fmt: Format) -> Path:
        """render() in a worker thread, so ffmpeg never blocks the event loop."""
        path = self.cache_path(utterance, fmt)
        if path.exists():
            return path
        return await asyncio.to_thread(self.render, utterance, fmt)

    def prerender(self, utterances: Iterable[Utterance], formats: Iterable[Format] = FORMATS) -> list[Path]:
        """Render ahead of time (at publish), so no send waits for ffmpeg."""
        formats = tuple(formats)
        return [self.render(u, fmt) for u in utterances for fmt in formats]

    async def prerender_async(self, utterances: Iterable[Utterance], formats: Iterable[Format] = FORMATS) -> list[Path]:
        """prerender() off the event loop."""
        return await asyncio.to_thread(self.prerender, list(utterances), tuple(formats))

    def join(self, utterance: Utterance) -> AudioSegment:
        """The utterance as one PCM segment: clips with short gaps, phrases with breathing pauses."""
        pack = self.pack(utterance.lang)
        pack.prepare(p for p in utterance.parts if isinstance(p, str))
        rate = pack.sample_rate
        word_gap, pause = audio.silence_pcm(WORD_GAP_MS, rate), audio.silence_pcm(PHRASE_PAUSE_MS, rate)
        chunks: list[bytes] = []
        for i, phrase in enumerate(utterance.phrases):
            if i:
                chunks.append(pause)
            for j, part in enumerate(phrase):
                if j:
                    chunks.append(word_gap)
                chunks.append(self._segment(pack, part).raw_data)
        # Joining raw bytes once beats pydub's `+`, which copies the whole result at every step.
        return audio.from_pcm(b"".join(chunks), rate)

    def duration_ms(self, path: Path) -> int:
        """Length of a rendered file."""
        return probe(path, self.ffmpeg).duration_ms

    def _segment(self, pack: PromptPack, part: Part) -> AudioSegment:
        if isinstance(part, str):
            return pack.segment(part)
        return audio.as_mono(audio.read_wav(part), pack.sample_rate)

    def _encode(self, segment: AudioSegment, fmt: Format, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=f".{fmt}.part")
        os.close(fd)
        tmp = Path(tmp_name)
        args = [self.ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-y"]
        args += ["-f", "s16le", "-ar", str(segment.frame_rate), "-ac", "1", "-i", "pipe:0"]
        args += [*ENCODER_ARGS[fmt], str(tmp)]
        try:
            result = subprocess.run(args, input=segment.raw_data, capture_output=True, check=False)
            if result.returncode != 0:
                message = result.stderr.decode(errors="replace").strip().splitlines()
                raise FfmpegError(f"encoding {fmt} failed: {message[-1] if message else result.returncode}")
            # Readers only ever see a complete file under the cache name.
            os.replace(tmp, path)
        finally:
            # Also on KeyboardInterrupt or a cancelled task: no half-written file stays behind.
            tmp.unlink(missing_ok=True)


def _part_id(part: Part) -> str:
    if isinstance(part, str):
        return part
    # Employer clips are stored under a name derived from their content; size and mtime guard against reuse.
    st = part.stat()
    return f"file:{part.resolve()}:{st.st_size}:{st.st_mtime_ns}"
