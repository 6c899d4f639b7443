"""What several flows share: the safety line, pickers, job cards and domain errors in words."""

from __future__ import annotations

import logging
from decimal import Decimal

from conversations.i18n import N_, Gettext
from conversations.replies import Button, Edit, JobCard, Keyboard, Text, Voice
from conversations.turn import DialogDeps, Turn, rows
from jobs_core import geo
from jobs_core.clock import local
from jobs_core.errors import DomainError, IllegalTransition, InvalidField, LimitReached, NotAllowed, NotFound
from jobs_core.model import Job, Sector
from media.catalog import country_code, country_name
from media.listing_pitch import pitch_job

log = logging.getLogger(__name__)

ANY = "-"  # a picker's "any province / any sector" value

# What the family member is to the relative who adds them (the IVR turns it round: see Relationship.recommender).
RELATIONSHIPS = {
    "parent": N_("My father or mother"),
    "child": N_("My son or daughter"),
    "spouse": N_("My husband or wife"),
    "sibling": N_("Brother or sister"),
    "relative": N_("Other relative"),
    "friend": N_("Friend"),
    "acquaintance": N_("Acquaintance"),
}
GENDERS = {"male": N_("Man"), "female": N_("Woman")}
JOB_GENDERS = {"any": N_("Men and women"), "male": N_("Men only"), "female": N_("Women only")}
BENEFITS = {
    "meals": N_("Meals"),
    "accommodation": N_("Accommodation"),
    "transport": N_("Transport"),
    "overtime": N_("Paid overtime"),
    "nssf": N_("NSSF social security"),
}
PERIODS = {"month": N_("per month"), "day": N_("per day"), "hour": N_("per hour"), "piece": N_("per piece")}
CONSENT = {
    "pending": N_("not asked yet: we will call to ask their permission"),
    "consented": N_("agreed to job calls"),
    "declined": N_("did not agree to job calls"),
    "opted_out": N_("asked never to be called"),
}
JOB_STATUS = {
    "draft": N_("draft"),
    "pending_review": N_("waiting for review"),
    "published": N_("published"),
    "filled": N_("filled"),
    "expired": N_("expired"),
    "withdrawn": N_("withdrawn"),
    "rejected": N_("rejected"),
    "changes_requested": N_("changes requested"),
    "suspended": N_("on hold while a report is checked"),
    "awaiting_payment": N_("approved, waiting for payment"),
}
FIELDS = {
    "name": N_("name"),
    "phone": N_("phone number"),
    "province": N_("province"),
    "kind": N_("kind of company"),
    "title": N_("job title"),
    "description": N_("description"),
    "contact": N_("contact"),
    "country": N_("country"),
    "reason": N_("reason"),
    "details": N_("details"),
    "licence_no": N_("licence number"),
    "birth_year": N_("birth year"),
    "salary_amount": N_("salary"),
    "days_per_week": N_("days per week"),
    "positions": N_("number of workers"),
    "min_age": N_("minimum age"),
    "max_age": N_("maximum age"),
    "hours_start": N_("start time"),
    "hours_end": N_("end time"),
    "start_date": N_("start date"),
}


def safety_line(_: Gettext) -> str:
    """Said under every job and on the help page."""
    return _(
        "⚠️ Never pay a fee to get a job, and never hand over your ID card or passport. "
        "Help: Ministry of Labour 1297, police 117."
    )


def error_message(exc: DomainError, _: Gettext) -> str:
    """A domain refusal in the person's words."""
    if isinstance(exc, InvalidField):
        field = _(FIELDS[exc.field]) if exc.field in FIELDS else exc.field
        messages = {
            "invalid_phone": _("That is not a valid Cambodian phone number. Please type it like 012 345 678."),
            "not_cambodian": _("Only Cambodian phone numbers can be called. Please type a number like 012 345 678."),
            "not_a_number": _("Please type a number, for example 25."),
            "too_small": _("That number is too small."),
            "too_large": _("That number is too large."),
            "too_young": _("Workers must be at least 15 years old."),
            "too_long": _("That is too long. Please make it shorter."),
            "required": _("This cannot be empty."),
            "invalid_time": _("Please type a time like 07:30."),
            "invalid_date": _("Please type a date like 2026-12-01."),
            "unknown_province": _("I do not know that province. Please choose one from the list."),
            "unknown_district": _("I do not know that district. Please choose one from the list."),
            "unknown_sector": _("Please choose a kind of work from the list."),
            "invalid_choice": _("Please choose one of the buttons."),
        }
        text = messages.get(exc.code, _("Please check this answer."))
        if exc.field == "agreed_to_calls":
            return _("We can only call your family member after they agreed. Please ask them first.")
        return f"{text} ({field})"
    if isinstance(exc, LimitReached):
        return _("You have reached today's limit of {limit}. Please try again tomorrow.").format(limit=exc.limit)
    if isinstance(exc, NotFound):
        return _("Sorry, this is no longer available.")
    if isinstance(exc, NotAllowed):
        known = {
            "this job is no longer open": _("This job is no longer open."),
            "you have already nominated this person": _("You have already added this family member."),
            "this person asked not to be contacted": _("This person asked not to be contacted."),
            "this employer was rejected by the moderators": _("Your company was not approved by the moderators."),
            "only a published listing can be featured": _("Only a published job can be featured."),
            "the listing ends before these featured weeks would": _(
                "This job ends before these featured weeks would. Choose fewer weeks."
            ),
        }
        return known.get(exc.reason, _("Sorry, this is not allowed."))
    if isinstance(exc, IllegalTransition):
        return _("This was already done, or cannot be done any more.")
    return _("Sorry, this cannot be done.")


# ---------------------------------------------------------------------------------------------- pickers


def province_choices(language: str) -> list[tuple[str, str]]:
    return [(p.name(language), p.code) for p in geo.provinces()]


def sector_label(sector: Sector, language: str) -> str:
    return sector.name_km if language == "km" else sector.name_en


def pick_province(t: Turn, question: str, with_any: bool = False, nav: Keyboard = ()) -> None:
    options = province_choices(t.language)
    keyboard = t.choices(options, per_row=3)
    if with_any:
        keyboard = ((t.step_button(t._("Any province"), ANY),), *keyboard)
    t.say(question, (*keyboard, *nav))


async def pick_sector(t: Turn, question: str, with_any: bool = False, nav: Keyboard = ()) -> None:
    options = [(sector_label(s, t.language), s.code) for s in await t.sectors()]
    keyboard = t.choices(options, per_row=2)
    if with_any:
        keyboard = ((t.step_button(t._("Any kind of work"), ANY),), *keyboard)
    t.say(question, (*keyboard, *nav))


def province_from(t: Turn, allow_any: bool = False) -> str | None:
    """The province of a pressed button or a typed name/code (raises when neither fits)."""
    value = t.choice if t.choice is not None else t.require_text(t._("Please choose a province from the list."))
    if allow_any and value == ANY:
        return None
    return geo.province(value).code


async def sector_from(t: Turn, allow_any: bool = False) -> str | None:
    codes = {s.code: s for s in await t.sectors()}
    value = t.choice if t.choice is not None else t.require_text(t._("Please choose a kind of work from the list."))
    if allow_any and value == ANY:
        return None
    if value in codes:
        return value
    for code, sector in codes.items():
        if value.casefold() in (sector.name_en.casefold(), sector.name_km):
            return code
    raise InvalidField("sectors", "unknown_sector", value)


def toggles(t: Turn, options: dict[str, str], chosen: list[str], done_label: str) -> Keyboard:
    """Multi-select buttons (✅ on chosen ones) for code → label (already in the person's words), and Done."""
    buttons = [
        t.step_button(("✅ " if code in chosen else "▫️ ") + label, f"{TOGGLE}{code}") for code, label in options.items()
    ]
    return (*rows(buttons, 2), (t.step_button(done_label, "done"),))


def toggle(chosen: list[str], code: str) -> list[str]:
    return [c for c in chosen if c != code] if code in chosen else [*chosen, code]


def back_button(t: Turn, action: str = "menu") -> Button:
    return Button(t._("⬅️ Menu"), action)


# Step-button values every multi-step question understands (``conversations.dialog`` answers them).
BACK, CANCEL = "back", "cancel"
TOGGLE = "t:"  # a multi-select button's value prefix (see ``toggles``)


def back_and_cancel(t: Turn, back: bool = True) -> tuple[Button, ...]:
    """The row under a question of a multi-step flow: the previous question again, or leave saving nothing."""
    cancel = t.step_button(t._("✖️ Cancel"), CANCEL)
    return (t.step_button(t._("↩️ Back"), BACK), cancel) if back else (cancel,)


def edit_in_place(t: Turn, since: int) -> None:
    """The question said again since reply ``since`` (a toggle pressed) replaces the message whose button was
    pressed, instead of arriving as a new one: only its buttons change when the words are the same."""
    message_id = t.incoming.extra.get("message_id") if t.incoming.action else None
    said = t.replies[since:]
    if not message_id or len(said) != 1 or not isinstance(said[0], Text):
        return
    t.replies[since:] = [Edit(message_id, said[0].text, said[0].buttons, buttons_only=True)]


# ---------------------------------------------------------------------------------------------- jobs


def money(amount: Decimal | None, currency: str | None) -> str:
    if amount is None:
        return ""
    whole = amount == amount.to_integral_value()
    number = f"{amount:,.0f}" if whole else f"{amount:,.2f}"
    return f"${number}" if currency == "USD" else f"{number} ៛"


def place(job: Job, language: str) -> str:
    if job.country:
        # A country the pitch names is shown in the reader's language (ថៃ to a Khmer reader); others as typed.
        code = country_code(job.country)
        return country_name(code, language) if code is not None else job.country
    if not job.province_code:
        return ""
    province = geo.province(job.province_code)
    if job.district_code:
        for district in geo.districts(province.code):
            if district.code == job.district_code:
                return f"{district.name(language)}, {province.name(language)}"
    return province.name(language)


def job_text(job: Job, _: Gettext, language: str, with_safety: bool = True) -> str:
    """A job in a few short lines (title, employer, place, pay, hours, who, benefits) and the safety line."""
    lines = [f"💼 {job.title}", f"🏢 {job.employer.name}", f"📍 {place(job, language)}"]
    if job.salary_amount is not None:
        period = _(PERIODS[job.salary_period.value]) if job.salary_period else ""
        lines.append(
            f"💵 {money(job.salary_amount, job.salary_currency.value if job.salary_currency else None)} {period}"
        )
    if job.hours_start and job.hours_end:
        lines.append(
            _("🕒 {start}–{end}").format(start=job.hours_start.strftime("%H:%M"), end=job.hours_end.strftime("%H:%M"))
        )
    if job.days_per_week:
        lines.append(_("📅 {days} days a week").format(days=job.days_per_week))
    who = _(JOB_GENDERS[job.gender.value])
    if job.min_age or job.max_age:
        who += " · " + _("age {low}–{high}").format(low=job.min_age or 15, high=job.max_age or "")
    lines.append(_("👥 {count} workers: {who}").format(count=job.positions, who=who))
    if job.benefits:
        lines.append("🎁 " + ", ".join(_(BENEFITS[b]) for b in job.benefits if b in BENEFITS))
    if job.start_date:
        lines.append(_("▶️ Starts {date}").format(date=job.start_date.isoformat()))
    if job.description:
        lines.append(job.description[:300])
    if job.published_at:
        lines.append(_("Posted {date}").format(date=local(job.published_at).date().isoformat()))
    if with_safety:
        lines.append("")
        lines.append(safety_line(_))
    return "\n".join(lines)


KHMER_DIGITS = str.maketrans("0123456789", "០១២៣៤៥៦៧៨៩")
SHARED_PERIODS = {"month": N_("/month"), "day": N_("/day"), "hour": N_("/hour"), "piece": N_("/piece")}


def shared_money(amount: Decimal, currency: str | None, period: str | None, _: Gettext, language: str) -> str:
    """Pay as a shared card says it: "$250/month", or in Khmer "២៥០ ដុល្លារ/ខែ" (Khmer digits and words)."""
    whole = amount == amount.to_integral_value()
    number = f"{amount:,.0f}" if whole else f"{amount:,.2f}"
    if language == "km":
        number = number.translate(KHMER_DIGITS)
    said = _("${amount}") if currency == "USD" else _("{amount} riel")
    return said.format(amount=number) + (_(SHARED_PERIODS[period]) if period in SHARED_PERIODS else "")


def shared_job_text(job: Job, _: Gettext, language: str) -> str:
    """A job dropped into someone else's chat, in the sharer's words: title, pay, where (once), the safety line."""
    lines = [f"💼 {job.title}"]
    if job.salary_amount is not None:
        currency = job.salary_currency.value if job.salary_currency else None
        period = job.salary_period.value if job.salary_period else None
        lines.append("💵 " + shared_money(job.salary_amount, currency, period, _, language))
    where = place(job, language)
    if where:
        lines.append(f"📍 {where}")
    lines.append(safety_line(_))
    return "\n".join(lines)


def job_buttons(job_id: int, _: Gettext) -> Keyboard:
    return (
        (Button(_("📤 Share"), f"job:{job_id}", kind="share"),),
        (Button(_("📞 Call my family member about this job"), f"job:{job_id}:call"),),
        (Button(_("✍️ Apply for a family member"), f"job:{job_id}:apply"),),
        (Button(_("⚠️ Report a problem"), f"job:{job_id}:report"),),
    )


async def job_voice(
    job: Job, deps: DialogDeps, language: str, with_clip: bool | None = None, *, cached: bool = False
) -> Voice | None:
    """The job's voice note, or None when no audio provider is set or it cannot be made.

    ``cached``: only a note already rendered (``DialogDeps.cached_audio``), so a caller inside a transaction
    never waits for ffmpeg; every dialog turn asks this way (see ``conversations.audio``).
    """
    provider = (deps.cached_audio or deps.audio) if cached else deps.audio
    if provider is None:
        return None
    try:
        facts = pitch_job(job, job.voice_clip_approved if with_clip is None else with_clip)
        return await provider(facts, language)
    except Exception:  # a voice note is a bonus: the card goes out without it rather than not at all
        log.exception("no voice note for job %s", job.id)
        return None


async def job_card(job: Job, deps: DialogDeps, _: Gettext, language: str, *, cached: bool = False) -> JobCard:
    return JobCard(
        job_id=job.id,
        text=job_text(job, _, language),
        voice=await job_voice(job, deps, language, cached=cached),
        buttons=job_buttons(job.id, _),
    )
