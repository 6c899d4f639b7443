"""A job card's voice note from the real composer and renderer (the bundled placeholder packs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conversations.voice_notes import employer_clip_normaliser, renderer_audio
from media.composer import PitchJob
from media.employer_clip import EmployerClipRejected
from media.packs import load_packs
from media.renderer import Renderer


@pytest.fixture(scope="module")
def renderer(tmp_path_factory: pytest.TempPathFactory) -> Renderer:
    cache = tmp_path_factory.mktemp("conversations-audio")
    return Renderer(load_packs(cache), cache)


async def test_a_pitch_becomes_ogg_and_mp3(renderer: Renderer) -> None:
    provide = renderer_audio(renderer)
    job = PitchJob(
        sector="manufacturing", province_code="12", salary_amount=210, salary_currency="USD", salary_period="month"
    )
    voice = await provide(job, "km")
    assert voice is not None and voice.ogg is not None and voice.mp3 is not None
    assert voice.ogg.read_bytes()[:4] == b"OggS" and voice.mp3.stat().st_size > 0
    again = await provide(job, "km")
    assert again == voice  # cached by content


async def test_a_broken_upload_is_rejected_with_a_reason(tmp_path: Path) -> None:
    upload = tmp_path / "voice.ogg"
    upload.write_bytes(b"not audio at all")
    with pytest.raises(EmployerClipRejected) as caught:
        await employer_clip_normaliser(tmp_path / "clips")(upload)
    assert caught.value.reason == "corrupt"
