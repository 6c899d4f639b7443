"""A call's life after it is placed: provider statuses, answering machines, retries and running out of tries.

Unreached calls by the SIP code of the callback (``SipResponseCode``; docs/ivr.md has the table):

  busy, no-answer                       retried on the ladder (as ever)
  canceled before it was answered       retried: Somleng cancels calls no trunk took, and we cancel none this
                                        way ourselves (a call held too long at the provider is settled first)
  failed 408, 480, 487, 5xx, other      retried: the phone is off, out of coverage, or the network is busy
  failed 404                            retried; when every try of the call ended 404 the number does not exist
  failed 410, 484, 604                  the number does not exist: marked unreachable at once
  failed without a SIP code (Twilio)    failed, not retried (as before)

A number marked unreachable is not called again and the relatives who nominated the worker are told
(``call.unreachable``). Without answering-machine detection (the Somleng profile) a check-in or a pitch that
ends with no key pressed may have reached voicemail: it is treated as not heard and retried.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.calls.hours import CallingHours
from dialer.models import DialerUnreachableNumber
from dialer.settings import DialerSettings
from jobs_core.model import Call, CallAttempt, CallPurpose, CallReason, CallStatus
from jobs_core.services.calls import call_missed, number_unreachable
from jobs_core.uow import SavepointUnitOfWork

log = logging.getLogger(__name__)

# Twilio's CallStatus values → what they mean for our row.
NOT_REACHED = {"busy": CallReason.BUSY, "no-answer": CallReason.NO_ANSWER, "failed": CallReason.FAILED}
RETRIED_REASONS = (CallReason.BUSY, CallReason.NO_ANSWER, CallReason.MACHINE)
MACHINE_ANSWERS = ("machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax")
# SIP answers that say the number does not exist (410 Gone, 484 Address Incomplete, 604 Does Not Exist
# Anywhere); 404 Not Found only when every try got it (some networks answer 404 for a phone switched off).
NO_SUCH_NUMBER = frozenset({410, 484, 604})
NOT_FOUND = 404
UNHEARD_PURPOSES = (CallPurpose.JOB_PITCH, CallPurpose.CALLBACK)


def sip_code(params: Mapping[str, str]) -> int | None:
    try:
        return int(params.get("SipResponseCode", ""))
    except ValueError:
        return None


def schedule_retry(
    call: Call, reason: CallReason, now: datetime, settings: DialerSettings, retried: bool | None = None
) -> bool:
    """Put an unanswered call on the retry ladder; False when its tries are used up (the call failed).

    ``retried`` overrides whether the reason is one worth another try (a temporary SIP failure is)."""
    call.reason = reason
    call.ended_at = now
    worth_it = reason in RETRIED_REASONS if retried is None else retried
    if worth_it and call.attempts < settings.max_attempts and settings.retry_ladder:
        step = settings.retry_ladder[min(call.attempts, len(settings.retry_ladder)) - 1]
        call.move_to(CallStatus.RETRY_WAIT)
        call.next_attempt_at = CallingHours.of(settings).next_open(now + step)
        return True
    call.move_to(CallStatus.FAILED)
    return False


async def undo_claim(session: AsyncSession, call: Call, due_at: datetime) -> None:
    """Undo a claim whose call never reached anyone: its try does not count, and it is due at ``due_at``."""
    await session.execute(
        delete(CallAttempt).where(CallAttempt.call_id == call.id, CallAttempt.attempt == call.attempts)
    )
    call.attempts -= 1
    # A direct status write, outside the normal lifecycle steps: as if the claim had never happened.
    call.status = CallStatus.RETRY_WAIT if call.attempts else CallStatus.PENDING
    call.next_attempt_at = due_at
    call.placed_at = None


def emit_missed(session: AsyncSession, call: Call, now: datetime) -> None:
    """The relative who nominated the worker hears that the calls went unanswered (in this transaction)."""
    call_missed(SavepointUnitOfWork(session, now=now), call)


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
    if status == "failed" and sip_code(params) is not None:
        return await _failed_with_code(session, call, sip_code(params) or 0, now, settings)
    if status in NOT_REACHED:
        reason = NOT_REACHED[status]
        await note_attempt(session, call, status)
        if not schedule_retry(call, reason, now, settings):
            emit_missed(session, call, now)
        _ended(call, status)
        return True
    if status == "completed":
        return await _completed(session, call, params, now, settings)
    state = call.flow_state or {}
    if status == "canceled" and call.status is CallStatus.QUEUED and sid and state.get("released") == sid:
        # We canceled it while the provider still held it (placing.release_held): it never rang.
        call.provider_sid = None
        await undo_claim(session, call, datetime.fromisoformat(state["released_due"]))
        _ended(call, "canceled while held at the provider; due again")
        return True
    if status == "canceled" and call.status is CallStatus.QUEUED:
        # Not by us: the provider gave up on it (Somleng, when no trunk took the call). Not reached: try again.
        await note_attempt(session, call, _with_code("canceled", params))
        if not schedule_retry(call, CallReason.NO_ANSWER, now, settings):
            emit_missed(session, call, now)
        _ended(call, "canceled by the provider")
        return True
    if status == "canceled":
        call.move_to(CallStatus.FAILED if call.status is CallStatus.IN_PROGRESS else CallStatus.CANCELED)
        call.ended_at = now
        await note_attempt(session, call, "canceled")
        _ended(call, status)
        return True
    log.warning("call %s: unknown CallStatus %r ignored", call.id, status)
    return False


def _with_code(outcome: str, params: Mapping[str, str]) -> str:
    code = sip_code(params)
    return f"{outcome} {code}" if code is not None else outcome


async def _failed_with_code(
    session: AsyncSession, call: Call, code: int, now: datetime, settings: DialerSettings
) -> bool:
    """A failed call whose SIP code says whether to try again or stop calling the number."""
    await note_attempt(session, call, f"failed {code}")
    if code == NOT_FOUND and call.attempts >= settings.max_attempts:
        outcomes = (await session.scalars(select(CallAttempt.outcome).where(CallAttempt.call_id == call.id))).all()
        permanent = all(o == f"failed {NOT_FOUND}" for o in outcomes)
    else:
        permanent = code in NO_SUCH_NUMBER
    if permanent:
        call.reason = CallReason.FAILED
        call.ended_at = now
        call.move_to(CallStatus.FAILED)
        await mark_number_unreachable(session, call, code, now)
        _ended(call, f"failed, SIP {code}: no such number")
        return True
    if not schedule_retry(call, CallReason.FAILED, now, settings, retried=True):
        emit_missed(session, call, now)
    _ended(call, f"failed, SIP {code}")
    return True


async def mark_number_unreachable(session: AsyncSession, call: Call, code: int, now: datetime) -> None:
    """The worker's number does not exist: no more calls to it, and the nominating relatives hear of it once."""
    marked = await session.scalar(
        insert(DialerUnreachableNumber)
        .values(worker_id=call.worker_id, sip_code=code, marked_at=now)
        .on_conflict_do_nothing(index_elements=["worker_id"])
        .returning(DialerUnreachableNumber.worker_id)
    )
    if marked is not None:
        log.warning("call %s: worker %s's number does not exist (SIP %s); no more calls", call.id, call.worker_id, code)
        number_unreachable(SavepointUnitOfWork(session, now=now), call)


async def _completed(
    session: AsyncSession, call: Call, params: Mapping[str, str], now: datetime, settings: DialerSettings
) -> bool:
    state = dict(call.flow_state or {})
    answered_by = params.get("AnsweredBy", "") or state.get("answered_by", "")
    if not call.keys and _unheard(call, settings):
        # No answering-machine detection: a call nobody pressed a key in may have reached voicemail.
        await note_attempt(session, call, "no_key")
        if call.status is CallStatus.QUEUED:
            call.move_to(CallStatus.IN_PROGRESS)
        if not schedule_retry(call, CallReason.MACHINE, now, settings):
            emit_missed(session, call, now)
        _ended(call, "no key pressed (maybe voicemail)")
        return True
    if (state.get("machine") or answered_by in MACHINE_ANSWERS) and not call.keys:
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


def _unheard(call: Call, settings: DialerSettings) -> bool:
    """Without AMD, may this call ending with no key pressed have been a voicemail that must be retried?"""
    if settings.profile.amd:
        return False
    if call.purpose is CallPurpose.CHECKIN:
        return True
    return call.purpose in UNHEARD_PURPOSES and settings.retry_unheard_pitches


def _ended(call: Call, outcome: str) -> None:
    """One line per ended attempt, by call id (never the number): what happened and what the call is now."""
    log.info("call %s attempt %s ended: %s (now %s)", call.id, call.attempts, outcome, call.status.value)
