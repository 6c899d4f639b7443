"""The prompt catalog: every clip key with the Khmer text the voice talent reads and an English gloss."""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CATALOG_FILE = Path(__file__).resolve().with_suffix(".csv")  # next to this module, so packaging finds it

# Codes shared with the rest of the project; each one has a clip (sector.<code>, benefit.<code>, ...).
SECTORS = (
    "manufacturing",
    "construction",
    "hospitality",
    "security",
    "agriculture",
    "fishing",
    "domestic",
    "retail",
    "transport",
    "other",
)
BENEFITS = ("meals", "accommodation", "transport", "overtime", "nssf")
RELATIONSHIPS = ("parent", "child", "spouse", "sibling", "relative", "friend", "acquaintance", "self")
CURRENCIES = ("USD", "KHR")
PERIODS = ("month", "day", "hour", "piece")
GENDERS = ("any", "male", "female")
LANGUAGES = ("km", "en")
# Countries with a recorded name; others are spoken as plain "work abroad".
COUNTRIES = ("thailand", "malaysia", "south_korea", "japan", "singapore", "taiwan", "vietnam", "china")


@dataclass(frozen=True)
class Prompt:
    """One clip the voice talent records."""

    key: str
    category: str
    km: str
    gloss: str


@cache
def load_catalog(path: Path = CATALOG_FILE) -> dict[str, Prompt]:
    """Read the catalog, keyed by clip key, in the order of the file."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = [Prompt(r["key"], r["category"], r["km"], r["gloss"]) for r in csv.DictReader(f)]
    catalog = {p.key: p for p in rows}
    if len(catalog) != len(rows):
        raise ValueError(f"{path}: duplicate clip keys")
    return catalog


def clip_keys() -> tuple[str, ...]:
    """Every key a complete pack must have."""
    return tuple(load_catalog())


def province_key(code: str) -> str:
    """Clip key of a province by its official two-digit code."""
    return f"province.{int(code):02d}"


def country_key(country: str) -> str | None:
    """Clip key of a destination country, or None when no clip names it (English or Khmer names)."""
    code = country_code(country)
    return f"country.{code}" if code is not None else None


# The countries with a clip, as people write them: (English name, Khmer name, other spellings). The English
# name is what a listing stores, so every reader (pitch, card, screening) sees one spelling.
COUNTRY_NAMES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "thailand": ("Thailand", "ថៃ", ("thai", "siam", "ប្រទេសថៃ", "សៀម")),
    "south_korea": ("South Korea", "កូរ៉េ", ("korea", "republic of korea", "កូរ៉េខាងត្បូង", "កូរ៉េត្បូង")),
    "malaysia": ("Malaysia", "ម៉ាឡេស៊ី", ("malaysian", "ម៉ាឡេ", "ម៉ាឡេសុី")),
    "japan": ("Japan", "ជប៉ុន", ("nihon", "ជប៉ុណ")),
    "singapore": ("Singapore", "សិង្ហបុរី", ("សឹង្ហបុរី", "សិង្ហបុរិ")),
    "taiwan": ("Taiwan", "តៃវ៉ាន់", ("តៃវាន់",)),
    "vietnam": ("Vietnam", "វៀតណាម", ("viet nam",)),
    "china": ("China", "ចិន", ("prc",)),
}
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def _country_name_key(text: str) -> str:
    name = unicodedata.normalize("NFC", text).translate(_ZERO_WIDTH).strip().lower().rstrip(".។")
    for prefix in ("នៅ", "ប្រទេស", "the "):
        name = name.removeprefix(prefix).strip()
    return "".join(ch for ch in name if not ch.isspace() and ch not in "-_'")


@cache
def _country_codes() -> dict[str, str]:
    names = {}
    for code, (english, khmer, others) in COUNTRY_NAMES.items():
        for name in (code, english, khmer, *others):
            names[_country_name_key(name)] = code
    return names


def country_code(country: str) -> str | None:
    """The code of a country with a clip from its name as typed, in English or Khmer; None when unknown."""
    return _country_codes().get(_country_name_key(country))


def country_name(code: str, lang: str) -> str:
    """A country's name in lang (Khmer or English), for buttons."""
    english, khmer, _others = COUNTRY_NAMES[code]
    return khmer if lang == "km" else english


@cache
def same_text_groups() -> dict[str, tuple[str, ...]]:
    """Each key → every key whose Khmer text is the same (itself included, catalog order).

    The voice talent records such a text once (នាក់ for one person and for many); the import fills every key.
    """
    by_text: dict[str, list[str]] = {}
    for key, prompt in load_catalog().items():
        by_text.setdefault(unicodedata.normalize("NFC", prompt.km.strip()), []).append(key)
    return {key: tuple(keys) for keys in by_text.values() for key in keys}
