"""A check-in alarm whose first delivery failed halfway, replayed: the moderators get one report, not two."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from sqlalchemy import select, text

from dialer.calls.placing import claim_due
from dialer.calls.scheduling import consume_events
from jobs_core.model import Call, CallPurpose, Event, Report
from tests.e2e.dialer.conftest import VoiceStack, hire
from tests.integration.dialer.support import phone

SID = "CA" + "7" * 32

# The database fails the first check-in alarm once, after the report was written in the same webhook: as a
# connection lost or a process killed at that moment would.
FAIL_THE_FIRST_ALARM = [
    "CREATE SEQUENCE test_alarm_failures",
    """
    CREATE FUNCTION test_fail_first_alarm() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.kind = 'checkin.alarm' AND nextval('test_alarm_failures') = 1 THEN
            RAISE EXCEPTION 'connection lost';
        END IF;
        RETURN NEW;
    END $$
    """,
    "CREATE TRIGGER test_fail_first_alarm BEFORE INSERT ON events"
    " FOR EACH ROW EXECUTE FUNCTION test_fail_first_alarm()",
]
UNDO = [
    "DROP TRIGGER IF EXISTS test_fail_first_alarm ON events",
    "DROP FUNCTION IF EXISTS test_fail_first_alarm()",
    "DROP SEQUENCE IF EXISTS test_alarm_failures",
]


@pytest.fixture
async def first_alarm_fails(stack: VoiceStack) -> AsyncIterator[None]:
    async with stack.sessions() as session, session.begin():
        for statement in FAIL_THE_FIRST_ALARM:
            await session.execute(text(statement))
    try:
        yield
    finally:
        async with stack.sessions() as session, session.begin():
            for statement in UNDO:
                await session.execute(text(statement))


async def _post(stack: VoiceStack, path: str, params: dict[str, str]) -> str:
    url = stack.app_url + path
    headers = {"X-Twilio-Signature": stack.simulator.sign(url, params)}
    async with aiohttp.ClientSession() as http, http.post(url, data=params, headers=headers) as response:
        assert response.status == 200
        return await response.text()


async def _checkin_call_answered(stack: VoiceStack) -> tuple[int, int]:
    """A worker hired a week ago; their check-in call is placed and answered. Returns (worker, call id)."""
    worker = await hire(stack, phone(60))
    await consume_events(stack.sessions, stack.settings, stack.clock.now())
    stack.clock.advance(days=7)
    [claimed] = await claim_due(stack.sessions, stack.settings, stack.clock.now(), 1)
    async with stack.sessions() as session:
        call = await session.get(Call, claimed.call_id)
        assert call is not None and call.purpose is CallPurpose.CHECKIN
    twiml = await _post(stack, f"/voice/answer?call={claimed.call_id}&attempt=1", {"CallSid": SID})
    assert "step=checkin" in twiml
    return worker, claimed.call_id


async def test_a_replayed_alarm_key_press_files_one_report(stack: VoiceStack, first_alarm_fails: None) -> None:
    worker, call_id = await _checkin_call_answered(stack)
    press_nine = f"/voice/gather?call={call_id}&attempt=1&step=checkin&seq=1"

    failed = await _post(stack, press_nine, {"CallSid": SID, "Digits": "9"})
    replayed = await _post(stack, press_nine, {"CallSid": SID, "Digits": "9"})

    assert "Sorry" in failed  # the first delivery failed, and the caller heard so
    assert "Sorry" not in replayed and "<Play" in replayed  # the replay got the help message and the hotlines
    async with stack.sessions() as session:
        reports = list((await session.scalars(select(Report))).all())
        alarms = [e.payload for e in (await session.scalars(select(Event).where(Event.kind == "checkin.alarm")))]
    assert [r.reporter_worker_id for r in reports] == [worker]
    assert alarms == [{"worker_id": worker, "report_id": reports[0].id, "call_id": call_id}]
