"""The questions of posting a job, one by one from the title to the voice description; the answers saved as a
draft.
"""

from __future__ import annotations

import re
from datetime import time
from decimal import Decimal

from conversations.i18n import N_
from conversations.labels import BENEFITS, JOB_GENDERS, PERIODS
from conversations.pickers import pick_province, pick_sector, province_from, sector_from, toggle, toggles
from conversations.replies import AskVoice, Button
from conversations.turn import BadInput, Turn
from jobs_core import geo
from jobs_core.clock import local_date
from jobs_core.errors import InvalidField, NotFound
from jobs_core.model import Currency, SalaryPeriod
from jobs_core.numbers import parse_amount, parse_int
from jobs_core.services import jobs
from jobs_core.text import clean_text
from jobs_core.typed import Hours, parse_date, parse_hours, parse_pay, tidy
from media.catalog import COUNTRY_NAMES, country_code, country_name

CURRENCIES = {"USD": N_("US dollars ($)"), "KHR": N_("Riel (៛)")}


# ------------------------------------------------------------------------------------------------ post a job


def _skip(t: Turn) -> tuple[tuple[Button, ...], ...]:
    return ((t.step_button(t._("Skip"), "skip"),),)


def _skipped(t: Turn) -> bool:
    return t.choice == "skip"


async def ask_title(t: Turn) -> str:
    """Job title?"""
    t.say(t._("What is the job? Write a short title, for example: Sewing machine operator."))
    return "job.title"


async def take_title(t: Turn) -> str:
    """The title → the sector."""
    t.data["title"] = clean_text("title", t.require_text(), max_length=120, required=True)
    return await ask_sector(t)


async def ask_sector(t: Turn) -> str:
    """Which sector?"""
    await pick_sector(t, t._("What kind of work is it?"))
    return "job.sector"


async def take_sector(t: Turn) -> str:
    """The sector → in Cambodia or abroad."""
    t.data["sector"] = await sector_from(t)
    return await ask_where(t)


async def ask_where(t: Turn) -> str:
    """In Cambodia or abroad?"""
    t.say(
        t._("Where is the work?"),
        t.choices([(t._("🇰🇭 In Cambodia"), "kh"), (t._("✈️ Abroad"), "abroad")], per_row=2),
    )
    return "job.where"


async def take_where(t: Turn) -> str:
    """Cambodia → province; abroad → country."""
    if t.choice == "kh":
        t.data.pop("country", None)
        return await ask_province(t)
    if t.choice == "abroad":
        t.data.pop("province", None)
        t.data.pop("district", None)
        return await ask_country(t)
    raise BadInput(t._("Please choose one of the buttons."))


async def ask_province(t: Turn) -> str:
    """Which province?"""
    pick_province(t, t._("In which province is the work?"))
    return "job.province"


async def take_province(t: Turn) -> str:
    """The province → the district."""
    t.data["province"] = province_from(t)
    return await ask_district(t)


async def ask_district(t: Turn) -> str:
    """Which district (or skip)?"""
    options = [(d.name(t.language), d.code) for d in geo.districts(t.data["province"])]
    t.say(t._("In which district? (or Skip)"), (*_skip(t), *t.choices(options, per_row=3)))
    return "job.district"


async def take_district(t: Turn) -> str:
    """The district → the description."""
    if not _skipped(t):
        value = t.choice if t.choice is not None else t.require_text()
        t.data["district"] = geo.district(t.data["province"], value).code
    else:
        t.data.pop("district", None)
    return await ask_description(t)


async def ask_country(t: Turn) -> str:
    """Which country? (buttons for the countries the pitch can name; Other → typed)"""
    options = [(country_name(code, t.language), code) for code in COUNTRY_NAMES]
    t.say(
        t._("In which country is the work?"),
        (*t.choices(options, per_row=2), (t.step_button(t._("🌏 Another country"), "other"),)),
    )
    return "job.country"


async def take_country(t: Turn) -> str:
    """A country's button, or its name typed in Khmer or English → the description; Other → type it."""
    if t.choice == "other":
        t.say(t._("Type the name of the country."))
        return "job.country"
    if t.choice is not None and t.choice in COUNTRY_NAMES:
        t.data["country"] = country_name(t.choice, "en")
        return await ask_description(t)
    text = t.require_text(t._("Please choose a country, or type its name."))
    typed = clean_text("country", text, max_length=60, required=True)
    # A country the pitch can name is stored by its English name whatever the spelling, so ថៃ is never lost
    # from the pitch; any other country is kept as typed (the pitch then says "abroad").
    code = country_code(typed)
    t.data["country"] = country_name(code, "en") if code is not None else typed
    return await ask_description(t)


async def ask_description(t: Turn) -> str:
    """A few words about the work (or skip, to describe it in a voice message instead)?"""
    t.say(t._("Describe the work in a few sentences. (Skip only if you will record a voice description.)"), _skip(t))
    return "job.description"


async def take_description(t: Turn) -> str:
    """The description → the salary."""
    t.data["description"] = "" if _skipped(t) else clean_text("description", t.require_text(), max_length=2000)
    return await ask_salary(t)


async def ask_salary(t: Turn) -> str:
    """How much is the pay (required)?"""
    t.say(t._("How much is the pay? For example $250, 250 ដុល្លារ or ៥០ម៉ឺនរៀល."))
    return "job.salary"


async def take_salary(t: Turn) -> str:
    """Pay with its currency when said or clear ("$250", "៥០ម៉ឺនរៀល") → the period; "$250/month" → the hours."""
    try:
        pay = parse_pay(t.require_text())
        amount = parse_amount("salary_amount", pay.amount, minimum=Decimal("0.01"), maximum=Decimal(80_000_000))
    except InvalidField as exc:
        if exc.code != "not_a_number":
            raise
        raise BadInput(t._("Please type the pay like $250, 250 ដុល្លារ or ៥០ម៉ឺនរៀល.")) from exc
    t.data["salary"] = str(amount)
    t.data.pop("period", None)
    if pay.currency is None:
        t.data.pop("currency", None)
        if pay.period is not None:
            t.data["period"] = pay.period  # "250/month": only the currency is asked, the period is kept
        return await ask_currency(t)
    t.data["currency"] = pay.currency
    if pay.period is not None:
        _check_pay(t.data["salary"], pay.currency, pay.period)
        t.data["period"] = pay.period
        return await ask_hours(t)
    return await ask_period(t)


def _check_pay(amount: str, currency: str, period: str) -> None:
    limit = jobs.MAX_SALARY[Currency(currency), SalaryPeriod(period)]
    parse_amount("salary_amount", amount, minimum=Decimal("0.01"), maximum=limit)


async def ask_currency(t: Turn) -> str:
    """Dollars or riel?"""
    t.say(t._("In which currency?"), t.choices([(t._(v), k) for k, v in CURRENCIES.items()]))
    return "job.currency"


async def take_currency(t: Turn) -> str:
    """The currency → the period (the hours when the period came with the amount)."""
    if t.choice not in CURRENCIES:
        raise BadInput(t._("Please choose one of the buttons."))
    t.data["currency"] = t.choice
    if t.data.get("period") and t.data.get("salary"):  # typed with the amount ("250/month")
        _check_pay(t.data["salary"], t.choice, t.data["period"])
        return await ask_hours(t)
    return await ask_period(t)


async def ask_period(t: Turn) -> str:
    """Per month, day, hour or piece?"""
    t.say(t._("The pay is…"), t.choices([(t._(v), k) for k, v in PERIODS.items()]))
    return "job.period"


async def take_period(t: Turn) -> str:
    """The period (the amount checked against it) → the hours."""
    if t.choice not in PERIODS:
        raise BadInput(t._("Please choose one of the buttons."))
    _check_pay(t.data["salary"], t.data["currency"], t.choice)
    t.data["period"] = t.choice
    return await ask_hours(t)


async def ask_hours(t: Turn) -> str:
    """Working hours (required)?"""
    t.say(t._("What are the working hours? For example 7am-4pm, 07:00-16:00 or ៧ព្រឹក ដល់ ៤ល្ងាច."))
    return "job.hours"


async def take_hours(t: Turn) -> str:
    """Start and end → days per week; a guess ("7-4": 07:00-16:00) or a shift over 14 hours confirmed first."""
    try:
        hours = parse_hours(t.require_text())
    except InvalidField as exc:
        raise BadInput(t._("Please type the hours like 7am-4pm, 07:00-16:00 or ៧ព្រឹក ដល់ ៤ល្ងាច.")) from exc
    if hours.guessed or hours.long:
        t.data["hours_guess"] = [f"{hours.start:%H:%M}", f"{hours.end:%H:%M}"]
        return await ask_hours_ok(t)
    t.data["hours_start"], t.data["hours_end"] = f"{hours.start:%H:%M}", f"{hours.end:%H:%M}"
    return await ask_days(t)


async def ask_hours_ok(t: Turn) -> str:
    """Did they mean these hours (a guess, or a very long shift)?"""
    start, end = (time.fromisoformat(v) for v in t.data["hours_guess"])
    hours = Hours(start, end)
    lines = [t._("I understood: from {start} to {end}.").format(start=f"{start:%H:%M}", end=f"{end:%H:%M}")]
    if hours.long:
        lines.append(t._("That is a shift of {hours} hours.").format(hours=f"{hours.length.seconds / 3600:g}"))
    lines.append(t._("Is that right?"))
    t.say("\n".join(lines), t.choices([(t._("✅ Yes"), "yes"), (t._("✏️ No, type again"), "no")]))
    return "job.hours_ok"


async def take_hours_ok(t: Turn) -> str:
    """Yes → the hours are kept, days per week; no → the hours question again."""
    if t.choice not in ("yes", "no"):
        raise BadInput(t._("Please press Yes or No."))
    start, end = t.data.pop("hours_guess")
    if t.choice == "no":
        t.say(t._("Please type the hours again, with am or pm, for example 7am-4pm."))
        return await ask_hours(t)
    t.data["hours_start"], t.data["hours_end"] = start, end
    return await ask_days(t)


async def ask_days(t: Turn) -> str:
    """Days per week (or skip)?"""
    t.say(t._("How many days a week? Type a number from 1 to 7 (or Skip)."), _skip(t))
    return "job.days"


async def take_days(t: Turn) -> str:
    """Days per week → positions."""
    if _skipped(t):
        t.data.pop("days", None)
    else:
        try:
            t.data["days"] = parse_int("days_per_week", tidy(t.require_text()), minimum=1, maximum=7)
        except InvalidField as exc:
            if exc.code != "not_a_number":
                raise
            raise BadInput(t._("Please type a number from 1 to 7, for example 6.")) from exc
    return await ask_positions(t)


async def ask_positions(t: Turn) -> str:
    """How many workers?"""
    t.say(t._("How many workers do you need?"))
    return "job.positions"


async def take_positions(t: Turn) -> str:
    """Number of workers → gender."""
    t.data["positions"] = parse_int("positions", tidy(t.require_text()), minimum=1, maximum=10_000)
    return await ask_gender(t)


async def ask_gender(t: Turn) -> str:
    """Men, women or both?"""
    t.say(t._("Who can apply?"), t.choices([(t._(v), k) for k, v in JOB_GENDERS.items()], per_row=1))
    return "job.gender"


async def take_gender(t: Turn) -> str:
    """Gender → ages."""
    if t.choice not in JOB_GENDERS:
        raise BadInput(t._("Please choose one of the buttons."))
    t.data["gender"] = t.choice
    return await ask_ages(t)


async def ask_ages(t: Turn) -> str:
    """Age range (or skip)?"""
    t.say(t._("What ages? For example 18-45, or just 18 for the minimum (or Skip)."), _skip(t))
    return "job.ages"


async def take_ages(t: Turn) -> str:
    """Minimum (and maximum) age → benefits."""
    if _skipped(t):
        t.data.pop("min_age", None)
        t.data.pop("max_age", None)
        return await ask_benefits(t)
    parts = re.split(r"\s*(?:-|–|—|to|ដល់)\s*", tidy(t.require_text()))
    if len(parts) > 2 or not all(part.isdigit() for part in parts):
        raise BadInput(t._("Please type the ages like 18-45, or just 18 for the minimum."))
    low = parse_int("min_age", parts[0], minimum=15, maximum=99)
    high = parse_int("max_age", parts[1], minimum=low, maximum=99) if len(parts) == 2 else None
    t.data["min_age"], t.data["max_age"] = low, high
    return await ask_benefits(t)


async def ask_benefits(t: Turn) -> str:
    """Which benefits? (toggles)"""
    chosen = list(t.data.get("benefits", []))
    t.say(
        t._("Which benefits do workers get? Choose any, then press Done."),
        toggles(t, {code: t._(label) for code, label in BENEFITS.items()}, chosen, t._("Done ✔️")),
    )
    return "job.benefits"


async def take_benefits(t: Turn) -> str:
    """Toggle a benefit, or Done → the start date."""
    choice = t.choice or ""
    if choice.startswith("t:") and choice[2:] in BENEFITS:
        t.data["benefits"] = toggle(list(t.data.get("benefits", [])), choice[2:])
        return await ask_benefits(t)
    if choice != "done":
        raise BadInput(t._("Please choose the benefits with the buttons, then press Done."))
    return await ask_start(t)


async def ask_start(t: Turn) -> str:
    """Start date (or skip)?"""
    t.say(t._("When does the work start? For example 15/12/2026 or 15 ធ្នូ (or Skip)."), _skip(t))
    return "job.start"


async def take_start(t: Turn) -> str:
    """The start date (not in the past) → the contact."""
    if _skipped(t):
        t.data.pop("start_date", None)
    else:
        try:
            start = parse_date(t.require_text(), local_date(t.now))
        except InvalidField as exc:
            raise BadInput(t._("Please type the date like 15/12/2026 or 15 ធ្នូ.")) from exc
        if start < local_date(t.now):
            raise BadInput(t._("That day has passed. Please type a later date, like 15/12/2026."))
        t.data["start_date"] = start.isoformat()
    return await ask_contact(t)


async def ask_contact(t: Turn) -> str:
    """How workers contact you (or skip: the company phone)?"""
    t.say(t._("How should workers contact you? (Skip to use your company phone.)"), _skip(t))
    return "job.contact"


async def take_contact(t: Turn) -> str:
    """The contact → the draft is saved; ask for a voice description."""
    t.data["contact"] = None if _skipped(t) else clean_text("contact", t.require_text(), max_length=120)
    await _save(t)
    return await ask_voice(t)


async def _save(t: Turn) -> None:
    """The answers so far into the draft (created the first time)."""
    employer = await t.employer()
    if employer is None:
        raise NotFound("employer", t.incoming.user_id)
    d = t.data
    if d.get("job_id"):  # editing a draft, a listing sent back for changes, or a published listing's revision
        await jobs.edit_job(jobs.EditJob(int(d["job_id"]), employer.id, _fields(d), t.actor), t.uow)
    else:
        t.data["job_id"] = await jobs.create_job(jobs.CreateJob(employer.id, _fields(d), t.actor), t.uow)


def _fields(d: dict[str, object]) -> jobs.JobFields:
    def text(key: str) -> str | None:
        value = d.get(key)
        return None if value is None else str(value)

    return jobs.JobFields(
        title=str(d["title"]),
        sector=str(d["sector"]),
        province=text("province"),
        description=str(d.get("description") or ""),
        district=text("district"),
        country=text("country"),
        salary_amount=text("salary"),
        salary_currency=text("currency"),
        salary_period=text("period"),
        hours_start=text("hours_start"),
        hours_end=text("hours_end"),
        days_per_week=text("days"),
        positions=str(d.get("positions", 1)),
        gender=str(d.get("gender", "any")),
        min_age=text("min_age"),
        max_age=text("max_age"),
        benefits=tuple(str(b) for b in d.get("benefits", []) or []),  # type: ignore[attr-defined]
        start_date=text("start_date"),
        contact=text("contact"),
    )


async def ask_voice(t: Turn) -> str:
    """Record a voice description (or skip)?"""
    t.add(
        AskVoice(
            t._("You can record a short voice message (up to 30 seconds) describing the job, in Khmer. Or press Skip."),
            _skip(t),
        )
    )
    return VOICE_STEP


VOICE_STEP = "job.voice"  # where a recording is the expected answer (conversations.dialog.prepare)
