"""Abuse reports from relatives and check-in alarms from workers, queued for moderators.

Protect first: a report of fees, kept documents, abuse or workers who cannot leave takes the listing off
browsing, alerts and calls at once (``suspended``) and reaches the moderators at high priority. The
moderator's decision settles it: upheld, the listing is taken down; dismissed, it is live again (unless
another such report on it is still open). Whoever reported hears the outcome (event ``report.decided``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, exists, or_, select

from jobs_core.errors import InvalidField, NotFound
from jobs_core.model import (
    Application,
    Job,
    JobStatus,
    Nomination,
    Report,
    ReportPriority,
    ReportStatus,
)
from jobs_core.services.billing import close_invoices_of
from jobs_core.text import clean_text
from jobs_core.uow import UnitOfWork

REASONS = ("fees", "documents", "fake_job", "abuse", "unpaid", "cannot_leave", "other")
# Reasons that point at trafficking or forced labour: the listing is suspended until a moderator decides.
PROTECT_FIRST = frozenset({"fees", "documents", "abuse", "cannot_leave"})
# A relative may report what was shown to them: a listing that is (or was until a report) live, or a job
# their family applied for. Anything else is answered as if it did not exist.
VISIBLE = (JobStatus.PUBLISHED, JobStatus.SUSPENDED)


@dataclass(frozen=True)
class ReportProblem:
    reason: str
    job_id: int | None = None
    employer_id: int | None = None
    details: str = ""
    reporter_relative_id: int | None = None
    reporter_worker_id: int | None = None
    priority: ReportPriority = ReportPriority.NORMAL


async def reportable_by(uow: UnitOfWork, job_id: int, relative_id: int) -> Job:
    """The job, if this relative may report it; NotFound otherwise, the same as for a job that never existed."""
    job = await uow.session.get(Job, job_id)
    if job is None:
        raise NotFound("job", job_id)
    if job.status in VISIBLE:
        return job
    nominated = select(Nomination.worker_id).where(Nomination.relative_id == relative_id)
    applied = await uow.session.scalar(
        select(
            exists().where(
                Application.job_id == job_id,
                or_(Application.relative_id == relative_id, Application.worker_id.in_(nominated)),
            )
        )
    )
    if not applied:
        raise NotFound("job", job_id)
    return job


async def report_problem(cmd: ReportProblem, uow: UnitOfWork) -> int:
    """File a report on a job or employer; moderators are told (high priority first)."""
    if cmd.reason not in REASONS:
        raise InvalidField("reason", "invalid_choice", ", ".join(REASONS))
    details = clean_text("details", cmd.details, max_length=2000)
    protect = cmd.reason in PROTECT_FIRST
    priority = ReportPriority.HIGH if protect else cmd.priority
    async with uow:
        employer_id = cmd.employer_id
        job: Job | None = None
        if cmd.job_id is not None:
            if cmd.reporter_relative_id is not None:
                await reportable_by(uow, cmd.job_id, cmd.reporter_relative_id)
            job = await uow.session.get(Job, cmd.job_id, with_for_update=True)
            if job is None:
                raise NotFound("job", cmd.job_id)
            employer_id = employer_id or job.employer_id
        if cmd.job_id is None and employer_id is None:
            raise InvalidField("subject", "required", "a report is about a job or an employer")
        report = Report(
            job_id=cmd.job_id,
            employer_id=employer_id,
            reason=cmd.reason,
            details=details,
            reporter_relative_id=cmd.reporter_relative_id,
            reporter_worker_id=cmd.reporter_worker_id,
            priority=priority,
            created_at=uow.now(),
        )
        uow.session.add(report)
        await uow.session.flush()
        uow.audit("reporter", "report.filed", "report", report.id, reason=cmd.reason)
        if protect and job is not None and job.status is JobStatus.PUBLISHED:
            job.move_to(JobStatus.SUSPENDED, uow.now())
            uow.audit("system", "job.suspended", "job", job.id, report_id=report.id)
            uow.emit("job.suspended", job_id=job.id, report_id=report.id)
        uow.emit("report.filed", report_id=report.id, priority=priority.value)
        await uow.commit()
        return report.id


async def open_reports(uow: UnitOfWork, limit: int = 20, offset: int = 0) -> list[Report]:
    """The moderators' queue: high priority first, then oldest first."""
    async with uow:
        rows = await uow.session.scalars(
            select(Report)
            .where(Report.status == ReportStatus.OPEN)
            .order_by(case((Report.priority == ReportPriority.HIGH, 0), else_=1), Report.created_at, Report.id)
            .offset(offset)
            .limit(limit)
        )
        return list(rows.all())


@dataclass(frozen=True)
class DecideReport:
    report_id: int
    moderator: str
    uphold: bool  # True: the report is right, the listing comes down; False: dismissed
    resolution: str = ""


async def decide_report(cmd: DecideReport, uow: UnitOfWork) -> ReportStatus:
    """Settle a report: upheld takes its job down; dismissed puts a suspended job back on line when no other
    protect-first report on it is still open. Other reports on the job stay for their own decision."""
    resolution = clean_text("resolution", cmd.resolution, max_length=500) or None
    async with uow:
        report = await uow.session.get(Report, cmd.report_id, with_for_update=True)
        if report is None:
            raise NotFound("report", cmd.report_id)
        now = uow.now()
        target = ReportStatus.RESOLVED if cmd.uphold else ReportStatus.DISMISSED
        report.close(target, now, resolution)
        job = await uow.session.get(Job, report.job_id, with_for_update=True) if report.job_id else None
        if job is not None and cmd.uphold:
            if job.status in VISIBLE:
                job.move_to(JobStatus.REJECTED, now)
                job.rejection_reason = resolution or report.reason
                uow.audit(cmd.moderator, "job.taken_down", "job", job.id, report_id=report.id)
                uow.emit("job.taken_down", job_id=job.id, employer_id=job.employer_id, report_id=report.id)
                # Taken down for safety after it was paid for: the money is marked for refund, the operator told.
                await close_invoices_of(uow, job, cmd.moderator, f"taken down after report #{report.id}")
        elif job is not None and job.status is JobStatus.SUSPENDED:
            still_open = await uow.session.scalar(
                select(
                    exists().where(
                        Report.job_id == job.id,
                        Report.status == ReportStatus.OPEN,
                        Report.reason.in_(PROTECT_FIRST),
                    )
                )
            )
            if not still_open:
                job.move_to(JobStatus.PUBLISHED, now)
                uow.audit(cmd.moderator, "job.reinstated", "job", job.id, report_id=report.id)
                uow.emit("job.reinstated", job_id=job.id, report_id=report.id)
        uow.audit(cmd.moderator, f"report.{report.status.value}", "report", report.id)
        uow.emit("report.decided", report_id=report.id, outcome=report.status.value)
        await uow.commit()
        return target


async def close_report(uow: UnitOfWork, report_id: int, moderator: str, dismiss: bool, resolution: str = "") -> None:
    """Resolve (upheld) or dismiss a report: :func:`decide_report` by another name."""
    await decide_report(DecideReport(report_id, moderator, uphold=not dismiss, resolution=resolution), uow)
