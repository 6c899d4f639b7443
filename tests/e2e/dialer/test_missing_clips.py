"""A clip missing at call time: that part of the call is left out and logged, never said in English."""

from __future__ import annotations

import logging
from xml.etree import ElementTree

import pytest
from aiohttp import ClientSession

from dialer.ivr.flows import CallFlows, ask_key, say_then_hang_up
from media import composer
from media.composer import Utterance
from tests.e2e.dialer.conftest import VoiceStack


def plays(twiml: str) -> list[str]:
    return [(verb.text or "").strip() for verb in ElementTree.fromstring(twiml).iter("Play")]


def flows_of(stack: VoiceStack) -> CallFlows:
    return CallFlows(stack.sessions, stack.settings, stack.audio, stack.clock.now)


async def test_a_missing_clip_is_left_out_and_the_rest_is_played(
    stack: VoiceStack, caplog: pytest.LogCaptureFixture
) -> None:
    with_a_gap = Utterance("km", (("ivr.menu.apply",), ("country.atlantis",), ("ivr.menu.goodbye",)))
    caplog.set_level(logging.ERROR)
    twiml = await flows_of(stack).render(ask_key("menu", with_a_gap), 1, 1, 1)
    assert "<Say" not in twiml and "<Gather" in twiml
    [url] = plays(twiml)
    whole = composer.job_menu("km")
    async with ClientSession() as http:
        async with http.get(url) as response:
            assert response.status == 200 and response.content_type == "audio/wav"
            assert len(await response.read()) > 1000
        # What was played is the utterance without the missing phrase, not the whole menu nor nothing.
        assert url != stack.settings.public_base + await stack.audio.url_path(whole)
    assert url == stack.settings.public_base + await stack.audio.url_path(
        Utterance("km", (("ivr.menu.apply",), ("ivr.menu.goodbye",)))
    )
    assert "country.atlantis" in caplog.text


async def test_nothing_playable_is_skipped_and_the_call_goes_on(
    stack: VoiceStack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    gone = Utterance("km", (("ivr.nowhere",),))
    twiml = await flows_of(stack).render(say_then_hang_up(gone, composer.goodbye("km")), 1, 1, 1)
    assert "<Say" not in twiml and "<Hangup" in twiml
    [url] = plays(twiml)
    assert url == stack.settings.public_base + await stack.audio.url_path(composer.goodbye("km"))
    assert "ivr.nowhere" in caplog.text and "skipped" in caplog.text
