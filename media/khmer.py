"""Khmer numbers: words in Khmer script, and the clip keys that speak a number in Khmer or English."""

from __future__ import annotations

_UNITS = ("សូន្យ", "មួយ", "ពីរ", "បី", "បួន", "ប្រាំ", "ប្រាំមួយ", "ប្រាំពីរ", "ប្រាំបី", "ប្រាំបួន")
_TENS = ("", "ដប់", "ម្ភៃ", "សាមសិប", "សែសិប", "ហាសិប", "ហុកសិប", "ចិតសិប", "ប៉ែតសិប", "កៅសិប")
_SIB = "សិប"
# Scale words below a million, largest first: សែន 100 000, ម៉ឺន 10 000, ពាន់ 1 000, រយ 100.
_SCALES = ((100_000, "សែន"), (10_000, "ម៉ឺន"), (1_000, "ពាន់"), (100, "រយ"))
_MILLION = "លាន"
MAX_NUMBER = 999_999_999


def number_words(n: int, colloquial: bool = False) -> str:
    """Khmer words for 0 … 999 999 999, no spaces; colloquial drops សិប before a unit (43 → សែបី)."""
    _check_range(n)
    if n == 0:
        return _UNITS[0]
    millions, rest = divmod(n, 1_000_000)
    words = []
    if millions:
        words.append(_below_million(millions, colloquial) + _MILLION)
    if rest:
        words.append(_below_million(rest, colloquial))
    return "".join(words)


def _below_million(n: int, colloquial: bool) -> str:
    words = []
    for scale, word in _SCALES:
        digit, n = divmod(n, scale)
        if digit:
            words.append(_UNITS[digit] + word)
    tens, unit = divmod(n, 10)
    if tens:
        tens_word = _TENS[tens]
        # Speech shortens សែសិបបី to សែបី; ដប់ and ម្ភៃ have no សិប, and a bare ហាសិប keeps it.
        if colloquial and tens >= 3 and unit:
            tens_word = tens_word.removesuffix(_SIB)
        words.append(tens_word)
    if unit:
        words.append(_UNITS[unit])
    return "".join(words)


def number_keys(n: int, lang: str = "km") -> list[str]:
    """Clip keys that speak n (formal Khmer, or English) from the catalog's number blocks."""
    _check_range(n)
    if n == 0:
        return ["num.0"]
    if lang == "km":
        millions, rest = divmod(n, 1_000_000)
        keys = [*_km_keys_below_million(millions), "num.1000000"] if millions else []
        return keys + _km_keys_below_million(rest)
    if lang == "en":
        return _en_keys(n)
    raise ValueError(f"no number reading for language {lang!r}")


def _km_keys_below_million(n: int) -> list[str]:
    keys = []
    for scale, _word in _SCALES:
        digit, n = divmod(n, scale)
        if digit:
            keys += [f"num.{digit}", f"num.{scale}"]
    return keys + _keys_below_hundred(n)


def _keys_below_hundred(n: int) -> list[str]:
    # 11–19 are recorded whole (ដប់មួយ …) because English needs them and Khmer sounds better that way.
    if n == 0:
        return []
    if n < 20 or n % 10 == 0:
        return [f"num.{n}"]
    return [f"num.{n - n % 10}", f"num.{n % 10}"]


def _en_keys(n: int) -> list[str]:
    keys = []
    for scale, key in ((1_000_000, "num.1000000"), (1_000, "num.1000")):
        group, n = divmod(n, scale)
        if group:
            keys += [*_en_keys_below_thousand(group), key]
    return keys + _en_keys_below_thousand(n)


def _en_keys_below_thousand(n: int) -> list[str]:
    hundreds, rest = divmod(n, 100)
    keys = [f"num.{hundreds}", "num.100"] if hundreds else []
    return keys + _keys_below_hundred(rest)


def digit_keys(number: str) -> list[str]:
    """Clip keys reading a phone number digit by digit; spaces, dashes and a leading + are skipped."""
    digits = [c for c in number if c.isdigit()]
    if not digits or any(c not in "0123456789 -+()" for c in number):
        raise ValueError(f"not a phone number: {number!r}")
    return [f"num.{c}" for c in digits]


def _check_range(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= MAX_NUMBER:
        raise ValueError(f"number out of range 0…{MAX_NUMBER}: {n!r}")
