"""Regenerate the placeholder packs: espeak-ng reading each clip's English gloss (espeak-ng has no Khmer)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from media import audio
from media.catalog import load_catalog
from media.ffmpeg import run
from media.packs import CLIPS, MANIFEST, PLACEHOLDER_NOTICE, PackManifest

# Different voices so a listener can tell the two placeholder packs apart; neither is Khmer.
VOICES = {"km": "en-us+f2", "en": "en-us"}
SAMPLE_RATE = 24_000  # plenty for a phone line and a voice note; halves the work of 48 kHz
OPUS_BITRATE = "20k"  # committed clips are compressed; the cache holds the decoded WAVs
_ENCODE_BATCH = 40


def make_placeholder_pack(
    lang: str,
    out: Path,
    version: str = "placeholder-1",
    espeak: str = "espeak-ng",
    ffmpeg: str | None = None,
    progress: Callable[[int], object] | None = None,
) -> PackManifest:
    """Speak every catalog gloss with espeak-ng into out/clips/<key>.ogg and write out/manifest.json."""
    if shutil.which(espeak) is None:
        raise FileNotFoundError(f"{espeak} is not installed (only needed to regenerate placeholder packs)")
    catalog = load_catalog()
    clips = out / CLIPS
    if clips.exists():
        shutil.rmtree(clips)
    clips.mkdir(parents=True)
    durations: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        wavs: dict[str, Path] = {}
        for key, prompt in catalog.items():
            spoken = Path(tmp) / f"{key}.espeak.wav"
            subprocess.run(
                [espeak, "-v", VOICES[lang], "-s", "160", "-w", str(spoken), prompt.gloss],
                check=True,
                capture_output=True,
            )
            segment = audio.normalise_loudness(audio.trim_silence(audio.as_mono(audio.read_wav(spoken), SAMPLE_RATE)))
            wavs[key] = Path(tmp) / f"{key}.wav"
            audio.write_wav(segment, wavs[key])
            durations[key] = len(segment)
            if progress:
                progress(1)
        keys = list(wavs)
        for start in range(0, len(keys), _ENCODE_BATCH):
            batch = keys[start : start + _ENCODE_BATCH]
            args: list[str] = []
            for key in batch:
                args += ["-i", str(wavs[key])]
            for i, key in enumerate(batch):
                args += ["-map", f"{i}:a", "-c:a", "libopus", "-b:a", OPUS_BITRATE, "-application", "voip"]
                # bitexact: fixed Ogg serial numbers, so regenerating an unchanged catalog changes no file.
                args += ["-map_metadata", "-1", "-fflags", "+bitexact", str(clips / f"{key}.ogg")]
            run(args, ffmpeg)
    manifest = PackManifest(
        lang=lang,
        version=version,
        sample_rate=SAMPLE_RATE,
        speaker=f"espeak-ng {VOICES[lang]} reading the English gloss ({PLACEHOLDER_NOTICE})",
        placeholder=True,
        durations_ms=durations,
    )
    manifest.write(out / MANIFEST)
    return manifest
