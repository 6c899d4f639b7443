"""The catalog covers everything the composer says, and both placeholder packs cover the catalog."""

from __future__ import annotations

import json

import pytest

from media.catalog import BENEFITS, CURRENCIES, PERIODS, RELATIONSHIPS, SECTORS, clip_keys, load_catalog
from media.composer import (
    compose_pitch,
    consent_call,
    job_call,
    job_menu,
    not_hired,
)
from media.packs import BUNDLED_PACKS, MANIFEST, PLACEHOLDER_NOTICE, PromptPack, clip_sources
from media.sample_jobs import sample_pitch_jobs


def test_catalog_has_the_domain_vocabulary() -> None:
    keys = set(clip_keys())
    expected = {f"province.{i:02d}" for i in range(1, 26)}
    expected |= {f"sector.{s}" for s in SECTORS} | {f"benefit.{b}" for b in BENEFITS}
    expected |= {f"ivr.recommended.{r}" for r in RELATIONSHIPS} | {f"period.{p}" for p in PERIODS}
    expected |= {f"currency.{c.lower()}" for c in CURRENCIES} | {f"num.{n}" for n in range(20)}
    expected |= {"ivr.consent.question", "ivr.experience.question", "ivr.checkin.question", "safety.labour"}
    assert expected <= keys


def test_every_prompt_has_khmer_text_and_a_gloss() -> None:
    for prompt in load_catalog().values():
        assert prompt.km.strip() and prompt.gloss.strip() and prompt.category, prompt.key
        assert any("\u1780" <= ch <= "\u17ff" for ch in prompt.km), prompt.key


@pytest.mark.parametrize("lang", ["km", "en"])
def test_composer_only_uses_catalog_keys(lang: str) -> None:
    keys = set(clip_keys())
    used = set(consent_call("friend", lang).keys) | set(job_menu(lang).keys)
    used |= {key for sector in SECTORS for key in not_hired(sector, lang).keys}
    for job in sample_pitch_jobs(300, seed=7):
        used |= set(compose_pitch(job, lang).keys) | set(job_call(job, "sibling", lang).keys)
    assert used <= keys


@pytest.mark.parametrize("lang", ["km", "en"])
def test_bundled_pack_is_a_labelled_placeholder_covering_the_catalog(lang: str) -> None:
    root = BUNDLED_PACKS / lang
    manifest = json.loads((root / MANIFEST).read_text())
    assert manifest["placeholder"] is True and manifest["lang"] == lang
    assert PLACEHOLDER_NOTICE in manifest["speaker"]
    assert set(clip_sources(root)) == set(clip_keys()) == set(manifest["durations_ms"])


def test_committed_packs_stay_small() -> None:
    size = sum(p.stat().st_size for p in BUNDLED_PACKS.rglob("*") if p.is_file())
    assert size < 3_000_000


def test_pack_describes_itself_as_not_khmer(packs: dict[str, PromptPack]) -> None:
    assert "not Khmer" in packs["km"].describe()
