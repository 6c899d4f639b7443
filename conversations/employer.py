"""Employers: register a company, post a job field by field, record a voice description, preview, submit;
their listings (filled, withdrawn), and the applications to each (the applicant's phone shown only here).
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import date, time
from decimal import Decimal
from functools import wraps
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from conversations.common import (
    BACK,
    BENEFITS,
    CANCEL,
    JOB_GENDERS,
    JOB_STATUS,
    PERIODS,
    back_and_cancel,
    back_button,
    job_text,
    job_voice,
    pick_province,
    pick_sector,
    place,
    province_from,
    sector_from,
    sector_label,
    toggle,
    toggles,
)
from conversations.i18n import N_
from conversations.invoices import amount_words
from conversations.replies import AskPhone, AskVoice, Button, JobCard, Keyboard, Text
from conversations.state import IDLE
from conversations.turn import BadInput, DialogDeps, Step, Turn, rows
from jobs_core import geo
from jobs_core.clock import local, local_date
from jobs_core.company import company_name, company_phone, licence_number
from jobs_core.errors import InvalidField, NotAllowed, NotFound
from jobs_core.model import (
    Application,
    ApplicationStatus,
    Channel,
    Currency,
    Employer,
    EmployerKind,
    Job,
    JobStatus,
    SalaryPeriod,
    Verification,
    WebRegistration,
)
from jobs_core.numbers import parse_amount, parse_int
from jobs_core.phones import display_phone
from jobs_core.services import applications, billing, employers, jobs
from jobs_core.text import clean_text
from jobs_core.typed import Hours, format_date, format_pay, parse_date, parse_hours, parse_pay, tidy
from media.catalog import COUNTRY_NAMES, country_code, country_name

log = logging.getLogger(__name__)

KINDS = {
    "employer": N_("A company or employer"),
    "agency": N_("A licensed recruitment agency"),
    # Kinds of their own so an operator can choose not to charge them (the prices file's free.kinds).
    "ngo": N_("An NGO"),
    "cooperative": N_("A cooperative"),
}
CURRENCIES = {"USD": N_("US dollars ($)"), "KHR": N_("Riel (៛)")}
APPLICATION_STATUS = {
    "new": N_("new"),
    "seen": N_("seen"),
    "contacted": N_("contacted"),
    "hired": N_("hired"),
    "not_hired": N_("not hired"),
    "withdrawn": N_("withdrawn"),
}
LISTINGS_SHOWN = 10


async def _employer_or_register(t: Turn) -> Employer | None:
    employer = await t.employer()
    if employer is None:
        t.say(t._("First register your company."))
    return employer


# ------------------------------------------------------------------------------------------------ menu


async def employer_menu(t: Turn, args: list[str]) -> str:
    """Employers: register first, then post jobs and follow listings."""
    _ = t._
    t.started = True
    employer = await t.employer()
    if employer is None:
        t.data = {}
        t.say(_("Welcome! Register your company first. Moderators check every company and every job."))
        return await STEPS["reg.name"].ask(t)  # the wrapped question: with its Cancel button
    status = {
        Verification.UNVERIFIED: _("waiting for verification"),
        Verification.VERIFIED: _("verified ✅"),
        Verification.REJECTED: _("not approved"),
    }[employer.verification]
    t.say(
        f"🏢 {employer.name} · {status}",
        (
            (Button(_("📝 Post a job"), "post"),),
            (Button(_("📋 My listings"), "listings"),),
            *(((Button(_("🎟 Prepaid listings"), "bnd"),),) if t.deps.billing and t.deps.billing.prices.bundles else ()),
            (back_button(t),),
        ),
    )
    return IDLE


# ------------------------------------------------------------------------------------------------ register


async def ask_company_name(t: Turn) -> str:
    """Company name?"""
    t.say(t._("What is the name of your company?"))
    return "reg.name"


async def take_company_name(t: Turn) -> str:
    """The name → a contact phone."""
    t.data["name"] = company_name(t.require_text())
    return await ask_company_phone(t)


async def ask_company_phone(t: Turn) -> str:
    """Contact phone?"""
    t.add(AskPhone(t._("What phone number can workers and moderators call? For example 012 345 678.")))
    return "reg.phone"


async def take_company_phone(t: Turn) -> str:
    """A valid Cambodian number → the province."""
    raw = t.incoming.contact_phone or t.require_text(t._("Please type the phone number, for example 012 345 678."))
    t.data["phone"] = company_phone(raw)
    return await ask_company_province(t)


async def ask_company_province(t: Turn) -> str:
    """Where is the company?"""
    pick_province(t, t._("In which province is your company?"))
    return "reg.province"


async def take_company_province(t: Turn) -> str:
    """The province → employer or agency."""
    t.data["province"] = province_from(t)
    return await ask_company_kind(t)


async def ask_company_kind(t: Turn) -> str:
    """Employer or recruitment agency?"""
    t.say(t._("Are you an employer or a recruitment agency?"), t.choices([(t._(v), k) for k, v in KINDS.items()], 1))
    return "reg.kind"


async def take_company_kind(t: Turn) -> str:
    """Employer → registered; agency → its licence number."""
    if t.choice not in KINDS:
        raise BadInput(t._("Please choose one of the buttons."))
    t.data["kind"] = t.choice
    if t.choice == "agency":
        return await ask_licence(t)
    return await _register(t)


async def ask_licence(t: Turn) -> str:
    """The agency's licence number?"""
    t.say(t._("What is your licence number from the Ministry of Labour?"))
    return "reg.licence"


async def take_licence(t: Turn) -> str:
    """The licence number → registered."""
    t.data["licence"] = licence_number(t.require_text(), EmployerKind.AGENCY)
    return await _register(t)


async def _register(t: Turn) -> str:
    if await t.employer() is not None:  # registered meanwhile (another device, an old conversation)
        return await employer_menu(t, [])
    d = t.data
    await employers.register_employer(
        employers.RegisterEmployer(
            name=d["name"],
            phone=d["phone"],
            province=d["province"],
            kind=d["kind"],
            licence_no=d.get("licence"),
            channel=t.incoming.channel,
            external_id=t.incoming.user_id,
        ),
        t.uow,
    )
    t.say(
        t._("Thank you! {name} is registered. Our moderators will check it. You can post a job now.").format(
            name=d["name"]
        ),
        ((Button(t._("📝 Post a job"), "post"),), (back_button(t),)),
    )
    return IDLE


# ------------------------------------------------------------------------------------------------ from the website

WEB_REGISTRATION = "reg.web"
# Why a website registration link cannot be used, in the person's words (then the employer menu follows).
LINK_PROBLEMS = {
    employers.LINK_USED: N_("This registration link was already used. Each link works once."),
    employers.LINK_EXPIRED: N_(
        "This registration link has expired: it works for 24 hours. Please fill in the form on the website again."
    ),
    employers.LINK_UNKNOWN: N_("This registration link is not valid. Please check it, or register here."),
}


def _already_registered(t: Turn, employer: Employer | None) -> None:
    name = employer.name if employer is not None else ""
    t.say(
        t._("This Telegram account is already registered for {name}. Nothing was changed.").format(name=name)
        if name
        else t._("This Telegram account is already registered for a company. Nothing was changed.")
    )


async def web_registration(t: Turn, token: str) -> str:
    """``/start reg_<token>``: a company typed on the website's form, shown with one Confirm button. Whoever
    confirms becomes the company's account (the website cannot know anyone's Telegram account)."""
    t.started = True
    if t.channel is not Channel.TELEGRAM:
        # The website's sign-in codes go to the company's Telegram chat: a company confirmed elsewhere could
        # never sign in there.
        t.say(t._("Please open this link in Telegram: the company is confirmed there."), ((back_button(t),),))
        return IDLE
    employer = await t.employer()
    if employer is not None:  # nothing is overwritten: the company they have stays theirs
        _already_registered(t, employer)
        return await employer_menu(t, [])
    try:
        registration = await employers.pending_registration(t.reads, token)
    except NotAllowed as exc:
        t.say(t._(LINK_PROBLEMS.get(exc.reason, LINK_PROBLEMS[employers.LINK_UNKNOWN])))
        return await employer_menu(t, [])
    t.data = {"registration": registration.id}
    return await STEPS[WEB_REGISTRATION].ask(t)  # the wrapped question: with its Cancel button


async def ask_web_registration(t: Turn) -> str:
    """What was typed on the website, and Confirm."""
    _ = t._
    registration = await t.session.get(WebRegistration, t.data.get("registration"))
    if registration is None:  # deleted, long after it expired
        t.say(_(LINK_PROBLEMS[employers.LINK_UNKNOWN]))
        return await employer_menu(t, [])
    lines = [
        _("Your company from the website:"),
        f"🏢 {registration.name}",
        f"📞 {display_phone(registration.contact_phone)}",
        f"📍 {geo.province(registration.province_code).name(t.language)}",
        f"👔 {_(KINDS.get(registration.kind, registration.kind))}",
    ]
    if registration.licence_no:
        lines.append(_("Licence: {number}").format(number=registration.licence_no))
    lines += [
        "",
        _(
            "Press Confirm to register this company with this Telegram account. Our moderators check every company; "
            "we will send the sign-in codes for the website to this chat."
        ),
    ]
    t.say("\n".join(lines), ((t.step_button(_("✅ Confirm"), "yes"),),))
    return WEB_REGISTRATION


async def take_web_registration(t: Turn) -> str:
    """Confirm → registered through the chat registration's own service, waiting for the moderators."""
    if t.choice != "yes":
        raise BadInput(t._("Please press Confirm, or Cancel."))
    registration = await t.session.get(WebRegistration, t.data.get("registration"))
    name = registration.name if registration is not None else ""
    try:
        await employers.confirm_registration(
            employers.ConfirmRegistration(t.data.get("registration", 0), t.incoming.channel, t.incoming.user_id),
            t.uow,
        )
    except NotAllowed as exc:
        if exc.reason == employers.ALREADY_EMPLOYER:
            _already_registered(t, await t.employer())
        else:
            t.say(t._(LINK_PROBLEMS.get(exc.reason, LINK_PROBLEMS[employers.LINK_UNKNOWN])))
        return await employer_menu(t, [])
    t.say(
        t._("Thank you! {name} is registered. Our moderators will check it. You can post a job now.").format(name=name),
        ((Button(t._("📝 Post a job"), "post"),), (back_button(t),)),
    )
    return IDLE


# ------------------------------------------------------------------------------------------------ post a job


def _skip(t: Turn) -> tuple[tuple[Button, ...], ...]:
    return ((t.step_button(t._("Skip"), "skip"),),)


def _skipped(t: Turn) -> bool:
    return t.choice == "skip"


async def post(t: Turn, args: list[str]) -> str:
    """Start a new listing."""
    t.started = True
    employer = await _employer_or_register(t)
    if employer is None:
        t.data = {}
        return await STEPS["reg.name"].ask(t)  # the wrapped question: with its Cancel button
    if employer.verification is Verification.REJECTED:
        raise NotAllowed("this employer was rejected by the moderators")
    t.data = {"benefits": []}
    return await STEPS["job.title"].ask(t)  # the wrapped question: with its Cancel button


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
CLIP_PROBLEMS = {
    "corrupt": N_("I could not play that recording. Please record it again."),
    "too_long": N_("The recording is too long. Please keep it under 30 seconds."),
    "too_short": N_("The recording is too short. Please say a little more."),
    "silent": N_("I could not hear anything. Please record again, closer to the phone."),
    "too_large": N_("That file is too big. Please send a short voice message."),
}


async def take_voice(t: Turn) -> str:
    """A voice note (normalised, then attached to the draft) or skip → the preview."""
    if not _skipped(t):
        if t.incoming.voice is None:
            raise BadInput(t._("Please send a voice message, or press Skip."))
        clip = await _normalise(t, t.incoming.voice)
        employer = await t.employer()
        assert employer is not None
        await jobs.attach_voice_clip(
            jobs.AttachVoiceClip(int(t.data["job_id"]), employer.id, str(clip), t.actor), t.uow
        )
    return await ask_preview(t)


async def _normalise(t: Turn, upload: Path) -> Path:
    # Normalised before the transaction opened (conversations.dialog.prepare): the turn only attaches it.
    if t.incoming.voice_problem is not None:
        raise BadInput(t._(CLIP_PROBLEMS[t.incoming.voice_problem]))
    if t.incoming.voice_clip is not None:
        return t.incoming.voice_clip
    # An adapter that did not prepare the input: normalised here, inside the turn (ffmpeg, a second or so).
    clip = await normalise_clip(t.deps, upload)
    if isinstance(clip, str):
        raise BadInput(t._(CLIP_PROBLEMS[clip]))
    return clip


async def normalise_clip(deps: DialogDeps, upload: Path) -> Path | str:
    """An employer's recording normalised, or the CLIP_PROBLEMS key saying why it cannot be used."""
    if deps.clip_normaliser is None:
        return upload
    try:
        return await deps.clip_normaliser(upload)
    except Exception as exc:
        reason = getattr(exc, "reason", None)
        if reason in CLIP_PROBLEMS:
            return str(reason)
        log.exception("normalising an employer clip failed")
        return "corrupt"


async def _own_job(t: Turn, job_id: int) -> tuple[Employer, Job]:
    employer = await t.employer()
    job = await t.session.get(Job, job_id)
    if employer is None or job is None or job.employer_id != employer.id:
        raise NotFound("job", job_id)
    return employer, job


async def ask_preview(t: Turn) -> str:
    """The listing as workers will see it, every answer with a button to change it; submit or discard."""
    _ = t._
    _employer, job = await _own_job(t, int(t.data["job_id"]))
    await t.session.refresh(job)
    t.data.pop("jump", None)
    t.say(_("This is how your job will look:"))
    t.add(
        JobCard(
            job_id=job.id,
            text=job_text(job, _, t.language),
            voice=await job_voice(job, t.deps, t.language, with_clip=True, cached=True),
        )
    )
    missing = _missing(job)
    lines = [_("Your answers (press a button to change one):")]
    for fact, label in FACT_LABELS.items():
        value = await _shown(t, fact, job)
        lines.append(f"• {_(label)}: {value or '—'}" + (" ❗" if fact in missing else ""))
    if missing:
        lines.append(_("Still needed before sending: {facts}").format(facts=", ".join(_(m) for m in missing.values())))
    else:
        lines.append(_("Send it to our moderators for review?"))
    changes = [t.step_button("✏️ " + _(label), f"f:{fact}") for fact, label in FACT_LABELS.items()]
    t.say(
        "\n".join(lines),
        (
            *rows(changes, 3),
            (t.step_button(_("🔁 Go through every question"), "f:all"),),
            (t.step_button(_("✅ Submit for review"), "submit"),),
            (t.step_button(_("🗑 Discard"), "discard"),),
        ),
    )
    return "job.preview"


# The words for what jobs.missing_facts names.
MISSING_FACTS = {
    "pay": N_("the pay"),
    "hours": N_("the working hours"),
    "place": N_("where the work is"),
    "description": N_("a description (written or recorded)"),
}


def _missing(job: Job) -> dict[str, str]:
    """The facts a listing cannot be sent without (the service's rule), with their words."""
    return {fact: MISSING_FACTS[fact] for fact in jobs.missing_facts(job)}


async def take_preview(t: Turn) -> str:
    """A fact's button → its questions, then back here; submit (required facts there) → review; discard."""
    _ = t._
    employer, job = await _own_job(t, int(t.data["job_id"]))
    choice = t.choice or ""
    if choice == "f:all":
        t.data["editing"] = True
        return await _ask_fact(t, "title")
    if choice.startswith("f:") and choice[2:] in FACTS:
        t.data["jump"] = choice[2:]
        return await _ask_fact(t, choice[2:])
    if t.choice == "discard":
        await jobs.close_job(jobs.CloseJob(job.id, employer.id, t.actor, filled=False), t.uow)
        t.say(_("The draft was discarded."), ((back_button(t, "emp"),),))
        return IDLE
    if t.choice != "submit":
        raise BadInput(_("Please press one of the buttons."))
    missing = _missing(job)
    if missing:
        raise BadInput(_("Please add {facts} before sending.").format(facts=", ".join(_(m) for m in missing.values())))
    risk, _reasons = await jobs.submit_job(jobs.SubmitJob(job.id, employer.id, t.actor), t.uow)
    if job.revision_of is not None:
        message = _(
            "Thank you! Your changes were sent to our moderators. The listing stays as it was until they approve them."
        )
    else:
        message = _("Thank you! Your job was sent to our moderators. We will tell you when it is published.")
    if risk == "high":
        message += "\n" + _(
            "Our automatic check found things a moderator must look at closely, so this may take longer."
        )
    t.say(message, ((Button(_("📋 My listings"), "listings"),), (back_button(t, "emp"),)))
    return IDLE


# ------------------------------------------------------------------------------------------------ editing

# The questions of a listing grouped by the fact they ask for, in the order they are asked. Editing shows a
# "keep" button (with the current answer) on each fact's first question; a fact chosen from the summary is
# asked (all its questions) and then the summary comes back.
FACTS: dict[str, tuple[str, ...]] = {
    "title": ("job.title",),
    "sector": ("job.sector",),
    "place": ("job.where", "job.province", "job.district", "job.country"),
    "description": ("job.description",),
    "pay": ("job.salary", "job.currency", "job.period"),
    "hours": ("job.hours", "job.hours_ok"),
    "days": ("job.days",),
    "positions": ("job.positions",),
    "gender": ("job.gender",),
    "ages": ("job.ages",),
    "benefits": ("job.benefits",),
    "start": ("job.start",),
    "contact": ("job.contact",),
    "voice": ("job.voice",),
}
FACT_LABELS = {
    "title": N_("Job"),
    "sector": N_("Kind of work"),
    "place": N_("Place"),
    "description": N_("Description"),
    "pay": N_("Pay"),
    "hours": N_("Hours"),
    "days": N_("Days a week"),
    "positions": N_("Workers"),
    "gender": N_("Who"),
    "ages": N_("Ages"),
    "benefits": N_("Benefits"),
    "start": N_("Start"),
    "contact": N_("Contact"),
    "voice": N_("Voice"),
}
_FACT_OF = {step: fact for fact, steps in FACTS.items() for step in steps}
_ORDER = list(FACTS)


async def _ask_fact(t: Turn, fact: str) -> str:
    """The first question of a fact (with its keep button when editing)."""
    step = STEPS[FACTS[fact][0]]
    return await step.ask(t)


async def _shown(t: Turn, fact: str, job: Job | None = None) -> str:
    """A fact's current answer in a few words, from the answers being edited; "" when there is none."""
    _, d = t._, t.data
    if fact == "title":
        return str(d.get("title") or "")
    if fact == "sector":
        sectors = {s.code: s for s in await t.sectors()}
        return sector_label(sectors[d["sector"]], t.language) if d.get("sector") in sectors else ""
    if fact == "place":
        if d.get("country"):
            return str(d["country"])
        if not d.get("province"):
            return ""
        where = Job(province_code=d["province"], district_code=d.get("district"), country=None)
        return place(where, t.language)
    if fact == "description":
        text = str(d.get("description") or "")
        return text if len(text) <= 60 else text[:57] + "…"
    if fact == "pay":
        if not d.get("salary") or not d.get("currency"):
            return ""
        period = _(PERIODS[d["period"]]) if d.get("period") in PERIODS else ""
        return f"{format_pay(Decimal(d['salary']), d['currency'], t.language)} {period}".strip()
    if fact == "hours":
        return f"{d['hours_start']}–{d['hours_end']}" if d.get("hours_start") and d.get("hours_end") else ""
    if fact == "days":
        return str(d.get("days") or "")
    if fact == "positions":
        return str(d.get("positions") or "")
    if fact == "gender":
        return _(JOB_GENDERS[d["gender"]]) if d.get("gender") in JOB_GENDERS else ""
    if fact == "ages":
        if d.get("min_age") is None:
            return ""
        return f"{d['min_age']}–{d['max_age']}" if d.get("max_age") else f"{d['min_age']}+"
    if fact == "benefits":
        return ", ".join(_(BENEFITS[b]) for b in d.get("benefits") or [] if b in BENEFITS)
    if fact == "start":
        return format_date(date.fromisoformat(d["start_date"]), t.language) if d.get("start_date") else ""
    if fact == "contact":
        return str(d.get("contact") or "")
    if fact == "voice":
        if job is None and d.get("job_id"):
            job = await t.session.get(Job, int(d["job_id"]))
        return _("recorded 🎙") if job is not None and job.voice_clip else ""
    return ""


def answers_of(job: Job) -> dict[str, Any]:
    """A listing's facts as the questions collect them, so an edit starts from the current answers."""
    return {
        "job_id": job.id,
        "title": job.title,
        "sector": job.sector_code,
        "province": job.province_code,
        "district": job.district_code,
        "country": job.country,
        "description": job.description or "",
        "salary": str(job.salary_amount) if job.salary_amount is not None else None,
        "currency": job.salary_currency.value if job.salary_currency else None,
        "period": job.salary_period.value if job.salary_period else None,
        "hours_start": f"{job.hours_start:%H:%M}" if job.hours_start else None,
        "hours_end": f"{job.hours_end:%H:%M}" if job.hours_end else None,
        "days": job.days_per_week,
        "positions": job.positions,
        "gender": job.gender.value,
        "min_age": job.min_age,
        "max_age": job.max_age,
        "benefits": list(job.benefits or []),
        "start_date": job.start_date.isoformat() if job.start_date else None,
        "contact": job.contact,
        "editing": True,
    }


async def _add_keep(t: Turn, step: str) -> None:
    """When editing, a fact's first question gets a "keep" button showing the current answer."""
    fact = _FACT_OF.get(step)
    if (not t.data.get("editing") and not t.data.get("jump")) or fact is None or FACTS[fact][0] != step:
        return
    if not t.data.get("job_id"):
        return
    value = await _shown(t, fact)
    if not value:
        return
    label = t._("✅ Keep: {value}").format(value=value if len(value) <= 30 else value[:29] + "…")
    for index in range(len(t.replies) - 1, -1, -1):
        reply = t.replies[index]
        if isinstance(reply, (Text, AskVoice)):
            if any(b.action.endswith(":keep") for row in reply.buttons for b in row):
                return
            keep: Keyboard = ((t.step_button(label, "keep"),),)
            t.replies[index] = replace(reply, buttons=(*keep, *reply.buttons))
            return


def _editable(name: str, step: Step) -> Step:
    """A listing question that can be kept as it is when editing, and that leads back to the summary when it
    was chosen there."""

    @wraps(step.ask)  # the question's own name and docstring (the state tables document every step)
    async def ask(t: Turn) -> str:
        result = await step.ask(t)
        await _add_keep(t, result)
        _add_navigation(t, result)
        return result

    @wraps(step.take)
    async def take(t: Turn) -> str:
        before = len(t.replies)
        fact = _FACT_OF.get(name)
        if t.choice == "keep" and fact is not None and FACTS[fact][0] == name:
            following = _ORDER.index(fact) + 1
            if following == len(_ORDER) or t.data.get("jump"):
                await _save(t)
                return await ask_preview(t)
            if _ORDER[following] == "voice":
                await _save(t)
            result = await _ask_fact(t, _ORDER[following])
        else:
            result = await step.take(t)
        jump = t.data.get("jump")
        if jump and (result == IDLE or (result in _FACT_OF and _FACT_OF[result] != jump) or result == "job.preview"):
            del t.replies[before:]  # the next question of the full walk is not asked: back to the summary
            await _save(t)
            return await ask_preview(t)
        await _add_keep(t, result)
        _add_navigation(t, result)
        return result

    return Step(ask, take)


# ------------------------------------------------------------------------------------------------ listings


WITHDRAWABLE = (
    JobStatus.DRAFT,
    JobStatus.PENDING_REVIEW,
    JobStatus.CHANGES_REQUESTED,
    JobStatus.PUBLISHED,
    JobStatus.AWAITING_PAYMENT,
)


async def listings(t: Turn, args: list[str]) -> str:
    """My listings: status and applications of each, with what can be done next."""
    _ = t._
    t.started = True
    employer = await t.employer()
    if employer is None:
        return await employer_menu(t, [])
    offset = parse_int("offset", args[0], minimum=0, maximum=100_000) if args else 0
    mine = (Job.employer_id == employer.id, Job.revision_of.is_(None))
    total = int(await t.session.scalar(select(func.count()).select_from(Job).where(*mine)) or 0)
    # Only what the workers confirmed: a relative's application waiting for the worker is nobody's business yet.
    counts = (
        select(Application.job_id, func.count().label("n"))
        .where(Application.confirmed_at.is_not(None))
        .group_by(Application.job_id)
        .subquery()
    )
    rows = (
        await t.session.execute(
            select(Job, func.coalesce(counts.c.n, 0))
            .outerjoin(counts, counts.c.job_id == Job.id)
            .where(*mine)
            .order_by(Job.created_at.desc(), Job.id.desc())
            .offset(offset)
            .limit(LISTINGS_SHOWN)
        )
    ).all()
    if not rows and offset:
        raise BadInput(_("This button is no longer valid."))
    if not rows:
        t.say(_("You have no listings yet."), ((Button(_("📝 Post a job"), "post"),), (back_button(t, "emp"),)))
        return IDLE
    for job, count in rows:
        lines = [f"💼 {job.title}", _("Status: {status}").format(status=_(JOB_STATUS[job.status.value]))]
        lines.append(_("Applications: {count}").format(count=count))
        if job.status is JobStatus.CHANGES_REQUESTED and job.change_note:
            lines.append(_("Moderator's note: {note}").format(note=job.change_note))
        if job.status is JobStatus.REJECTED and job.rejection_reason:
            lines.append(_("Reason: {note}").format(note=job.rejection_reason))
        revision = await jobs.open_revision(t.reads, job.id) if job.status is JobStatus.PUBLISHED else None
        if revision is not None:
            lines.append(_("Your changes: {status}").format(status=_(JOB_STATUS[revision.status.value])))
            if revision.status is JobStatus.CHANGES_REQUESTED and revision.change_note:
                lines.append(_("Moderator's note: {note}").format(note=revision.change_note))
        buttons: list[tuple[Button, ...]] = []
        if count:
            buttons.append((Button(_("👥 Applications"), f"lst:{job.id}:apps"),))
        if job.status is JobStatus.AWAITING_PAYMENT and (invoice := await billing.latest_invoice(t.reads, job.id)):
            lines.append(
                _("To pay: {amount} ({reference})").format(amount=amount_words(invoice), reference=invoice.reference)
            )
            buttons.append((Button(_("💳 Pay"), f"pay:{invoice.id}:s"),))
        if job.is_featured(t.uow.now()) and job.featured_until is not None:
            until = local(job.featured_until).strftime("%Y-%m-%d %H:%M")
            lines.append(_("⭐ Featured until: {date}").format(date=until))
        if job.status is JobStatus.PUBLISHED and t.deps.billing is not None and t.deps.billing.prices.featured_week:
            buttons.append((Button(_("⭐ Feature"), f"ftr:{job.id}"),))
        if job.status is JobStatus.PUBLISHED:
            buttons.append((Button(_("✅ Mark filled"), f"lst:{job.id}:fill"),))
        if job.status in (JobStatus.DRAFT, JobStatus.CHANGES_REQUESTED):
            buttons.append((Button(_("✏️ Edit and send again"), f"lst:{job.id}:edit"),))
        elif job.status is JobStatus.PUBLISHED and (revision is None or revision.status in jobs.EDITABLE):
            buttons.append((Button(_("✏️ Edit"), f"lst:{job.id}:edit"),))
        if job.status in WITHDRAWABLE:
            buttons.append((Button(_("🗑 Withdraw"), f"lst:{job.id}:wd"),))
        t.say("\n".join(lines), tuple(buttons))
    shown = _("Showing {first}–{last} of {total}.").format(first=offset + 1, last=offset + len(rows), total=total)
    more = (Button(_("More ▶️"), f"listings:{offset + LISTINGS_SHOWN}"),)
    menu = (Button(_("📝 Post a job"), "post"),), (back_button(t, "emp"),)
    t.say(shown + "\n" + _("Anything else?"), (more, *menu) if offset + len(rows) < total else menu)
    return IDLE


async def listing_action(t: Turn, args: list[str]) -> str:
    """lst:<job id>:apps|fill|wd|edit — only on the employer's own listings."""
    if len(args) != 2 or args[1] not in ("apps", "fill", "wd", "edit"):
        raise BadInput(t._("This button is no longer valid."))
    job_id = parse_int("job", args[0], minimum=1, maximum=2**31 - 1)
    employer, job = await _own_job(t, job_id)
    if args[1] == "apps":
        return await _applications(t, employer, job)
    if args[1] == "edit":
        if job.status is JobStatus.PUBLISHED:
            revision = await jobs.open_revision(t.reads, job.id)
            if revision is not None and revision.status not in jobs.EDITABLE:
                raise BadInput(t._("Your changes to this listing are waiting for review."))
            # The edit is a revision: the published version stays until the moderators approve the new one.
            revision_id = await jobs.revise_job(jobs.ReviseJob(job.id, employer.id, t.actor), t.uow)
            employer, job = await _own_job(t, revision_id)
        elif job.status not in jobs.EDITABLE:
            raise NotAllowed(f"a {job.status.value} listing cannot be edited")
        # From the summary: change any answer there, or go through every question with "keep" buttons.
        t.data = answers_of(job)
        if job.change_note:
            t.say(t._("Moderator's note: {note}").format(note=job.change_note))
        return await ask_preview(t)
    await jobs.close_job(jobs.CloseJob(job.id, employer.id, t.actor, filled=args[1] == "fill"), t.uow)
    t.say(t._("Marked as filled. Thank you!") if args[1] == "fill" else t._("The listing was withdrawn."))
    return await listings(t, [])


async def _applications(t: Turn, employer: Employer, job: Job) -> str:
    _ = t._
    found = await applications.applications_for_job(t.uow, job.id, employer.id)
    if not found:
        t.say(_("No applications yet."))
        return IDLE
    t.say(_("Applications for {title}:").format(title=job.title))
    if employer.verification is not Verification.VERIFIED:
        t.say(_("You will see the phone numbers once our moderators have verified your company."))
    for application in found:
        t.say(*await _application_card(t, employer, application))
    return IDLE


async def _application_card(
    t: Turn, employer: Employer, application: Application
) -> tuple[str, tuple[tuple[Button, ...], ...]]:
    """An applicant, with their phone only for the verified employer of the job, after the worker said yes."""
    _ = t._
    worker, relative = application.worker, application.relative
    name = await applications.applicant_name(t.session, application)
    phone = worker.phone if worker else (relative.phone if relative else None)
    lines = [f"👤 {name}"]
    if phone and application.confirmed_at is not None and employer.verification is Verification.VERIFIED:
        lines.append(f"📞 {display_phone(phone)}")
    if worker:
        lines.append(f"{worker.birth_year} · {geo.province(worker.province_code).name(t.language)}")
    if application.experience.value != "unknown":
        lines.append(_("Has experience") if application.experience.value == "yes" else _("No experience"))
    lines.append(_("Status: {status}").format(status=_(APPLICATION_STATUS[application.status.value])))
    buttons: list[Button] = []
    if application.status is ApplicationStatus.SEEN:
        buttons.append(Button(_("📞 Contacted"), f"appst:{application.id}:contacted"))
    if application.status in (ApplicationStatus.SEEN, ApplicationStatus.CONTACTED):
        if application.status is ApplicationStatus.CONTACTED:
            buttons.append(Button(_("🎉 Hired"), f"appst:{application.id}:hired"))
        buttons.append(Button(_("Not hired"), f"appst:{application.id}:not_hired"))
    return "\n".join(lines), (tuple(buttons),) if buttons else ()


async def application_status(t: Turn, args: list[str]) -> str:
    """appst:<application id>:contacted|hired|not_hired — only for the employer of the job."""
    if len(args) != 2 or args[1] not in ("contacted", "hired", "not_hired"):
        raise BadInput(t._("This button is no longer valid."))
    application_id = parse_int("application", args[0], minimum=1, maximum=2**31 - 1)
    employer = await t.employer()
    if employer is None:
        raise NotFound("application", application_id)
    await applications.set_application_status(
        applications.SetApplicationStatus(application_id, employer.id, ApplicationStatus(args[1]), t.actor), t.uow
    )
    application = await t.session.get(Application, application_id, populate_existing=True)
    assert application is not None
    t.say(t._("Saved."))
    t.say(*await _application_card(t, employer, application))
    return IDLE


# Back under a question of the company's or the listing's walk asks the one before it again (what was
# answered stays until answered anew); under a question chosen on the summary, Back is the summary. The first
# question of each walk has Cancel only.
PREVIOUS: dict[str, str] = {
    "reg.phone": "reg.name",
    "reg.province": "reg.phone",
    "reg.kind": "reg.province",
    "reg.licence": "reg.kind",
    "job.sector": "job.title",
    "job.where": "job.sector",
    "job.province": "job.where",
    "job.district": "job.province",
    "job.country": "job.where",
    "job.description": "job.where",
    "job.salary": "job.description",
    "job.currency": "job.salary",
    "job.period": "job.salary",
    "job.hours": "job.salary",
    "job.hours_ok": "job.hours",
    "job.days": "job.hours",
    "job.positions": "job.days",
    "job.gender": "job.positions",
    "job.ages": "job.gender",
    "job.benefits": "job.ages",
    "job.start": "job.benefits",
    "job.contact": "job.start",
    VOICE_STEP: "job.contact",
}
NAVIGATED = ("reg.", "job.")  # the steps whose Back and Cancel buttons this module answers (conversations.dialog)


def _add_navigation(t: Turn, step: str) -> None:
    """Back and Cancel under the question just asked (not under the summary: it has its own buttons)."""
    if not step.startswith(NAVIGATED) or step == "job.preview":
        return
    back = step in PREVIOUS or (step.startswith("job.") and bool(t.data.get("jump")))
    for index in range(len(t.replies) - 1, -1, -1):
        reply = t.replies[index]
        if isinstance(reply, (Text, AskVoice, AskPhone)):
            if any(b.action.endswith((f":{BACK}", f":{CANCEL}")) for row in reply.buttons for b in row):
                return
            t.replies[index] = replace(reply, buttons=(*reply.buttons, back_and_cancel(t, back)))
            return


async def navigate(t: Turn, value: str) -> str:
    """Back or Cancel pressed under a company or listing question."""
    if value == BACK and t.step.startswith("job.") and t.data.get("jump"):
        return await ask_preview(t)
    if value == BACK and t.step in PREVIOUS:
        return await STEPS[PREVIOUS[t.step]].ask(t)
    if t.step.startswith("job.") and t.data.get("job_id"):
        # The draft (or the listing's pending changes) was saved at the contact question or before an edit.
        t.say(
            t._("Stopped. What was saved before stays in the listing: find it in My listings."),
            ((Button(t._("📋 My listings"), "listings"),), (back_button(t, "emp"),)),
        )
    else:
        t.say(t._("Cancelled. Nothing was saved."), ((back_button(t, "emp"),),))
    return IDLE


def _navigable(step: Step) -> Step:
    """A company question with Back and Cancel under it."""

    @wraps(step.ask)
    async def ask(t: Turn) -> str:
        result = await step.ask(t)
        _add_navigation(t, result)
        return result

    @wraps(step.take)
    async def take(t: Turn) -> str:
        result = await step.take(t)
        _add_navigation(t, result)
        return result

    return Step(ask, take)


STEPS: dict[str, Step] = {
    "reg.name": Step(ask_company_name, take_company_name),
    "reg.phone": Step(ask_company_phone, take_company_phone),
    "reg.province": Step(ask_company_province, take_company_province),
    "reg.kind": Step(ask_company_kind, take_company_kind),
    "reg.licence": Step(ask_licence, take_licence),
    WEB_REGISTRATION: Step(ask_web_registration, take_web_registration),
    "job.title": Step(ask_title, take_title),
    "job.sector": Step(ask_sector, take_sector),
    "job.where": Step(ask_where, take_where),
    "job.province": Step(ask_province, take_province),
    "job.district": Step(ask_district, take_district),
    "job.country": Step(ask_country, take_country),
    "job.description": Step(ask_description, take_description),
    "job.salary": Step(ask_salary, take_salary),
    "job.currency": Step(ask_currency, take_currency),
    "job.period": Step(ask_period, take_period),
    "job.hours": Step(ask_hours, take_hours),
    "job.hours_ok": Step(ask_hours_ok, take_hours_ok),
    "job.days": Step(ask_days, take_days),
    "job.positions": Step(ask_positions, take_positions),
    "job.gender": Step(ask_gender, take_gender),
    "job.ages": Step(ask_ages, take_ages),
    "job.benefits": Step(ask_benefits, take_benefits),
    "job.start": Step(ask_start, take_start),
    "job.contact": Step(ask_contact, take_contact),
    VOICE_STEP: Step(ask_voice, take_voice),
    "job.preview": Step(ask_preview, take_preview),
}
STEPS.update({name: _editable(name, step) for name, step in STEPS.items() if name.startswith("job.")})
STEPS.update({name: _navigable(step) for name, step in STEPS.items() if name.startswith("reg.")})
ACTIONS = {
    "emp": employer_menu,
    "post": post,
    "listings": listings,
    "lst": listing_action,
    "appst": application_status,
}
COMMANDS = {"employer": "emp", "post": "post", "listings": "listings"}
