"""Coverage and quality report of a prompt pack, for `bongpheak prompts check`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from media import audio
from media.catalog import clip_keys
from media.ffmpeg import FfmpegError, decode_pcm, probe
from media.packs import MANIFEST, PackManifest, clip_sources

QUIET_DBFS = -32.0  # speech RMS below this is hard to hear on a phone
LOUD_DBFS = -10.0  # above this it distorts on cheap handsets
MAX_EDGE_SILENCE_MS = 500  # leading or trailing; the renderer adds its own pauses
MAX_CLIPPED_SAMPLES = 3  # a few full-scale samples can be chance; more means clipping
# Opus always decodes at 48 kHz whatever was recorded, so its rate says nothing about the recording.
_RATE_FREE_CODECS = {"opus"}


@dataclass(frozen=True)
class Defect:
    """One thing wrong with one clip (or the pack as a whole when key is "*")."""

    key: str
    kind: str  # missing, extra, corrupt, wrong-rate, stereo, clipping, too-quiet, too-loud, silence
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.key}: {self.kind}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class PackReport:
    """What `prompts check` found."""

    root: Path
    manifest: PackManifest | None
    clips_checked: int = 0
    defects: list[Defect] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.defects

    def kinds(self) -> set[str]:
        """The kinds of defect found."""
        return {d.kind for d in self.defects}


def check_pack(
    root: Path,
    expected_keys: Iterable[str] | None = None,
    ffmpeg: str | None = None,
    progress: Callable[[int], object] | None = None,
) -> PackReport:
    """Check a pack folder against the catalog (or expected_keys) and every clip's audio."""
    try:
        manifest = PackManifest.read(root / MANIFEST)
    except Exception as exc:
        return PackReport(root, None, defects=[Defect("*", "manifest", str(exc))])
    report = PackReport(root, manifest)
    expected = list(clip_keys() if expected_keys is None else expected_keys)
    sources = clip_sources(root)
    report.defects += [Defect(k, "missing") for k in expected if k not in sources]
    report.defects += [Defect(k, "extra", p.name) for k, p in sources.items() if k not in expected]
    for key, path in sources.items():
        report.defects += check_clip(key, path, manifest.sample_rate, ffmpeg)
        report.clips_checked += 1
        if progress:
            progress(1)
    return report


def check_clip(key: str, path: Path, sample_rate: int, ffmpeg: str | None = None) -> list[Defect]:
    """Defects of one clip file: format first, then level and silence of its decoded audio."""
    defects = []
    try:
        if path.suffix.lower() == ".wav":
            # Recorded packs are WAV: pydub reads them directly, no ffmpeg process per clip.
            segment = audio.read_wav(path)
            codec, rate, channels = "pcm", segment.frame_rate, segment.channels
        else:
            info = probe(path, ffmpeg)
            codec, rate, channels = info.codec, info.sample_rate, info.channels
            segment = audio.from_pcm(decode_pcm(path, rate, ffmpeg), rate)
    except (FfmpegError, OSError, EOFError, ValueError) as exc:
        return [Defect(key, "corrupt", str(exc))]
    if channels != 1:
        defects.append(Defect(key, "stereo", f"{channels} channels"))
        segment = segment.set_channels(1)
    if codec not in _RATE_FREE_CODECS and rate != sample_rate:
        defects.append(Defect(key, "wrong-rate", f"{rate} Hz, pack is {sample_rate} Hz"))
    if len(segment) == 0:
        return [*defects, Defect(key, "corrupt", "no audio")]
    clipped = audio.clipped_samples(segment)
    if clipped > MAX_CLIPPED_SAMPLES:
        defects.append(Defect(key, "clipping", f"{clipped} samples at full scale"))
    speech = audio.trim_silence(segment, keep_ms=0)
    level = audio.loudness_dbfs(speech) if len(speech) else float("-inf")
    if level < QUIET_DBFS:
        defects.append(Defect(key, "too-quiet", f"{level:.1f} dBFS"))
    elif level > LOUD_DBFS:
        defects.append(Defect(key, "too-loud", f"{level:.1f} dBFS"))
    lead, trail = audio.leading_silence_ms(segment), audio.trailing_silence_ms(segment)
    if lead >= len(segment):
        defects.append(Defect(key, "silence", "nothing but silence"))
    elif lead > MAX_EDGE_SILENCE_MS or trail > MAX_EDGE_SILENCE_MS:
        defects.append(Defect(key, "silence", f"{lead} ms before, {trail} ms after"))
    return defects
