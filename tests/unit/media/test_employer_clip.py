"""An employer's uploaded recording: normalised when fine, refused with a reason when not."""

from __future__ import annotations

from pathlib import Path

import pytest

from media import audio
from media.employer_clip import EmployerClipRejected, normalise_employer_clip, normalise_employer_clip_async
from media.ffmpeg import run
from media.packs import PromptPack


def _upload(packs: dict[str, PromptPack], tmp_path: Path, name: str, codec: list[str], repeat: int = 1) -> Path:
    """Speech from the placeholder pack encoded the way a chat app sends it."""
    speech = packs["en"].wav("ivr.service")  # about 6 s
    out = tmp_path / name
    inputs = [arg for _ in range(repeat) for arg in ("-i", str(speech))]
    run([*inputs, "-filter_complex", f"concat=n={repeat}:v=0:a=1", "-ac", "2", "-ar", "44100", *codec, str(out)])
    return out


@pytest.mark.parametrize(
    ("name", "codec"),
    [
        ("voice.ogg", ["-c:a", "libopus", "-ar", "48000"]),
        ("voice.mp3", ["-c:a", "libmp3lame"]),
        ("voice.m4a", ["-c:a", "aac"]),
    ],
)
def test_uploads_from_telegram_and_messenger_are_normalised(
    packs: dict[str, PromptPack], tmp_path: Path, name: str, codec: list[str]
) -> None:
    upload = _upload(packs, tmp_path, name, codec)
    clip = normalise_employer_clip(upload, tmp_path / "clips")
    segment = audio.read_wav(clip)
    assert (segment.channels, segment.frame_rate) == (1, 24000)
    assert 4000 < len(segment) < 8000
    assert abs(audio.loudness_dbfs(segment) - audio.TARGET_DBFS) < 1.5
    assert normalise_employer_clip(upload.read_bytes(), tmp_path / "clips") == clip  # same content, same file


async def test_over_long_upload_is_refused(packs: dict[str, PromptPack], tmp_path: Path) -> None:
    upload = _upload(packs, tmp_path, "long.ogg", ["-c:a", "libopus", "-ar", "48000"], repeat=6)
    with pytest.raises(EmployerClipRejected) as refused:
        await normalise_employer_clip_async(upload, tmp_path / "clips")
    assert refused.value.reason == "too_long"
    assert normalise_employer_clip(upload, tmp_path / "clips", max_seconds=60).exists()


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"OggS" + bytes(range(256)) * 20, "corrupt"), (b"", "corrupt"), (b"<html>not audio</html>", "corrupt")],
)
def test_corrupt_upload_is_refused(tmp_path: Path, content: bytes, reason: str) -> None:
    with pytest.raises(EmployerClipRejected) as refused:
        normalise_employer_clip(content, tmp_path / "clips")
    assert refused.value.reason == reason
    assert not (tmp_path / "clips").exists() or not list((tmp_path / "clips").iterdir())


def test_silent_upload_is_refused(tmp_path: Path) -> None:
    silent = tmp_path / "silent.ogg"
    run(["-f", "lavfi", "-t", "5", "-i", "anullsrc=r=48000:cl=mono", "-c:a", "libopus", str(silent)])
    with pytest.raises(EmployerClipRejected) as refused:
        normalise_employer_clip(silent, tmp_path / "clips")
    assert refused.value.reason == "silent"
