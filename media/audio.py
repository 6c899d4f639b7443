"""PCM work done in-process with pydub: loudness, silence trimming, joining with pauses."""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import cast

with warnings.catch_warnings():
    # pydub looks for ffmpeg on PATH when imported and warns (we never let it call ffmpeg: media/ffmpeg.py
    # does the decoding); on Python 3.11–3.12 its audioop import is deprecated, a known pydub matter.
    warnings.simplefilter("ignore", RuntimeWarning)
    warnings.simplefilter("ignore", DeprecationWarning)
    from pydub import AudioSegment as AudioSegment
    from pydub.silence import detect_leading_silence

TARGET_DBFS = -20.0  # speech RMS every clip is brought to, so joined clips sound equally loud
PEAK_CEILING_DBFS = -1.0  # headroom left by normalisation, so gain never clips
SILENCE_DBFS = -45.0  # below this a 10 ms chunk counts as silence
SAMPLE_WIDTH = 2  # 16-bit PCM throughout


def from_pcm(pcm: bytes, sample_rate: int) -> AudioSegment:
    """A mono 16-bit segment over raw PCM bytes."""
    return AudioSegment(data=pcm, sample_width=SAMPLE_WIDTH, frame_rate=sample_rate, channels=1)


def read_wav(path: Path) -> AudioSegment:
    """Read a WAV file (pydub parses WAV itself, no ffmpeg)."""
    # Hand pydub an open file: given a path it leaves the file open for the garbage collector.
    with path.open("rb") as f:
        return AudioSegment.from_wav(f)


def write_wav(segment: AudioSegment, path: Path) -> None:
    """Write segment as a WAV file (callers make it atomic)."""
    with path.open("wb") as f:
        segment.export(f, format="wav")


def as_mono(segment: AudioSegment, sample_rate: int) -> AudioSegment:
    """The segment as 16-bit mono at sample_rate."""
    if segment.sample_width != SAMPLE_WIDTH:
        segment = segment.set_sample_width(SAMPLE_WIDTH)
    if segment.channels != 1:
        segment = segment.set_channels(1)
    if segment.frame_rate != sample_rate:
        segment = segment.set_frame_rate(sample_rate)
    return segment


def normalise_loudness(segment: AudioSegment, target_dbfs: float = TARGET_DBFS) -> AudioSegment:
    """Bring the segment's RMS to target_dbfs without letting its peak pass the ceiling."""
    rms, peak = loudness_dbfs(segment), peak_dbfs(segment)
    if math.isinf(rms):
        return segment
    gain = min(target_dbfs - rms, PEAK_CEILING_DBFS - peak)
    return segment.apply_gain(gain)


def trim_silence(segment: AudioSegment, keep_ms: int = 60) -> AudioSegment:
    """Cut leading and trailing silence, keeping a little so words do not start abruptly."""
    lead = max(0, leading_silence_ms(segment) - keep_ms)
    trail = max(0, trailing_silence_ms(segment) - keep_ms)
    if lead + trail >= len(segment):
        return segment[:0]
    return segment[lead : len(segment) - trail]


def leading_silence_ms(segment: AudioSegment) -> int:
    """Milliseconds of silence at the start."""
    return int(detect_leading_silence(segment, silence_threshold=SILENCE_DBFS, chunk_size=10))


def trailing_silence_ms(segment: AudioSegment) -> int:
    """Milliseconds of silence at the end."""
    return int(detect_leading_silence(segment.reverse(), silence_threshold=SILENCE_DBFS, chunk_size=10))


def loudness_dbfs(segment: AudioSegment) -> float:
    """RMS level in dBFS (-inf for digital silence)."""
    return cast(float, segment.dBFS)


def peak_dbfs(segment: AudioSegment) -> float:
    """Peak level in dBFS (-inf for digital silence)."""
    return cast(float, segment.max_dBFS)


def clipped_samples(segment: AudioSegment) -> int:
    """Samples sitting at full scale: a sign the recording was clipped."""
    samples = segment.get_array_of_samples()
    top = (1 << (8 * segment.sample_width - 1)) - 1
    return cast(int, samples.count(top) + samples.count(-top - 1))


def silence_pcm(ms: int, sample_rate: int) -> bytes:
    """Raw PCM for ms of digital silence."""
    return b"\0" * (SAMPLE_WIDTH * (sample_rate * ms // 1000))


def duration_ms(segment: AudioSegment) -> int:
    """Length in milliseconds."""
    return len(segment)
