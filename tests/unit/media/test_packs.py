"""`prompts check` catches defects seeded into a copy of a pack; `prompts import` normalises recordings."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from media import audio
from media.catalog import clip_keys, load_catalog
from media.ffmpeg import run
from media.pack_check import check_pack
from media.packs import MANIFEST, PackManifest, PromptPack
from media.recording import import_recordings
from media.recording_script import CONTINUING, EITHER, FINAL, is_fragment
from tests.unit.media.conftest import run_cli


@pytest.fixture
def wav_pack(packs: dict[str, PromptPack], tmp_path: Path) -> Path:
    """A clean recorded-style pack: the decoded placeholder clips as WAV files."""
    root = tmp_path / "km"
    shutil.copytree(packs["km"].wav_dir, root / "clips")
    PackManifest("km", "test-1", packs["km"].sample_rate, "a tester", placeholder=False).write(root / MANIFEST)
    return root


def _rewrite(root: Path, key: str, change: object) -> None:
    path = root / "clips" / f"{key}.wav"
    audio.write_wav(change(audio.read_wav(path)), path)  # type: ignore[operator]


def test_clean_pack_passes(wav_pack: Path) -> None:
    report = check_pack(wav_pack)
    assert report.ok, [str(d) for d in report.defects]
    assert report.clips_checked == len(clip_keys())
    assert run_cli(["prompts", "check", str(wav_pack)]) == 0


def test_seeded_defects_are_each_reported(wav_pack: Path) -> None:
    (wav_pack / "clips" / "ivr.goodbye.wav").unlink()
    shutil.copy(wav_pack / "clips" / "num.1.wav", wav_pack / "clips" / "ivr.shout.wav")
    _rewrite(wav_pack, "num.5", lambda s: s.set_frame_rate(16000))
    _rewrite(wav_pack, "num.6", lambda s: s.apply_gain(30))
    _rewrite(wav_pack, "num.7", lambda s: audio.from_pcm(audio.silence_pcm(1500, s.frame_rate), s.frame_rate) + s)
    _rewrite(wav_pack, "num.8", lambda s: s.set_channels(2))
    _rewrite(wav_pack, "num.9", lambda s: s.apply_gain(-25))
    (wav_pack / "clips" / "num.3.wav").write_bytes(b"RIFF not really")
    found = {(d.key, d.kind) for d in check_pack(wav_pack).defects}
    assert found == {
        ("ivr.goodbye", "missing"),
        ("ivr.shout", "extra"),
        ("num.5", "wrong-rate"),
        ("num.6", "clipping"),
        ("num.6", "too-loud"),
        ("num.7", "silence"),
        ("num.8", "stereo"),
        ("num.9", "too-quiet"),
        ("num.3", "corrupt"),
    }
    assert run_cli(["prompts", "check", str(wav_pack)]) == 1


def test_missing_manifest_is_a_defect(tmp_path: Path) -> None:
    assert check_pack(tmp_path).kinds() == {"manifest"}
    assert run_cli(["prompts", "check", str(tmp_path / "nowhere")]) == 2


def test_import_normalises_recordings(packs: dict[str, PromptPack], tmp_path: Path) -> None:
    takes = tmp_path / "takes"
    takes.mkdir()
    source = packs["en"].wav("ivr.intro")
    # A stereo 44.1 kHz MP3 with a second of silence before the speech and a quiet level, like a phone recording.
    run(
        ["-f", "lavfi", "-t", "1", "-i", "anullsrc=r=44100:cl=stereo", "-i", str(source), "-filter_complex",
         "[1:a]aformat=channel_layouts=stereo,aresample=44100,volume=-12dB[s];[0:a][s]concat=n=2:v=0:a=1",
         "-c:a", "libmp3lame", str(takes / "ivr.intro.mp3")]
    )  # fmt: skip
    shutil.copy(source, takes / "ivr.goodbye.wav")
    shutil.copy(source, takes / "not-a-key.wav")
    out = tmp_path / "pack"
    assert run_cli(["prompts", "import", str(takes), "--lang", "km", "--out", str(out), "--speaker", "Sokha"]) == 0
    result = import_recordings(takes, "km", out, speaker="Sokha")
    assert sorted(result.imported) == ["ivr.goodbye", "ivr.intro"] and result.unknown == ["not-a-key.wav"]
    assert len(result.missing) == len(clip_keys()) - 2
    clip = audio.read_wav(out / "clips" / "ivr.intro.wav")
    assert (clip.channels, clip.frame_rate) == (1, 48000)
    assert audio.leading_silence_ms(clip) < 200
    assert abs(audio.loudness_dbfs(clip) - audio.TARGET_DBFS) < 1.5
    assert not check_pack(out, expected_keys=["ivr.intro", "ivr.goodbye"]).defects


def test_script_lists_every_key_once_per_text_with_how_fragments_are_said(tmp_path: Path) -> None:
    assert run_cli(["prompts", "script", "--out", str(tmp_path)]) == 0
    with (tmp_path / "recording-script.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    page = (tmp_path / "recording-script.html").read_text(encoding="utf-8")
    assert list(rows[0]) == ["key", "khmer", "gloss", "category", "used in", "intonation", "notes", "also fills"]
    filled = [row["key"] for row in rows] + [k for row in rows for k in row["also fills"].split()]
    assert sorted(filled) == sorted(clip_keys())  # every clip filled, none twice
    assert all(f">{row['key']}<" in page for row in rows) and "Labour Ministry" in page
    texts = [row["khmer"] for row in rows]
    assert len(texts) == len(set(texts))  # identical texts are recorded once
    by_key = {row["key"]: row for row in rows}
    assert by_key["positions.people"]["also fills"] == "positions.person"
    catalog = load_catalog()
    for row in rows:
        assert row["intonation"] in (CONTINUING, FINAL, EITHER), row["key"]
        if row["key"] in ("ivr.intro", "ivr.goodbye"):
            assert row["used in"] == "" and row["intonation"] == FINAL  # whole sentences
    # Every fragment the composer uses shows a sentence it is heard in, the fragment marked.
    # (Khmer never says zero, "other work" or "men and women" in a pitch: those three carry a note instead.)
    unused = ("num.0", "sector.other", "gender.any")
    for row in rows:
        if is_fragment(catalog[row["key"]]) and row["key"] not in unused:
            assert f"«{row['khmer']}»" in row["used in"], row["key"]
    assert all(by_key[key]["used in"] == "" and "not heard" in by_key[key]["notes"] for key in unused)
    for key in ("place.in", "date.day", "benefit.intro", "word.to", "word.and", "num.100", "num.1000"):
        assert by_key[key]["intonation"] == CONTINUING, key
    assert by_key["period.month"]["intonation"] == FINAL
    assert "មួយរយ" in by_key["num.100"]["notes"] and "ប.ស.ស." in by_key["benefit.nssf"]["notes"]
    assert "«ពាន់»" in by_key["num.1000"]["used in"]


def test_one_recording_fills_every_clip_with_the_same_text(packs: dict[str, PromptPack], tmp_path: Path) -> None:
    takes = tmp_path / "takes"
    takes.mkdir()
    shutil.copy(packs["en"].wav("positions.people"), takes / "positions.people.wav")
    result = import_recordings(takes, "km", tmp_path / "pack")
    assert result.imported == ["positions.people"] and "positions.person" not in result.missing
    assert (tmp_path / "pack" / "clips" / "positions.person.wav").read_bytes() == (
        tmp_path / "pack" / "clips" / "positions.people.wav"
    ).read_bytes()
    # A clip recorded under its own name keeps its own take.
    shutil.copy(packs["en"].wav("ivr.intro"), takes / "positions.person.wav")
    import_recordings(takes, "km", tmp_path / "pack2")
    assert (tmp_path / "pack2" / "clips" / "positions.person.wav").read_bytes() != (
        tmp_path / "pack2" / "clips" / "positions.people.wav"
    ).read_bytes()
