"""Dates, working hours, pay and years as Cambodians type them, in Khmer or English, into values.

    parse_date("15 ធ្នូ", today)          → date(2026, 12, 15)    (also 15/12/2026, 15-12-26, 2026-12-15)
    parse_hours("៧ព្រឹក ដល់ ៤ល្ងាច")       → Hours(07:00, 16:00)
    parse_hours("៧ ដល់ ៤")                → Hours(07:00, 16:00, guessed=True): ask the person to confirm
    parse_pay("៥០ម៉ឺនរៀល")                → Pay(500000, "KHR")    ("$250", "250 ដុល្លារ", "500k", "1.5 លាន")
    parse_year("ឆ្នាំ១៩៩៨", minimum, maximum) → 1998

Khmer digits, emoji, zero-width characters (Khmer keyboards put U+200B between words) and extra spaces are
ignored. Every parser raises ``InvalidField`` with the same codes as the rest of jobs_core, so the chat says
what it says for any bad answer. The ``format_*`` functions write a value the way its parser reads it back.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal, InvalidOperation

from jobs_core.errors import InvalidField
from jobs_core.numbers import latin_digits

__all__ = [
    "Hours",
    "Pay",
    "format_date",
    "format_hours",
    "format_pay",
    "khmer_digits",
    "parse_date",
    "parse_hours",
    "parse_pay",
    "parse_year",
    "tidy",
]

LONG_SHIFT = timedelta(hours=14)  # longer than this is probably a typing mistake: the person is asked

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\ufe0e\ufe0f"), None)
_TO_KHMER = str.maketrans("0123456789", "០១២៣៤៥៦៧៨៩")


def tidy(text: str) -> str:
    """Latin digits, no emoji or invisible characters, single spaces, lower case (Khmer is unchanged)."""
    text = unicodedata.normalize("NFC", latin_digits(text)).translate(_ZERO_WIDTH)
    kept = "".join(" " if unicodedata.category(c) in ("So", "Sk", "Cs", "Co") else c for c in text)
    return re.sub(r"\s+", " ", kept).strip().casefold()


def khmer_digits(text: str) -> str:
    return text.translate(_TO_KHMER)


# ------------------------------------------------------------------------------------------------ dates

KHMER_MONTHS = ("មករា", "កុម្ភៈ", "មីនា", "មេសា", "ឧសភា", "មិថុនា", "កក្កដា", "សីហា", "កញ្ញា", "តុលា", "វិច្ឆិកា", "ធ្នូ")
ENGLISH_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_MONTH_NAMES: dict[str, int] = {}
for _number, (_km, _en) in enumerate(zip(KHMER_MONTHS, ENGLISH_MONTHS, strict=True), start=1):
    _MONTH_NAMES[_km] = _MONTH_NAMES[_km.rstrip("ៈ")] = _number  # កុម្ភៈ is often typed without its ៈ
    _MONTH_NAMES[_en] = _MONTH_NAMES[_en[:3]] = _number
_MONTH_NAMES["sept"] = 9
_MONTH_WORD = "|".join(sorted(map(re.escape, _MONTH_NAMES), key=len, reverse=True))
_NUMERIC_DATE = re.compile(r"(\d{1,2})\s?[/.\-]\s?(\d{1,2})\s?[/.\-]\s?(\d{2}|\d{4})")
_SHORT_DATE = re.compile(r"(\d{1,2})\s?[/.\-]\s?(\d{1,2})")  # 15/12: the next 15 December
_ISO_DATE = re.compile(r"(\d{4})\s?[-/.]\s?(\d{1,2})\s?[-/.]\s?(\d{1,2})")
_DAY_MONTH = re.compile(rf"(\d{{1,2}})(?:st|nd|rd|th)?\s?(?:of\s)?({_MONTH_WORD})\.?(?:[\s,]+(\d{{4}}|\d{{2}}))?")
_MONTH_DAY = re.compile(rf"({_MONTH_WORD})\.?\s?(\d{{1,2}})(?:st|nd|rd|th)?(?:[\s,]+(\d{{4}}))?")
# "ថ្ងៃទី ១៥ ខែធ្នូ ឆ្នាំ២០២៦": the words for day, month and year are dropped.
_DATE_WORDS = re.compile(r"ថ្ងៃទី|ខែ|ឆ្នាំ|\bthe\b")


def _year(text: str) -> int:
    return 2000 + int(text) if len(text) == 2 else int(text)


def parse_date(text: str, today: date) -> date:
    """A calendar date; day before month (15/12/2026). Without a year: the next such day from today."""
    cleaned = re.sub(r"\s+", " ", _DATE_WORDS.sub(" ", tidy(text))).strip()
    try:
        if found := _ISO_DATE.fullmatch(cleaned):
            return date(int(found[1]), int(found[2]), int(found[3]))
        if found := _NUMERIC_DATE.fullmatch(cleaned):
            return date(_year(found[3]), int(found[2]), int(found[1]))
        day_month = _DAY_MONTH.fullmatch(cleaned)
        month_day = _MONTH_DAY.fullmatch(cleaned)
        if found := _SHORT_DATE.fullmatch(cleaned):
            day, month, year = int(found[1]), int(found[2]), None
        elif day_month:
            day, month, year = int(day_month[1]), _MONTH_NAMES[day_month[2]], day_month[3]
        elif month_day:
            day, month, year = int(month_day[2]), _MONTH_NAMES[month_day[1]], month_day[3]
        else:
            raise InvalidField("start_date", "invalid_date", "expected a date like 15/12/2026")
        if year is not None:
            return date(_year(year), month, day)
        found_date = date(today.year, month, day) if (month, day) != (2, 29) else _leap_day(today)
        return found_date if found_date >= today else found_date.replace(year=found_date.year + 1)
    except ValueError as exc:  # 31/02, month 13
        raise InvalidField("start_date", "invalid_date", "no such day") from exc


def _leap_day(today: date) -> date:
    year = today.year
    while True:
        try:
            candidate = date(year, 2, 29)
        except ValueError:
            year += 1
            continue
        if candidate >= today:
            return candidate
        year += 1


def format_date(day: date, language: str) -> str:
    """15/12/2026, or ១៥ ធ្នូ ២០២៦ in Khmer."""
    if language == "km":
        return khmer_digits(f"{day.day} {KHMER_MONTHS[day.month - 1]} {day.year}")
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


# ------------------------------------------------------------------------------------------------ hours


@dataclass(frozen=True)
class Hours:
    start: time
    end: time
    guessed: bool = False  # "7-4" read as 07:00-16:00: the person should confirm

    @property
    def length(self) -> timedelta:
        """The shift's length; one ending before it starts runs over midnight."""
        minutes = (self.end.hour * 60 + self.end.minute) - (self.start.hour * 60 + self.start.minute)
        return timedelta(minutes=minutes % (24 * 60))

    @property
    def long(self) -> bool:
        return self.length > LONG_SHIFT


_AM = ("am", "a.m.", "a.m", "ព្រឹក", "morning")
_PM = ("pm", "p.m.", "p.m", "រសៀល", "ល្ងាច", "afternoon", "evening")
_NIGHT = ("យប់", "night")
_NOON = ("ថ្ងៃត្រង់", "noon", "midday")
_MARKS = "|".join(sorted(map(re.escape, (*_AM, *_PM, *_NIGHT, *_NOON)), key=len, reverse=True))
_CLOCK = re.compile(rf"(?:ម៉ោង\s?)?(\d{{1,2}})(?:\s?[:.h]\s?(\d{{2}})|h)?\s?(?:o'?clock\s?)?({_MARKS})?(?:\s?ម៉ោង)?")
_FROM = re.compile(r"^(?:from|ចាប់ពី|ពី)\s?")
_RANGE = re.compile(r"\s?(?:-|–|—|~|\bto\b|\buntil\b|\btill\b|ដល់|រហូតដល់|ទៅ)\s?")
_NOON_ONLY = re.compile(rf"(?:ម៉ោង\s?)?({'|'.join(_NOON)})")


def _clock(text: str) -> tuple[int, int, str | None]:
    """(hour, minute, mark) where mark is am, pm, night, "24h" (written as on a 24-hour clock: 07:00, 16, 11:30)
    or None; hour as typed."""
    if found := _NOON_ONLY.fullmatch(text):
        return 12, 0, "pm"
    found = _CLOCK.fullmatch(text)
    if not found:
        raise InvalidField("hours_start", "invalid_time", text)
    hour, minute, word = int(found[1]), int(found[2] or 0), found[3]
    mark = None
    if word in _AM:
        mark = "am"
    elif word in _PM or word in _NOON:
        mark = "pm"
    elif word in _NIGHT:
        mark = "night"
    if minute > 59 or hour > 24 or (mark and hour > 12) or (hour == 24 and minute):
        raise InvalidField("hours_start", "invalid_time", text)
    if mark is None and len(found[1]) == 2 and (found[1][0] == "0" or hour > 12 or found[2]):
        mark = "24h"
    return hour, minute, mark


def _hour24(hour: int, mark: str | None) -> int:
    if mark == "am":
        return 0 if hour == 12 else hour
    if mark == "pm":
        return hour if hour == 12 else hour + 12
    if mark == "night":  # 9 យប់ is 21:00, 12 យប់ midnight, 2 យប់ (after midnight) 02:00
        return 0 if hour == 12 else hour + 12 if hour >= 6 else hour
    return 0 if hour == 24 else hour


def parse_hours(text: str) -> Hours:
    """A shift as "start to end": 07:00-16:00, 7am-4pm, 7-16, ៧ព្រឹក ដល់ ៤ល្ងាច. Without am/pm and with an end
    before the start ("7-4") the end is read as afternoon and the result is marked ``guessed``."""
    parts = _RANGE.split(_FROM.sub("", tidy(text).replace("ម៉ោង ", "ម៉ោង")))
    parts = [p.strip() for p in parts if p.strip()]
    if len(parts) != 2:
        raise InvalidField("hours_start", "invalid_time", "expected a start and an end")
    (h1, m1, mark1), (h2, m2, mark2) = _clock(parts[0]), _clock(parts[1])
    if mark1 is None and mark2 not in (None, "24h") and h1 <= 12:
        # "7-4pm": the start shares the end's half of the day unless that puts it after the end.
        same = _hour24(h1, mark2)
        mark1 = mark2 if same * 60 + m1 < _hour24(h2, mark2) * 60 + m2 else ("am" if mark2 == "pm" else None)
    guessed = False
    start, end = _hour24(h1, mark1), _hour24(h2, mark2)
    if mark1 is None and mark2 is None and 1 <= h2 <= 12 and h1 <= 12 and h2 * 60 + m2 <= h1 * 60 + m1:
        end, guessed = h2 + 12 if h2 != 12 else 12, True
    return Hours(time(start, m1), time(end, m2), guessed)


def format_hours(hours: Hours) -> str:
    return f"{hours.start:%H:%M}-{hours.end:%H:%M}"


# ------------------------------------------------------------------------------------------------ pay


@dataclass(frozen=True)
class Pay:
    amount: Decimal
    currency: str | None  # "USD" or "KHR"; None when the person did not say and the amount does not tell
    period: str | None = None  # "month", "day" or "hour" when typed ("$250/month", "២៥០ដុល្លារ/ខែ")


_DOLLARS = ("$", "usd", "us$", "dollars", "dollar", "ដុល្លារ", "ដុល្លា", "ដូឡា")
_RIEL = ("៛", "khr", "riels", "riel", "រៀល")
_MULTIPLIERS = {
    "k": 1_000,
    "ពាន់": 1_000,
    "ម៉ឺន": 10_000,
    "សែន": 100_000,
    "លាន": 1_000_000,
    "million": 1_000_000,
    "mln": 1_000_000,
}
_PERIODS = {
    "month": "month",
    "monthly": "month",
    "mo": "month",
    "ខែ": "month",
    "day": "day",
    "daily": "day",
    "ថ្ងៃ": "day",
    "hour": "hour",
    "hourly": "hour",
    "hr": "hour",
    "h": "hour",
    "ម៉ោង": "hour",
}
_TERM = re.compile(
    r"(\d+(?:\.\d+)?)\s?(" + "|".join(sorted(map(re.escape, _MULTIPLIERS), key=len, reverse=True)) + r")?"
)
_PERIOD_WORDS = "|".join(sorted(map(re.escape, _PERIODS), key=len, reverse=True))
_PERIOD_TAIL = re.compile(rf"\s?(?:/|per|a|an|every|ក្នុង\s?(?:មួយ|1)|មួយ|ក្នុង)\s?({_PERIOD_WORDS})$")
_GROUPS = re.compile(r"(?<=\d)[,\s](?=\d{3}(?!\d))")
DOLLARS_AT_MOST = Decimal(20_000)  # above every dollar limit (jobs_core.services.jobs.MAX_SALARY): riel
PAY_DIGITS_AT_MOST = Decimal(10) ** 15  # no pay is this large; Decimal cannot round far larger to cents


def parse_pay(text: str) -> Pay:
    """An amount with its currency when said or clear: $250, 250 ដុល្លារ, ៥០ម៉ឺនរៀល, 500000 riel, 500k, 1.5 លាន.
    Riel when a Khmer multiplier or "k" is used or the amount is too large for dollars."""
    cleaned = tidy(text)
    period = None
    if found := _PERIOD_TAIL.search(cleaned):
        period, cleaned = _PERIODS[found[1]], cleaned[: found.start()].strip()
    currency = None
    for word in sorted(_DOLLARS + _RIEL, key=len, reverse=True):
        if word in cleaned:
            currency = "USD" if word in _DOLLARS else "KHR"
            cleaned = cleaned.replace(word, " ")
            break
    cleaned = _GROUPS.sub("", re.sub(r"\s+", " ", cleaned).strip())
    if not cleaned:
        raise InvalidField("salary_amount", "not_a_number", "expected an amount")
    position, total, scaled, last_scale = 0, Decimal(0), False, None
    for found in _TERM.finditer(cleaned):
        # Terms add up only after a larger unit: "1លាន 2សែន" is 1,200,000; "250 3" is a mistake.
        if cleaned[position : found.start()].strip(" ,+និង&and") or (position and not last_scale):
            raise InvalidField("salary_amount", "not_a_number", "expected an amount")
        scale = _MULTIPLIERS[found[2]] if found[2] else None
        if last_scale is not None and (scale or 1) >= last_scale:
            raise InvalidField("salary_amount", "not_a_number", "expected an amount")
        last_scale = scale
        try:
            number = Decimal(found[1])
        except InvalidOperation as exc:
            raise InvalidField("salary_amount", "not_a_number", "expected an amount") from exc
        if found[2]:
            number, scaled = number * _MULTIPLIERS[found[2]], True
        total, position = total + number, found.end()
    # Beyond any pay (and beyond what Decimal's 28 digits can round to cents): hundreds of typed digits.
    if position == 0 or cleaned[position:].strip() or total <= 0 or total >= PAY_DIGITS_AT_MOST:
        raise InvalidField("salary_amount", "not_a_number", "expected an amount")
    if total != total.quantize(Decimal("0.01")):
        raise InvalidField("salary_amount", "not_a_number", "at most two decimals")
    if currency is None and ((scaled and total >= 1_000) or total > DOLLARS_AT_MOST):
        currency = "KHR"
    return Pay(total.quantize(Decimal("0.01")), currency, period)


def format_pay(amount: Decimal, currency: str, language: str) -> str:
    """$250 or 500,000 ៛; in Khmer ២៥០ ដុល្លារ or ៥០០,០០០ រៀល."""
    whole = amount == amount.to_integral_value()
    number = f"{amount:,.0f}" if whole else f"{amount:,.2f}"
    if language == "km":
        return khmer_digits(number) + (" ដុល្លារ" if currency == "USD" else " រៀល")
    return f"${number}" if currency == "USD" else f"{number} ៛"


# ------------------------------------------------------------------------------------------------ years


def parse_year(text: str, *, minimum: int, maximum: int, field: str = "birth_year") -> int:
    """A four-digit year (១៩៩៨, "ឆ្នាំ 1998", "born in 1998") between minimum and maximum."""
    found = re.fullmatch(r"(?:ឆ្នាំ|year|born(?: in)?|in)?\s?(\d{4})\s?(?:ឆ្នាំ)?", tidy(text))
    if not found:
        raise InvalidField(field, "not_a_year", "expected a year like 1998")
    year = int(found[1])
    if year < minimum:
        raise InvalidField(field, "too_small", f"must be at least {minimum}")
    if year > maximum:
        raise InvalidField(field, "too_large", f"must be at most {maximum}")
    return year
