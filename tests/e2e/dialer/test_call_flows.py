"""Every call flow and key path, through the carrier simulator and our signed webhooks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from dialer.simulator.carrier import Script
from jobs_core.model import (
    Application,
    Call,
    CallPurpose,
    CallReason,
    CallStatus,
    Consent,
    Event,
    Report,
    ReportPriority,
    Worker,
)
from jobs_core.model.application import ApplicationStatus
from jobs_core.services.applications import request_call
from jobs_core.uow import UnitOfWork
from tests.e2e.dialer.conftest import VoiceStack, hire
from tests.integration.dialer.support import add_employer, add_job, add_worker, phone


@pytest.fixture(params=["twilio", "somleng"])
def provider_mode(request: pytest.FixtureRequest) -> str:
    """Every call flow against the simulator behaving as Twilio and as Somleng."""
    return str(request.param)


async def _event(stack: VoiceStack, kind: str, **payload: object) -> None:
    async with stack.sessions() as session, session.begin():
        session.add(Event(kind=kind, payload=payload, created_at=stack.clock.now()))


async def _call_requested(stack: VoiceStack, job_id: int, worker_id: int, nomination_id: int) -> None:
    """A relative's "call my family member about this job", as the service records it."""
    async with UnitOfWork(stack.sessions, now=stack.clock.now()) as uow:
        request_call(uow, job_id=job_id, worker_id=worker_id, nomination_id=nomination_id, relative_id=None)
        await uow.commit()


async def _calls(stack: VoiceStack, worker_id: int) -> list[Call]:
    async with stack.sessions() as session:
        rows = await session.scalars(select(Call).where(Call.worker_id == worker_id).order_by(Call.id))
        return list(rows.all())


async def _events(stack: VoiceStack, kind: str) -> list[dict[str, object]]:
    async with stack.sessions() as session:
        return [e.payload for e in (await session.scalars(select(Event).where(Event.kind == kind))).all()]


async def _consent(stack: VoiceStack, worker_id: int) -> Consent:
    async with stack.sessions() as session:
        worker = await session.get(Worker, worker_id)
        assert worker is not None
        return worker.consent


async def test_consent_call_yes_then_pitches_follow(stack: VoiceStack) -> None:
    employer = await add_employer(stack.sessions)
    job = await add_job(stack.sessions, employer)
    worker, nomination = await add_worker(stack.sessions, phone(1), consent=Consent.PENDING)
    stack.scripts[phone(1)] = Script(keys=["1"])
    await _event(stack, "worker.nominated", worker_id=worker, nomination_id=nomination)
    await stack.dial()
    [consent_call] = await _calls(stack, worker)
    assert consent_call.purpose is CallPurpose.CONSENT
    assert consent_call.status is CallStatus.COMPLETED
    assert [k["digits"] for k in consent_call.keys] == ["1"]
    assert await _consent(stack, worker) is Consent.CONSENTED
    sim_call = stack.simulator.placed[0]
    assert sim_call.plays and all(p.startswith(stack.app_url + "/voice/media/") for p in sim_call.plays)
    # No job before consent; after it the worker.consented event schedules the pitch.
    stack.clock.advance(seconds=1)
    await stack.dial()
    calls = await _calls(stack, worker)
    assert calls[1].purpose is CallPurpose.JOB_PITCH and calls[1].job_ids == [job]


async def test_consent_call_nine_opts_out_for_good(stack: VoiceStack) -> None:
    worker, nomination = await add_worker(stack.sessions, phone(2), consent=Consent.PENDING)
    stack.scripts[phone(2)] = Script(keys=["9"])
    await _event(stack, "worker.nominated", worker_id=worker, nomination_id=nomination)
    await stack.dial()
    assert await _consent(stack, worker) is Consent.OPTED_OUT
    assert await _events(stack, "worker.opted_out") == [{"worker_id": worker}]
    # A later nomination does not bring the calls back.
    await _event(stack, "worker.nominated", worker_id=worker, nomination_id=nomination)
    stack.clock.advance(hours=2)
    assert await stack.dial() == []


async def test_unanswered_consent_retries_on_the_ladder_then_tells_the_relative(stack: VoiceStack) -> None:
    worker, nomination = await add_worker(stack.sessions, phone(3), consent=Consent.PENDING)
    stack.scripts[phone(3)] = Script(outcome="no-answer")
    await _event(stack, "worker.nominated", worker_id=worker, nomination_id=nomination)
    await stack.dial()
    [call] = await _calls(stack, worker)
    assert (call.status, call.reason, call.attempts) == (CallStatus.RETRY_WAIT, CallReason.NO_ANSWER, 1)
    assert call.next_attempt_at == stack.clock.now() + timedelta(minutes=10)
    stack.scripts[phone(3)] = Script(outcome="busy")
    stack.clock.advance(minutes=10)
    await stack.dial()
    [call] = await _calls(stack, worker)
    assert (call.status, call.reason, call.attempts) == (CallStatus.RETRY_WAIT, CallReason.BUSY, 2)
    assert call.next_attempt_at == stack.clock.now() + timedelta(hours=1)
    stack.clock.advance(hours=1)
    await stack.dial()  # the daily cap (2 a day) moves the third try to tomorrow morning
    [call] = await _calls(stack, worker)
    assert call.attempts == 2 and call.status is CallStatus.RETRY_WAIT
    stack.clock.advance(hours=23)
    await stack.dial()
    [call] = await _calls(stack, worker)
    assert (call.status, call.attempts) == (CallStatus.FAILED, 3)
    assert await _consent(stack, worker) is Consent.PENDING
    assert await _events(stack, "call.missed") == [
        {"worker_id": worker, "nomination_id": nomination, "call_id": call.id}
    ]


async def _pitch_setup(stack: VoiceStack, n: int, keys: list[str | None], jobs: int = 1) -> tuple[int, list[int]]:
    employer = await add_employer(stack.sessions)
    job_ids = [await add_job(stack.sessions, employer) for _ in range(jobs)]
    worker, _ = await add_worker(stack.sessions, phone(n))
    stack.scripts[phone(n)] = Script(keys=keys)
    if jobs == 1:
        await _event(stack, "job.published", job_id=job_ids[0])
    else:
        await _event(stack, "worker.consented", worker_id=worker)
    await stack.dial()
    return worker, job_ids


async def test_pitch_apply_with_experience(stack: VoiceStack) -> None:
    worker, [job] = await _pitch_setup(stack, 10, ["1", "1"])
    [call] = await _calls(stack, worker)
    assert call.status is CallStatus.COMPLETED
    assert [(k["step"], k["digits"]) for k in call.keys] == [("menu", "1"), ("experience", "1")]
    async with stack.sessions() as session:
        application = await session.scalar(select(Application).where(Application.worker_id == worker))
    assert application is not None and application.job_id == job and application.experience.value == "yes"
    assert application.channel.value == "ivr" and application.status is ApplicationStatus.NEW
    assert await _events(stack, "call.applied") == [
        {"worker_id": worker, "job_id": job, "application_id": application.id}
    ]
    assert len(await _events(stack, "application.created")) == 1


async def test_several_jobs_in_one_call(stack: VoiceStack) -> None:
    worker, jobs = await _pitch_setup(stack, 11, ["1", "2", None, None], jobs=2)
    calls = await _calls(stack, worker)
    assert len(calls) == 1 and sorted(calls[0].job_ids) == sorted(jobs)
    async with stack.sessions() as session:
        applied = await session.scalar(select(func.count()).select_from(Application))
    assert applied == 1  # applied to the first, let the second pass in silence
    assert calls[0].flow_state["job"] == 2


async def test_callback_in_an_hour_and_tomorrow(stack: VoiceStack) -> None:
    worker, [job] = await _pitch_setup(stack, 12, ["2"])
    calls = await _calls(stack, worker)
    assert calls[1].purpose is CallPurpose.CALLBACK and calls[1].job_ids == [job]
    assert calls[1].next_attempt_at == stack.clock.now() + timedelta(hours=1)
    # Called back; this time "tomorrow" at 19:30 local moves to tomorrow's opening hour... at 19:30+1d.
    stack.scripts[phone(12)] = Script(keys=["3"])
    stack.clock.advance(hours=1)
    await stack.dial()
    calls = await _calls(stack, worker)
    assert calls[1].status is CallStatus.COMPLETED
    assert calls[2].purpose is CallPurpose.CALLBACK
    assert calls[2].next_attempt_at == stack.clock.now() + timedelta(days=1)


async def test_repeat_then_goodbye(stack: VoiceStack) -> None:
    worker, _ = await _pitch_setup(stack, 13, ["4", "0"])
    [call] = await _calls(stack, worker)
    assert [k["digits"] for k in call.keys] == ["4", "0"] and call.status is CallStatus.COMPLETED
    assert call.flow_state["decided"] == "goodbye"


async def test_nine_in_a_pitch_stops_all_calls(stack: VoiceStack) -> None:
    worker, _ = await _pitch_setup(stack, 14, ["9"])
    assert await _consent(stack, worker) is Consent.OPTED_OUT


async def test_wrong_keys_get_the_menu_once_more_then_goodbye(stack: VoiceStack) -> None:
    worker, _ = await _pitch_setup(stack, 15, ["7", None])
    [call] = await _calls(stack, worker)
    assert call.status is CallStatus.COMPLETED and [k["digits"] for k in call.keys] == ["7"]
    twiml = stack.simulator.placed[0].twiml
    assert "goodbye" in twiml[-1] or "<Hangup" in twiml[-1]


async def test_hang_up_mid_prompt_keeps_state_consistent(stack: VoiceStack) -> None:
    worker, _ = await _pitch_setup(stack, 16, [])
    stack.scripts[phone(16)] = Script(hang_up_after=0)
    [call] = await _calls(stack, worker)
    assert call.keys == []
    if stack.somleng:
        # No answering-machine detection: a pitch nobody pressed a key in may have been a voicemail.
        assert (call.status, call.reason) == (CallStatus.RETRY_WAIT, CallReason.MACHINE)
    else:
        assert call.status is CallStatus.COMPLETED


async def test_machine_is_retried(stack: VoiceStack) -> None:
    employer = await add_employer(stack.sessions)
    await add_job(stack.sessions, employer)
    worker, _ = await add_worker(stack.sessions, phone(17))
    stack.scripts[phone(17)] = Script(outcome="machine")
    async with stack.sessions() as session, session.begin():
        session.add(Event(kind="worker.consented", payload={"worker_id": worker}, created_at=stack.clock.now()))
    await stack.dial()
    [call] = await _calls(stack, worker)
    assert (call.status, call.reason) == (CallStatus.RETRY_WAIT, CallReason.MACHINE)


async def test_checkin_alarm_reaches_moderators(stack: VoiceStack) -> None:
    worker = await hire(stack, phone(20))
    stack.scripts[phone(20)] = Script(keys=["9"])
    assert await stack.dial() == []
    calls = await _calls(stack, worker)
    assert [c.purpose for c in calls] == [CallPurpose.CHECKIN, CallPurpose.CHECKIN]
    stack.clock.advance(days=7)
    await stack.dial()
    async with stack.sessions() as session:
        report = await session.scalar(select(Report))
    assert report is not None and report.priority is ReportPriority.HIGH and report.reporter_worker_id == worker
    assert await _events(stack, "checkin.alarm") == [
        {"worker_id": worker, "report_id": report.id, "call_id": calls[0].id}
    ]
    played = " ".join(stack.simulator.placed[-1].plays)
    assert played  # the help message and the hotlines were played


async def test_checkin_all_well(stack: VoiceStack) -> None:
    worker = await hire(stack, phone(21))
    stack.scripts[phone(21)] = Script(keys=["1"])
    await stack.dial()
    stack.clock.advance(days=7)
    await stack.dial()
    calls = await _calls(stack, worker)
    assert calls[0].status is CallStatus.COMPLETED and calls[0].flow_state["decided"] == "well"
    assert await _events(stack, "checkin.alarm") == []


async def test_a_relative_asks_us_to_call_about_one_job_consent_comes_first(stack: VoiceStack) -> None:
    """ "Call my family member about this job": a worker not yet asked hears the consent call first; the
    requested job (here in another province, so no profile match) is pitched right after they press 1."""
    employer = await add_employer(stack.sessions)
    elsewhere = await add_job(stack.sessions, employer, province="17", sector="hospitality")
    worker, nomination = await add_worker(stack.sessions, phone(40), consent=Consent.PENDING)
    stack.scripts[phone(40)] = Script(keys=["1"])
    await _call_requested(stack, elsewhere, worker, nomination)
    await stack.dial()
    [consent_call] = await _calls(stack, worker)
    assert consent_call.purpose is CallPurpose.CONSENT and consent_call.job_ids == []
    assert await _consent(stack, worker) is Consent.CONSENTED
    stack.clock.advance(seconds=1)
    await stack.dial()
    calls = await _calls(stack, worker)
    assert [(c.purpose, c.job_ids) for c in calls[1:]] == [(CallPurpose.JOB_PITCH, [elsewhere])]


async def test_a_requested_job_is_pitched_to_a_consented_worker_once(stack: VoiceStack) -> None:
    employer = await add_employer(stack.sessions)
    job = await add_job(stack.sessions, employer, province="17", sector="hospitality")
    worker, nomination = await add_worker(stack.sessions, phone(41))
    stack.scripts[phone(41)] = Script(keys=["0"])
    for _ in range(2):  # two relatives (or one pressing twice) ask about the same job
        await _call_requested(stack, job, worker, nomination)
    await stack.dial()
    calls = await _calls(stack, worker)
    assert [(c.purpose, c.job_ids) for c in calls] == [(CallPurpose.JOB_PITCH, [job])]


async def test_an_opted_out_worker_is_not_called_whoever_asks(stack: VoiceStack) -> None:
    employer = await add_employer(stack.sessions)
    job = await add_job(stack.sessions, employer)
    worker, nomination = await add_worker(stack.sessions, phone(42), consent=Consent.OPTED_OUT)
    await _call_requested(stack, job, worker, nomination)
    await stack.dial()
    assert await _calls(stack, worker) == []
    assert stack.simulator.placed == []
