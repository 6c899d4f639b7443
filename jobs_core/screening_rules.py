"""The data and text matching behind the trafficking-risk screener (``jobs_core.screening``).

Everything a linguist or an operator may want to change is data under ``jobs_core/data/``:
``screening_terms.json`` (English and Khmer wording, as regular expressions) and ``wage_norms.json``
(exchange rate, working days and hours, per-sector pay norms). This module loads them once, normalises
listing text the same way for every rule, and answers "does this wording occur, not negated?".
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from jobs_core.number_words import words_to_digits

DATA_PACKAGE = "jobs_core.data"
TERMS_FILE = "screening_terms.json"
WAGE_NORMS_FILE = "wage_norms.json"

# --------------------------------------------------------------------------------------------- text

_TRANSLATE = {
    **{ord(k): str(i) for i, k in enumerate("០១២៣៤៥៦៧៨៩")},
    # Zero-width spaces/joiners: Khmer writers put them between words, or not; matching ignores them.
    **dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None),
    ord("\u2019"): "'",
    ord("\u2018"): "'",
    ord("\u02bc"): "'",
    ord("\u201c"): '"',
    ord("\u201d"): '"',
    ord("\u17db"): " ៛ ",  # riel sign
}
# "40 000" -> "40000" (thousands grouped with a space); commas are handled where numbers are read.
_SPACE_GROUPING = re.compile(r"(?<=\d)[ \u00a0\u202f](?=\d{3}(?!\d))")
_SPACES = re.compile(r"[ \t\u00a0\u202f]+")
_KHMER = re.compile(r"[\u1780-\u17ff\u19e0-\u19ff]")
# Khmer vowels typed in two pieces that look the same on screen as the one vowel (e + aa for o, e + ii for
# oe) and the u + ii typed for the triisap + ii of ស៊ី, ម៉ី...: the same word either way.
_KHMER_VOWEL_PIECES = (("\u17c1\u17b6", "\u17c4"), ("\u17c1\u17b8", "\u17be"), ("\u17bb\u17b8", "\u17ca\u17b8"))


def normalise(text: str) -> str:
    """Text in the one form every rule matches against.

    NFC; Khmer digits as 0-9; zero-width characters dropped; curly quotes straightened; the subscript
    da written as subscript ta (ផ្ដល់ and ផ្តល់ are typed interchangeably); lower case; runs of spaces as one.
    """
    value = unicodedata.normalize("NFC", text).translate(_TRANSLATE)
    value = value.replace("\u17d2\u178a", "\u17d2\u178f").lower()
    for pieces, whole in _KHMER_VOWEL_PIECES:
        value = value.replace(pieces, whole)
    value = _SPACE_GROUPING.sub("", value)
    return _SPACES.sub(" ", value)


def prepare(text: str, t: Terms) -> str:
    """Listing text ready for the rules: ``normalise``, then known misspellings of key words in their
    usual spelling (``spelling`` in the terms file), then numbers written in words as digits."""
    value = normalise(text)
    for pattern, spelling in t.spelling:
        value = pattern.sub(spelling, value)
    return _SPACES.sub(" ", words_to_digits(value))


def is_khmer(text: str) -> bool:
    return bool(_KHMER.search(text))


# Where a clause ends, for negation and "exempt" context. English clauses also end at commas.
_CLAUSE_END_EN = ".!?;:,\n។៕"
_SENTENCE_END_KM = ".!?;\n។៕"
_WORD = re.compile(r"[\w']+")


def _clause(text: str, start: int, end: int, stops: str) -> tuple[int, int]:
    left = max((text.rfind(ch, 0, start) for ch in stops), default=-1) + 1
    rights = [i for i in (text.find(ch, end) for ch in stops) if i >= 0]
    return left, min(rights, default=len(text))


# --------------------------------------------------------------------------------------------- terms


@dataclass(frozen=True)
class Terms:
    """The screener's vocabulary: compiled patterns per category, and how negation is recognised."""

    patterns: Mapping[str, tuple[re.Pattern[str], ...]]
    negatable: frozenset[str]
    negators_en: frozenset[str]
    negators_km: tuple[str, ...]
    fillers_km: tuple[str, ...]
    placeholder_employer_names: frozenset[str]
    spelling: tuple[tuple[re.Pattern[str], str], ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Terms:
        def strings(key: str) -> list[str]:
            value = data.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"{TERMS_FILE}: {key!r} must be a list of strings")
            return [str(v) for v in value]

        meta = {
            "negatable",
            "negators_en",
            "negators_km",
            "negation_fillers_km",
            "placeholder_employer_names",
            "spelling",
        }
        patterns: dict[str, tuple[re.Pattern[str], ...]] = {}
        for key in data:
            if key.startswith("_") or key in meta:
                continue
            compiled = []
            for source in strings(key):
                try:
                    compiled.append(re.compile(normalise_pattern(source)))
                except re.error as exc:
                    raise ValueError(f"{TERMS_FILE}: bad pattern in {key!r}: {source!r}: {exc}") from exc
            patterns[key] = tuple(compiled)
        return cls(
            patterns=patterns,
            negatable=frozenset(strings("negatable")),
            negators_en=frozenset(strings("negators_en")),
            negators_km=tuple(normalise(s) for s in strings("negators_km")),
            fillers_km=tuple(sorted((normalise(s) for s in strings("negation_fillers_km")), key=len, reverse=True)),
            placeholder_employer_names=frozenset(normalise(s) for s in strings("placeholder_employer_names")),
            spelling=_spelling(data.get("spelling", {})),
        )

    def _compiled(self, category: str) -> tuple[re.Pattern[str], ...]:
        try:
            return self.patterns[category]
        except KeyError:
            raise KeyError(f"{TERMS_FILE} has no {category!r} list") from None

    def find(self, category: str, text: str) -> list[re.Match[str]]:
        """Occurrences of ``category`` wording in normalised ``text``, leaving out negated ones."""
        exempt = self.patterns.get(f"{category}_exempt", ())
        found = []
        for pattern in self._compiled(category):
            for match in pattern.finditer(text):
                if category in self.negatable and self._negated(text, match):
                    continue
                if exempt and self._exempt(text, match, exempt):
                    continue
                found.append(match)
        return found

    def has(self, category: str, text: str) -> bool:
        return bool(self.find(category, text))

    def blank_out(self, category: str, text: str) -> str:
        """``text`` with every occurrence of ``category`` replaced by spaces (offsets kept)."""
        for pattern in self._compiled(category):
            text = pattern.sub(lambda m: " " * len(m.group()), text)
        return text

    def _exempt(self, text: str, match: re.Match[str], exempt: Sequence[re.Pattern[str]]) -> bool:
        stops = _SENTENCE_END_KM if is_khmer(match.group()) else _CLAUSE_END_EN
        left, right = _clause(text, match.start(), match.end(), stops)
        clause = text[left:right]
        return any(p.search(clause) for p in exempt)

    def _negated(self, text: str, match: re.Match[str]) -> bool:
        first = match.group()[:1]
        # A term that starts with digits ("24 ម៉ោង") takes the language of the words before it.
        before = text[max(0, match.start() - 2) : match.start()]
        if is_khmer(first) or (not first.isalpha() and is_khmer(before)):
            left, _ = _clause(text, match.start(), match.end(), _SENTENCE_END_KM)
            before = text[max(left, match.start() - 30) : match.start()]
            return self._negated_km(before)
        left, _ = _clause(text, match.start(), match.end(), _CLAUSE_END_EN)
        # A negation up to five words before the term, in the same clause: "no fee", "we never keep your
        # passport", "we do not ask workers for any deposit".
        words = _WORD.findall(text[left : match.start()])[-5:]
        return any(w in self.negators_en or w.endswith("n't") for w in words)

    def _negated_km(self, before: str) -> bool:
        # Khmer: a negator followed only by light verbs and particles up to the term, e.g. មិនយក ថ្លៃសេវា,
        # ឥតគិតថ្លៃសេវា, មិនចាំបាច់បង់ប្រាក់ - but not មិនត្រូវការបទពិសោធន៍ បង់ប្រាក់កក់ (the negation is
        # about experience).
        for negator in self.negators_km:
            index = before.rfind(negator)
            while index >= 0:
                if self._only_fillers(before[index + len(negator) :]):
                    return True
                index = before.rfind(negator, 0, index)
        return False

    def _only_fillers(self, between: str) -> bool:
        rest = between.replace(" ", "")
        while rest:
            for filler in self.fillers_km:
                if rest.startswith(filler):
                    rest = rest[len(filler) :]
                    break
            else:
                return False
        return True


def _spelling(data: Any) -> tuple[tuple[re.Pattern[str], str], ...]:
    if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
        raise ValueError(f"{TERMS_FILE}: 'spelling' must map each spelling to a list of misspellings")
    fixes = []
    for spelling, variants in data.items():
        for source in variants:
            try:
                fixes.append((re.compile(normalise_pattern(str(source))), normalise(str(spelling))))
            except re.error as exc:
                raise ValueError(f"{TERMS_FILE}: bad misspelling pattern for {spelling!r}: {source!r}: {exc}") from exc
    return tuple(fixes)


# "{gap:N}" in a pattern: up to N characters of the same sentence without a negation in them, so
# "paid ... at the end of the season" does not match "paid monthly, not at the end of the season".
_GAP = re.compile(r"\{gap:(\d+)\}")
_GAP_BODY = r"(?:(?!\b(?:not|never|no|without)\b|មិន|គ្មាន|ពុំ|អត់)[^.!?;\n។៕])"


def normalise_pattern(source: str) -> str:
    """A pattern written in the data file, adjusted like the text it is matched against."""
    value = unicodedata.normalize("NFC", source).replace("\u17d2\u178a", "\u17d2\u178f")
    for pieces, whole in _KHMER_VOWEL_PIECES:
        value = value.replace(pieces, whole)
    return _GAP.sub(lambda m: _GAP_BODY + "{0," + m.group(1) + "}", value)


@lru_cache(maxsize=1)
def terms() -> Terms:
    """The shipped vocabulary (``jobs_core/data/screening_terms.json``), loaded once."""
    raw = resources.files(DATA_PACKAGE).joinpath(TERMS_FILE).read_text(encoding="utf-8")
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError(f"{TERMS_FILE} must hold a JSON object")
    return Terms.from_json(data)


# --------------------------------------------------------------------------------------------- wages


@dataclass(frozen=True)
class SectorNorm:
    """Usual monthly pay (USD) for unskilled full-time work in a sector inside Cambodia."""

    low: float
    high: float


@dataclass(frozen=True)
class WageNorms:
    khr_per_usd: float
    days_per_month: float
    hours_per_day: float
    minimum_wage_usd_month: float
    multiplier_no_experience: float
    multiplier_default: float
    sectors: Mapping[str, SectorNorm]
    above_multiplier_no_experience: float = 1.5
    pay_mismatch_ratio: float = 1.35

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WageNorms:
        def number(value: Any, what: str) -> float:
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ValueError(f"{WAGE_NORMS_FILE}: {what} must be a positive number")
            return float(value)

        multipliers = data.get("far_above_multiplier", {})
        sectors_raw = data.get("sectors", {})
        if not isinstance(multipliers, dict) or not isinstance(sectors_raw, dict):
            raise ValueError(f"{WAGE_NORMS_FILE}: far_above_multiplier and sectors must be objects")
        sectors = {
            str(name): SectorNorm(
                low=number(norm.get("low") if isinstance(norm, dict) else None, f"sectors.{name}.low"),
                high=number(norm.get("high") if isinstance(norm, dict) else None, f"sectors.{name}.high"),
            )
            for name, norm in sectors_raw.items()
        }
        if "other" not in sectors:
            raise ValueError(f"{WAGE_NORMS_FILE}: sectors must include 'other' (used for unknown sectors)")
        return cls(
            khr_per_usd=number(data.get("khr_per_usd"), "khr_per_usd"),
            days_per_month=number(data.get("days_per_month"), "days_per_month"),
            hours_per_day=number(data.get("hours_per_day"), "hours_per_day"),
            minimum_wage_usd_month=number(data.get("minimum_wage_usd_month"), "minimum_wage_usd_month"),
            multiplier_no_experience=number(multipliers.get("no_experience"), "far_above_multiplier.no_experience"),
            multiplier_default=number(multipliers.get("default"), "far_above_multiplier.default"),
            sectors=sectors,
            above_multiplier_no_experience=number(
                multipliers.get("above_no_experience", 1.5), "far_above_multiplier.above_no_experience"
            ),
            pay_mismatch_ratio=number(data.get("pay_mismatch_ratio", 1.35), "pay_mismatch_ratio"),
        )

    def norm_for(self, sector: str) -> SectorNorm:
        return self.sectors.get(sector) or self.sectors["other"]

    def monthly_usd(self, amount: float, currency: str | None, period: str | None) -> float | None:
        """``amount`` as US dollars a month, or None when it cannot be converted (piece rates, other money)."""
        currency = (currency or "USD").upper()
        if currency == "KHR":
            amount = amount / self.khr_per_usd
        elif currency != "USD":
            return None
        factors = {
            "month": 1.0,
            "week": self.days_per_month / 6,
            "day": self.days_per_month,
            "hour": self.days_per_month * self.hours_per_day,
        }
        factor = factors.get((period or "month").lower())
        return None if factor is None else amount * factor


@lru_cache(maxsize=1)
def wage_norms() -> WageNorms:
    """The shipped wage norms (``jobs_core/data/wage_norms.json``), loaded once."""
    raw = resources.files(DATA_PACKAGE).joinpath(WAGE_NORMS_FILE).read_text(encoding="utf-8")
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError(f"{WAGE_NORMS_FILE} must hold a JSON object")
    return WageNorms.from_json(data)


# --------------------------------------------------------------------------------- numbers in text

_NUM = r"(\d{1,3}(?:[,.]\d{3})+|\d+(?:\.\d+)?)"
_MULT = r"(?:\s?(k|ពាន់|ម៉ឺន|សែន|លាន)(?![a-z]))?"
_MULTIPLIERS = {"k": 1e3, "ពាន់": 1e3, "ម៉ឺន": 1e4, "សែន": 1e5, "លាន": 1e6}
_MONEY_BEFORE = re.compile(r"(?:us\$|\$|\busd)\s?" + _NUM + _MULT)
_MONEY_AFTER = re.compile(_NUM + _MULT + r"\s?(\$|usd\b|us dollars?\b|dollars?\b|ដុល្លារ|riels?\b|khr\b|៛|រៀល)")
_PERIOD_AFTER = re.compile(
    r"^[\s,]*(?:/|a |an |per |each |every |ក្នុង\s?មួយ\s?|ក្នុង\s?1\s?|មួយ\s?|ប្រចាំ\s?)?"
    # ម៉ោងបន្ថែម is overtime, not "per hour": "ប្រាក់ខែ 215 ដុល្លារ ម៉ោងបន្ថែម ...".
    r"(monthly|daily|hourly|weekly|month|day|hour|week|ខែ|ថ្ងៃ|ម៉ោង(?!បន្ថែម)|សប្តាហ៍|អាទិត្យ)"
)
_PERIOD_BEFORE = {
    "day": re.compile(r"\b(?:daily|per day|a day)\b|ប្រចាំថ្ងៃ|មួយថ្ងៃ"),
    "hour": re.compile(r"\b(?:hourly|per hour|an hour)\b|ម៉ោង"),
}
_PERIOD_WORDS = {
    "monthly": "month",
    "month": "month",
    "ខែ": "month",
    "daily": "day",
    "day": "day",
    "ថ្ងៃ": "day",
    "hourly": "hour",
    "hour": "hour",
    "ម៉ោង": "hour",
    "weekly": "week",
    "week": "week",
    "សប្តាហ៍": "week",
    "អាទិត្យ": "week",
}
_AGE_PATTERNS = (
    re.compile(r"\bages?:? (?:from |of )?(\d{1,2})\b"),
    re.compile(r"\b(\d{1,2}) ?(?:-|to|–) ?\d{1,2} ?(?:years old|yrs old|y\.?o)"),
    re.compile(r"\baged (?:from )?(\d{1,2})\b"),
    re.compile(r"\b(\d{1,2}) ?(?:\+ ?(?:years|yrs|y\.?o)|years? (?:old )?(?:and|or) (?:up|above|over|older))"),
    re.compile(r"\b(?:from|at least|minimum(?: age)?|min\.?) (\d{1,2}) ?(?:years|yrs|y\.?o)"),
    re.compile(r"អាយុ\s?(?:ចាប់ពី|ពី|យ៉ាងតិច|ចាប់)?\s?(\d{1,2})"),
    re.compile(r"\b(\d{1,2}) ?(?:years? old|yrs? old|y/o|yo)\b"),
    re.compile(r"\b(\d{1,2})[- ]years?[- ]olds?\b"),
    re.compile(r"\b(?:from|between) (\d{1,2}) ?(?:-|to|and|–) ?\d{1,2}\b"),
    re.compile(r"(?<!\d)(\d{1,2})\s?ឆ្នាំ\s?(?:ឡើង|ឡើងទៅ|ហើយ|ក៏បាន)"),
    re.compile(r"(?:ចាប់ពី|ពី)\s?(\d{1,2})\s?(?:-|ដល់|ទៅ)\s?\d{1,2}\s?ឆ្នាំ"),
)
_AGE_RANGES = (
    re.compile(r"\b(?:ages?|aged|from|between)?:? ?(\d{2}) ?(?:-|to|–|and) ?(\d{2}) ?(?:years|yrs|y\.?o)?\b"),
    re.compile(r"(?:អាយុ|ពី|ចាប់ពី)\s?(\d{2})\s?(?:-|ដល់|ទៅ|–)\s?(\d{2})"),
)


def _number(digits: str, multiplier: str | None) -> float:
    if re.fullmatch(r"\d{1,3}(?:[,.]\d{3})+", digits):
        value = float(re.sub(r"[,.]", "", digits))
    else:
        value = float(digits)
    return value * _MULTIPLIERS.get(multiplier or "", 1.0)


def pay_amounts(text: str, t: Terms, norms: WageNorms) -> list[float]:
    """Monthly USD equivalents of pay amounts written in normalised ``text`` ("Earn $700 a month",
    "ប្រាក់ខែ 1500 ដុល្លារ", "40000 រៀល ក្នុងមួយថ្ងៃ").

    An amount counts as pay when pay wording comes just before it or a pay period just after it, and
    its clause does not speak of fees or deposits (a "$200 deposit" is not a salary).
    """
    pay_words = t.patterns.get("pay_words", ())
    not_base_pay = t.patterns.get("not_base_pay", ())
    amounts: list[float] = []
    seen: set[int] = set()
    for pattern, currency_group in ((_MONEY_BEFORE, None), (_MONEY_AFTER, 3)):
        for match in pattern.finditer(text):
            if match.start() in seen:
                continue
            seen.add(match.start())
            unit = match.group(currency_group) if currency_group else "$"
            currency = "KHR" if unit in {"riel", "riels", "khr", "៛", "រៀល"} else "USD"
            tail = text[match.end() : match.end() + 24]
            head = text[max(0, match.start() - 30) : match.start()]
            period_match = _PERIOD_AFTER.match(tail)
            period = _PERIOD_WORDS.get(period_match.group(1)) if period_match else None
            if period is None:
                period = next((p for p, rx in _PERIOD_BEFORE.items() if rx.search(head)), None)
            is_pay = period_match is not None or any(p.search(head) for p in pay_words)
            left, right = _clause(text, match.start(), match.end(), _SENTENCE_END_KM)
            clause = text[max(left, match.start() - 25) : min(right, match.end() + 25)]
            if not is_pay or t.has("fee", clause) or t.has("guarantee", clause):
                continue
            # Overtime rates, bonuses and allowances are not the wage ("OT $1.5 per hour").
            if any(p.search(text[max(0, match.start() - 20) : match.start()]) for p in not_base_pay):
                continue
            monthly = norms.monthly_usd(_number(match.group(1), match.group(2)), currency, period)
            if monthly is not None:
                amounts.append(monthly)
    return amounts


def ages_in_text(text: str) -> list[int]:
    """Minimum ages stated in normalised text ("Age 15 and up", "អាយុ ចាប់ពី 16 ឆ្នាំ"); under 10 is
    taken for something else (years of experience, head counts)."""
    return [int(m.group(1)) for rx in _AGE_PATTERNS for m in rx.finditer(text) if 10 <= int(m.group(1)) <= 80]


def age_ranges_in_text(text: str) -> list[tuple[int, int]]:
    """Age ranges in normalised text ("girls 18-22", "អាយុ ១៨ ដល់ ២៥ ឆ្នាំ") as (youngest, oldest)."""
    ranges = []
    for rx in _AGE_RANGES:
        for m in rx.finditer(text):
            low, high = int(m.group(1)), int(m.group(2))
            if 14 <= low < high <= 70:
                ranges.append((low, high))
    return ranges
