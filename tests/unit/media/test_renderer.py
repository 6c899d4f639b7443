"""Rendering: real files probed for format and length, the cache, and renders that fail half-way."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from media import audio
from media.composer import PitchJob, Utterance, compose_pitch, estimate_ms, job_menu
from media.ffmpeg import FfmpegError, decode_pcm, probe
from media.packs import MissingClipError, PromptPack
from media.renderer import Renderer

JOB = PitchJob(
    sector="construction", province_code="17", salary_amount=40000, salary_currency="KHR", salary_period="day"
)


@pytest.mark.parametrize(
    ("fmt", "container", "codec", "rate"),
    [("ogg", "ogg", "opus", 48000), ("mp3", "mp3", "mp3", 24000), ("wav", "wav", "pcm_mulaw", 8000)],
)
def test_rendered_file_is_what_the_channel_expects(
    renderer: Renderer, packs: dict[str, PromptPack], fmt: Any, container: str, codec: str, rate: int
) -> None:
    pitch = compose_pitch(JOB, "km", packs["km"])
    path = renderer.render(pitch, fmt)
    info = probe(path)
    assert (info.container, info.codec, info.channels, info.sample_rate) == (container, codec, 1, rate)
    assert abs(info.duration_ms - estimate_ms(pitch, packs["km"])) < 150
    # Audible speech, not silence: the placeholder clips are loudness-normalised to about -20 dBFS.
    level = audio.loudness_dbfs(audio.from_pcm(decode_pcm(path, 16000), 16000))
    assert -30 < level < -12


def test_same_utterance_is_rendered_once(packs: dict[str, PromptPack], tmp_path: Path, counting_ffmpeg: Any) -> None:
    ffmpeg, calls = counting_ffmpeg
    renderer = Renderer(packs, tmp_path / "cache", ffmpeg=ffmpeg)
    first = renderer.render(job_menu("en"), "ogg")
    assert len(calls.read_text().splitlines()) == 1
    again = Renderer(packs, tmp_path / "cache", ffmpeg=ffmpeg).render(job_menu("en"), "ogg")
    assert again == first
    assert len(calls.read_text().splitlines()) == 1
    assert renderer.render(job_menu("km"), "ogg") != first  # another pack, another file


async def test_async_render_and_prerender(renderer: Renderer) -> None:
    pitch = compose_pitch(JOB, "en")
    paths = await renderer.prerender_async([pitch])
    assert [p.suffix for p in paths] == [".ogg", ".mp3"]
    assert await renderer.render_async(pitch, "mp3") == paths[1]


def _no_leftovers(cache: Path) -> None:
    renders = cache / "renders"
    assert not renders.exists() or list(renders.iterdir()) == []


def test_ffmpeg_dying_mid_render_leaves_no_file(packs: dict[str, PromptPack], tmp_path: Path) -> None:
    dying = tmp_path / "ffmpeg-dies"
    # Writes the start of an Ogg file to its output (the last argument), then is killed.
    dying.write_text('#!/bin/sh\nfor out; do :; done\nprintf OggS-half > "$out"\nkill -9 $$\n')
    dying.chmod(0o755)
    renderer = Renderer(packs, tmp_path / "cache", ffmpeg=str(dying))
    with pytest.raises(FfmpegError):
        renderer.render(job_menu("km"), "ogg")
    _no_leftovers(tmp_path / "cache")


def test_interrupted_render_leaves_no_file(
    packs: dict[str, PromptPack], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(args: list[str], **kwargs: Any) -> None:
        Path(args[-1]).write_bytes(b"OggS-half")
        raise KeyboardInterrupt

    renderer = Renderer(packs, tmp_path / "cache")
    monkeypatch.setattr(subprocess, "run", interrupted)
    with pytest.raises(KeyboardInterrupt):
        renderer.render(job_menu("km"), "mp3")
    _no_leftovers(tmp_path / "cache")


def test_missing_clip_names_the_key(renderer: Renderer) -> None:
    with pytest.raises(MissingClipError, match=r"sector\.mining"):
        renderer.render(Utterance("km", (("sector.mining",),)), "ogg")


def test_employer_clip_is_heard_in_the_pitch(renderer: Renderer, packs: dict[str, PromptPack], tmp_path: Path) -> None:
    clip = packs["en"].wav("ivr.service")  # any normalised WAV stands in for an employer's recording
    job = PitchJob(sector="retail", employer_clip=clip)
    with_clip, without = compose_pitch(job, "km"), compose_pitch(PitchJob(sector="retail"), "km")
    longer = probe(renderer.render(with_clip, "mp3")).duration_ms - probe(renderer.render(without, "mp3")).duration_ms
    assert (
        abs(longer - (packs["km"].duration_ms("employer.intro") + packs["en"].duration_ms("ivr.service") + 600)) < 150
    )


def test_stale_partial_files_are_swept(packs: dict[str, PromptPack], tmp_path: Path) -> None:
    renders = tmp_path / "cache" / "renders"
    renders.mkdir(parents=True)
    stale = renders / ".abc.123.ogg.part"
    stale.write_bytes(b"half")
    assert Renderer(packs, tmp_path / "cache").remove_stale_parts(older_than_s=-1) == 1
    assert not stale.exists()
