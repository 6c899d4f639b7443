"""Forged signatures, duplicates, replays, unknown calls, missing audio and missed calls from workers."""

from __future__ import annotations

import asyncio
import re
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import aiohttp
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from dialer.calls.placing import active_calls, claim_due
from dialer.calls.scheduling import consume_events
from dialer.ivr.webhooks import MAX_BODY
from dialer.models import DialerIncomingCall
from dialer.simulator.carrier import Script, bind_local
from jobs_core.model import Call, CallPurpose, CallStatus, Consent, Event, Worker
from tests.e2e.dialer.conftest import VoiceStack
from tests.integration.dialer.support import add_employer, add_job, add_worker, phone

SID = "CA" + "a" * 32
OTHER_SID = "CA" + "b" * 32
HOOKS = ("answer", "gather", "status", "incoming")


async def _post(stack: VoiceStack, path: str, params: dict[str, str], sign: bool = True) -> tuple[int, str]:
    url = stack.app_url + path
    headers = {"X-Twilio-Signature": stack.simulator.sign(url, params)} if sign else {}
    async with aiohttp.ClientSession() as http, http.post(url, data=params, headers=headers) as response:
        return response.status, await response.text()


async def _claimed(stack: VoiceStack, n: int) -> int:
    """A consented worker's pitch call, claimed by the dialer (queued, attempt 1) but not placed: a live call."""
    employer = await add_employer(stack.sessions)
    job = await add_job(stack.sessions, employer)
    await add_worker(stack.sessions, phone(n))
    async with stack.sessions() as session, session.begin():
        session.add(Event(kind="job.published", payload={"job_id": job}, created_at=stack.clock.now()))
    await consume_events(stack.sessions, stack.settings, stack.clock.now())
    [claimed] = await claim_due(stack.sessions, stack.settings, stack.clock.now(), 10)
    return claimed.call_id


async def _call(stack: VoiceStack, call_id: int) -> Call:
    async with stack.sessions() as session:
        call = await session.get(Call, call_id)
        assert call is not None
        return call


def _gather_path(twiml: str) -> str:
    """The path and query of the <Gather> action a TwiML answer waits on."""
    gather = ET.fromstring(twiml).find("Gather")
    assert gather is not None, twiml
    action = urlsplit(gather.get("action", ""))
    return f"{action.path}?{action.query}"


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
    call_id = await _claimed(stack, 30)  # live: queued, no SID yet, so any accepted webhook would change it
    before = await _call(stack, call_id)
    status = {"CallSid": SID, "CallStatus": "busy", "AccountSid": "AC" + "1" * 32}
    path = f"/voice/status?call={call_id}&attempt=1"
    url = stack.app_url + path
    async with aiohttp.ClientSession() as http:
        async with http.post(url, data=status, headers={"X-Twilio-Signature": "forged"}) as response:
            assert response.status == 403
        async with http.post(url, data=status) as response:
            assert response.status == 403
    answered = {"CallSid": SID, "CallStatus": "in-progress", "Digits": "9", "From": phone(30)}
    for hook in ("answer", "gather", "incoming"):
        query = f"call={call_id}&attempt=1&step=menu&seq=0"
        assert (await _post(stack, f"/voice/{hook}?{query}", answered, sign=False))[0] == 403
        forged = {"X-Twilio-Signature": stack.simulator.sign(url, status)}  # signed for another URL
        async with aiohttp.ClientSession() as http:
            async with http.post(stack.app_url + f"/voice/{hook}?{query}", data=answered, headers=forged) as r:
                assert r.status == 403
    after = await _call(stack, call_id)
    assert (after.status, after.provider_sid, after.keys, after.flow_state) == (
        CallStatus.QUEUED,
        None,
        [],
        before.flow_state,
    )
    async with stack.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Call)) == 1
        assert await session.scalar(select(func.count()).select_from(DialerIncomingCall)) == 0
        worker = await session.get(Worker, after.worker_id)
        assert worker is not None and worker.consent is Consent.CONSENTED


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


async def test_missing_audio_is_left_out_never_said_in_english(stack: VoiceStack) -> None:
    class BrokenAudio:
        async def url_path(self, utterance: object) -> str:
            raise FileNotFoundError("clip gone")

    from dialer.ivr.flows import CallFlows

    flows = CallFlows(stack.sessions, stack.settings, BrokenAudio(), stack.clock.now)  # type: ignore[arg-type]
    from dialer.ivr.flows import ask_key
    from media import composer

    twiml = await flows.render(ask_key("menu", composer.job_menu("km")), 1, 1, 1)
    # The question is still asked (the worker may know the keys), but never in an English voice.
    assert "<Say" not in twiml and "press 1" not in twiml and "<Gather" in twiml


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
    # An unknown caller is not rejected: they hear how a relative signs them up (test_unknown_caller.py).
    twiml = await stack.simulator.incoming_call(stack.app_url + "/voice/incoming", phone(99), "+85523000000")
    assert "<Reject" not in twiml and "<Play>" in twiml


async def test_pending_worker_missed_call_gets_a_consent_call(stack: VoiceStack) -> None:
    worker, _ = await add_worker(stack.sessions, phone(34), consent=Consent.PENDING)
    await stack.simulator.incoming_call(stack.app_url + "/voice/incoming", phone(34), "+85523000000")
    async with stack.sessions() as session:
        call = await session.scalar(select(Call).where(Call.worker_id == worker))
    assert call is not None and call.purpose is CallPurpose.CONSENT


async def _raw_post(stack: VoiceStack, path: str, headers: dict[str, str], body: bytes = b"") -> int:
    """Send a request's head (and maybe part of a body) and read the status line the server answers with.

    A server that reads the body before deciding waits for bytes that never come: the test then fails on its
    timeout instead of getting an answer.
    """
    url = urlsplit(stack.app_url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    try:
        head = f"POST {path} HTTP/1.1\r\nHost: {url.netloc}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
        writer.write(head.encode() + body)
        await writer.drain()
        async with asyncio.timeout(20):
            status_line = await reader.readline()
    finally:
        writer.close()
    return int(status_line.split()[1])


async def test_unsigned_or_large_posts_are_refused_before_the_body_is_read(stack: VoiceStack) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    huge = {**form, "Content-Length": str(24 * 1024 * 1024)}
    for hook in HOOKS:
        path = f"/voice/{hook}?call=1&attempt=1"
        # 24 MB announced, not one byte of it sent: the answer comes anyway, so nothing was read or parsed.
        assert await _raw_post(stack, path, huge) == 403
        assert await _raw_post(stack, path, {**huge, "X-Twilio-Signature": "forged"}) == 413
        # No length announced (chunked): read no further than the limit.
        chunk = b"a=" + b"1" * (MAX_BODY + 10)
        chunked = {**form, "X-Twilio-Signature": "forged", "Transfer-Encoding": "chunked"}
        assert await _raw_post(stack, path, chunked, b"%x\r\n%s\r\n0\r\n\r\n" % (len(chunk), chunk)) == 413
    # A real provider post still gets through (an unknown caller: the explanation, then we hang up).
    twiml = await stack.simulator.incoming_call(stack.app_url + "/voice/incoming", phone(35), "+85523000000")
    assert "<Hangup" in twiml


async def test_a_replayed_gather_on_a_live_call_writes_nothing(stack: VoiceStack) -> None:
    call_id = await _claimed(stack, 36)
    answered = {"CallSid": SID, "CallStatus": "in-progress"}
    code, twiml = await _post(stack, f"/voice/answer?call={call_id}&attempt=1", answered)
    assert code == 200
    menu = _gather_path(twiml)
    assert "step=menu" in menu and "seq=1" in menu
    code, twiml = await _post(stack, menu, {**answered, "Digits": "4"})  # hear it again
    assert code == 200 and "seq=2" in _gather_path(twiml)
    # The first menu's webhook again (replayed, or sent late) with 9: it must not opt the worker out.
    for stale in (menu, menu.replace("seq=1", "seq=7"), menu.replace("step=menu", "step=experience")):
        code, twiml = await _post(stack, stale, {**answered, "Digits": "9"})
        assert code == 200 and "seq=2" in _gather_path(twiml)  # the current prompt, again
    call = await _call(stack, call_id)
    assert call.status is CallStatus.IN_PROGRESS
    assert [k["digits"] for k in call.keys] == ["4"]
    async with stack.sessions() as session:
        worker = await session.get(Worker, call.worker_id)
        assert worker is not None and worker.consent is Consent.CONSENTED


async def test_a_status_callback_from_another_call_sid_is_ignored(stack: VoiceStack) -> None:
    call_id = await _claimed(stack, 37)
    code, _ = await _post(stack, f"/voice/answer?call={call_id}&attempt=1", {"CallSid": SID, "CallStatus": "x"})
    assert code == 200
    path = f"/voice/status?call={call_id}&attempt=1"
    for status in ("busy", "completed", "canceled"):
        code, body = await _post(stack, path, {"CallSid": OTHER_SID, "CallStatus": status})
        assert code == 200 and "<Response" in body
    call = await _call(stack, call_id)
    assert (call.status, call.provider_sid, call.attempts) == (CallStatus.IN_PROGRESS, SID, 1)


async def test_a_status_callback_of_an_earlier_attempt_is_ignored(stack: VoiceStack) -> None:
    call_id = await _claimed(stack, 38)
    code, _ = await _post(stack, f"/voice/status?call={call_id}&attempt=1", {"CallSid": SID, "CallStatus": "busy"})
    assert code == 200
    assert (await _call(stack, call_id)).status is CallStatus.RETRY_WAIT
    stack.clock.advance(minutes=11)  # past the first rung of the retry ladder
    [again] = await claim_due(stack.sessions, stack.settings, stack.clock.now(), 10)
    assert (again.call_id, again.attempt) == (call_id, 2)
    # The first attempt's final callback, arriving late (or replayed): the second try is not touched.
    for status in ("no-answer", "completed", "in-progress"):
        await _post(stack, f"/voice/status?call={call_id}&attempt=1", {"CallSid": SID, "CallStatus": status})
    call = await _call(stack, call_id)
    assert (call.status, call.attempts, call.provider_sid) == (CallStatus.QUEUED, 2, None)


async def test_a_status_callback_the_database_could_not_take_is_retried_then_stored(stack: VoiceStack) -> None:
    call_id = await _claimed(stack, 39)
    path = f"/voice/status?call={call_id}&attempt=1"
    assert (await _post(stack, path, {"CallSid": SID, "CallStatus": "in-progress"}))[0] == 200
    sock, closed = bind_local()  # a port nothing listens on: the database is unreachable
    down = create_async_engine(f"postgresql+asyncpg://postgres@{urlsplit(closed).netloc}/down")
    stack.deps.sessions = async_sessionmaker(down)
    try:
        code, _ = await _post(stack, path, {"CallSid": SID, "CallStatus": "completed", "CallDuration": "40"})
    finally:
        stack.deps.sessions = stack.sessions  # the database is back
        await down.dispose()
        sock.close()
    assert code == 503  # a provider that retries sends it again
    assert (await _call(stack, call_id)).status is CallStatus.IN_PROGRESS
    # Nobody resends it here (Twilio does not by default): the process stores it once the database answers.
    for _ in range(150):
        if (await _call(stack, call_id)).status is CallStatus.COMPLETED:
            break
        await asyncio.sleep(0.2)
    assert (await _call(stack, call_id)).status is CallStatus.COMPLETED
    async with stack.sessions() as session:
        assert await active_calls(session, stack.clock.now()) == 0  # its concurrency slot is free


async def test_a_replayed_missed_call_schedules_no_second_callback(stack: VoiceStack) -> None:
    employer = await add_employer(stack.sessions)
    job = await add_job(stack.sessions, employer)
    worker, _ = await add_worker(stack.sessions, phone(40))
    stack.scripts[phone(40)] = Script(outcome="no-answer")
    async with stack.sessions() as session, session.begin():
        session.add(Event(kind="job.published", payload={"job_id": job}, created_at=stack.clock.now()))
    await stack.dial()
    missed = {
        "AccountSid": stack.settings.account_sid,
        "CallSid": SID,
        "From": phone(40),
        "To": "+85523000000",
        "CallStatus": "ringing",
        "Direction": "inbound",
    }
    code, twiml = await _post(stack, "/voice/incoming", missed)
    assert code == 200 and "<Reject" in twiml

    async def callbacks() -> list[Call]:
        async with stack.sessions() as session:
            rows = await session.scalars(
                select(Call).where(Call.worker_id == worker, Call.purpose == CallPurpose.CALLBACK)
            )
            return list(rows.all())

    [callback] = await callbacks()
    # That callback ran out of tries: its job is waiting again, so only the CallSid tells a replay apart.
    async with stack.sessions() as session, session.begin():
        await session.execute(update(Call).where(Call.id == callback.id).values(status=CallStatus.FAILED))
    for _ in range(3):
        code, twiml = await _post(stack, "/voice/incoming", missed)
        assert code == 200 and "<Reject" in twiml
    assert len(await callbacks()) == 1
    # A new missed call (its own CallSid) is called back.
    await _post(stack, "/voice/incoming", {**missed, "CallSid": OTHER_SID})
    assert len(await callbacks()) == 2


async def test_media_serves_rendered_audio_names_only(stack: VoiceStack) -> None:
    from media import composer

    served = await stack.audio.url_path(composer.goodbye("km"))
    render_dir = stack.audio.renderer.render_dir
    private = render_dir / "operator-notes.mp3"
    private.write_bytes(b"ID3 not for the provider")
    outside = render_dir.parent / "outside.mp3"
    outside.write_bytes(b"ID3 outside the renders")
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(stack.app_url + served) as response:
                assert response.status == 200 and (await response.read()).startswith(b"RIFF")
            for name in ("operator-notes.mp3", "..%2Foutside.mp3", "%2E%2E%2Foutside.mp3", "..%5Coutside.mp3"):
                async with http.get(f"{stack.app_url}/voice/media/{name}") as response:
                    assert response.status == 404, name
                    assert b"ID3" not in await response.read()
    finally:
        private.unlink()
        outside.unlink()
    assert re.fullmatch(r"/voice/media/[0-9a-f]+\.wav", served)
