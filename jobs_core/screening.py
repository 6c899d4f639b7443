"""Trafficking-risk screening of job listings, before a moderator sees them.

``screen(listing)`` returns an ``Assessment``: a risk (low, medium, high) and reason codes a moderator can
act on. It is pure Python with no database, so the jobs service, the CLI (``bongpheak screen``) and tests
all call the same function. Wording (English and Khmer), wage norms and the licensed-agency list are data
under ``jobs_core/data/``; see ``jobs_core.screening_rules`` for how text is matched.

How the risk is decided
-----------------------
Every reason code has a fixed severity (``REASONS``); the risk is the highest severity among the reasons
found, after these combination rules:

* Work abroad (a destination country, "abroad", "cross the border", or wording that the border is crossed
  without a passport or visa) is ``abroad_unlicensed`` (high) unless the listing gives a licence number that
  is in the licensed-agency list, then ``abroad_licensed`` (medium). Abroad together with a fee, deposit or
  guarantee asked of the worker adds ``abroad_with_fees`` (high), licensed or not.
* Scam-compound recruitment (``scam_compound``, high) is recognised in two ways:
  - a scam-type job (typing, online work, casino, customer service, call centre, crypto...) together with
    high pay (promised, or far above the sector norm) or a border/SEZ town, plus at least one more sign of
    the family (no experience needed, free travel/housing, contact only through a messaging handle,
    penalties for leaving);
  - otherwise, scam-family signs weighing 4 or more, at least one of them medium: pay far above the norm
    (2), a messaging handle as the only contact (2), free travel or housing (1), a border/SEZ town (1),
    a promise of high pay (1). So two medium signs of the family make the listing high, and so do one
    medium sign with two low ones.
* Three or more medium reasons and no high one add ``multiple_warning_signs`` (high).

Signs a moderator reads in context (``_moderator_patterns``)
------------------------------------------------------------
* ``debt_bondage`` (high): an advance or loan (often to the family) repaid from wages, or work until a debt
  is paid. ``wages_withheld`` (high): pay only at the end of a season, contract or boat trip or on return,
  wages lost when leaving early, part of the wage kept as a deposit.
* ``sea_long_trips`` (medium): fishing work with months at sea, no port calls or transshipment; with pay on
  return it is also ``wages_withheld``.
* ``body_photos`` (high): full-body or swimsuit photos. ``appearance_demands`` (medium): looks, figure, skin
  or height wanted, or - for hospitality and domestic work - only women in a young, narrow age range
  (at most ``NARROW_AGE_SPAN`` years wide, ending by ``NARROW_AGE_MAX``).
* ``live_in_no_rest`` (high): domestic work with no day off or "available 24 hours";
  ``live_in_hours_unstated`` (medium): live-in domestic work that states neither hours nor a day off.
* Contradictions between the text and the fields: ``minor_in_text`` (medium) when the text accepts
  under-18s and ``min_age`` says 18 or more (the text's age also feeds ``underage``/``minor_hazardous``);
  ``pay_mismatch`` (medium) when no pay in the text is within ``pay_mismatch_ratio`` of the salary field.
* ``pay_above_norm`` (medium): no-experience pay from ``above_no_experience`` (1.5x) times the sector norm
  up to the scam range (``pay_far_above_norm``).

Before any rule runs the text is prepared (``screening_rules.prepare``): normalised (Khmer digits, zero-width
characters, Khmer vowels typed in pieces), known misspellings of key words rewritten, and numbers written
in words read as digits. A negation before a phrase, or inside it where a pattern says ``{gap:N}``, stops
it: a listing that promises the worker never pays or keeps their documents is protecting them. Foreign
names that are brands or shops ("Korea BBQ", ហាងម្ហូបម៉ាឡេស៊ី) are not work abroad, nor is a cross-border
route of transport work based at home.

High-risk listings are never published without a moderator (the jobs service enforces that; this module
only says which listings are high).
"""

from __future__ import annotations

import csv
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from jobs_core import screening_rules as rules

AGENCIES_ENV = "BONGPHEAK_LICENSED_AGENCIES"
AGENCIES_FILE = "licensed_agencies.csv"

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
# Sectors where under-18s must not work (with night work and entertainment venues, found in the text).
HAZARDOUS_SECTORS = frozenset({"construction", "fishing", "security"})
MINIMUM_WORKING_AGE = 15
ADULT_AGE = 18
# "Only young women" for serving or caring work: an age range no wider than this, ending at most at this age.
NARROW_AGE_SPAN = 9
NARROW_AGE_MAX = 27


class Risk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return _RISK_RANK[self]


_RISK_RANK = {Risk.LOW: 0, Risk.MEDIUM: 1, Risk.HIGH: 2}


@dataclass(frozen=True)
class Reason:
    code: str
    severity: Risk
    explanation: str


_REASON_LIST = (
    Reason("fee_charged", Risk.HIGH, "Asks workers for a fee, deposit or guarantee before or for the job."),
    Reason("documents_retained", Risk.HIGH, "Says the employer or agency keeps workers' passports or ID cards."),
    Reason(
        "abroad_unlicensed",
        Risk.HIGH,
        "Work abroad offered without a licence number found in the list of licensed recruitment agencies.",
    ),
    Reason("abroad_with_fees", Risk.HIGH, "Work abroad for which the worker must pay a fee, deposit or guarantee."),
    Reason(
        "irregular_crossing",
        Risk.HIGH,
        "Suggests crossing a border without a passport or work visa, or on an irregular route.",
    ),
    Reason("underage", Risk.HIGH, "Accepts workers younger than 15, the minimum working age."),
    Reason(
        "minor_hazardous",
        Risk.HIGH,
        "Accepts under-18s for hazardous work: construction, fishing, security, night work or entertainment.",
    ),
    Reason(
        "scam_compound",
        Risk.HIGH,
        "Matches scam-compound recruitment: online/typing/casino-type work, high pay for no experience, "
        "free travel or housing, border or SEZ towns, messaging-app contact.",
    ),
    Reason("exit_penalty", Risk.HIGH, "Penalises workers for leaving, or says they cannot leave."),
    Reason(
        "debt_bondage",
        Risk.HIGH,
        "Advances or loans (often to the family) repaid from wages, or work until a debt is paid: debt bondage.",
    ),
    Reason(
        "wages_withheld",
        Risk.HIGH,
        "Wages held back: paid only at the end of a season, contract or boat trip, lost if the worker leaves "
        "early, or kept from wages as a deposit.",
    ),
    Reason("body_photos", Risk.HIGH, "Asks for full-body, swimsuit or underwear photos of applicants."),
    Reason(
        "live_in_no_rest",
        Risk.HIGH,
        "Live-in domestic work with no day off, or available day and night.",
    ),
    Reason(
        "multiple_warning_signs",
        Risk.HIGH,
        "Three or more separate warning signs together; check the employer before publishing.",
    ),
    Reason(
        "abroad_licensed",
        Risk.MEDIUM,
        "Work abroad through an agency whose licence number is in the licensed list; check the licence.",
    ),
    Reason(
        "licence_not_listed",
        Risk.MEDIUM,
        "Gives a licence number that is not in the list of licensed recruitment agencies.",
    ),
    Reason(
        "licence_name_mismatch",
        Risk.MEDIUM,
        "The licence number belongs to a differently named agency in the licensed list.",
    ),
    Reason(
        "pay_far_above_norm",
        Risk.MEDIUM,
        "Pay far above the usual wage for unskilled work in this sector in Cambodia.",
    ),
    Reason(
        "messaging_handle_only",
        Risk.MEDIUM,
        "The only contact is a messaging-app handle (Telegram, WhatsApp...), no phone number.",
    ),
    Reason(
        "pay_above_norm",
        Risk.MEDIUM,
        "Pay well above the usual wage (about 1.5 times or more) for work that needs no experience.",
    ),
    Reason(
        "pay_mismatch",
        Risk.MEDIUM,
        "The pay written in the text is not the pay in the salary field.",
    ),
    Reason(
        "minor_in_text",
        Risk.MEDIUM,
        "The text accepts workers under 18 although the age field says 18 or over.",
    ),
    Reason(
        "sea_long_trips",
        Risk.MEDIUM,
        "Fishing at sea for months, or without port calls: workers cannot leave or ask for help.",
    ),
    Reason(
        "appearance_demands",
        Risk.MEDIUM,
        "Asks for looks, body shape, skin colour or height, or only young women in a narrow age range, "
        "for hospitality or domestic work.",
    ),
    Reason(
        "live_in_hours_unstated",
        Risk.MEDIUM,
        "Live-in domestic work without working hours or a day off stated.",
    ),
    Reason("no_employer_name", Risk.MEDIUM, "No employer name given."),
    Reason("vague_listing", Risk.MEDIUM, "No pay stated and only vague wording about the job or the salary."),
    Reason(
        "free_travel_housing",
        Risk.LOW,
        "Offers free travel, housing or food (common in scam recruitment when combined with other signs).",
    ),
    Reason(
        "border_town",
        Risk.LOW,
        "Work in a border or special-economic-zone town (Poipet, Bavet, Sihanoukville, Koh Kong, O'Smach...).",
    ),
    Reason("high_pay_promise", Risk.LOW, "Promises high or easy pay."),
)
REASONS: Mapping[str, Reason] = {reason.code: reason for reason in _REASON_LIST}
REASON_SEVERITY: Mapping[str, Risk] = {code: reason.severity for code, reason in REASONS.items()}
REASON_EXPLANATIONS: Mapping[str, str] = {code: reason.explanation for code, reason in REASONS.items()}
_ORDER = {code: index for index, code in enumerate(REASONS)}


def explain(code: str) -> str:
    """The English explanation of a reason code, for moderators (translated by the bot)."""
    return REASON_EXPLANATIONS.get(code, code)


# --------------------------------------------------------------------------------------------- input


class ListingError(ValueError):
    """A listing that cannot be screened; ``field`` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"field {field!r}: {message}")
        self.field = field
        self.message = message


_REQUIRED_FIELDS = (
    "title",
    "description",
    "employer_name",
    "employer_kind",
    "licence_no",
    "location",
    "sector",
    "salary_amount",
    "salary_currency",
    "salary_period",
    "min_age",
    "max_age",
    "contact",
)


def _text(d: Mapping[str, Any], field: str, *, nullable: bool) -> str | None:
    value = d[field]
    if value is None:
        if nullable:
            return None
        raise ListingError(field, "must be text, not null")
    if not isinstance(value, str):
        raise ListingError(field, f"must be text, not {type(value).__name__}")
    return value


def _number(d: Mapping[str, Any], field: str) -> float | None:
    value = d[field]
    if value is None or value == "":
        return None
    if isinstance(value, str):
        cleaned = rules.normalise(value).replace(",", "").replace("$", "").strip()
        try:
            value = float(cleaned)
        except ValueError:
            raise ListingError(field, f"must be a number, not {d[field]!r}") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ListingError(field, f"must be a non-negative number, not {d[field]!r}")
    return float(value)


def _age(d: Mapping[str, Any], field: str) -> int | None:
    value = _number(d, field)
    if value is None:
        return None
    if value != int(value) or value > 120:
        raise ListingError(field, f"must be a whole number of years, not {d[field]!r}")
    return int(value)


@dataclass(frozen=True)
class Listing:
    """What the screener reads of a job listing (the fields of the screening sample)."""

    title: str
    description: str
    employer_name: str
    employer_kind: str
    licence_no: str | None
    location: str
    sector: str
    salary_amount: float | None
    salary_currency: str | None
    salary_period: str | None
    min_age: int | None
    max_age: int | None
    contact: str
    night_work: bool = False

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Listing:
        """A listing from a JSON-like mapping; ListingError names the first missing or malformed field.

        Every field must be present (null where allowed: licence_no, salary_*, min_age, max_age; an empty
        or null employer_name is allowed and is itself a warning sign). Extra keys are ignored.
        """
        if not isinstance(d, Mapping):
            raise ListingError("(listing)", "must be a JSON object")
        for field in _REQUIRED_FIELDS:
            if field not in d:
                raise ListingError(field, "missing")
        night_work = d.get("night_work", False)
        if night_work is None:
            night_work = False
        if not isinstance(night_work, bool):
            raise ListingError("night_work", "must be true or false")
        sector = (_text(d, "sector", nullable=True) or "other").strip().lower()
        return cls(
            title=_text(d, "title", nullable=False) or "",
            description=_text(d, "description", nullable=False) or "",
            employer_name=_text(d, "employer_name", nullable=True) or "",
            employer_kind=(_text(d, "employer_kind", nullable=True) or "").strip().lower(),
            licence_no=(_text(d, "licence_no", nullable=True) or "").strip() or None,
            location=_text(d, "location", nullable=True) or "",
            sector=sector or "other",
            salary_amount=_number(d, "salary_amount"),
            salary_currency=(_text(d, "salary_currency", nullable=True) or "").strip().upper() or None,
            salary_period=(_text(d, "salary_period", nullable=True) or "").strip().lower() or None,
            min_age=_age(d, "min_age"),
            max_age=_age(d, "max_age"),
            contact=_text(d, "contact", nullable=True) or "",
            night_work=night_work,
        )


@dataclass(frozen=True)
class Assessment:
    risk: Risk
    reasons: tuple[str, ...]

    def explanations(self) -> tuple[str, ...]:
        return tuple(explain(code) for code in self.reasons)

    def to_dict(self) -> dict[str, Any]:
        return {"risk": str(self.risk), "reasons": list(self.reasons)}


# --------------------------------------------------------------------------------- licensed agencies


def normalise_licence(licence_no: str) -> str:
    """A licence number in comparable form: "mlvt 0473", "MLVT-០៤៧៣" and "MLVT-0473" are the same."""
    return re.sub(r"[^0-9A-Z]", "", rules.normalise(licence_no).upper())


@dataclass(frozen=True)
class LicensedAgencies:
    """Recruitment agencies licensed to place workers abroad: licence number -> agency name.

    The shipped ``jobs_core/data/licensed_agencies.csv`` is a SAMPLE for development and the demo, not the
    official list: operators must replace it with the Ministry of Labour and Vocational Training's list
    (a CSV with ``licence_no`` and ``name`` columns; lines starting with # are comments), by passing a path
    or setting BONGPHEAK_LICENSED_AGENCIES.
    """

    by_licence: Mapping[str, str]
    source: str = ""

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str]], source: str = "") -> LicensedAgencies:
        return cls({normalise_licence(no): name.strip() for no, name in rows if normalise_licence(no)}, source)

    @classmethod
    def from_csv_text(cls, text: str, source: str = "") -> LicensedAgencies:
        reader = csv.DictReader(line for line in text.splitlines() if not line.lstrip().startswith("#"))
        fields = [f.strip().lower() for f in reader.fieldnames or []]
        if "licence_no" not in fields:
            raise ValueError(f"{source or 'agency list'}: needs a 'licence_no' column (and 'name')")
        rows = []
        for row in reader:
            clean = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
            rows.append((clean.get("licence_no", ""), clean.get("name", "")))
        return cls.from_rows(rows, source)

    @classmethod
    def from_csv(cls, path: str | os.PathLike[str]) -> LicensedAgencies:
        file = Path(path)
        return cls.from_csv_text(file.read_text(encoding="utf-8-sig"), str(file))

    @classmethod
    def default(cls) -> LicensedAgencies:
        """The list named by BONGPHEAK_LICENSED_AGENCIES, else the shipped sample list."""
        path = os.environ.get(AGENCIES_ENV)
        return cls.from_csv(path) if path else _shipped_agencies()

    def name_for(self, licence_no: str | None) -> str | None:
        return self.by_licence.get(normalise_licence(licence_no)) if licence_no else None

    def __contains__(self, licence_no: object) -> bool:
        return isinstance(licence_no, str) and self.name_for(licence_no) is not None

    def __len__(self) -> int:
        return len(self.by_licence)


@lru_cache(maxsize=1)
def _shipped_agencies() -> LicensedAgencies:
    text = resources.files(rules.DATA_PACKAGE).joinpath(AGENCIES_FILE).read_text(encoding="utf-8-sig")
    return LicensedAgencies.from_csv_text(text, AGENCIES_FILE)


_NAME_NOISE = frozenset(
    {"co", "ltd", "co.,ltd", "company", "limited", "plc", "inc", "the", "and", "of", "group", "agency", "corp"}
)


def _name_tokens(name: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+|[\u1780-\u17ff]+", rules.normalise(name)) if w not in _NAME_NOISE}


def _names_clash(listed: str, claimed: str) -> bool:
    """True when both names are in the same script and share no significant word."""
    a, b = _name_tokens(listed), _name_tokens(claimed)
    if not a or not b:
        return False
    same_script = {rules.is_khmer(w) for w in a} & {rules.is_khmer(w) for w in b}
    return bool(same_script) and not (a & b)


# --------------------------------------------------------------------------------------------- screen

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
_HANDLE_OR_LINK = re.compile(r"@[\w.]+|\b(?:https?://)?[\w-]+(?:\.[\w-]+)+/\S*")


def _contact_is_handle_only(contact: str, t: rules.Terms) -> bool:
    text = rules.normalise(contact)
    if not text.strip() or _EMAIL.search(text):
        return False
    has_phone = len(re.findall(r"\d", _HANDLE_OR_LINK.sub(" ", text))) >= 8
    return not has_phone and t.has("messaging", text)


def _employer_unnamed(name: str, t: rules.Terms) -> bool:
    text = rules.normalise(name).strip()
    bare = re.sub(r"[\s.\-_:;,!?'\"()]+", " ", text).strip()
    if not bare or bare in t.placeholder_employer_names or text in t.placeholder_employer_names:
        return True
    # Only a phone number or a messaging handle, no name.
    return bool(re.fullmatch(r"[@+\d\s\w.]*", text)) and (text.startswith("@") or not re.search(r"[^\d\s+]", text))


def _places_not_abroad(listing: Listing, text: str, t: rules.Terms) -> str:
    """``text`` without the foreign names that do not mean work abroad.

    A brand or a shop ("Korea BBQ", "Thai Express", ហាងកាហ្វេជប៉ុន) is always left out. A cross-border
    route ("Phnom Penh - Bangkok") is left out for transport work based at home, and then so is the rest
    of the foreign wording (the bus goes to Thailand; the driver works from Phnom Penh).
    """
    text = t.blank_out("brand_not_country", t.blank_out("abroad_ignore", text))
    transport = listing.sector == "transport" or t.has("transport_work", text)
    if transport and t.has("cross_border_route", text):
        home = t.has("based_in_cambodia", text) or not t.has("abroad", rules.normalise(listing.location))
        if home:
            return ""
    return text


def _pay_contradicts(stated: float, in_text: list[float], n: rules.WageNorms) -> bool:
    """True when no pay written in the text is near the pay field (ranges and rounding allowed)."""
    low, high = stated / n.pay_mismatch_ratio, stated * n.pay_mismatch_ratio
    return not any(low <= amount <= high for amount in in_text)


def _narrow_young_women(listing: Listing, text: str, t: rules.Terms) -> bool:
    """Only women, in a narrow and young age range: "waitress, girls 18-22"."""
    if not t.has("female_only", text) or t.has("male_and_female", text):
        return False
    ranges = rules.age_ranges_in_text(text)
    if listing.min_age is not None and listing.max_age is not None:
        ranges.append((listing.min_age, listing.max_age))
    return any(high <= NARROW_AGE_MAX and high - low <= NARROW_AGE_SPAN for low, high in ranges)


def _moderator_patterns(listing: Listing, text: str, t: rules.Terms, found: set[str]) -> None:
    """Signs that need more than one keyword: debt, held wages, life at sea, looks, live-in work."""
    if t.has("debt_bondage", text):
        found.add("debt_bondage")
    if t.has("wages_withheld", text):
        found.add("wages_withheld")
    if (listing.sector == "fishing" or t.has("fishing_context", text)) and t.has("sea_long_trips", text):
        found.add("sea_long_trips")
    if t.has("body_photos", text):
        found.add("body_photos")
    caring_or_serving = listing.sector in {"hospitality", "domestic"} or t.has("hospitality_or_domestic", text)
    if t.has("appearance_demands", text) or (caring_or_serving and _narrow_young_women(listing, text, t)):
        found.add("appearance_demands")
    domestic = listing.sector == "domestic" or t.has("domestic_work", text)
    live_in = t.has("live_in", text)
    if domestic and t.has("no_rest", text):
        found.add("live_in_no_rest")
    elif domestic and live_in and not t.has("rest_stated", text):
        found.add("live_in_hours_unstated")


def screen(
    listing: Listing,
    agencies: LicensedAgencies | None = None,
    *,
    terms: rules.Terms | None = None,
    norms: rules.WageNorms | None = None,
) -> Assessment:
    """Assess ``listing`` for trafficking risk. ``agencies`` defaults to ``LicensedAgencies.default()``."""
    t = terms or rules.terms()
    n = norms or rules.wage_norms()
    agencies = agencies if agencies is not None else LicensedAgencies.default()
    text = rules.prepare("\n".join((listing.title, listing.description, listing.location)), t)
    found: set[str] = set()

    # Fees, deposits and guarantees asked of workers.
    fee = t.has("fee", text)
    guarantee = t.has("guarantee", text)
    if fee or guarantee:
        found.add("fee_charged")

    if t.has("documents_retained", text):
        found.add("documents_retained")

    # Work abroad and licences. Pay for work abroad is not compared with Cambodian norms.
    irregular = t.has("irregular_crossing", text)
    if irregular:
        found.add("irregular_crossing")
    abroad = irregular or t.has("abroad", _places_not_abroad(listing, text, t))
    agency_name = agencies.name_for(listing.licence_no)
    if listing.licence_no and normalise_licence(listing.licence_no):
        if agency_name is None:
            found.add("licence_not_listed")
        elif _names_clash(agency_name, listing.employer_name):
            found.add("licence_name_mismatch")
    if abroad:
        found.add("abroad_licensed" if agency_name is not None else "abroad_unlicensed")
        if fee or guarantee:
            found.add("abroad_with_fees")

    # Ages: the stated minimum, or a lower age written in the text ("Age 15 and up", "under 18 OK").
    text_ages = rules.ages_in_text(text)
    if t.has("minor_words", text):
        text_ages.append(ADULT_AGE - 1)
    if text_ages and min(text_ages) < ADULT_AGE and listing.min_age is not None and listing.min_age >= ADULT_AGE:
        found.add("minor_in_text")
    ages = [a for a in [listing.min_age, *text_ages] if a is not None]
    youngest = min(ages) if ages else None
    hazardous = (
        listing.sector in HAZARDOUS_SECTORS
        or listing.night_work
        or t.has("night_work", text)
        or t.has("entertainment", text)
        or t.has("hazardous_work", text)
    )
    if youngest is not None and youngest < MINIMUM_WORKING_AGE:
        found.add("underage")
    elif youngest is not None and youngest < ADULT_AGE and hazardous:
        found.add("minor_hazardous")

    # Pay: the stated salary and any pay written in the text, as USD a month.
    no_experience = t.has("no_experience", text)
    in_text = rules.pay_amounts(text, t, n)
    monthly: list[float] = list(in_text)
    stated = None
    if listing.salary_amount is not None:
        stated = n.monthly_usd(listing.salary_amount, listing.salary_currency, listing.salary_period)
        if stated is not None:
            monthly.append(stated)
    if monthly and not abroad:
        # "Far above" = more than 2.5x the upper end of the sector's usual unskilled pay when the listing
        # says no experience is needed, 3x otherwise. Pay abroad follows other countries' norms: not judged.
        # Below the scam range, no-experience pay from about 1.5x is still worth a look.
        multiplier = n.multiplier_no_experience if no_experience else n.multiplier_default
        norm = n.norm_for(listing.sector).high
        if max(monthly) > norm * multiplier:
            found.add("pay_far_above_norm")
        elif no_experience and max(monthly) >= norm * n.above_multiplier_no_experience:
            found.add("pay_above_norm")
    if stated and in_text and _pay_contradicts(stated, in_text, n):
        found.add("pay_mismatch")
    pay_stated = bool(monthly) or listing.salary_amount is not None

    high_pay = t.has("high_pay_promise", text)
    if high_pay:
        found.add("high_pay_promise")
    free = t.has("free_travel_housing", text)
    if free:
        found.add("free_travel_housing")
    border = t.has("border_town", text)
    if border:
        found.add("border_town")
    penalty = t.has("exit_penalty", text)
    if penalty:
        found.add("exit_penalty")
    _moderator_patterns(listing, text, t, found)
    handle_only = _contact_is_handle_only(listing.contact, t)
    if handle_only:
        found.add("messaging_handle_only")
    if _employer_unnamed(listing.employer_name, t):
        found.add("no_employer_name")
    thin = len(rules.normalise(listing.description).split()) < 6 and len(listing.description) < 60
    if not pay_stated and (thin or t.has("vague_pay", text)):
        found.add("vague_listing")

    # Scam-compound recruitment (see the module docstring).
    far_above = "pay_far_above_norm" in found
    # No-experience pay above the norm but below the scam range still anchors a scam-type job ("typing,
    # no experience, $450, free room"); it does not weigh like far-above pay on its own.
    above = "pay_above_norm" in found
    anchor = far_above or above or high_pay or border
    family = sum((far_above, above, high_pay, border, no_experience, free, handle_only, penalty))
    weight = 2 * far_above + 2 * handle_only + free + border + high_pay
    if (t.has("scam_job", text) and anchor and family >= 2) or (weight >= 4 and (far_above or handle_only)):
        found.add("scam_compound")

    mediums = [code for code in found if REASON_SEVERITY[code] is Risk.MEDIUM]
    if len(mediums) >= 3 and not any(REASON_SEVERITY[code] is Risk.HIGH for code in found):
        found.add("multiple_warning_signs")

    reasons = tuple(sorted(found, key=lambda code: (-REASON_SEVERITY[code].rank, _ORDER[code])))
    risk = max((REASON_SEVERITY[code] for code in found), key=lambda r: r.rank, default=Risk.LOW)
    return Assessment(risk=risk, reasons=reasons)


def screen_dict(d: Mapping[str, Any], agencies: LicensedAgencies | None = None) -> Assessment:
    """``screen(Listing.from_dict(d))``; raises ListingError for malformed input."""
    return screen(Listing.from_dict(d), agencies)


__all__ = [
    "AGENCIES_ENV",
    "REASONS",
    "REASON_EXPLANATIONS",
    "REASON_SEVERITY",
    "SECTORS",
    "Assessment",
    "LicensedAgencies",
    "Listing",
    "ListingError",
    "Reason",
    "Risk",
    "explain",
    "normalise_licence",
    "screen",
    "screen_dict",
]
