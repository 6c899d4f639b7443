"""The recording script: one line per distinct Khmer text, with where a fragment is heard and how to say it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from pathlib import Path

from media import composer
from media.catalog import COUNTRIES, SECTORS, Prompt, load_catalog, same_text_groups
from media.composer import Phrase, PitchJob
from media.sample_jobs import sample_pitch_jobs

CONTINUING = "continuing"  # voice stays up: more follows in the same breath
FINAL = "final"  # voice falls: the phrase or sentence ends here
EITHER = "continuing or final (keep it level)"  # heard both inside and at the end of phrases

# What a voice talent reading the text cold would get wrong.
PRONUNCIATION = {
    "benefit.nssf": "ប.ស.ស. is read letter by letter: បរ សរ សរ",
    "num.100": "say រយ alone, not មួយរយ: the number before it is its own clip",
    "num.1000": "say ពាន់ alone, not មួយពាន់",
    "num.10000": "say ម៉ឺន alone, not មួយម៉ឺន",
    "num.100000": "say សែន alone, not មួយសែន; សែន (100 000), not សេន (cents)",
    "num.1000000": "say លាន alone, not មួយលាន",
    "currency.cents": "សេន (cents), not សែន (100 000)",
    "date.day": "short ទី, as in ថ្ងៃទី ១៥",
    "place.in": "short នៅ, joined to the place that follows",
    "place.country": "គឺនៅ, then the country: គឺនៅប្រទេសថៃ",
    "ivr.intro": "បងភក្តិ is the service's name: Bong Pheak",
    "ivr.checkin.question": "បងភក្តិ is the service's name: Bong Pheak; 9 here means 'help me', say it clearly",
    "safety.again": "then the number is read once more, digit by digit",
    "positions.need": "ត្រូវការកម្មករ, then the kind of work: ត្រូវការកម្មករសំណង់",
}

_EMPLOYER_CLIP = Path("employer.wav")  # stands for the employer's own recording in the examples


@dataclass(frozen=True)
class ScriptLine:
    """One recording: the text once, every clip key it fills, and how it is heard in a call."""

    keys: tuple[str, ...]
    km: str
    gloss: str
    category: str
    used_in: str  # a Khmer phrase the clip is heard in, the clip in «»; empty for whole sentences
    intonation: str
    note: str

    @property
    def key(self) -> str:
        """The file name to record under (<key>.wav); the import fills the other keys from it."""
        return self.keys[0]


def is_fragment(prompt: Prompt) -> bool:
    """A clip that is only part of a sentence (no full stop, question or exclamation mark of its own).

    A clip ending in a colon (៖) introduces a recording played on its own, so it is said as a whole sentence.
    """
    return not prompt.km.rstrip().endswith(("។", "?", "!", "៕", "៖", ":"))


def recording_script() -> list[ScriptLine]:
    """Every distinct text of the catalog once, in catalog order."""
    catalog = load_catalog()
    uses = _uses(catalog)
    lines: list[ScriptLine] = []
    seen: set[str] = set()
    for key, prompt in catalog.items():
        if key in seen:
            continue
        keys = same_text_groups()[key]
        seen.update(keys)
        used_in, intonation = "", FINAL
        if is_fragment(prompt):
            used_in, intonation = _describe(keys, uses, catalog)
        notes = [PRONUNCIATION[k] for k in keys if k in PRONUNCIATION]
        if is_fragment(prompt) and not used_in:
            notes.append("not heard in a Khmer pitch yet; read it level")
        if len(keys) > 1:
            notes.append(f"one recording fills {', '.join(keys)}")
        lines.append(ScriptLine(keys, prompt.km, prompt.gloss, prompt.category, used_in, intonation, "; ".join(notes)))
    return lines


def _describe(
    keys: tuple[str, ...], uses: dict[str, list[tuple[Phrase, int]]], catalog: dict[str, Prompt]
) -> tuple[str, str]:
    found = [use for key in keys for use in uses.get(key, [])]
    if not found:
        return "", FINAL
    ends = {index == len(phrase) - 1 for phrase, index in found}
    intonation = EITHER if len(ends) > 1 else FINAL if ends == {True} else CONTINUING
    phrase, index = max(found, key=lambda use: len(use[0]))  # the longest example shows the most context
    words = [_text(part, catalog) for part in phrase]
    words[index] = f"«{words[index]}»"
    return " ".join(words), intonation


def _text(part: object, catalog: dict[str, Prompt]) -> str:
    return catalog[part].km if isinstance(part, str) else "[សាររបស់និយោជក]"


def _uses(catalog: dict[str, Prompt]) -> dict[str, list[tuple[Phrase, int]]]:
    """Every (phrase, position) each clip is heard at, over the calls the composer makes."""
    uses: dict[str, list[tuple[Phrase, int]]] = {}
    for phrase in _example_phrases():
        for index, part in enumerate(phrase):
            if isinstance(part, str) and part in catalog:
                uses.setdefault(part, []).append((phrase, index))
    return uses


def _example_phrases() -> Iterator[Phrase]:
    today = date(2026, 1, 5)
    jobs = sample_pitch_jobs(200, seed=3)
    # Jobs that make the rarer clips heard: every sector, country and province, cents, noon, night, ages.
    jobs += [PitchJob(sector=s, province_code=f"{i % 25 + 1:02d}", positions=1 + i) for i, s in enumerate(SECTORS)]
    jobs += [PitchJob(sector="other", country=c) for c in COUNTRIES]
    jobs += [PitchJob(sector="retail", province_code=f"{i:02d}") for i in range(1, 26)]
    jobs += [
        PitchJob(sector="retail", salary_amount=Decimal("7.50"), salary_currency="USD", salary_period="hour"),
        PitchJob(sector="retail", salary_amount=Decimal("0.50"), salary_currency="USD", salary_period="piece"),
        PitchJob(sector="retail", salary_amount=1_500_000, salary_currency="KHR", salary_period="month"),
        PitchJob(sector="retail", salary_amount=Decimal("160.70"), salary_currency="USD", salary_period="month"),
        PitchJob(sector="retail", hours_start=time(12, 30), hours_end=time(22, 15), max_age=40),
        PitchJob(sector="retail", start_date=today, employer_clip=_EMPLOYER_CLIP),
        *(PitchJob(sector="retail", start_date=date(2026, m, 10 + m)) for m in range(1, 13)),
    ]
    for job in jobs:
        yield from composer.compose_pitch(job, "km", today=today).phrases
