"""Employers: register a company, post a job field by field, record a voice description, preview, submit;
their listings (filled, withdrawn), and the applications to each (the applicant's phone shown only here).
"""

from __future__ import annotations

import logging
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from conversations.common import (
    BENEFITS,
    JOB_GENDERS,
    JOB_STATUS,
    PERIODS,
    back_button,
    job_text,
    job_voice,
    pick_province,
    pick_sector,
    province_from,
    sector_from,
    toggle,
    toggles,
)
from conversations.i18n import N_
from conversations.replies import AskPhone, AskVoice, Button, JobCard
from conversations.state import IDLE
from conversations.turn import BadInput, DialogDeps, Step, Turn
from jobs_core import geo
from jobs_core.clock import local_date
from jobs_core.errors import InvalidField, NotAllowed, NotFound
from jobs_core.model import (
    Application,
    ApplicationStatus,
    Currency,
    Employer,
    Job,
    JobStatus,
    SalaryPeriod,
    Verification,
)
from jobs_core.numbers import latin_digits, parse_amount, parse_int
from jobs_core.phones import display_phone, normalize_phone
from jobs_core.services import applications, employers, jobs
from jobs_core.text import clean_text
from media.catalog import COUNTRY_NAMES, country_code, country_name

log = logging.getLogger(__name__)

KINDS = {"employer": N_("A company or employer"), "agency": N_("A licensed recruitment agency")}
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
        return await ask_company_name(t)
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
    t.data["name"] = clean_text("name", t.require_text(), max_length=120, required=True)
    return await ask_company_phone(t)


async def ask_company_phone(t: Turn) -> str:
    """Contact phone?"""
    t.add(AskPhone(t._("What phone number can workers and moderators call? For example 012 345 678.")))
    return "reg.phone"


async def take_company_phone(t: Turn) -> str:
    """A valid Cambodian number → the province."""
    raw = t.incoming.contact_phone or t.require_text(t._("Please type the phone number, for example 012 345 678."))
    t.data["phone"] = normalize_phone(raw)
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
    t.data["licence"] = clean_text("licence_no", t.require_text(), max_length=40, required=True)
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
        return await ask_company_name(t)
    if employer.verification is Verification.REJECTED:
        raise NotAllowed("this employer was rejected by the moderators")
    t.data = {"benefits": []}
    return await ask_title(t)


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
    """A few words about the work (or skip)?"""
    t.say(t._("Describe the work in a few sentences (or Skip)."), _skip(t))
    return "job.description"


async def take_description(t: Turn) -> str:
    """The description → the salary."""
    t.data["description"] = "" if _skipped(t) else clean_text("description", t.require_text(), max_length=2000)
    return await ask_salary(t)


async def ask_salary(t: Turn) -> str:
    """How much is the pay (or skip)?"""
    t.say(t._("How much is the pay? Type the number only, for example 250 (or Skip)."), _skip(t))
    return "job.salary"


async def take_salary(t: Turn) -> str:
    """The amount (Latin or Khmer digits) → the currency; skip → the hours."""
    if _skipped(t):
        for key in ("salary", "currency", "period"):
            t.data.pop(key, None)
        return await ask_hours(t)
    amount = parse_amount("salary_amount", t.require_text(), minimum=Decimal("0.01"), maximum=Decimal(80_000_000))
    t.data["salary"] = str(amount)
    return await ask_currency(t)


async def ask_currency(t: Turn) -> str:
    """Dollars or riel?"""
    t.say(t._("In which currency?"), t.choices([(t._(v), k) for k, v in CURRENCIES.items()]))
    return "job.currency"


async def take_currency(t: Turn) -> str:
    """The currency → the period."""
    if t.choice not in CURRENCIES:
        raise BadInput(t._("Please choose one of the buttons."))
    t.data["currency"] = t.choice
    return await ask_period(t)


async def ask_period(t: Turn) -> str:
    """Per month, day, hour or piece?"""
    t.say(t._("The pay is…"), t.choices([(t._(v), k) for k, v in PERIODS.items()]))
    return "job.period"


async def take_period(t: Turn) -> str:
    """The period (the amount checked against it) → the hours."""
    if t.choice not in PERIODS:
        raise BadInput(t._("Please choose one of the buttons."))
    limit = jobs.MAX_SALARY[Currency(t.data["currency"]), SalaryPeriod(t.choice)]
    parse_amount("salary_amount", t.data["salary"], minimum=Decimal("0.01"), maximum=limit)
    t.data["period"] = t.choice
    return await ask_hours(t)


async def ask_hours(t: Turn) -> str:
    """Working hours (or skip)?"""
    t.say(t._("What are the working hours? For example 07:00-16:00 (or Skip)."), _skip(t))
    return "job.hours"


_TIME = re.compile(r"^(\d{1,2})(?:[:.h](\d{2}))?$")


def _clock(field: str, text: str) -> str:
    found = _TIME.match(text.strip())
    if not found or int(found[1]) > 23 or int(found[2] or 0) > 59:
        raise InvalidField(field, "invalid_time", text)
    return f"{int(found[1]):02d}:{int(found[2] or 0):02d}"


async def take_hours(t: Turn) -> str:
    """Start and end time → days per week."""
    if _skipped(t):
        t.data.pop("hours_start", None)
        t.data.pop("hours_end", None)
        return await ask_days(t)
    text = latin_digits(t.require_text())
    parts = re.split(r"\s*(?:-|–|—|to|ដល់)\s*", text)
    if len(parts) != 2:
        raise InvalidField("hours_start", "invalid_time", text)
    t.data["hours_start"], t.data["hours_end"] = _clock("hours_start", parts[0]), _clock("hours_end", parts[1])
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
        t.data["days"] = parse_int("days_per_week", t.require_text(), minimum=1, maximum=7)
    return await ask_positions(t)


async def ask_positions(t: Turn) -> str:
    """How many workers?"""
    t.say(t._("How many workers do you need?"))
    return "job.positions"


async def take_positions(t: Turn) -> str:
    """Number of workers → gender."""
    t.data["positions"] = parse_int("positions", t.require_text(), minimum=1, maximum=10_000)
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
    parts = re.split(r"\s*(?:-|–|—|to|ដល់)\s*", latin_digits(t.require_text()))
    if len(parts) > 2:
        raise InvalidField("min_age", "not_a_number", "ages")
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
    t.say(t._("When does the work start? For example 2026-12-01 (or Skip)."), _skip(t))
    return "job.start"


async def take_start(t: Turn) -> str:
    """The start date (not in the past) → the contact."""
    if _skipped(t):
        t.data.pop("start_date", None)
    else:
        try:
            start = date.fromisoformat(latin_digits(t.require_text()).strip())
        except ValueError as exc:
            raise InvalidField("start_date", "invalid_date", "date") from exc
        if start < local_date(t.now):
            raise InvalidField("start_date", "invalid_date", "in the past")
        t.data["start_date"] = start.isoformat()
    return await ask_contact(t)


async def ask_contact(t: Turn) -> str:
    """How workers contact you (or skip: the company phone)?"""
    t.say(t._("How should workers contact you? (Skip to use your company phone.)"), _skip(t))
    return "job.contact"


async def take_contact(t: Turn) -> str:
    """The contact → the draft is saved; ask for a voice description."""
    t.data["contact"] = None if _skipped(t) else clean_text("contact", t.require_text(), max_length=120)
    employer = await t.employer()
    if employer is None:
        raise NotFound("employer", t.incoming.user_id)
    d = t.data
    if d.get("job_id"):  # editing a draft or a listing sent back for changes
        await jobs.edit_job(jobs.EditJob(int(d["job_id"]), employer.id, _fields(d), t.actor), t.uow)
    else:
        t.data["job_id"] = await jobs.create_job(jobs.CreateJob(employer.id, _fields(d), t.actor), t.uow)
    return await ask_voice(t)


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
    """The listing as workers will see and hear it; submit or discard."""
    _ = t._
    _employer, job = await _own_job(t, int(t.data["job_id"]))
    await t.session.refresh(job)
    t.say(_("This is how your job will look:"))
    t.add(
        JobCard(
            job_id=job.id,
            text=job_text(job, _, t.language),
            voice=await job_voice(job, t.deps, t.language, with_clip=True, cached=True),
        )
    )
    t.say(
        _("Send it to our moderators for review?"),
        (
            (t.step_button(_("✅ Submit for review"), "submit"),),
            (t.step_button(_("🗑 Discard"), "discard"),),
        ),
    )
    return "job.preview"


async def take_preview(t: Turn) -> str:
    """Submit → screened and queued for moderators; discard → withdrawn."""
    _ = t._
    employer, job = await _own_job(t, int(t.data["job_id"]))
    if t.choice == "discard":
        await jobs.close_job(jobs.CloseJob(job.id, employer.id, t.actor, filled=False), t.uow)
        t.say(_("The draft was discarded."), ((back_button(t, "emp"),),))
        return IDLE
    if t.choice != "submit":
        raise BadInput(_("Please press one of the buttons."))
    risk, _reasons = await jobs.submit_job(jobs.SubmitJob(job.id, employer.id, t.actor), t.uow)
    message = _("Thank you! Your job was sent to our moderators. We will tell you when it is published.")
    if risk == "high":
        message += "\n" + _(
            "Our automatic check found things a moderator must look at closely, so this may take longer."
        )
    t.say(message, ((Button(_("📋 My listings"), "listings"),), (back_button(t, "emp"),)))
    return IDLE


# ------------------------------------------------------------------------------------------------ listings


async def listings(t: Turn, args: list[str]) -> str:
    """My listings: status and applications of each, with what can be done next."""
    _ = t._
    t.started = True
    employer = await t.employer()
    if employer is None:
        return await employer_menu(t, [])
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
            .where(Job.employer_id == employer.id)
            .order_by(Job.created_at.desc(), Job.id.desc())
            .limit(LISTINGS_SHOWN)
        )
    ).all()
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
        buttons: list[tuple[Button, ...]] = []
        if count:
            buttons.append((Button(_("👥 Applications"), f"lst:{job.id}:apps"),))
        if job.status is JobStatus.PUBLISHED:
            buttons.append((Button(_("✅ Mark filled"), f"lst:{job.id}:fill"),))
        if job.status in (JobStatus.DRAFT, JobStatus.CHANGES_REQUESTED):
            buttons.append((Button(_("✏️ Edit and send again"), f"lst:{job.id}:edit"),))
        if job.status in (JobStatus.DRAFT, JobStatus.PENDING_REVIEW, JobStatus.CHANGES_REQUESTED, JobStatus.PUBLISHED):
            buttons.append((Button(_("🗑 Withdraw"), f"lst:{job.id}:wd"),))
        t.say("\n".join(lines), tuple(buttons))
    t.say(_("Anything else?"), ((Button(_("📝 Post a job"), "post"),), (back_button(t, "emp"),)))
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
        if job.status not in jobs.EDITABLE:
            raise NotAllowed(f"a {job.status.value} listing cannot be edited")
        # The questions are asked again from the start; the answers replace the listing's fields.
        t.data = {"job_id": job.id, "benefits": []}
        if job.change_note:
            t.say(t._("Moderator's note: {note}").format(note=job.change_note))
        return await ask_title(t)
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


STEPS: dict[str, Step] = {
    "reg.name": Step(ask_company_name, take_company_name),
    "reg.phone": Step(ask_company_phone, take_company_phone),
    "reg.province": Step(ask_company_province, take_company_province),
    "reg.kind": Step(ask_company_kind, take_company_kind),
    "reg.licence": Step(ask_licence, take_licence),
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
ACTIONS = {
    "emp": employer_menu,
    "post": post,
    "listings": listings,
    "lst": listing_action,
    "appst": application_status,
}
COMMANDS = {"employer": "emp", "post": "post", "listings": "listings"}
