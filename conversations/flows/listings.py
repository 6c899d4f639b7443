"""An employer's listings (filled, withdrawn, edited) and the applications to each (the applicant's phone shown
only here).
"""

from __future__ import annotations

from sqlalchemy import func, select

from conversations.flows.job_facts import answers_of
from conversations.flows.post_job import _own_job, ask_preview
from conversations.flows.register import employer_menu
from conversations.i18n import N_
from conversations.invoices import amount_words
from conversations.labels import JOB_STATUS
from conversations.pickers import back_button
from conversations.replies import Button
from conversations.state import IDLE
from conversations.turn import BadInput, Turn
from jobs_core import geo
from jobs_core.clock import local
from jobs_core.errors import NotAllowed, NotFound
from jobs_core.model import Application, ApplicationStatus, Employer, Job, JobStatus, Verification
from jobs_core.numbers import parse_int
from jobs_core.phones import display_phone
from jobs_core.services import applications, billing, jobs

APPLICATION_STATUS = {
    "new": N_("new"),
    "seen": N_("seen"),
    "contacted": N_("contacted"),
    "hired": N_("hired"),
    "not_hired": N_("not hired"),
    "withdrawn": N_("withdrawn"),
}
LISTINGS_SHOWN = 10


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


ACTIONS = {"listings": listings, "lst": listing_action, "appst": application_status}
COMMANDS = {"listings": "listings"}
