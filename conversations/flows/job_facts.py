"""A listing's facts: which questions ask for each, its answer in a few words, and the "keep" button that shows
it when a listing is edited.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from conversations.cards import place
from conversations.i18n import N_
from conversations.labels import BENEFITS, JOB_GENDERS, PERIODS
from conversations.pickers import sector_label
from conversations.replies import AskVoice, Keyboard, Text
from conversations.turn import Turn
from jobs_core.model import Job
from jobs_core.typed import format_date, format_pay

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
