"""What a phone line is sent to <Play>: 8 kHz mono G.711 μ-law in a WAV, served as audio/wav, the same bytes
from the cache every time (the choice is measured in docs/ivr.md, "Audio for phone lines")."""

from __future__ import annotations

import struct

import aiohttp

from dialer.simulator.carrier import Script
from jobs_core.model import Event
from media import composer
from media.ffmpeg import probe
from tests.e2e.dialer.conftest import VoiceStack
from tests.integration.dialer.support import add_employer, add_job, add_worker, phone

MULAW = 7  # WAVE_FORMAT_MULAW


def wav_format(data: bytes) -> tuple[int, int, int, int]:
    """(format tag, channels, sample rate, bits per sample) from a WAV file's fmt chunk."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE", data[:12]
    at = 12
    while at + 8 <= len(data):
        chunk, size = data[at : at + 4], struct.unpack("<I", data[at + 4 : at + 8])[0]
        if chunk == b"fmt ":
            tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", data[at + 8 : at + 24])
            return tag, channels, rate, bits
        at += 8 + size + (size & 1)
    raise AssertionError("no fmt chunk")


async def test_a_pitch_call_plays_8khz_mulaw_wav(stack: VoiceStack) -> None:
    employer = await add_employer(stack.sessions)
    job = await add_job(stack.sessions, employer)
    await add_worker(stack.sessions, phone(61))
    stack.scripts[phone(61)] = Script(keys=["0"])
    async with stack.sessions() as session, session.begin():
        session.add(Event(kind="job.published", payload={"job_id": job}, created_at=stack.clock.now()))

    await stack.dial()

    [call] = stack.simulator.calls.values()
    assert call.plays, "the pitch call played nothing"
    async with aiohttp.ClientSession() as http:
        for url in call.plays:
            assert url.startswith(stack.app_url + "/voice/media/") and url.endswith(".wav"), url
            async with http.get(url) as response:
                assert response.status == 200
                assert response.headers["Content-Type"] == "audio/wav"
                assert wav_format(await response.read()) == (MULAW, 1, 8000, 8)


async def test_the_served_prompt_is_mulaw_8khz_mono_and_a_cache_hit_serves_the_same_bytes(
    stack: VoiceStack,
) -> None:
    menu = composer.job_menu("km")
    path = await stack.audio.url_path(menu)
    file = stack.audio.file(path.rsplit("/", 1)[1])
    assert file is not None
    info = probe(file)
    assert (info.container, info.codec, info.sample_rate, info.channels) == ("wav", "pcm_mulaw", 8000, 1)
    rendered_at = file.stat().st_mtime_ns

    async with aiohttp.ClientSession() as http:
        async with http.get(stack.app_url + path) as response:
            assert response.headers["Content-Type"] == "audio/wav"
            first = await response.read()
        again = await stack.audio.url_path(menu)  # a cache hit: the same file, not rendered again
        async with http.get(stack.app_url + again) as response:
            second = await response.read()

    assert again == path and file.stat().st_mtime_ns == rendered_at
    assert first == second == file.read_bytes()
    assert wav_format(first) == (MULAW, 1, 8000, 8)
