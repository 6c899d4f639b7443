"""Posting a job: the walk of questions (conversations.flows.job_questions) with a voice description, then the
summary to change any answer, submit or discard; editing a listing goes through the same summary.
"""

from __future__ import annotations

import logging
from functools import wraps
from pathlib import Path

from conversations.cards import job_text, job_voice
from conversations.flows import register
from conversations.flows.job_facts import _FACT_OF, _ORDER, FACT_LABELS, FACTS, _add_keep, _shown
from conversations.flows.job_questions import (
    VOICE_STEP,
    _save,
    _skipped,
    ask_ages,
    ask_benefits,
    ask_contact,
    ask_country,
    ask_currency,
    ask_days,
    ask_description,
    ask_district,
    ask_gender,
    ask_hours,
    ask_hours_ok,
    ask_period,
    ask_positions,
    ask_province,
    ask_salary,
    ask_sector,
    ask_start,
    ask_title,
    ask_voice,
    ask_where,
    take_ages,
    take_benefits,
    take_contact,
    take_country,
    take_currency,
    take_days,
    take_description,
    take_district,
    take_gender,
    take_hours,
    take_hours_ok,
    take_period,
    take_positions,
    take_province,
    take_salary,
    take_sector,
    take_start,
    take_title,
    take_where,
)
from conversations.flows.register import _employer_or_register
from conversations.flows.walks import PREVIOUS, _add_navigation
from conversations.i18n import N_
from conversations.pickers import BACK, back_button
from conversations.replies import Button, JobCard
from conversations.state import IDLE
from conversations.turn import BadInput, DialogDeps, Step, Turn, rows
from jobs_core.errors import NotAllowed, NotFound
from jobs_core.model import Employer, Job, Verification
from jobs_core.services import jobs

log = logging.getLogger(__name__)


async def post(t: Turn, args: list[str]) -> str:
    """Start a new listing."""
    t.started = True
    employer = await _employer_or_register(t)
    if employer is None:
        t.data = {}
        return await register.STEPS["reg.name"].ask(t)  # the wrapped question: with its Cancel button
    if employer.verification is Verification.REJECTED:
        raise NotAllowed("this employer was rejected by the moderators")
    t.data = {"benefits": []}
    return await STEPS["job.title"].ask(t)  # the wrapped question: with its Cancel button


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


async def _ask_fact(t: Turn, fact: str) -> str:
    """The first question of a fact (with its keep button when editing)."""
    step = STEPS[FACTS[fact][0]]
    return await step.ask(t)


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


async def navigate(t: Turn, value: str) -> str:
    """Back or Cancel pressed under a company or listing question."""
    if value == BACK and t.step.startswith("job.") and t.data.get("jump"):
        return await ask_preview(t)
    if value == BACK and t.step in PREVIOUS:
        return await {**register.STEPS, **STEPS}[PREVIOUS[t.step]].ask(t)
    if t.step.startswith("job.") and t.data.get("job_id"):
        # The draft (or the listing's pending changes) was saved at the contact question or before an edit.
        t.say(
            t._("Stopped. What was saved before stays in the listing: find it in My listings."),
            ((Button(t._("📋 My listings"), "listings"),), (back_button(t, "emp"),)),
        )
    else:
        t.say(t._("Cancelled. Nothing was saved."), ((back_button(t, "emp"),),))
    return IDLE


STEPS: dict[str, Step] = {
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
ACTIONS = {"post": post}
COMMANDS = {"post": "post"}
