"""Reporting a problem with a job: the reason, any details, then the moderators look at it."""

from __future__ import annotations

from conversations.i18n import N_
from conversations.pickers import back_and_cancel, back_button
from conversations.state import IDLE
from conversations.turn import BadInput, Step, Turn
from jobs_core.services import reports
from jobs_core.text import clean_text

REPORT_REASONS = {
    "fees": N_("Asks for a fee or deposit"),
    "documents": N_("Keeps ID cards or passports"),
    "fake_job": N_("The job is fake or different"),
    "abuse": N_("Abuse or threats"),
    "unpaid": N_("Wages not paid"),
    "cannot_leave": N_("Workers cannot leave"),
    "other": N_("Something else"),
}


# ------------------------------------------------------------------------------------------------ report


async def ask_report_reason(t: Turn) -> str:
    """What is wrong with the job?"""
    options = [(t._(label), code) for code, label in REPORT_REASONS.items()]
    t.say(t._("What is the problem with this job?"), (*t.choices(options, per_row=1), back_and_cancel(t, back=False)))
    return "report.reason"


async def take_report_reason(t: Turn) -> str:
    """The reason → any details?"""
    if t.choice not in REPORT_REASONS:
        raise BadInput(t._("Please choose one of the buttons."))
    t.data["reason"] = t.choice
    return await ask_report_details(t)


async def ask_report_details(t: Turn) -> str:
    """Anything to add?"""
    t.say(
        t._("Tell us more in a few words, or press Skip."),
        (tuple([t.step_button(t._("Skip"), "skip")]), back_and_cancel(t)),
    )
    return "report.details"


async def take_report_details(t: Turn) -> str:
    """The details (or none) → the report is filed for the moderators."""
    details = "" if t.choice == "skip" else clean_text("details", t.require_text(), max_length=2000)
    relative = await t.relative()
    await reports.report_problem(
        reports.ReportProblem(
            reason=t.data["reason"], job_id=int(t.data["job_id"]), details=details, reporter_relative_id=relative.id
        ),
        t.uow,
    )
    if t.data["reason"] in reports.PROTECT_FIRST:
        t.say(
            t._("Thank you. We have hidden this job until our team has checked it. We will tell you what they decide."),
            ((back_button(t, "rel"),),),
        )
    else:
        t.say(t._("Thank you. Our team will look at this job."), ((back_button(t, "rel"),),))
    return IDLE


STEPS: dict[str, Step] = {
    "report.reason": Step(ask_report_reason, take_report_reason),
    "report.details": Step(ask_report_details, take_report_details),
}
# Each question's Back button asks the one before it again (what was answered stays until answered anew).
PREVIOUS = {"report.details": "report.reason"}
