"""Moderators (configured user ids, or anyone in the moderators' group): pending employers and listings with
the screening's risk and reasons in words; approve, reject with a reason, request changes; abuse reports.
"""

from __future__ import annotations

from sqlalchemy import select

from conversations.common import job_text, safety_line
from conversations.i18n import N_, Gettext
from conversations.replies import Button
from conversations.state import IDLE
from conversations.turn import BadInput, Step, Turn
from jobs_core import geo
from jobs_core.errors import NotAllowed, NotFound
from jobs_core.model import Decision, Employer, Job, JobStatus, Report, ReportPriority, Verification
from jobs_core.numbers import parse_int
from jobs_core.phones import display_phone
from jobs_core.services import employers, jobs, reports
from jobs_core.text import clean_text

SHOWN = 5

# The screener's reason codes (jobs_core.screening.REASONS) in words a moderator reads at a glance.
RISK_REASONS = {
    "fee_charged": N_("asks workers to pay a fee or deposit"),
    "documents_retained": N_("keeps workers' ID cards or passports"),
    "abroad_unlicensed": N_("work abroad without a recruitment licence"),
    "abroad_with_fees": N_("work abroad with fees for the worker"),
    "irregular_crossing": N_("suggests crossing a border irregularly"),
    "underage": N_("accepts children under 15"),
    "minor_hazardous": N_("accepts under-18s for hazardous work"),
    "scam_compound": N_("looks like scam-compound recruitment"),
    "exit_penalty": N_("workers are penalised for leaving"),
    "multiple_warning_signs": N_("several warning signs together"),
    "abroad_licensed": N_("work abroad through a listed agency: check the licence"),
    "licence_not_listed": N_("licence number not in the official list"),
    "licence_name_mismatch": N_("licence number belongs to another agency"),
    "pay_far_above_norm": N_("pay far above the usual wage"),
    "messaging_handle_only": N_("only a messaging-app contact, no phone"),
    "no_employer_name": N_("no employer name"),
    "vague_listing": N_("vague listing without pay"),
    "free_travel_housing": N_("offers free travel or housing"),
    "border_town": N_("work in a border or SEZ town"),
    "high_pay_promise": N_("promises high or easy pay"),
}
RISKS = {"low": N_("🟢 low risk"), "medium": N_("🟠 medium risk"), "high": N_("🔴 high risk")}
REPORT_REASONS = {
    "fees": N_("Asks for a fee or deposit"),
    "documents": N_("Keeps ID cards or passports"),
    "fake_job": N_("The job is fake or different"),
    "abuse": N_("Abuse or threats"),
    "unpaid": N_("Wages not paid"),
    "cannot_leave": N_("Workers cannot leave"),
    "other": N_("Something else"),
    "checkin_alarm": N_("A worker asked for help in a check-in call"),
}


def reason_words(code: str, _: Gettext) -> str:
    return _(RISK_REASONS[code]) if code in RISK_REASONS else code


def risk_words(risk: str | None, reasons: list[str], _: Gettext) -> str:
    text = _(RISKS.get(risk or "", N_("not screened")))
    if reasons:
        text += "\n" + "\n".join(f"• {reason_words(code, _)}" for code in reasons)
    return text


def _require_moderator(t: Turn) -> None:
    if not t.is_moderator:
        raise NotAllowed("moderators only")


async def moderation_menu(t: Turn, args: list[str]) -> str:
    """The moderators' menu."""
    _require_moderator(t)
    _ = t._
    t.started = True
    t.say(
        _("Moderation"),
        (
            (Button(_("📋 Jobs waiting for review"), "modq"),),
            (Button(_("🏢 Companies waiting for verification"), "mode"),),
            (Button(_("⚠️ Reports"), "modr"),),
        ),
    )
    return IDLE


def job_review_card(job: Job, _: Gettext, language: str) -> tuple[str, tuple[tuple[Button, ...], ...]]:
    """A pending listing for a moderator: the job, the employer, the screener's verdict; decision buttons."""
    employer = job.employer
    text = "\n".join(
        [
            _("Job #{id} for review").format(id=job.id),
            job_text(job, _, language, with_safety=False),
            _("Employer: {name} ({status})").format(name=employer.name, status=employer.verification.value),
            _("Screening: {risk}").format(risk=risk_words(job.risk, list(job.risk_reasons or []), _)),
        ]
    )
    buttons = (
        (Button(_("✅ Approve"), f"mj:{job.id}:a"),),
        (Button(_("✏️ Ask for changes"), f"mj:{job.id}:c"), Button(_("❌ Reject"), f"mj:{job.id}:r")),
    )
    return text, buttons


def employer_review_card(employer: Employer, _: Gettext, language: str) -> tuple[str, tuple[tuple[Button, ...], ...]]:
    kind = _("recruitment agency") if employer.kind.value == "agency" else _("employer")
    lines = [
        _("Company #{id}: {name}").format(id=employer.id, name=employer.name),
        f"{kind} · {display_phone(employer.contact_phone)} · {geo.province(employer.province_code).name(language)}",
    ]
    if employer.licence_no:
        lines.append(_("Licence: {number}").format(number=employer.licence_no))
    buttons = ((Button(_("✅ Verify"), f"me:{employer.id}:v"), Button(_("❌ Reject"), f"me:{employer.id}:r")),)
    return "\n".join(lines), buttons


async def pending_jobs(t: Turn, args: list[str]) -> str:
    """Listings waiting for review, oldest first."""
    _require_moderator(t)
    found = (
        await t.session.scalars(
            select(Job).where(Job.status == JobStatus.PENDING_REVIEW).order_by(Job.submitted_at, Job.id).limit(SHOWN)
        )
    ).all()
    if not found:
        t.say(t._("No jobs are waiting for review."))
    for job in found:
        t.say(*job_review_card(job, t._, t.language))
    return IDLE


async def pending_employers(t: Turn, args: list[str]) -> str:
    """Companies waiting for verification, oldest first."""
    _require_moderator(t)
    found = (
        await t.session.scalars(
            select(Employer)
            .where(Employer.verification == Verification.UNVERIFIED)
            .order_by(Employer.created_at, Employer.id)
            .limit(SHOWN)
        )
    ).all()
    if not found:
        t.say(t._("No companies are waiting for verification."))
    for employer in found:
        t.say(*employer_review_card(employer, t._, t.language))
    return IDLE


def report_card(report: Report, job: Job | None, _: Gettext) -> tuple[str, tuple[tuple[Button, ...], ...]]:
    urgent = "🚨 " if report.priority is ReportPriority.HIGH else ""
    lines = [
        urgent
        + _("Report #{id}: {reason}").format(id=report.id, reason=_(REPORT_REASONS.get(report.reason, report.reason)))
    ]
    if job is not None:
        lines.append(
            _("Job #{id}: {title} ({employer})").format(id=job.id, title=job.title, employer=job.employer.name)
        )
    if report.details:
        lines.append(report.details[:500])
    buttons = ((Button(_("✅ Resolved"), f"mr:{report.id}:r"), Button(_("Dismiss"), f"mr:{report.id}:d")),)
    return "\n".join(lines), buttons


async def open_reports(t: Turn, args: list[str]) -> str:
    """Open abuse reports, urgent first."""
    _require_moderator(t)
    found = await reports.open_reports(t.uow, limit=SHOWN)
    if not found:
        t.say(t._("There are no open reports."))
    for report in found:
        job = await t.session.get(Job, report.job_id) if report.job_id else None
        t.say(*report_card(report, job, t._))
    return IDLE


async def decide_job(t: Turn, args: list[str]) -> str:
    """mj:<job id>:a|r|c — approve now; reject or ask for changes after the reason is typed."""
    _require_moderator(t)
    if len(args) != 2 or args[1] not in ("a", "r", "c"):
        raise BadInput(t._("This button is no longer valid."))
    job_id = parse_int("job", args[0], minimum=1, maximum=2**31 - 1)
    job = await t.session.get(Job, job_id)
    if job is None:
        raise NotFound("job", job_id)
    if job.status is not JobStatus.PENDING_REVIEW:
        t.say(t._("Job #{id} was already decided: {status}.").format(id=job_id, status=job.status.value))
        return IDLE
    if args[1] == "a":
        await jobs.moderate_job(jobs.ModerateJob(job_id, t.actor, Decision.APPROVE), t.uow)
        t.say(t._("Job #{id} approved and published.").format(id=job_id))
        return IDLE
    t.data = {"job_id": job_id, "decision": "reject" if args[1] == "r" else "request_changes"}
    return await ask_job_reason(t)


async def ask_job_reason(t: Turn) -> str:
    """Why? (the employer reads it)"""
    if t.data.get("decision") == "reject":
        t.say(t._("Why is job #{id} rejected? The employer will read your answer.").format(id=t.data["job_id"]))
    else:
        t.say(t._("What should the employer change in job #{id}?").format(id=t.data["job_id"]))
    return "mod.job_reason"


async def take_job_reason(t: Turn) -> str:
    """The reason → the decision is recorded."""
    _require_moderator(t)
    reason = clean_text("reason", t.require_text(), max_length=500, required=True)
    decision = Decision(t.data["decision"])
    job_id = int(t.data["job_id"])
    await jobs.moderate_job(jobs.ModerateJob(job_id, t.actor, decision, reason), t.uow)
    if decision is Decision.REJECT:
        t.say(t._("Job #{id} rejected.").format(id=job_id))
    else:
        t.say(t._("Job #{id} sent back for changes.").format(id=job_id))
    return IDLE


async def decide_employer(t: Turn, args: list[str]) -> str:
    """me:<employer id>:v|r — verify now; reject after the reason is typed."""
    _require_moderator(t)
    if len(args) != 2 or args[1] not in ("v", "r"):
        raise BadInput(t._("This button is no longer valid."))
    employer_id = parse_int("employer", args[0], minimum=1, maximum=2**31 - 1)
    if args[1] == "v":
        await employers.decide_employer(employers.DecideEmployer(employer_id, t.actor, verify=True), t.uow)
        t.say(t._("Company #{id} verified.").format(id=employer_id))
        return IDLE
    if await t.session.get(Employer, employer_id) is None:
        raise NotFound("employer", employer_id)
    t.data = {"employer_id": employer_id}
    return await ask_employer_reason(t)


async def ask_employer_reason(t: Turn) -> str:
    """Why is the company rejected?"""
    t.say(t._("Why is company #{id} rejected?").format(id=t.data["employer_id"]))
    return "mod.employer_reason"


async def take_employer_reason(t: Turn) -> str:
    """The reason → the company is rejected."""
    _require_moderator(t)
    reason = clean_text("reason", t.require_text(), max_length=500, required=True)
    employer_id = int(t.data["employer_id"])
    await employers.decide_employer(employers.DecideEmployer(employer_id, t.actor, verify=False, reason=reason), t.uow)
    t.say(t._("Company #{id} rejected.").format(id=employer_id))
    return IDLE


async def close_report(t: Turn, args: list[str]) -> str:
    """mr:<report id>:r|d — resolve or dismiss a report."""
    _require_moderator(t)
    if len(args) != 2 or args[1] not in ("r", "d"):
        raise BadInput(t._("This button is no longer valid."))
    report_id = parse_int("report", args[0], minimum=1, maximum=2**31 - 1)
    await reports.close_report(t.uow, report_id, t.actor, dismiss=args[1] == "d")
    t.say(t._("Report #{id} closed.").format(id=report_id))
    return IDLE


def moderator_help(_: Gettext) -> str:
    return _("Moderators: send /mod for the review queues.") + "\n" + safety_line(_)


STEPS: dict[str, Step] = {
    "mod.job_reason": Step(ask_job_reason, take_job_reason),
    "mod.employer_reason": Step(ask_employer_reason, take_employer_reason),
}
ACTIONS = {
    "mod": moderation_menu,
    "modq": pending_jobs,
    "mode": pending_employers,
    "modr": open_reports,
    "mj": decide_job,
    "me": decide_employer,
    "mr": close_report,
}
COMMANDS = {"mod": "mod"}
