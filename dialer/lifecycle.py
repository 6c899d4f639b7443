"""A call's life after it is placed: provider statuses, answering machines, retries and running out of tries."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.hours import CallingHours
from dialer.settings import DialerSettings
from jobs_core.model import Call, CallAttempt, CallPurpose, CallReason, CallStatus, Event

log = logging.getLogger(__name__)

# Twilio's CallStatus values → what they mean for our row.
NOT_REACHED = {"busy": CallReason.BUSY, "no-answer": CallReason.NO_ANSWER, "failed": CallReason.FAILED}
RETRIED_REASONS = (CallReason.BUSY, CallReason.NO_ANSWER, CallReason.MACHINE)
MACHINE_ANSWERS = ("machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax")
MISSED_PURPOSES = (CallPurpose.CONSENT, CallPurpose.JOB_PITCH, CallPurpose.CALLBACK)


def schedule_retry(call: Call, reason: CallReason, now: datetime, settings: DialerSettings) -> bool:
    """Put an unanswered call on the retry ladder; False when its tries are used up (the call failed)."""
    call.reason = reason
    call.ended_at = now
    if reason in RETRIED_REASONS and call.attempts < settings.max_attempts and settings.retry_ladder:
        step = settings.retry_ladder[min(call.attempts, len(settings.retry_ladder)) - 1]
        call.move_to(CallStatus.RETRY_WAIT)
        call.next_attempt_at = CallingHours.of(settings).next_open(now + step)
        return True
    call.move_to(CallStatus.FAILED)
    return False


def emit_missed(session: AsyncSession, call: Call, now: datetime) -> None:
    """The relative who nominated the worker hears that the calls went unanswered."""
    if call.purpose in MISSED_PURPOSES:
        session.add(
            Event(
                kind="call.missed",
                payload={"worker_id": call.worker_id, "nomination_id": call.nomination_id, "call_id": call.id},
                created_at=now,
            )
        )


async def note_attempt(session: AsyncSession, call: Call, outcome: str, sid: str | None = None) -> None:
    values: dict[str, object] = {"outcome": outcome[:24]}
    if sid:
        values["provider_sid"] = sid
    await session.execute(
        update(CallAttempt).where(CallAttempt.call_id == call.id, CallAttempt.attempt == call.attempts).values(**values)
    )


async def apply_status(
    session: AsyncSession,
    call: Call,
    params: Mapping[str, str],
    now: datetime,
    settings: DialerSettings,
) -> bool:
    """Apply one status callback of the call's current attempt; returns True when the row changed.

    Duplicates and callbacks for a finished call change nothing: only queued and in-progress calls move.
    """
    status = params.get("CallStatus", "")
    sid = params.get("CallSid") or None
    if call.status not in (CallStatus.QUEUED, CallStatus.IN_PROGRESS):
        return False
    if call.provider_sid is None and sid:
        # The dialer died before storing the SID; the callback carries our call id in its URL.
        call.provider_sid = sid
        await note_attempt(session, call, "placed", sid)
    if status in ("queued", "initiated", "ringing"):
        return call.provider_sid == sid
    if status == "in-progress":
        if call.status is CallStatus.QUEUED:
            call.move_to(CallStatus.IN_PROGRESS)
            call.answered_at = now
            await note_attempt(session, call, "answered")
            log.info("call %s attempt %s answered", call.id, call.attempts)
            return True
        return False
    if status in NOT_REACHED:
        reason = NOT_REACHED[status]
        await note_attempt(session, call, status)
        if not schedule_retry(call, reason, now, settings):
            emit_missed(session, call, now)
        _ended(call, status)
        return True
    if status == "completed":
        return await _completed(session, call, params, now, settings)
    if status == "canceled":
        call.move_to(CallStatus.FAILED if call.status is CallStatus.IN_PROGRESS else CallStatus.CANCELED)
        call.ended_at = now
        await note_attempt(session, call, "canceled")
        _ended(call, status)
        return True
    log.warning("call %s: unknown CallStatus %r ignored", call.id, status)
    return False


async def _completed(
    session: AsyncSession, call: Call, params: Mapping[str, str], now: datetime, settings: DialerSettings
) -> bool:
    state = dict(call.flow_state or {})
    answered_by = params.get("AnsweredBy", "") or state.get("answered_by", "")
    if state.get("machine") or answered_by in MACHINE_ANSWERS:
        await note_attempt(session, call, "machine")
        if not state.get("decided"):
            # Answered by voicemail: not a conversation, so the ladder tries again.
            if not schedule_retry(call, CallReason.MACHINE, now, settings):
                emit_missed(session, call, now)
            _ended(call, "answering machine")
            return True
    if call.purpose is CallPurpose.CONSENT and not state.get("decided"):
        # Hung up before saying yes or no: ask again later rather than treat silence as an answer.
        await note_attempt(session, call, "no_decision")
        if call.status is CallStatus.QUEUED:
            call.move_to(CallStatus.IN_PROGRESS)
        if not schedule_retry(call, CallReason.NO_ANSWER, now, settings):
            emit_missed(session, call, now)
        _ended(call, "no decision")
        return True
    call.move_to(CallStatus.COMPLETED)
    call.ended_at = now
    if call.answered_at is None:
        call.answered_at = now
    await note_attempt(session, call, "completed")
    _ended(call, "completed")
    return True


def _ended(call: Call, outcome: str) -> None:
    """One line per ended attempt, by call id (never the number): what happened and what the call is now."""
    log.info("call %s attempt %s ended: %s (now %s)", call.id, call.attempts, outcome, call.status.value)
