"""Countries as people write them, in Khmer or English, find the clip that names them."""

from __future__ import annotations

import pytest

from media.catalog import COUNTRIES, COUNTRY_NAMES, country_key, country_name, load_catalog
from media.composer import PitchJob, compose_pitch


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("ថៃ", "country.thailand"),
        ("ប្រទេសថៃ", "country.thailand"),
        ("នៅប្រទេសថៃ។", "country.thailand"),
        ("\u200bថៃ ", "country.thailand"),
        ("Thailand", "country.thailand"),
        ("THAILAND", "country.thailand"),
        ("កូរ៉េ", "country.south_korea"),
        ("កូរ៉េខាងត្បូង", "country.south_korea"),
        ("Korea", "country.south_korea"),
        ("south-korea", "country.south_korea"),
        ("ម៉ាឡេស៊ី", "country.malaysia"),
        ("ប្រទេស ម៉ាឡេស៊ី", "country.malaysia"),
        ("ជប៉ុន", "country.japan"),
        ("Viet Nam", "country.vietnam"),
    ],
)
def test_a_country_typed_in_khmer_or_english_has_its_clip(typed: str, key: str) -> None:
    assert country_key(typed) == key


@pytest.mark.parametrize("typed", ["Qatar", "កាតា", "", "ថៃថៃ", "Thai Airways Phnom Penh"])
def test_other_names_have_no_clip(typed: str) -> None:
    assert country_key(typed) is None


def test_every_country_offered_as_a_button_has_a_clip_and_both_names() -> None:
    catalog = load_catalog()
    assert set(COUNTRY_NAMES) == set(COUNTRIES)
    for code in COUNTRY_NAMES:
        assert f"country.{code}" in catalog
        assert country_key(country_name(code, "km")) == country_key(country_name(code, "en")) == f"country.{code}"


def test_a_khmer_country_is_spoken_in_the_pitch_and_an_unknown_one_as_abroad() -> None:
    assert "country.thailand" in compose_pitch(PitchJob(sector="agriculture", country="ថៃ"), "km").keys
    keys = compose_pitch(PitchJob(sector="agriculture", country="Qatar"), "km").keys
    assert "place.abroad" in keys and not any(k.startswith("country.") for k in keys)
