"""Numbers written in words, in English and Khmer, turned into digits ("ប្រាំរយដុល្លារ" -> "500ដុល្លារ").

Job posts write amounts and ages in words as often as in digits ("salary five hundred dollars",
"ប្រាក់ខែ មួយពាន់ប្រាំរយដុល្លារ", "អាយុ ដប់ប្រាំមួយឆ្នាំ"). The screener reads digits, so its text is rewritten
first. Khmer has no spaces between words and number syllables occur inside other words (សែន is also "very",
លាន also "yard"), so a run of number words is rewritten only where it is clearly a quantity: followed by a
unit (money, years, months, days, hours, people) or preceded by "age". A lone "one"/មួយ is left alone: it
is far more often an article ("one day off", ក្នុងមួយថ្ងៃ) than an amount.
"""

from __future__ import annotations

import re

_KM_UNITS = {
    "ប្រាំមួយ": 6,
    "ប្រាំពីរ": 7,
    "ប្រាំបី": 8,
    "ប្រាំបួន": 9,
    "ប្រាំ": 5,
    "មួយ": 1,
    "ពីរ": 2,
    "បី": 3,
    "បួន": 4,
    "សូន្យ": 0,
}
_KM_TENS = {
    "ដប់": 10,
    "ម្ភៃ": 20,
    "សាមសិប": 30,
    "សែសិប": 40,
    "ហាសិប": 50,
    "ហុកសិប": 60,
    "ចិតសិប": 70,
    "ប៉ែតសិប": 80,
    "កៅសិប": 90,
}
_KM_SCALES = {"រយ": 100, "ពាន់": 1_000, "ម៉ឺន": 10_000, "សែន": 100_000, "លាន": 1_000_000}
_EN_UNITS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fourty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_EN_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000}

_WORDS: dict[str, int] = {**_KM_UNITS, **_KM_TENS, **_KM_SCALES, **_EN_UNITS, **_EN_SCALES}
_SCALES = {**_KM_SCALES, **_EN_SCALES}


def _alternation(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_KM_WORD = _alternation([*_KM_UNITS, *_KM_TENS, *_KM_SCALES])
_EN_WORD = r"\b(?:" + _alternation([*_EN_UNITS, *_EN_SCALES]) + r")\b"
# Digits may lead a Khmer run ("5រយ", "1ពាន់5រយ"); English words join with spaces, hyphens or "and".
_KM_RUN = rf"(?:\d+\s?)?(?:{_KM_WORD})(?:\s?(?:{_KM_WORD}|\d+))*"
_EN_RUN = rf"(?:a |\d+ )?{_EN_WORD}(?:(?:[ -]|\sand\s){_EN_WORD})*"
_UNIT = (
    r"\s?(?:ដុល្លារ|រៀល|៛|\$|usd\b|dollars?\b|riels?\b|ឆ្នាំ|years?\b|yrs?\b|ខែ|months?\b|សប្តាហ៍|weeks?\b"
    r"|ថ្ងៃ|days?\b|ម៉ោង|hours?\b|នាក់|people\b|workers\b)"
)
_AGE_BEFORE = r"(?:អាយុ\s?(?:ចាប់ពី|ពី|យ៉ាងតិច)?\s?|\bage[sd]?:? (?:from )?)"
_QUANTITY = re.compile(rf"(?P<aged>{_AGE_BEFORE})?(?P<run>{_KM_RUN}|{_EN_RUN})")
_UNIT_AFTER = re.compile(_UNIT)
_HAS_WORD = re.compile(rf"{_KM_WORD}|{_EN_WORD}")
_TOKEN = re.compile(rf"\d+|{_KM_WORD}|{_EN_WORD}")


def value_of(words: str) -> int | None:
    """The number a run of number words (and digits) says, or None when it is not one number."""
    tokens = _TOKEN.findall(words)
    if not tokens:
        return None
    total, current, largest = 0, 0, 0
    for token in tokens:
        value = int(token) if token.isdigit() else _WORDS[token]
        scale = _SCALES.get(token)
        if scale is None:
            current += value
        elif scale == 100:
            current = (current or 1) * 100
        elif largest and scale > largest:
            # "មួយរយហាសិបពាន់": everything so far is counted in thousands.
            total = (total + (current or 1)) * scale
            current, largest = 0, scale
        else:
            total += (current or 1) * scale
            current, largest = 0, max(largest, scale)
    return total + current


def _is_lone_one(run: str) -> bool:
    return run.strip() in {"មួយ", "one", "a one"}


def words_to_digits(text: str) -> str:
    """``text`` (normalised: lower case, Latin digits) with quantities written in words as digits."""

    def replace(match: re.Match[str]) -> str:
        run = match.group("run")
        quantity = match.group("aged") or _UNIT_AFTER.match(match.string, match.end())
        if not quantity or _is_lone_one(run) or not _HAS_WORD.search(run):
            return match.group(0)
        value = value_of(run.removeprefix("a "))
        if value is None:
            return match.group(0)
        # A space after the digits, so "ប្រាំរយដុល្លារ" reads "500 ដុល្លារ" like a typed amount.
        space = "" if match.string[match.end() : match.end() + 1].isspace() else " "
        return f"{match.group('aged') or ''}{value}{space}"

    return _QUANTITY.sub(replace, text)
