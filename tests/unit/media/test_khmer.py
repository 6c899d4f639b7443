"""Khmer number words and the clip keys that speak numbers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from media.catalog import load_catalog
from media.khmer import MAX_NUMBER, digit_keys, number_keys, number_words

FORMAL = [
    (0, "សូន្យ"),
    (1, "មួយ"),
    (6, "ប្រាំមួយ"),
    (9, "ប្រាំបួន"),
    (10, "ដប់"),
    (11, "ដប់មួយ"),
    (15, "ដប់ប្រាំ"),
    (20, "ម្ភៃ"),
    (21, "ម្ភៃមួយ"),
    (43, "សែសិបបី"),
    (50, "ហាសិប"),
    (99, "កៅសិបប្រាំបួន"),
    (100, "មួយរយ"),
    (101, "មួយរយមួយ"),
    (250, "ពីររយហាសិប"),
    (1000, "មួយពាន់"),
    (1500, "មួយពាន់ប្រាំរយ"),
    (10000, "មួយម៉ឺន"),
    (40000, "បួនម៉ឺន"),
    (100000, "មួយសែន"),
    (120000, "មួយសែនពីរម៉ឺន"),
    (1000000, "មួយលាន"),
    (5689443, "ប្រាំលានប្រាំមួយសែនប្រាំបីម៉ឺនប្រាំបួនពាន់បួនរយសែសិបបី"),
    (800000000, "ប្រាំបីរយលាន"),
    (999999999, "ប្រាំបួនរយកៅសិបប្រាំបួនលានប្រាំបួនសែនប្រាំបួនម៉ឺនប្រាំបួនពាន់ប្រាំបួនរយកៅសិបប្រាំបួន"),
]


@pytest.mark.parametrize(("n", "words"), FORMAL)
def test_formal_words(n: int, words: str) -> None:
    assert number_words(n) == words


@pytest.mark.parametrize(
    ("n", "words"),
    [(43, "សែបី"), (50, "ហាសិប"), (21, "ម្ភៃមួយ"), (11, "ដប់មួយ"), (35, "សាមប្រាំ"), (1099, "មួយពាន់កៅប្រាំបួន")],
)
def test_colloquial_drops_sib_only_before_a_unit(n: int, words: str) -> None:
    assert number_words(n, colloquial=True) == words


@pytest.mark.parametrize("bad", [-1, MAX_NUMBER + 1, True, 2.5])
def test_out_of_range_is_refused(bad: object) -> None:
    with pytest.raises(ValueError):
        number_words(bad)  # type: ignore[arg-type]


_VALUES = {w: i for i, w in enumerate(("សូន្យ", "មួយ", "ពីរ", "បី", "បួន", "ប្រាំ"))}
_TENS = {"ដប់": 10, "ម្ភៃ": 20, "សាមសិប": 30, "សែសិប": 40, "ហាសិប": 50, "ហុកសិប": 60, "ចិតសិប": 70, "ប៉ែតសិប": 80}
_TENS["កៅសិប"] = 90
_SCALES = {"រយ": 100, "ពាន់": 1000, "ម៉ឺន": 10000, "សែន": 100000}


def _parse(words: str) -> int:
    """An independent reader of formal Khmer numbers, to check number_words against."""
    vocab = sorted([*_VALUES, *_TENS, *_SCALES, "លាន"], key=len, reverse=True)
    tokens = []
    while words:
        token = next(t for t in vocab if words.startswith(t))
        tokens.append(token)
        words = words[len(token) :]
    total = group = digit = 0
    for token in tokens:
        if token in _VALUES:
            digit += _VALUES[token]  # ប្រាំ + បី = 8
        elif token in _TENS:
            group += _TENS[token]
        elif token in _SCALES:
            group += digit * _SCALES[token]
            digit = 0
        else:  # លាន
            total += (group + digit) * 1_000_000
            group = digit = 0
    return total + group + digit


@given(st.integers(0, MAX_NUMBER))
def test_words_read_back_to_the_number(n: int) -> None:
    words = number_words(n)
    assert " " not in words
    assert all("\u1780" <= ch <= "\u17ff" for ch in words)
    assert _parse(words) == n


@given(st.integers(0, MAX_NUMBER))
def test_colloquial_differs_only_by_dropped_sib(n: int) -> None:
    formal, colloquial = number_words(n), number_words(n, colloquial=True)
    assert formal.replace("សិប", "") == colloquial.replace("សិប", "")
    if n < 1_000_000 and (n % 100 < 30 or n % 10 == 0):
        assert colloquial == formal


@given(st.integers(0, MAX_NUMBER))
def test_khmer_clips_spell_the_words(n: int) -> None:
    catalog = load_catalog()
    assert "".join(catalog[k].km for k in number_keys(n, "km")) == number_words(n)


@pytest.mark.parametrize(
    ("n", "spoken"),
    [
        (0, "zero"),
        (13, "thirteen"),
        (210, "two hundred ten"),
        (40000, "forty thousand"),
        (120000, "one hundred twenty thousand"),
        (5689443, "five million six hundred eighty nine thousand four hundred forty three"),
    ],
)
def test_english_clips(n: int, spoken: str) -> None:
    catalog = load_catalog()
    assert " ".join(catalog[k].gloss for k in number_keys(n, "en")) == spoken


def test_phone_numbers_are_read_digit_by_digit() -> None:
    assert digit_keys("1297") == ["num.1", "num.2", "num.9", "num.7"]
    assert digit_keys("+855 12-345") == [f"num.{d}" for d in "85512345"]
    with pytest.raises(ValueError):
        digit_keys("12a")
