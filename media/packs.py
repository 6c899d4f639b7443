"""Prompt packs: one folder per language with a manifest and a clip per catalog key."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import wave
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from media import audio
from media.audio import AudioSegment
from media.catalog import LANGUAGES
from media.ffmpeg import ffmpeg_exe, run

log = logging.getLogger(__name__)

BUNDLED_PACKS = Path(__file__).resolve().parent / "packs"
MANIFEST = "manifest.json"
CLIPS = "clips"
CLIP_SUFFIXES = (".wav", ".flac", ".ogg", ".opus", ".mp3", ".m4a")
PLACEHOLDER_NOTICE = "placeholder pack (English gloss), not Khmer"
_DECODE_BATCH = 40  # inputs per ffmpeg process when decoding a pack into the cache


class PackError(Exception):
    """A pack cannot be used as it is."""


class MissingClipError(PackError, LookupError):
    """A key the composer asked for has no clip in the pack."""

    def __init__(self, key: str, lang: str, root: Path) -> None:
        super().__init__(f"clip {key!r} is missing from the {lang} pack at {root}")
        self.key = key
        self.lang = lang


@dataclass(frozen=True)
class PackManifest:
    """What manifest.json says about a pack."""

    lang: str
    version: str
    sample_rate: int
    speaker: str
    placeholder: bool
    durations_ms: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> PackManifest:
        """Parse a manifest file; PackError if it is unreadable or incomplete."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                lang=str(data["lang"]),
                version=str(data["version"]),
                sample_rate=int(data["sample_rate"]),
                speaker=str(data["speaker"]),
                placeholder=bool(data["placeholder"]),
                durations_ms={str(k): int(v) for k, v in data.get("durations_ms", {}).items()},
            )
        except FileNotFoundError:
            raise PackError(f"no {MANIFEST} in {path.parent}") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise PackError(f"{path}: bad manifest ({exc})") from None

    def write(self, path: Path) -> None:
        """Write the manifest, durations sorted so diffs stay small."""
        data = asdict(self)
        data["durations_ms"] = dict(sorted(self.durations_ms.items()))
        path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


class PromptPack:
    """A language's clips, decoded on first use into loudness-normalised WAVs in the audio cache."""

    def __init__(self, root: Path, cache_dir: Path, ffmpeg: str | None = None) -> None:
        self.root = root
        self.manifest = PackManifest.read(root / MANIFEST)
        self.ffmpeg = ffmpeg
        self.sources = clip_sources(root)
        # The version names the recording; the fingerprint catches clips edited without bumping it.
        # Content, not mtimes, so every machine names the same pack (and its renders) the same way.
        fingerprint = _fingerprint([self.root / MANIFEST, *self.sources.values()])
        self.identity = f"{self.lang}-{self.manifest.version}-{fingerprint}"
        self.wav_dir = cache_dir / "clips" / self.identity
        self._segments: dict[str, AudioSegment] = {}
        if self.manifest.placeholder:
            log.info("%s: %s", root, PLACEHOLDER_NOTICE)

    @property
    def lang(self) -> str:
        return self.manifest.lang

    @property
    def sample_rate(self) -> int:
        return self.manifest.sample_rate

    def describe(self) -> str:
        """One line for operators: language, version, speaker, and whether it is a placeholder."""
        kind = PLACEHOLDER_NOTICE if self.manifest.placeholder else f"recorded by {self.manifest.speaker}"
        return f"{self.lang} pack {self.manifest.version}, {len(self.sources)} clips, {kind}"

    def source(self, key: str) -> Path:
        """The clip file for key, as recorded or committed."""
        try:
            return self.sources[key]
        except KeyError:
            raise MissingClipError(key, self.lang, self.root) from None

    def wav(self, key: str) -> Path:
        """The decoded, normalised WAV for key (decoded now if this is its first use)."""
        path = self.wav_dir / f"{key}.wav"
        if not path.exists():
            self.prepare([key])
        return path

    def segment(self, key: str) -> AudioSegment:
        """The clip as a pydub segment, kept in memory after the first read."""
        segment = self._segments.get(key)
        if segment is None:
            segment = audio.read_wav(self.wav(key))
            self._segments[key] = segment
        return segment

    def duration_ms(self, part: str | Path) -> int:
        """Length of a clip key (from the manifest when it knows) or of a WAV file such as an employer clip."""
        if isinstance(part, Path):
            return wav_duration_ms(part)
        known = self.manifest.durations_ms.get(part)
        if known is not None:
            self.source(part)
            return known
        return len(self.segment(part))

    def prepare(self, keys: Iterable[str] | None = None) -> None:
        """Decode the given keys (default: all) into the cache, one ffmpeg process per batch of clips."""
        wanted = list(self.sources) if keys is None else list(keys)
        todo = [k for k in wanted if not (self.wav_dir / f"{k}.wav").exists()]
        for key in todo:
            self.source(key)
        self.wav_dir.mkdir(parents=True, exist_ok=True)
        for start in range(0, len(todo), _DECODE_BATCH):
            self._decode(todo[start : start + _DECODE_BATCH])

    def _decode(self, keys: list[str]) -> None:
        with tempfile.TemporaryDirectory(dir=self.wav_dir, prefix=".decode-") as tmp:
            args: list[str] = []
            for key in keys:
                args += ["-i", str(self.sources[key])]
            for i, key in enumerate(keys):
                raw = Path(tmp) / f"{key}.raw.wav"
                args += ["-map", f"{i}:a:0", "-ac", "1", "-ar", str(self.sample_rate), "-c:a", "pcm_s16le"]
                args.append(str(raw))
            run(args, self.ffmpeg)
            for key in keys:
                segment = audio.normalise_loudness(audio.read_wav(Path(tmp) / f"{key}.raw.wav"))
                done = Path(tmp) / f"{key}.wav"
                audio.write_wav(segment, done)
                # Atomic: a reader sees either no clip or the whole clip, even with several processes.
                os.replace(done, self.wav_dir / f"{key}.wav")


def clip_sources(root: Path) -> dict[str, Path]:
    """Clip files of a pack folder by key (the file name without its suffix)."""
    folder = root / CLIPS
    if not folder.is_dir():
        return {}
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in CLIP_SUFFIXES and not path.name.startswith("."):
            found.setdefault(path.stem, path)
    return found


def pack_root(lang: str, pack_dir: Path | None = None) -> Path:
    """The folder of a language's pack: pack_dir/<lang>, or the bundled placeholder pack."""
    if lang not in LANGUAGES:
        raise PackError(f"no such language: {lang!r} (expected one of {', '.join(LANGUAGES)})")
    return (pack_dir or BUNDLED_PACKS) / lang


def load_pack(lang: str, cache_dir: Path, pack_dir: Path | None = None, ffmpeg: str | None = None) -> PromptPack:
    """The pack for lang from pack_dir (None: the bundled placeholder packs), decoding into cache_dir."""
    pack = PromptPack(pack_root(lang, pack_dir), cache_dir, ffmpeg)
    if pack.lang != lang:
        raise PackError(f"{pack.root}: manifest says lang {pack.lang!r}, expected {lang!r}")
    return pack


def load_packs(cache_dir: Path, pack_dir: Path | None = None, ffmpeg: str | None = None) -> dict[str, PromptPack]:
    """Packs for every language, ready for a Renderer."""
    ffmpeg_exe(ffmpeg)
    return {lang: load_pack(lang, cache_dir, pack_dir, ffmpeg) for lang in LANGUAGES}


def wav_duration_ms(path: Path) -> int:
    """Length of a WAV file from its header."""
    with wave.open(str(path), "rb") as w:
        return w.getnframes() * 1000 // w.getframerate()


def _fingerprint(paths: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:12]
