"""Claiming due calls and placing them: calling hours, caps, global pacing, exactly-once after a crash.

A claim commits the call as ``queued`` (with its attempt number) *before* the provider is asked, so a crash
can never place a call twice; the price is a claimed call whose placement is unknown. The recovery sweep
settles those: it asks the provider for calls to that number created after the claim; one found is adopted,
none means the request never got through and the call is due again.
"""

from __future__ import annotations

import ipaddress
import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import lazyload

from dialer.calls import account
from dialer.calls.hours import CallingHours
from dialer.calls.lifecycle import apply_status
from dialer.calls.lifecycle import undo_claim as _never_placed
from dialer.models import DialerUnreachableNumber
from dialer.providers.base import OutboundCall, ProviderAccountRefused, ProviderCall, ProviderRejected, VoiceProvider
from dialer.providers.twilio import describe
from dialer.settings import DialerSettings
from jobs_core.model import Call, CallAttempt, CallPurpose, CallReason, CallStatus, Consent, DemoData, Job, Worker
from jobs_core.phones import is_demo_phone

log = logging.getLogger(__name__)

CLAIM_LOCK = zlib.crc32(b"bongpheak.dialer.claim")
BUSY_WORKER_DELAY = timedelta(minutes=10)
PITCHES = (CallPurpose.JOB_PITCH, CallPurpose.CALLBACK)
ACTIVE = (CallStatus.QUEUED, CallStatus.IN_PROGRESS)
# Calls not heard of for this long stop counting against the concurrency cap (a lost final callback).
STALE_ACTIVE = timedelta(hours=1)
# The provider's clock and ours may differ by a little: its calls created this much before our claim count.
ORPHAN_CLOCK_SLACK = timedelta(seconds=5)


@dataclass(frozen=True)
class ClaimedCall:
    call_id: int
    attempt: int
    worker_id: int
    phone: str
    placed_at: datetime
    probe: bool = False  # placing is paused by an account alarm; this call tries the account again


def on_a_demo_host(settings: DialerSettings) -> bool:
    """Whether the voice API is on this machine (the carrier simulator): a loopback host, as the demo guard's
    rule says (bongpheak/demo_guard.py). Only then can a call to a demo number ring anything, and only the page
    of the simulator."""
    host = (urlsplit(settings.api_base).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def answer_url(settings: DialerSettings, call_id: int, attempt: int) -> str:
    return f"{settings.public_base}/voice/answer?call={call_id}&attempt={attempt}"


def status_url(settings: DialerSettings, call_id: int, attempt: int) -> str:
    return f"{settings.public_base}/voice/status?call={call_id}&attempt={attempt}"


async def active_calls(session: AsyncSession, now: datetime) -> int:
    count = await session.scalar(
        select(func.count()).select_from(Call).where(Call.status.in_(ACTIVE), Call.placed_at > now - STALE_ACTIVE)
    )
    return int(count or 0)


async def claim_due(
    sessions: async_sessionmaker[AsyncSession], settings: DialerSettings, now: datetime, limit: int
) -> list[ClaimedCall]:
    """Mark up to ``limit`` due calls as queued (committed) and return them for placing."""
    hours = CallingHours.of(settings)
    if limit <= 0 or not hours.is_open(now):
        return []
    async with sessions() as session, session.begin():
        # Claims are serialised across dialer processes so the concurrency and daily caps are exact.
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CLAIM_LOCK})
        gate = await account.gate(session, now)
        if gate is account.Gate.PAUSED:
            return []
        if gate is account.Gate.PROBE:
            limit = 1
        room = settings.max_concurrent_calls - await active_calls(session, now)
        if room <= 0:
            return []
        # The lock order of docs/ivr.md: the workers first, then their calls; the claim waits for neither
        # (SKIP LOCKED), so a worker busy elsewhere (a missed call, a key press) is claimed on a later pass.
        # NO KEY UPDATE: rows being inserted for a worker (calls, pitches) do not make the claim skip them.
        due = (Call.status.in_((CallStatus.PENDING, CallStatus.RETRY_WAIT)), Call.next_attempt_at <= now)
        candidates = (
            await session.execute(
                select(Call.id, Call.worker_id)
                .where(*due)
                .order_by(Call.next_attempt_at, Call.id)
                .limit(min(limit, room) * 2)
            )
        ).all()
        if not candidates:
            return []
        workers = {
            w.id: w
            for w in (
                await session.scalars(
                    select(Worker)
                    .where(Worker.id.in_(sorted({worker_id for _, worker_id in candidates})))
                    .order_by(Worker.id)
                    .with_for_update(skip_locked=True, key_share=True)
                )
            ).all()
        }
        worker_ids = sorted(workers)
        calls = list(
            (
                await session.scalars(
                    select(Call)
                    .options(lazyload(Call.worker))
                    .where(Call.id.in_([call_id for call_id, _ in candidates]), Call.worker_id.in_(worker_ids), *due)
                    .order_by(Call.next_attempt_at, Call.id)
                    .with_for_update(skip_locked=True, of=Call)
                )
            ).all()
        )
        if not calls:
            return []
        busy = set(
            (
                await session.scalars(
                    select(Call.worker_id).where(
                        Call.worker_id.in_(worker_ids), Call.status.in_(ACTIVE), Call.placed_at > now - STALE_ACTIVE
                    )
                )
            ).all()
        )
        placed_today: dict[int, int] = {
            worker_id: int(count)
            for worker_id, count in (
                await session.execute(
                    select(CallAttempt.worker_id, func.count())
                    .where(CallAttempt.worker_id.in_(worker_ids), CallAttempt.placed_at >= hours.start_of_day(now))
                    .group_by(CallAttempt.worker_id)
                )
            ).all()
        }
        unreachable = set(
            (
                await session.scalars(
                    select(DialerUnreachableNumber.worker_id).where(DialerUnreachableNumber.worker_id.in_(worker_ids))
                )
            ).all()
        )
        job_ids = {j for c in calls if c.purpose in PITCHES for j in c.job_ids}
        live_jobs = set()
        if job_ids:
            jobs = (await session.scalars(select(Job).where(Job.id.in_(job_ids)))).all()
            live_jobs = {job.id for job in jobs if job.is_live(now)}
        # Demo numbers ring only the carrier simulator, and only from a demo database (docs/demo.md, section 1).
        demo_rings = on_a_demo_host(settings) and await session.scalar(select(DemoData.id).limit(1)) is not None
        claimed: list[ClaimedCall] = []
        for call in calls:
            if len(claimed) >= min(limit, room):
                break
            worker = workers.get(call.worker_id)
            verdict = (
                "unreachable" if call.worker_id in unreachable else _may_place(call, worker, live_jobs, demo_rings)
            )
            if verdict is not None:
                call.move_to(CallStatus.CANCELED)
                call.flow_state = {**(call.flow_state or {}), "canceled": verdict}
                continue
            assert worker is not None
            if worker.id in busy:
                call.next_attempt_at = now + BUSY_WORKER_DELAY
                continue
            if placed_today.get(worker.id, 0) >= settings.daily_calls_per_number:
                call.next_attempt_at = hours.next_day_opening(now)
                continue
            call.move_to(CallStatus.QUEUED)
            call.attempts += 1
            call.placed_at = now
            call.provider_sid = None
            call.answered_at = call.ended_at = None
            jobs_now = [j for j in call.job_ids if j in live_jobs][: settings.jobs_per_call]
            call.flow_state = {"attempt": call.attempts, "jobs": jobs_now, "step": "start", "seq": 0}
            session.add(CallAttempt(call_id=call.id, attempt=call.attempts, worker_id=worker.id, placed_at=now))
            busy.add(worker.id)
            placed_today[worker.id] = placed_today.get(worker.id, 0) + 1
            claimed.append(
                ClaimedCall(call.id, call.attempts, worker.id, worker.phone, now, probe=gate is account.Gate.PROBE)
            )
        return claimed


def _may_place(call: Call, worker: Worker | None, live_jobs: set[int], demo_rings: bool = False) -> str | None:
    """Why this call must not be placed at all (then it is canceled), or None.

    ``demo_rings``: the voice API is the local carrier simulator and the database holds demo data."""
    if worker is None or worker.consent is Consent.OPTED_OUT:
        return "opted_out"
    if is_demo_phone(worker.phone) and not demo_rings:  # made-up data: never ring a real phone for it
        return "demo_number"
    if call.purpose is CallPurpose.CONSENT and worker.consent is Consent.CONSENTED:
        return "already_consented"
    if call.purpose in (CallPurpose.CHECKIN, CallPurpose.OUTCOME) and worker.consent is not Consent.CONSENTED:
        return "no_consent"
    if call.purpose in PITCHES:
        if worker.consent is not Consent.CONSENTED:
            return "no_consent"
        if not any(j in live_jobs for j in call.job_ids):
            return "jobs_closed"
    return None


async def place(
    claimed: ClaimedCall,
    provider: VoiceProvider,
    sessions: async_sessionmaker[AsyncSession],
    settings: DialerSettings,
    now: datetime,
    responded: Callable[[], None] | None = None,
) -> str | None:
    """Ask the provider to place one claimed call and store its SID; unknown outcomes are left for recovery.

    ``responded`` is told the moment the provider's answer (or the failure) is in, before anything is stored:
    the pacing counts from then.
    """
    request = OutboundCall(
        to=claimed.phone,
        from_=settings.from_number,
        url=answer_url(settings, claimed.call_id, claimed.attempt),
        status_callback=status_url(settings, claimed.call_id, claimed.attempt),
        machine_detection=settings.answering_machines_detected,
        timeout=settings.ring_timeout,
    )
    try:
        try:
            sid = await provider.create_call(request)
        finally:
            if responded is not None:
                responded()
    except ProviderAccountRefused as exc:
        await _account_refused(sessions, claimed, str(exc), now)
        return None
    except ProviderRejected as exc:
        log.warning("call %s attempt %s: the provider refused it: %s", claimed.call_id, claimed.attempt, exc)
        await _refused(sessions, claimed, now)
        if claimed.probe:  # the account itself got through
            await account.clear_alarm(sessions, now)
        return None
    except Exception as exc:
        # Maybe placed, maybe not: the recovery sweep asks the provider once the grace period is over.
        log.warning("call %s: placing failed (%s); left for recovery", claimed.call_id, describe(exc))
        return None
    log.info("call %s attempt %s placed as %s", claimed.call_id, claimed.attempt, sid)
    await store_sid(sessions, claimed.call_id, claimed.attempt, sid)
    if claimed.probe:
        await account.clear_alarm(sessions, now)
    return sid


async def store_sid(sessions: async_sessionmaker[AsyncSession], call_id: int, attempt: int, sid: str) -> None:
    async with sessions() as session, session.begin():
        await session.execute(
            update(Call)
            .where(Call.id == call_id, Call.attempts == attempt, Call.provider_sid.is_(None))
            .values(provider_sid=sid)
        )
        await session.execute(
            update(CallAttempt)
            .where(CallAttempt.call_id == call_id, CallAttempt.attempt == attempt)
            .values(provider_sid=sid, outcome=func.coalesce(CallAttempt.outcome, "placed"))
        )


async def _account_refused(
    sessions: async_sessionmaker[AsyncSession], claimed: ClaimedCall, reason: str, now: datetime
) -> None:
    """The provider refused our account, not this call: the call waits again as if never placed; the alarm rises."""
    async with sessions() as session, session.begin():
        due_again = await account.raise_alarm(session, reason, now)
        call = await session.get(Call, claimed.call_id, with_for_update=True, options=[lazyload(Call.worker)])
        if (
            call is not None
            and call.status is CallStatus.QUEUED
            and call.attempts == claimed.attempt
            and call.provider_sid is None
        ):
            # Due after the pause, so the next probe tries another worker's call, not this one again.
            await _never_placed(session, call, due_again)
    log.info("call %s: back to waiting (the provider refused the account)", claimed.call_id)


async def _refused(sessions: async_sessionmaker[AsyncSession], claimed: ClaimedCall, now: datetime) -> None:
    async with sessions() as session, session.begin():
        call = await session.get(Call, claimed.call_id, with_for_update=True, options=[lazyload(Call.worker)])
        if call is not None and call.status is CallStatus.QUEUED and call.attempts == claimed.attempt:
            call.move_to(CallStatus.FAILED)
            call.reason = CallReason.FAILED
            call.ended_at = now


async def recover_orphans(
    provider: VoiceProvider,
    sessions: async_sessionmaker[AsyncSession],
    settings: DialerSettings,
    now: datetime,
    limit: int = 10,
    batches: int = 10,
) -> int:
    """Settle claimed calls whose SID never got stored (the dialer died, or the request's fate is unknown).

    Claim (a short transaction marks them as being checked), ask the provider with no transaction open, then
    settle each in a transaction of its own, only if it is still the orphan it was: a status callback that
    arrived meanwhile (it carries the SID) has settled it already. Up to ``batches`` claims of ``limit``
    calls per sweep: a placer killed with seconds of calls claimed leaves hundreds at high CPS, and each
    claim's mark is kept short (it covers only its own batch).
    """
    settled = 0
    for _ in range(batches):
        done, claimed = await _recover_batch(provider, sessions, settings, now, limit)
        settled += done
        if claimed < limit:
            break
    return settled


async def _recover_batch(
    provider: VoiceProvider,
    sessions: async_sessionmaker[AsyncSession],
    settings: DialerSettings,
    now: datetime,
    limit: int,
) -> tuple[int, int]:
    """One claim of orphans, asked about and settled: (settled, claimed)."""
    orphans = await _claim_for_check(
        sessions,
        settings,
        now,
        limit,
        Call.status == CallStatus.QUEUED,
        Call.provider_sid.is_(None),
        Call.placed_at < now - settings.orphan_grace,
    )
    settled = 0
    for orphan in orphans:
        # Calls created from a little before the claim on (clocks differ by a second or two).
        since = orphan.placed_at - ORPHAN_CLOCK_SLACK
        try:
            found = await provider.calls_to(orphan.phone, since)
        except Exception as exc:
            # Left marked: asked again once the mark expires.
            log.warning("recovery: cannot list calls of call %s: %s", orphan.call_id, describe(exc))
            continue
        # Never trust the provider's filter: the number and the creation time are checked here again.
        found = [p for p in found if p.to == orphan.phone and p.created_at is not None and p.created_at >= since]
        try:
            async with sessions() as session, session.begin():
                if await _settle_orphan(session, orphan, found, now, settings):
                    settled += 1
        except IntegrityError as exc:
            # Another call holds that SID after all (adopted meanwhile): this one is asked again after its mark.
            log.warning("recovery: call %s not settled: %s", orphan.call_id, type(exc.orig).__name__)
    return settled, len(orphans)


async def _settle_orphan(
    session: AsyncSession, orphan: CheckedCall, found: list[ProviderCall], now: datetime, settings: DialerSettings
) -> bool:
    """Adopt the provider's call that is this orphan's, or make the call due again when there is none."""
    call = await _still_claimed(session, orphan)
    if call is None or call.provider_sid is not None or call.status is not CallStatus.QUEUED:
        log.info("recovery: call %s was settled meanwhile", orphan.call_id)
        return False
    sids = [p.sid for p in found]
    # A SID stored on any call (its unique index) or on an earlier attempt to this worker is not this orphan's.
    known: set[str | None] = set()
    if sids:
        known = set((await session.scalars(select(Call.provider_sid).where(Call.provider_sid.in_(sids)))).all())
        known |= set(
            (
                await session.scalars(
                    select(CallAttempt.provider_sid).where(
                        CallAttempt.worker_id == call.worker_id, CallAttempt.provider_sid.in_(sids)
                    )
                )
            ).all()
        )
    # The oldest unknown call since the claim: the placer sends one request per claimed call.
    match = next((p for p in sorted(found, key=lambda p: p.created_at or now) if p.sid not in known), None)
    if match is None:
        await _never_placed(session, call, now)
        log.info("recovery: call %s was never placed; due again", call.id)
        return True
    call.provider_sid = match.sid
    await session.execute(
        update(CallAttempt)
        .where(CallAttempt.call_id == call.id, CallAttempt.attempt == call.attempts)
        .values(provider_sid=match.sid, outcome="placed")
    )
    await session.flush()  # a unique violation surfaces here, inside the sweep's own error handling
    if match.status not in ("queued", "ringing", "initiated", "in-progress"):
        await apply_status(session, call, _status_params(match.status, match.sid), now, settings)
    log.info("recovery: call %s was placed as %s", call.id, match.sid)
    return True


@dataclass(frozen=True)
class CheckedCall:
    """A call claimed for a question to the provider: what it was when claimed."""

    call_id: int
    attempt: int
    status: CallStatus
    provider_sid: str | None
    phone: str
    checking_until: datetime
    placed_at: datetime


def check_lease(settings: DialerSettings, calls: int) -> timedelta:
    """How long a claim for checking holds: long enough to ask about every call claimed, one after the other."""
    return timedelta(seconds=2 * settings.request_timeout) * calls + timedelta(seconds=10)


async def _claim_for_check(
    sessions: async_sessionmaker[AsyncSession],
    settings: DialerSettings,
    now: datetime,
    limit: int,
    *conditions: Any,
) -> list[CheckedCall]:
    """Mark up to ``limit`` calls as being checked by this dialer (committed at once) and return them."""
    async with sessions() as session, session.begin():
        rows = (
            await session.execute(
                select(Call.id, Call.attempts, Call.status, Call.provider_sid, Worker.phone, Call.placed_at)
                .join(Worker, Worker.id == Call.worker_id)
                .where(*conditions, (Call.checking_until.is_(None)) | (Call.checking_until < now))
                .order_by(Call.placed_at)
                .limit(limit)
                .with_for_update(skip_locked=True, of=Call)
            )
        ).all()
        if not rows:
            return []
        until = now + check_lease(settings, len(rows))
        await session.execute(update(Call).where(Call.id.in_([r.id for r in rows])).values(checking_until=until))
    return [CheckedCall(r.id, r.attempts, r.status, r.provider_sid, r.phone, until, r.placed_at) for r in rows]


async def _still_claimed(session: AsyncSession, checked: CheckedCall) -> Call | None:
    """The call, locked, when it is still the attempt this dialer claimed (and its mark is released); else None.

    Another dialer owns it when its mark is not ours any more (ours expired and it claimed the call again).
    """
    call = await session.get(Call, checked.call_id, with_for_update=True, options=[lazyload(Call.worker)])
    if call is None or call.attempts != checked.attempt or call.checking_until != checked.checking_until:
        return None
    call.checking_until = None
    return call


def _status_params(status: str, sid: str) -> dict[str, Any]:
    return {"CallStatus": status, "CallSid": sid}


# What the provider's call resource says about a call that has ended.
FINAL_STATUSES = ("completed", "busy", "no-answer", "failed", "canceled")


async def settle_stale(
    provider: VoiceProvider,
    sessions: async_sessionmaker[AsyncSession],
    settings: DialerSettings,
    now: datetime,
    limit: int = 10,
) -> int:
    """Close placed calls whose final status callback never came, from the provider's own record of them.

    A call still ``queued`` or ``in_progress`` ``stale_call_after`` after it was placed is asked about: an
    ended one gets that status applied as if the callback had arrived (completed, or the retry ladder); one
    the provider does not know is closed as failed; one still running is left alone until its mark expires.
    Claimed, asked and settled like the orphans: a final callback that arrived meanwhile wins.
    """
    stale = await _claim_for_check(
        sessions,
        settings,
        now,
        limit,
        Call.status.in_(ACTIVE),
        Call.provider_sid.is_not(None),
        Call.placed_at < now - settings.stale_call_after,
    )
    settled = 0
    for checked in stale:
        assert checked.provider_sid is not None
        try:
            found = await provider.fetch(checked.provider_sid)
        except Exception as exc:
            log.warning("stale call %s: cannot fetch %s: %s", checked.call_id, checked.provider_sid, describe(exc))
            continue
        if found is not None and found.status not in FINAL_STATUSES:
            # Left marked: not asked again before the mark expires.
            log.info("stale call %s is still %s at the provider", checked.call_id, found.status)
            continue
        async with sessions() as session, session.begin():
            call = await _still_claimed(session, checked)
            if call is None or call.status not in ACTIVE or call.provider_sid != checked.provider_sid:
                log.info("stale call %s was settled meanwhile", checked.call_id)
                continue
            if found is None:
                log.warning("stale call %s: the provider does not know %s; failed", call.id, checked.provider_sid)
                status = "failed"
            else:
                log.info("stale call %s: its final callback was lost; the provider says %s", call.id, found.status)
                status = found.status
            await apply_status(session, call, _status_params(status, checked.provider_sid), now, settings)
            settled += 1
    return settled


# What the provider's call resource says about a call it has not dialled yet (all channels busy).
HELD = "queued"
RELEASE_MARKS = ("released", "released_due")


async def release_held(
    provider: VoiceProvider,
    sessions: async_sessionmaker[AsyncSession],
    settings: DialerSettings,
    now: datetime,
    limit: int = 10,
) -> int:
    """Cancel calls the provider still holds in its own queue, and make them due again (the try does not count).

    Somleng queues calls beyond the trunk's channels and retries them every 10 s without limit: such a call
    could ring after calling hours. One held ``provider_queue_limit`` after it was placed, or still held
    ``hold_before_closing`` before calling hours end, is canceled through the API; it is due again later
    (the next morning when the day is ending). ``MAX_CONCURRENT_CALLS`` at or below the trunk's channels
    keeps this rare.
    """
    hours = CallingHours.of(settings)
    closing = not hours.is_open(now + settings.hold_before_closing)
    # A call a few seconds old is queued at any provider for a moment before it is dialled.
    placed_before = now - (settings.orphan_grace if closing else settings.provider_queue_limit)
    held = await _claim_for_check(
        sessions,
        settings,
        now,
        limit,
        Call.status == CallStatus.QUEUED,
        Call.provider_sid.is_not(None),
        Call.placed_at < placed_before,
        Call.answered_at.is_(None),
    )
    released = 0
    for checked in held:
        sid = checked.provider_sid
        assert sid is not None
        due = hours.next_day_opening(now) if closing else hours.next_open(now + settings.provider_queue_limit)
        try:
            found = await provider.fetch(sid)
        except Exception as exc:
            log.warning("held call %s: cannot ask about %s: %s", checked.call_id, sid, describe(exc))
            continue
        if found is None or found.status != HELD:
            continue  # dialled meanwhile (or gone): its callbacks settle it; left marked until the mark expires
        # Noted before the request: the provider's "canceled" callback may arrive before its answer does.
        async with sessions() as session, session.begin():
            call = await session.get(Call, checked.call_id, with_for_update=True, options=[lazyload(Call.worker)])
            if call is None or call.attempts != checked.attempt or call.provider_sid != sid:
                continue
            call.flow_state = {**(call.flow_state or {}), "released": sid, "released_due": due.isoformat()}
        canceled = await provider.cancel(sid)
        async with sessions() as session, session.begin():
            call = await _still_claimed(session, checked)
            if call is None or call.status is not CallStatus.QUEUED or call.provider_sid != sid:
                released += canceled
                continue  # its canceled callback settled it already
            if canceled:
                call.provider_sid = None
                await _never_placed(session, call, due)
                released += 1
                log.info("call %s was still held at the provider: canceled there, due again %s", call.id, due)
            else:
                call.flow_state = {k: v for k, v in (call.flow_state or {}).items() if k not in RELEASE_MARKS}
    return released
