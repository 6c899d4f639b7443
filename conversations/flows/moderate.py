"""Moderators (MODERATOR_IDS; every member of the moderators' group only when MODERATORS_ALL_MEMBERS is on):
pending employers and listings with the screening's risk and reasons in words and the pitch callers will
hear; approve (a high-risk listing only after a confirmation naming the reasons), reject or request changes
with a typed reason; abuse reports, urgent first. A decided card is edited in place: who decided and when,
and no buttons left to press.

Typed answers are asked with ``force_reply``: in a Telegram group with privacy mode on, a reply to the bot's
message is what reaches the bot, and the moderator's own conversation state takes it.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import func, select

from conversations.cards import job_text, job_voice, safety_line
from conversations.flows.report import REPORT_REASONS as REPORTABLE
from conversations.i18n import N_, Gettext
from conversations.invoices import refunded
from conversations.labels import JOB_STATUS
from conversations.replies import Button, Edit, Keyboard, Text
from conversations.state import IDLE
from conversations.turn import BadInput, Step, Turn
from jobs_core import geo
from jobs_core.clock import local
from jobs_core.errors import NotAllowed, NotFound
from jobs_core.model import Decision, Employer, Job, JobStatus, Report, ReportPriority, ReportStatus, Verification
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
    "debt_bondage": N_("debt bondage: an advance or loan repaid from wages"),
    "wages_withheld": N_("wages held back: paid only at the end, or lost if the worker leaves early"),
    "body_photos": N_("asks for full-body or swimsuit photos"),
    "live_in_no_rest": N_("live-in domestic work with no day off"),
    "pay_above_norm": N_("pay well above the usual wage for work needing no experience"),
    "pay_mismatch": N_("pay in the text differs from the pay field"),
    "minor_in_text": N_("the text accepts under-18s although the age field says 18"),
    "sea_long_trips": N_("months at sea or no port calls"),
    "appearance_demands": N_("demands about looks or only young women"),
    "live_in_hours_unstated": N_("live-in domestic work: no hours or day off stated"),
}
RISKS = {"low": N_("🟢 low risk"), "medium": N_("🟠 medium risk"), "high": N_("🔴 high risk")}
# What a relative may report, and the alarm a worker raises on a check-in call (never a relative's choice).
REPORT_REASONS = {**REPORTABLE, "checkin_alarm": N_("A worker asked for help in a check-in call")}
VERIFICATION = {
    "unverified": N_("not verified yet"),
    "verified": N_("verified"),
    "rejected": N_("rejected"),
}


def reason_words(code: str, _: Gettext) -> str:
    return _(RISK_REASONS[code]) if code in RISK_REASONS else code


def risk_words(risk: str | None, reasons: list[str], _: Gettext) -> str:
    text = _(RISKS.get(risk or "", N_("not screened")))
    if reasons:
        text += "\n" + "\n".join(f"• {reason_words(code, _)}" for code in reasons)
    return text


def status_words(status: str, _: Gettext) -> str:
    """A job status in the moderator's words."""
    return _(JOB_STATUS[status]) if status in JOB_STATUS else status


def _require_moderator(t: Turn) -> None:
    if not t.is_moderator:
        raise NotAllowed("moderators only")


def _offset(t: Turn, args: list[str]) -> int:
    return parse_int("offset", args[0], minimum=0, maximum=100_000) if args else 0


def _more(t: Turn, action: str, offset: int, found: int, total: int) -> None:
    """Under a queue's page: how many there are in all, and a "more" button when there are more pages."""
    if not found:
        return
    shown = t._("Showing {first}–{last} of {total}.").format(
        first=offset + 1, last=offset + min(found, SHOWN), total=max(total, offset + found)
    )
    more = ((Button(t._("More ▶️"), f"{action}:{offset + SHOWN}"),),) if found > SHOWN else ()
    t.say(shown, more)


async def _count(t: Turn, model: type[Job] | type[Employer] | type[Report], *where: object) -> int:
    return int(await t.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)  # type: ignore[arg-type]


def _stamp(t: Turn, what: str) -> str:
    """The line under a decided card: who decided, and when (Phnom Penh time)."""
    when = local(t.now).strftime("%Y-%m-%d %H:%M")
    return what.format(name=t.incoming.user_name or t.incoming.user_id, time=when)


def _pressed_message(t: Turn) -> str | None:
    """The message whose button was pressed (the card to edit once decided), if the channel says."""
    if t.incoming.action is None:
        return None
    return t.incoming.extra.get("message_id") or None


def _decided(t: Turn, card_message: str | None, card: str, stamp: str, fallback: str) -> None:
    """Edit the decided card in place (no buttons, who and when), or just say so when there is no card."""
    if card_message:
        t.add(Edit(card_message, f"{card}\n\n{stamp}"))
    else:
        t.say(fallback)


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


def job_review_card(job: Job, _: Gettext, language: str) -> tuple[str, Keyboard]:
    """A pending listing for a moderator: the job, the employer, the screener's verdict; decision buttons."""
    employer = job.employer
    verification = _(VERIFICATION.get(employer.verification.value, employer.verification.value))
    text = "\n".join(
        [
            _("Job #{id} for review").format(id=job.id)
            + ("\n" + _("Changes to published job #{id}").format(id=job.revision_of) if job.revision_of else ""),
            job_text(job, _, language, with_safety=False),
            _("Employer: {name} ({status})").format(name=employer.name, status=verification),
            _("Screening: {risk}").format(risk=risk_words(job.risk, list(job.risk_reasons or []), _)),
        ]
    )
    buttons = (
        (Button(_("✅ Approve"), f"mj:{job.id}:a"),),
        (Button(_("✏️ Ask for changes"), f"mj:{job.id}:c"), Button(_("❌ Reject"), f"mj:{job.id}:r")),
    )
    return text, buttons


def pitch_caption(job: Job, _: Gettext) -> str:
    if job.voice_clip:
        return _("Job #{id}: what callers will hear, with the employer's own recording.").format(id=job.id)
    return _("Job #{id}: what callers will hear (no recording from the employer).").format(id=job.id)


async def job_review(t: Turn, job: Job) -> None:
    """The review card, then the pitch callers would hear (with the employer's recording in it)."""
    t.say(*job_review_card(job, t._, t.language))
    voice = await job_voice(job, t.deps, t.language, with_clip=True, cached=True)
    if voice is not None:
        t.add(replace(voice, caption=pitch_caption(job, t._), buttons=()))


KIND_NAMES = {
    "employer": N_("employer"),
    "agency": N_("recruitment agency"),
    "ngo": N_("NGO"),
    "cooperative": N_("cooperative"),
}


def employer_review_card(employer: Employer, _: Gettext, language: str) -> tuple[str, Keyboard]:
    kind = _(KIND_NAMES.get(employer.kind.value, KIND_NAMES["employer"]))
    lines = [
        _("Company #{id}: {name}").format(id=employer.id, name=employer.name),
        f"{kind} · {display_phone(employer.contact_phone)} · {geo.province(employer.province_code).name(language)}",
    ]
    if employer.licence_no:
        lines.append(_("Licence: {number}").format(number=employer.licence_no))
    buttons = ((Button(_("✅ Verify"), f"me:{employer.id}:v"), Button(_("❌ Reject"), f"me:{employer.id}:r")),)
    return "\n".join(lines), buttons


async def pending_jobs(t: Turn, args: list[str]) -> str:
    """modq[:<offset>] — listings waiting for review, oldest first, a page at a time."""
    _require_moderator(t)
    offset = _offset(t, args)
    found = (
        await t.session.scalars(
            select(Job)
            .where(Job.status == JobStatus.PENDING_REVIEW)
            .order_by(Job.submitted_at, Job.id)
            .offset(offset)
            .limit(SHOWN + 1)
        )
    ).all()
    if not found:
        t.say(t._("No jobs are waiting for review."))
    for job in found[:SHOWN]:
        await job_review(t, job)
    _more(t, "modq", offset, len(found), await _count(t, Job, Job.status == JobStatus.PENDING_REVIEW))
    return IDLE


async def pending_employers(t: Turn, args: list[str]) -> str:
    """mode[:<offset>] — companies waiting for verification, oldest first, a page at a time."""
    _require_moderator(t)
    offset = _offset(t, args)
    found = (
        await t.session.scalars(
            select(Employer)
            .where(Employer.verification == Verification.UNVERIFIED)
            .order_by(Employer.created_at, Employer.id)
            .offset(offset)
            .limit(SHOWN + 1)
        )
    ).all()
    if not found:
        t.say(t._("No companies are waiting for verification."))
    for employer in found[:SHOWN]:
        t.say(*employer_review_card(employer, t._, t.language))
    waiting = await _count(t, Employer, Employer.verification == Verification.UNVERIFIED)
    _more(t, "mode", offset, len(found), waiting)
    return IDLE


def report_card(report: Report, job: Job | None, _: Gettext) -> tuple[str, Keyboard]:
    urgent = "🚨 " if report.priority is ReportPriority.HIGH else ""
    lines = [
        urgent
        + _("Report #{id}: {reason}").format(id=report.id, reason=_(REPORT_REASONS.get(report.reason, report.reason)))
    ]
    if job is not None:
        lines.append(
            _("Job #{id}: {title} ({employer})").format(id=job.id, title=job.title, employer=job.employer.name)
        )
        if job.status is JobStatus.SUSPENDED:
            lines.append(_("⏸ The job is hidden from browsing, alerts and calls until you decide."))
    if report.details:
        lines.append(report.details[:500])
    if job is not None:
        buttons: Keyboard = (
            (Button(_("✅ Uphold: take the job down"), f"mr:{report.id}:u"),),
            (Button(_("↩️ Dismiss: the job stays"), f"mr:{report.id}:d"),),
        )
    else:
        buttons = ((Button(_("✅ Resolved"), f"mr:{report.id}:u"), Button(_("Dismiss"), f"mr:{report.id}:d")),)
    return "\n".join(lines), buttons


async def open_reports(t: Turn, args: list[str]) -> str:
    """modr[:<offset>] — open abuse reports, urgent first, a page at a time."""
    _require_moderator(t)
    offset = _offset(t, args)
    found = await reports.open_reports(t.uow, limit=SHOWN + 1, offset=offset)
    if not found:
        t.say(t._("There are no open reports."))
    for report in found[:SHOWN]:
        job = await t.session.get(Job, report.job_id) if report.job_id else None
        t.say(*report_card(report, job, t._))
    _more(t, "modr", offset, len(found), await _count(t, Report, Report.status == ReportStatus.OPEN))
    return IDLE


async def decide_job(t: Turn, args: list[str]) -> str:
    """mj:<job id>:a|y|n|r|c[:<card>] — approve (high risk: confirm y/n first); reject or change after a reason."""
    _require_moderator(t)
    if len(args) not in (2, 3) or args[1] not in ("a", "y", "n", "r", "c"):
        raise BadInput(t._("This button is no longer valid."))
    _ = t._
    job_id = parse_int("job", args[0], minimum=1, maximum=2**31 - 1)
    job = await t.session.get(Job, job_id)
    if job is None:
        raise NotFound("job", job_id)
    if job.status is not JobStatus.PENDING_REVIEW:
        t.say(_("Job #{id} was already decided: {status}.").format(id=job_id, status=status_words(job.status, _)))
        return IDLE
    verb = args[1]
    pressed = _pressed_message(t)
    if verb == "a" and job.risk == "high":
        return confirm_high_risk(t, job, pressed)
    if verb == "n":
        kept = _("Not published: job #{id} is still waiting for review.").format(id=job_id)
        if pressed:
            t.add(Edit(pressed, kept))
        else:
            t.say(kept)
        return IDLE
    if verb in ("a", "y"):
        outcome = await jobs.moderate_job(
            jobs.ModerateJob(job_id, t.actor, Decision.APPROVE, billing=t.deps.billing), t.uow
        )
        if outcome is JobStatus.AWAITING_PAYMENT:
            approved = _("Job #{id} approved; it is published once the employer has paid.").format(id=job_id)
        else:
            approved = _("Job #{id} approved and published.").format(id=job_id)
        # From the confirmation, the card's own message id rides in the button (mj:<id>:y:<card>).
        card_message = (args[2] if len(args) == 3 and args[2].isdigit() else None) if verb == "y" else pressed
        if verb == "y" and pressed:
            t.add(Edit(pressed, approved))
            approved = ""
        card = job_review_card(job, _, t.language)[0]
        stamp = _stamp(t, _("✅ Approved by {name}, {time}"))
        if outcome is JobStatus.AWAITING_PAYMENT:
            stamp += "\n" + _("💳 Waiting for the employer's payment.")
        if card_message:
            t.add(Edit(card_message, f"{card}\n\n{stamp}"))
        elif approved:
            t.say(approved)
        return IDLE
    t.data = {"job_id": job_id, "decision": "reject" if verb == "r" else "request_changes", "card": pressed}
    return await ask_job_reason(t)


def confirm_high_risk(t: Turn, job: Job, card_message: str | None) -> str:
    """Publishing a high-risk listing takes a second, informed press: the reasons are named again."""
    _ = t._
    reasons = "\n".join(f"• {reason_words(code, _)}" for code in job.risk_reasons or [])
    card = f":{card_message}" if card_message else ""
    t.say(
        _("⚠️ Job #{id} is high risk:").format(id=job.id)
        + f"\n{reasons}\n"
        + _("Publish it anyway? Workers will be called about it."),
        (
            (Button(_("⚠️ Yes, publish it"), f"mj:{job.id}:y{card}"),),
            (Button(_("Cancel"), f"mj:{job.id}:n"),),
        ),
    )
    return IDLE


async def ask_job_reason(t: Turn) -> str:
    """Why? (the employer reads it) — asked as a reply, so a group with privacy mode delivers the answer."""
    name = t.incoming.user_name or t.incoming.user_id
    if t.data.get("decision") == "reject":
        text = t._("{name}: why is job #{id} rejected? Reply to this message; the employer will read your answer.")
    else:
        text = t._("{name}: what should the employer change in job #{id}? Reply to this message.")
    t.add(Text(text.format(name=name, id=t.data["job_id"]), force_reply=True))
    return "mod.job_reason"


async def take_job_reason(t: Turn) -> str:
    """The reason → the decision is recorded; the card shows who decided, when and why."""
    _require_moderator(t)
    _ = t._
    reason = clean_text("reason", t.require_text(), max_length=500, required=True)
    decision = Decision(t.data["decision"])
    job_id = int(t.data["job_id"])
    decided = await t.session.get(Job, job_id)
    if decided is not None and decided.status is not JobStatus.PENDING_REVIEW:
        # Another moderator decided while this one was typing: say so rather than ask again and again.
        t.say(_("Job #{id} was already decided: {status}.").format(id=job_id, status=status_words(decided.status, _)))
        return IDLE
    await jobs.moderate_job(jobs.ModerateJob(job_id, t.actor, decision, reason, billing=t.deps.billing), t.uow)
    job = await t.session.get(Job, job_id)
    card = job_review_card(job, _, t.language)[0] if job is not None else ""
    if decision is Decision.REJECT:
        stamp, said = _("❌ Rejected by {name}, {time}"), _("Job #{id} rejected.")
    else:
        stamp, said = _("✏️ Changes asked by {name}, {time}"), _("Job #{id} sent back for changes.")
    _decided(t, t.data.get("card"), card, f"{_stamp(t, stamp)}: {reason}", said.format(id=job_id))
    return IDLE


async def decide_employer(t: Turn, args: list[str]) -> str:
    """me:<employer id>:v|r — verify now; reject after the reason is typed."""
    _require_moderator(t)
    _ = t._
    if len(args) != 2 or args[1] not in ("v", "r"):
        raise BadInput(_("This button is no longer valid."))
    employer_id = parse_int("employer", args[0], minimum=1, maximum=2**31 - 1)
    employer = await t.session.get(Employer, employer_id)
    if employer is None:
        raise NotFound("employer", employer_id)
    if args[1] == "v":
        await employers.decide_employer(employers.DecideEmployer(employer_id, t.actor, verify=True), t.uow)
        card = employer_review_card(employer, _, t.language)[0]
        _decided(
            t,
            _pressed_message(t),
            card,
            _stamp(t, _("✅ Verified by {name}, {time}")),
            _("Company #{id} verified.").format(id=employer_id),
        )
        return IDLE
    t.data = {"employer_id": employer_id, "card": _pressed_message(t)}
    return await ask_employer_reason(t)


async def ask_employer_reason(t: Turn) -> str:
    """Why is the company rejected? (asked as a reply)"""
    name = t.incoming.user_name or t.incoming.user_id
    text = t._("{name}: why is company #{id} rejected? Reply to this message.")
    t.add(Text(text.format(name=name, id=t.data["employer_id"]), force_reply=True))
    return "mod.employer_reason"


async def take_employer_reason(t: Turn) -> str:
    """The reason → the company is rejected; the card shows who, when and why."""
    _require_moderator(t)
    _ = t._
    reason = clean_text("reason", t.require_text(), max_length=500, required=True)
    employer_id = int(t.data["employer_id"])
    await employers.decide_employer(employers.DecideEmployer(employer_id, t.actor, verify=False, reason=reason), t.uow)
    employer = await t.session.get(Employer, employer_id)
    card = employer_review_card(employer, _, t.language)[0] if employer is not None else ""
    _decided(
        t,
        t.data.get("card"),
        card,
        f"{_stamp(t, _('❌ Rejected by {name}, {time}'))}: {reason}",
        _("Company #{id} rejected.").format(id=employer_id),
    )
    return IDLE


async def close_report(t: Turn, args: list[str]) -> str:
    """mr:<report id>:u|d — uphold (the job comes down) or dismiss (a suspended job is live again)."""
    _require_moderator(t)
    _ = t._
    if len(args) != 2 or args[1] not in ("u", "r", "d"):  # "r": cards sent before "uphold" had its own letter
        raise BadInput(_("This button is no longer valid."))
    report_id = parse_int("report", args[0], minimum=1, maximum=2**31 - 1)
    uphold = args[1] != "d"
    outcome = await reports.decide_report(reports.DecideReport(report_id, t.actor, uphold=uphold), t.uow)
    report = await t.session.get(Report, report_id)
    job = await t.session.get(Job, report.job_id) if report is not None and report.job_id else None
    card = report_card(report, job, _)[0] if report is not None else ""
    if outcome is ReportStatus.RESOLVED:
        stamp = _("✅ Upheld by {name}, {time}: the job was taken down.") if job else _("✅ Resolved by {name}, {time}")
    else:
        stamp = _("↩️ Dismissed by {name}, {time}")
    _decided(t, _pressed_message(t), card, _stamp(t, stamp), _("Report #{id} closed.").format(id=report_id))
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
    "mpr": refunded,  # a refund due was paid back (the card comes from conversations.invoices)
}
COMMANDS = {"mod": "mod"}
