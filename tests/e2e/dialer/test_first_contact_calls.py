"""First contact by phone. Someone nobody has added rings our number: instead of a busy tone they hear, in a short
clip, what the service is and how a relative signs them up; nothing is scheduled for them (known callers are still
rejected and called back). A worker added by their child hears "your son or daughter recommended you"."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import aiohttp
import pytest
from sqlalchemy import func, select

from dialer.ivr.prompt_audio import MediaAudio
from dialer.simulator.carrier import Script
from jobs_core.model import Call, Consent, Event, Relationship, Worker
from media import composer
from media.catalog import load_catalog
from tests.e2e.dialer.conftest import VoiceStack
from tests.integration.dialer.support import add_worker, phone

OUR_NUMBER = "+85523000000"


async def _count(stack: VoiceStack, model: type[Call] | type[Worker]) -> int:
    async with stack.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_an_unknown_caller_hears_how_to_be_signed_up_then_we_hang_up(
    stack: VoiceStack, audio: MediaAudio
) -> None:
    twiml = await stack.simulator.incoming_call(stack.app_url + "/voice/incoming", phone(71), OUR_NUMBER)
    response = ET.fromstring(twiml)
    assert [verb.tag for verb in response] == ["Play", "Hangup"]
    played = response.find("Play")
    assert played is not None and played.text is not None
    clip = composer.unknown_caller(stack.settings.language)
    assert played.text == stack.settings.public_base + await audio.url_path(clip)
    # The clip is there to be fetched, and it says the service is free and that a relative adds the number.
    async with aiohttp.ClientSession() as http, http.get(stack.app_url + urlsplit(played.text).path) as got:
        assert got.status == 200 and len(await got.read()) > 1000
    gloss = load_catalog()["ivr.unknown_caller"].gloss
    assert "free" in gloss and "relative" in gloss and "never ask for money" in gloss
    assert await _count(stack, Call) == 0 and await _count(stack, Worker) == 0  # nothing scheduled or created


async def test_a_replayed_unknown_call_gets_the_same_answer_and_a_known_caller_is_still_rejected(
    stack: VoiceStack,
) -> None:
    missed = stack.app_url + "/voice/incoming"
    first = await stack.simulator.incoming_call(missed, phone(72), OUR_NUMBER)
    again = await stack.simulator.incoming_call(missed, phone(72), OUR_NUMBER)
    assert "<Play>" in first and first == again
    await add_worker(stack.sessions, phone(73), consent=Consent.PENDING)
    known = await stack.simulator.incoming_call(missed, phone(73), OUR_NUMBER)
    assert "<Reject" in known and "<Play>" not in known
    await add_worker(stack.sessions, phone(74), consent=Consent.OPTED_OUT)
    assert "<Reject" in await stack.simulator.incoming_call(missed, phone(74), OUR_NUMBER)


@pytest.mark.parametrize(
    ("entered", "heard"),
    [
        (Relationship.PARENT, "ivr.recommended.child"),  # "Sokha is my mother": she hears her child recommended her
        (Relationship.CHILD, "ivr.recommended.parent"),
        (Relationship.SPOUSE, "ivr.recommended.spouse"),
    ],
)
async def test_the_consent_call_names_who_recommended_the_worker(
    stack: VoiceStack, audio: MediaAudio, entered: Relationship, heard: str
) -> None:
    worker, nomination = await add_worker(stack.sessions, phone(75), consent=Consent.PENDING, relation=entered)
    stack.scripts[phone(75)] = Script(keys=["1"])
    async with stack.sessions() as session, session.begin():
        payload = {"worker_id": worker, "nomination_id": nomination}
        session.add(Event(kind="worker.nominated", payload=payload, created_at=stack.clock.now()))
    await stack.dial()
    [placed] = stack.simulator.placed
    lang = stack.settings.language
    expected = composer.consent_call(heard.removeprefix("ivr.recommended."), lang)
    assert heard in expected.keys
    assert stack.settings.public_base + await audio.url_path(expected) in placed.plays
