"""The prompt catalog: every clip key with the Khmer text the voice talent reads and an English gloss."""

from __future__ import annotations

import csv
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
RELATIONSHIPS = ("parent", "child", "spouse", "sibling", "relative", "friend", "acquaintance")
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
    """Clip key of a destination country, or None when no clip names it."""
    code = country.strip().lower().replace(" ", "_").replace("-", "_")
    return f"country.{code}" if code in COUNTRIES else None
