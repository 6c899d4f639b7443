"""Abuse reports from relatives and check-in alarms from workers, queued for moderators."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, select

from jobs_core.errors import InvalidField, NotFound
from jobs_core.model import Job, Report, ReportPriority, ReportStatus
from jobs_core.text import clean_text
from jobs_core.uow import UnitOfWork

REASONS = ("fees", "documents", "fake_job", "abuse", "unpaid", "cannot_leave", "other")


@dataclass(frozen=True)
class ReportProblem:
    reason: str
    job_id: int | None = None
    employer_id: int | None = None
    details: str = ""
    reporter_relative_id: int | None = None
    reporter_worker_id: int | None = None
    priority: ReportPriority = ReportPriority.NORMAL


async def report_problem(cmd: ReportProblem, uow: UnitOfWork) -> int:
    """File a report on a job or employer; moderators are told (high priority first)."""
    if cmd.reason not in REASONS:
        raise InvalidField("reason", "invalid_choice", ", ".join(REASONS))
    details = clean_text("details", cmd.details, max_length=2000)
    async with uow:
        employer_id = cmd.employer_id
        if cmd.job_id is not None:
            job = await uow.session.get(Job, cmd.job_id)
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
            priority=cmd.priority,
            created_at=uow.now(),
        )
        uow.session.add(report)
        await uow.session.flush()
        uow.audit("reporter", "report.filed", "report", report.id, reason=cmd.reason)
        uow.emit("report.filed", report_id=report.id, priority=cmd.priority.value)
        await uow.commit()
        return report.id


async def open_reports(uow: UnitOfWork, limit: int = 20) -> list[Report]:
    """The moderators' queue: high priority first, then oldest first."""
    async with uow:
        rows = await uow.session.scalars(
            select(Report)
            .where(Report.status == ReportStatus.OPEN)
            .order_by(case((Report.priority == ReportPriority.HIGH, 0), else_=1), Report.created_at)
            .limit(limit)
        )
        return list(rows.all())


async def close_report(uow: UnitOfWork, report_id: int, moderator: str, dismiss: bool, resolution: str = "") -> None:
    async with uow:
        report = await uow.session.get(Report, report_id, with_for_update=True)
        if report is None:
            raise NotFound("report", report_id)
        report.close(ReportStatus.DISMISSED if dismiss else ReportStatus.RESOLVED, uow.now(), resolution or None)
        uow.audit(moderator, f"report.{report.status.value}", "report", report.id)
        await uow.commit()
