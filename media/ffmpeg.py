"""The ffmpeg binary (from the imageio-ffmpeg wheel unless configured) and a probe parsed from ``ffmpeg -i``."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import imageio_ffmpeg


class FfmpegError(RuntimeError):
    """ffmpeg could not read or write a file."""


@cache
def ffmpeg_exe(configured: str | None = None) -> str:
    """The configured ffmpeg, else the one shipped in the imageio-ffmpeg wheel (has libopus and lame)."""
    return configured or str(imageio_ffmpeg.get_ffmpeg_exe())


@dataclass(frozen=True)
class AudioInfo:
    """What a player needs to know about an audio file."""

    container: str
    codec: str
    sample_rate: int
    channels: int
    duration_ms: int


_INPUT = re.compile(r"^Input #0, ([^ ]+), from", re.M)
_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")
_AUDIO = re.compile(r"Stream #0:\d+\S*: Audio: (\w+)[^\n]*?, (\d+) Hz, ([^,\n]+)")
_CHANNEL_LAYOUTS = {"mono": 1, "stereo": 2, "2.1": 3, "quad": 4, "5.0": 5, "5.1": 6, "7.1": 8}


def probe(path: Path, ffmpeg: str | None = None) -> AudioInfo:
    """Container, codec, rate, channels and duration of an audio file (the wheel ships no ffprobe)."""
    # ffmpeg without an output file exits 1 after printing the input's description; that is expected.
    result = subprocess.run(
        [ffmpeg_exe(ffmpeg), "-hide_banner", "-nostdin", "-i", str(path)],
        capture_output=True,
        text=True,
        errors="replace",
        check=False,
    )
    text = result.stderr
    container, duration, audio = _INPUT.search(text), _DURATION.search(text), _AUDIO.search(text)
    if not (container and duration and audio):
        raise FfmpegError(f"not a readable audio file: {path.name}: {_last_line(text)}")
    hours, minutes, seconds = duration.groups()
    layout = audio.group(3).strip()
    counted = re.match(r"(\d+) channels", layout)
    channels = _CHANNEL_LAYOUTS.get(layout) or (int(counted.group(1)) if counted else 0)
    return AudioInfo(
        container=container.group(1),
        codec=audio.group(1),
        sample_rate=int(audio.group(2)),
        channels=channels,
        duration_ms=round((int(hours) * 3600 + int(minutes) * 60 + float(seconds)) * 1000),
    )


def decode_pcm(source: Path, sample_rate: int, ffmpeg: str | None = None, max_seconds: float | None = None) -> bytes:
    """Decode any audio file to 16-bit mono PCM at sample_rate (only the first max_seconds, if given)."""
    args = [ffmpeg_exe(ffmpeg), "-hide_banner", "-nostdin", "-v", "error", "-i", str(source)]
    if max_seconds is not None:
        args += ["-t", str(max_seconds)]
    args += ["-map", "0:a:0", "-ac", "1", "-ar", str(sample_rate), "-f", "s16le", "-c:a", "pcm_s16le", "-"]
    result = subprocess.run(args, capture_output=True, check=False)
    if result.returncode != 0:
        raise FfmpegError(f"cannot decode {source.name}: {_last_line(result.stderr.decode(errors='replace'))}")
    return result.stdout


def run(args: list[str], ffmpeg: str | None = None, stdin: bytes | None = None) -> None:
    """Run ffmpeg with args; raise FfmpegError with its last message line if it fails."""
    result = subprocess.run(
        [ffmpeg_exe(ffmpeg), "-hide_banner", "-nostdin", "-v", "error", "-y", *args],
        input=stdin,
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        raise FfmpegError(f"ffmpeg failed: {_last_line(result.stderr.decode(errors='replace'))}")


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no output"
