"""A job as the chat shows it: its text, its buttons, its voice note, its shared form; the safety line."""

from __future__ import annotations

import logging
from decimal import Decimal

from conversations.i18n import N_, Gettext
from conversations.labels import BENEFITS, JOB_GENDERS, PERIODS
from conversations.replies import Button, JobCard, Keyboard, Voice
from conversations.turn import DialogDeps
from jobs_core import geo
from jobs_core.clock import local
from jobs_core.model import Job
from media.catalog import country_code, country_name
from media.listing_pitch import pitch_job

log = logging.getLogger(__name__)


def safety_line(_: Gettext) -> str:
    """Said under every job and on the help page."""
    return _(
        "⚠️ Never pay a fee to get a job, and never hand over your ID card or passport. "
        "Help: Ministry of Labour 1297, police 117."
    )


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
    never waits for ffmpeg; every dialog turn asks this way (see ``conversations.voice_notes``).
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
