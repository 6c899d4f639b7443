"""`bongpheak voice render`: one listing to an audio file, with the placeholder pack or a configured one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from media.catalog import clip_keys
from media.ffmpeg import probe
from media.packs import BUNDLED_PACKS, MANIFEST, PackManifest
from tests.unit.media.conftest import run_cli

LISTING = {
    "id": "s07",
    "title": "Palm oil plantation workers",
    "location": "abroad: Malaysia",
    "sector": "agriculture",
    "salary_amount": 450,
    "salary_currency": "USD",
    "salary_period": "month",
    "min_age": 18,
    "max_age": 40,
}


@pytest.fixture(autouse=True)
def _settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PROMPT_PACK_DIR", raising=False)
    monkeypatch.setenv("AUDIO_CACHE_DIR", str(tmp_path / "audio"))


@pytest.mark.parametrize(("lang", "fmt", "codec"), [("km", "ogg", "opus"), ("en", "mp3", "mp3")])
def test_render_a_listing(tmp_path: Path, capsys: pytest.CaptureFixture[str], lang: str, fmt: str, codec: str) -> None:
    listing = tmp_path / "listing.json"
    listing.write_text(json.dumps(LISTING))
    out = tmp_path / f"pitch.{fmt}"
    assert run_cli(["voice", "render", str(listing), "--lang", lang, "--format", fmt, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "placeholder pack (English gloss), not Khmer" in printed
    assert "country.malaysia" in printed and "duration:" in printed
    assert probe(out).codec == codec


def test_configured_pack_dir_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    packs = tmp_path / "packs"
    shutil.copytree(BUNDLED_PACKS / "en", packs / "en")
    manifest = PackManifest.read(packs / "en" / MANIFEST)
    PackManifest("en", "studio-2", manifest.sample_rate, "Dara", False, manifest.durations_ms).write(
        packs / "en" / MANIFEST
    )
    monkeypatch.setenv("PROMPT_PACK_DIR", str(packs))
    listing = tmp_path / "listing.json"
    listing.write_text(json.dumps(LISTING))
    assert run_cli(["voice", "render", str(listing), "--lang", "en", "--out", str(tmp_path / "p.ogg")]) == 0
    assert f"en pack studio-2, {len(clip_keys())} clips, recorded by Dara" in capsys.readouterr().out


def test_bad_listing_is_an_operator_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**LISTING, "location": "Atlantis province"}))
    assert run_cli(["voice", "render", str(bad), "--out", str(tmp_path / "x.ogg")]) == 2
    bad.write_text("[1, 2]")
    assert run_cli(["voice", "render", str(bad), "--out", str(tmp_path / "x.ogg")]) == 2
    assert run_cli(["voice", "render", str(tmp_path / "none.json"), "--out", str(tmp_path / "x.ogg")]) == 2
