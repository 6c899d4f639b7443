"""What a phone call changes in the domain, written in the call's own transaction.

The dialer keeps the state of its call rows (``dialer.calls.lifecycle``: placed, answered, retried, failed);
what others react to — an application or a cry for help made on the phone, "never call me", calls nobody
answered, a number that does not exist — is written here, with its event, like every other change of the
domain. The IVR passes a ``SavepointUnitOfWork`` of the webhook's transaction: the change commits with the
call's new state and keys, or neither does.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import lazyload

from jobs_core.model import Application, Call, CallPurpose, CallStatus, Consent, ReportPriority
from jobs_core.services.applications import Apply, apply
from jobs_core.services.people import RecordConsent, record_consent
from jobs_core.services.reports import ReportProblem, report_problem
from jobs_core.uow import UnitOfWork

# Calls whose going unanswered the nominating relative hears of; a missed check-in is the worker's own business.
MISSED_PURPOSES = (CallPurpose.CONSENT, CallPurpose.JOB_PITCH, CallPurpose.CALLBACK)
# Calls not yet placed: "never call me" cancels them.
DUE_STATUSES = (CallStatus.PENDING, CallStatus.RETRY_WAIT)
CHECKIN_ALARM_DETAILS = "Post-hire check-in: the worker pressed for help (not paid / cannot leave / documents taken)."


@dataclass(frozen=True)
class PhoneApplication:
    application_id: int
    created: bool  # it became an application now (not one the worker had already made)


async def apply_on_call(cmd: Apply, uow: UnitOfWork) -> PhoneApplication:
    """The worker pressed 1 for a job: their application, or their yes to a relative's application for them.

    An application of their own (``call.applied``) is told to the relatives who nominated them; a relative's
    application the worker confirmed is told to that relative through ``application.created``.
    """
    async with uow:
        application_id, created = await apply(cmd, uow)
        relative_id = await uow.session.scalar(select(Application.relative_id).where(Application.id == application_id))
        if created and relative_id is None:
            uow.emit("call.applied", worker_id=cmd.worker_id, job_id=cmd.job_id, application_id=application_id)
        await uow.commit()
        return PhoneApplication(application_id, created)


async def opt_out_on_call(uow: UnitOfWork, worker_id: int, call_id: int) -> int:
    """The worker pressed 9: never called again. Their consent becomes ``opted_out`` (final) and every call of
    theirs not yet placed is canceled, this one excepted (it is still on the line); returns how many."""
    async with uow:
        await record_consent(RecordConsent(worker_id, Consent.OPTED_OUT, f"ivr:{call_id}"), uow)
        due = await uow.session.scalars(
            select(Call)
            .options(lazyload(Call.worker))
            .where(Call.worker_id == worker_id, Call.status.in_(DUE_STATUSES), Call.id != call_id)
            .order_by(Call.id)
            .with_for_update()
        )
        canceled = 0
        for call in due.all():
            call.move_to(CallStatus.CANCELED)
            canceled += 1
        await uow.commit()
        return canceled


async def raise_checkin_alarm(uow: UnitOfWork, *, call_id: int, worker_id: int, job_id: int | None) -> int:
    """At a post-hire check-in the worker pressed for help: an urgent report on the job (which hides the
    listing until a moderator decides) and ``checkin.alarm`` for the moderators; returns the report's id."""
    async with uow:
        report_id = await report_problem(
            ReportProblem(
                reason="abuse",
                job_id=job_id,
                details=CHECKIN_ALARM_DETAILS,
                reporter_worker_id=worker_id,
                priority=ReportPriority.HIGH,
            ),
            uow,
        )
        uow.emit("checkin.alarm", worker_id=worker_id, report_id=report_id, call_id=call_id)
        await uow.commit()
        return report_id


def call_missed(uow: UnitOfWork, call: Call) -> None:
    """A call used up its tries unanswered: the relative who nominated the worker hears of it (``call.missed``).
    Written in the caller's transaction, with the call's failed state."""
    if call.purpose in MISSED_PURPOSES:
        uow.emit("call.missed", worker_id=call.worker_id, nomination_id=call.nomination_id, call_id=call.id)


def number_unreachable(uow: UnitOfWork, call: Call) -> None:
    """The network says the worker's number does not exist: the relatives who nominated them hear of it once
    (``call.unreachable``). Written in the caller's transaction, with the mark that stops further calls."""
    uow.emit("call.unreachable", worker_id=call.worker_id, nomination_id=call.nomination_id, call_id=call.id)


def calls_paused(uow: UnitOfWork, reason: str) -> None:
    """The voice provider refused our account: no call is placed until it takes one again. The moderators'
    chat hears of it (``voice.paused``), once per pause."""
    uow.emit("voice.paused", reason=reason)


def calls_resumed(uow: UnitOfWork, refusals: int) -> None:
    """The provider took a call again after ``refusals`` refusals of the account (``voice.resumed``)."""
    uow.emit("voice.resumed", refusals=refusals)
