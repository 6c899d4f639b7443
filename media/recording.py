"""Import the voice talent's recordings into a pack: trimmed, mono, at the pack's rate, loudness-normalised."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from media import audio
from media.catalog import clip_keys, same_text_groups
from media.ffmpeg import FfmpegError, decode_pcm
from media.packs import CLIP_SUFFIXES, CLIPS, MANIFEST, PackManifest

DEFAULT_SAMPLE_RATE = 48_000


@dataclass
class ImportResult:
    """What an import did; missing keys still need recording."""

    imported: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # files whose name is no catalog key: skipped
    rejected: dict[str, str] = field(default_factory=dict)  # key → why
    missing: list[str] = field(default_factory=list)


def recording_files(src: Path) -> list[Path]:
    """Audio files in a folder of recordings, named <clip key>.<ext>."""
    return sorted(p for p in src.iterdir() if p.suffix.lower() in CLIP_SUFFIXES and not p.name.startswith("."))


def import_recordings(
    src: Path,
    lang: str,
    out: Path,
    sample_rate: int = DEFAULT_SAMPLE_RATE,
    speaker: str = "unknown",
    version: str | None = None,
    ffmpeg: str | None = None,
    progress: Callable[[int], object] | None = None,
) -> ImportResult:
    """Normalise every recording in src into the pack folder out (WAV clips and a manifest)."""
    known = set(clip_keys())
    result = ImportResult()
    clips = out / CLIPS
    clips.mkdir(parents=True, exist_ok=True)
    durations: dict[str, int] = {}
    files = recording_files(src)
    recorded = {p.stem for p in files}
    for path in files:
        key = path.stem
        if key not in known:
            result.unknown.append(path.name)
        else:
            try:
                durations[key] = _import_clip(path, clips / f"{key}.wav", sample_rate, ffmpeg)
                result.imported.append(key)
            except (FfmpegError, ValueError) as exc:
                result.rejected[key] = str(exc)
            else:
                # A text shared by several clips (នាក់ for one person and for many) is recorded once.
                for twin in same_text_groups()[key]:
                    if twin not in recorded:
                        shutil.copyfile(clips / f"{key}.wav", clips / f"{twin}.wav")
                        durations[twin] = durations[key]
        if progress:
            progress(1)
    result.missing = [k for k in clip_keys() if k not in durations and not (clips / f"{k}.wav").exists()]
    manifest = PackManifest(
        lang=lang,
        version=version or datetime.now(UTC).strftime("%Y%m%d-%H%M%S"),
        sample_rate=sample_rate,
        speaker=speaker,
        placeholder=False,
        durations_ms=_merge_durations(out, durations),
    )
    manifest.write(out / MANIFEST)
    return result


def _import_clip(source: Path, target: Path, sample_rate: int, ffmpeg: str | None) -> int:
    segment = audio.trim_silence(audio.from_pcm(decode_pcm(source, sample_rate, ffmpeg), sample_rate))
    if len(segment) == 0:
        raise ValueError("nothing but silence")
    segment = audio.normalise_loudness(segment)
    tmp = target.with_name(f".{target.name}.part")
    try:
        audio.write_wav(segment, tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return len(segment)


def _merge_durations(out: Path, new: dict[str, int]) -> dict[str, int]:
    # Importing a few re-recorded clips keeps the durations of the ones already in the pack.
    try:
        old = dict(PackManifest.read(out / MANIFEST).durations_ms)
    except Exception:
        old = {}
    return {**old, **new}
