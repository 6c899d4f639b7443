"""An employer's own voice description: decoded, trimmed, loudness-normalised and length-checked."""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Literal

from media import audio
from media.ffmpeg import FfmpegError, decode_pcm

MAX_SECONDS = 30.0
GREETING_MAX_SECONDS = 5.0  # a relative's greeting to the worker: a name and a sentence, nothing more
MIN_SECONDS = 1.0
MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # Telegram's bot download limit; nothing legitimate is larger
DEFAULT_SAMPLE_RATE = 24_000  # the placeholder packs' rate; the renderer resamples anything else

Reason = Literal["corrupt", "too_long", "too_short", "silent", "too_large"]


class EmployerClipRejected(ValueError):
    """An upload that cannot become a clip; reason is a code the bot translates for the employer."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason: Reason = reason
        self.detail = detail


def normalise_employer_clip(
    upload: Path | bytes,
    out_dir: Path,
    sample_rate: int = DEFAULT_SAMPLE_RATE,
    max_seconds: float = MAX_SECONDS,
    ffmpeg: str | None = None,
) -> Path:
    """Turn an upload (OGG/Opus, MP3, M4A…) into a normalised mono WAV in out_dir, named by its content."""
    if isinstance(upload, bytes):
        # MP4/M4A keep their index at the end, so ffmpeg needs a seekable file, not a pipe.
        with tempfile.NamedTemporaryFile(suffix=".upload") as f:
            f.write(upload)
            f.flush()
            return normalise_employer_clip(Path(f.name), out_dir, sample_rate, max_seconds, ffmpeg)
    size = upload.stat().st_size
    if size > MAX_UPLOAD_BYTES:
        raise EmployerClipRejected("too_large", f"{size} bytes")
    if size == 0:
        raise EmployerClipRejected("corrupt", "empty file")
    try:
        # Decode a little beyond the limit only: enough to see it is too long, never hours of audio.
        pcm = decode_pcm(upload, sample_rate, ffmpeg, max_seconds=max_seconds + 15)
    except FfmpegError as exc:
        raise EmployerClipRejected("corrupt", str(exc)) from None
    if not pcm:
        raise EmployerClipRejected("corrupt", "no audio in the file")
    segment = audio.trim_silence(audio.from_pcm(pcm, sample_rate))
    if len(segment) == 0 or audio.loudness_dbfs(segment) < audio.SILENCE_DBFS:
        raise EmployerClipRejected("silent", "nothing audible")
    seconds = len(segment) / 1000
    if seconds > max_seconds:
        raise EmployerClipRejected("too_long", f"{seconds:.1f} s of speech, at most {max_seconds:.0f} s")
    if seconds < MIN_SECONDS:
        raise EmployerClipRejected("too_short", f"{seconds:.1f} s")
    segment = audio.normalise_loudness(segment)
    digest = hashlib.sha256(segment.raw_data).hexdigest()[:24]
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"employer-{digest}.wav"
    if not path.exists():
        fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=".employer-", suffix=".wav.part")
        os.close(fd)
        try:
            audio.write_wav(segment, Path(tmp))
            os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
    return path


async def normalise_employer_clip_async(
    upload: Path | bytes,
    out_dir: Path,
    sample_rate: int = DEFAULT_SAMPLE_RATE,
    max_seconds: float = MAX_SECONDS,
    ffmpeg: str | None = None,
) -> Path:
    """normalise_employer_clip() in a worker thread, off the event loop."""
    return await asyncio.to_thread(normalise_employer_clip, upload, out_dir, sample_rate, max_seconds, ffmpeg)
