"""Forged signatures, duplicates, replays, unknown calls, missing audio and missed calls from workers."""

from __future__ import annotations

import aiohttp
from sqlalchemy import select

from dialer.simulator import Script
from jobs_core.model import Call, CallPurpose, CallStatus, Consent, Event
from tests.e2e.dialer.conftest import VoiceStack
from tests.integration.dialer.support import add_employer, add_job, add_worker, phone


async def _post(stack: VoiceStack, path: str, params: dict[str, str], sign: bool = True) -> tuple[int, str]:
    url = stack.app_url + path
    headers = {"X-Twilio-Signature": stack.simulator.sign(url, params)} if sign else {}
    async with aiohttp.ClientSession() as http, http.post(url, data=params, headers=headers) as response:
        return response.status, await response.text()


async def _pitched(stack: VoiceStack, n: int, keys: list[str | None]) -> Call:
    employer = await add_employer(stack.sessions)
    job = await add_job(stack.sessions, employer)
    await add_worker(stack.sessions, phone(n))
    stack.scripts[phone(n)] = Script(keys=keys)
    async with stack.sessions() as session, session.begin():
        session.add(Event(kind="job.published", payload={"job_id": job}, created_at=stack.clock.now()))
    await stack.dial()
    async with stack.sessions() as session:
        call = await session.scalar(select(Call))
        assert call is not None
        return call


async def test_forged_or_missing_signature_is_refused_and_writes_nothing(stack: VoiceStack) -> None:
    call = await _pitched(stack, 30, ["0"])
    params = {"CallSid": call.provider_sid or "", "CallStatus": "busy", "AccountSid": "AC" + "1" * 32}
    path = f"/voice/status?call={call.id}&attempt=1"
    url = stack.app_url + path
    async with aiohttp.ClientSession() as http:
        async with http.post(url, data=params, headers={"X-Twilio-Signature": "forged"}) as response:
            assert response.status == 403
        async with http.post(url, data=params) as response:
            assert response.status == 403
    for hook in ("answer", "gather", "incoming"):
        status, _ = await _post(stack, f"/voice/{hook}?call={call.id}&attempt=1", params, sign=False)
        assert status == 403
    async with stack.sessions() as session:
        again = await session.get(Call, call.id)
        assert again is not None and again.status is CallStatus.COMPLETED


async def test_duplicate_and_late_status_callbacks_are_idempotent(stack: VoiceStack) -> None:
    call = await _pitched(stack, 31, ["0"])
    params = {"CallSid": call.provider_sid or "", "CallStatus": "completed", "CallDuration": "12"}
    for status in ("completed", "in-progress", "busy", "no-answer"):
        code, body = await _post(stack, f"/voice/status?call={call.id}&attempt=1", {**params, "CallStatus": status})
        assert code == 200 and "<Response" in body
    async with stack.sessions() as session:
        again = await session.get(Call, call.id)
        assert again is not None
        assert (again.status, again.attempts, again.keys) == (CallStatus.COMPLETED, 1, call.keys)


async def test_unknown_call_bad_digits_and_replays_get_valid_twiml(stack: VoiceStack) -> None:
    call = await _pitched(stack, 32, ["0"])
    for path in (
        "/voice/answer?call=999999&attempt=1",
        "/voice/gather?call=999999&attempt=1&step=menu&seq=1",
        "/voice/answer?call=abc",
        f"/voice/gather?call={call.id}&attempt=1&step=menu&seq=1",  # replayed an hour later
        f"/voice/gather?call={call.id}&attempt=7&step=menu&seq=1",
    ):
        code, body = await _post(stack, path, {"CallSid": "CA" + "f" * 32, "Digits": "#"})
        assert code == 200 and body.startswith("<?xml") and "<Hangup" in body
    async with stack.sessions() as session:
        again = await session.get(Call, call.id)
        assert again is not None and again.keys == call.keys and again.status is CallStatus.COMPLETED


async def test_missing_audio_falls_back_to_say(stack: VoiceStack) -> None:
    class BrokenAudio:
        async def url_path(self, utterance: object) -> str:
            raise FileNotFoundError("clip gone")

    from dialer.flows import CallFlows

    flows = CallFlows(stack.sessions, stack.settings, BrokenAudio(), stack.clock.now)  # type: ignore[arg-type]
    from dialer.flows import ask
    from media import composer

    twiml = await flows.render(ask("menu", composer.job_menu("km")), 1, 1, 1)
    assert "<Say" in twiml and "press 1" in twiml and "<Gather" in twiml


async def test_missed_call_from_a_worker_is_rejected_and_called_back(stack: VoiceStack) -> None:
    employer = await add_employer(stack.sessions)
    job = await add_job(stack.sessions, employer)
    worker, _ = await add_worker(stack.sessions, phone(33))
    stack.scripts[phone(33)] = Script(outcome="no-answer")
    async with stack.sessions() as session, session.begin():
        session.add(Event(kind="job.published", payload={"job_id": job}, created_at=stack.clock.now()))
    await stack.dial()
    twiml = await stack.simulator.incoming_call(stack.app_url + "/voice/incoming", phone(33), "+85523000000")
    assert "<Reject" in twiml
    async with stack.sessions() as session:
        calls = list((await session.scalars(select(Call).where(Call.worker_id == worker).order_by(Call.id))).all())
    assert calls[0].status is CallStatus.CANCELED
    assert calls[1].purpose is CallPurpose.CALLBACK and calls[1].job_ids == [job]
    # An unknown caller is rejected too, and nothing is scheduled.
    twiml = await stack.simulator.incoming_call(stack.app_url + "/voice/incoming", phone(99), "+85523000000")
    assert "<Reject" in twiml


async def test_pending_worker_missed_call_gets_a_consent_call(stack: VoiceStack) -> None:
    worker, _ = await add_worker(stack.sessions, phone(34), consent=Consent.PENDING)
    await stack.simulator.incoming_call(stack.app_url + "/voice/incoming", phone(34), "+85523000000")
    async with stack.sessions() as session:
        call = await session.scalar(select(Call).where(Call.worker_id == worker))
    assert call is not None and call.purpose is CallPurpose.CONSENT
