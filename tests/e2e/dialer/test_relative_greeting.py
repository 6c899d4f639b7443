"""The worker hears whom the call is from: a relative records a short greeting while nominating them in chat,
and the consent call and the job calls play it right after the recommender clip."""

from __future__ import annotations

import asyncio
import math
import struct
import wave
from pathlib import Path
from xml.etree import ElementTree

import pytest
from aiohttp import ClientSession
from sqlalchemy import select

from conversations.dialog import handle, prepare
from conversations.turn import DialogDeps
from conversations.voice_notes import greeting_normaliser
from dialer.simulator.carrier import Script, SimCall
from jobs_core.model import Call, CallPurpose, Event, Nomination
from media import composer
from media.composer import Utterance
from media.ffmpeg import decode_pcm
from tests.e2e.dialer.conftest import VoiceStack
from tests.integration.conversations.conftest import Chat
from tests.integration.dialer.support import add_employer, add_job

SOPHEA = "+85512345678"


def kept_greetings(tmp_path: Path) -> list[Path]:
    return list((tmp_path / "greetings").glob("*.wav"))


def spoken_wav(path: Path, seconds: float) -> Path:
    """A recording that is not silence (a voice-like tone), as a relative's phone might send."""
    rate = 16_000
    frames = b"".join(
        struct.pack("<h", int(9000 * math.sin(2 * math.pi * 220 * i / rate))) for i in range(int(rate * seconds))
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)
    return path


async def send_voice(chat: Chat, path: Path) -> None:
    """A voice note as an adapter hands it over: prepared (normalised) before the turn, then handled."""
    chat.last = await handle(await prepare(chat.incoming(voice=path), chat.deps), chat.deps)


async def nominate_sophea(chat: Chat, greeting: Path | None) -> None:
    await chat.start()
    await chat.send("/nominate")
    await chat.send("Sophea")
    await chat.send("012 345 678")
    await chat.press("Brother or sister")
    await chat.press("Woman")
    await chat.send("2000")
    await chat.press("Kampong Cham")
    await chat.press("Done")
    assert "up to 5 seconds" in chat.text
    if greeting is None:
        await chat.press("Skip")
    else:
        await send_voice(chat, greeting)
        assert "Your greeting is recorded" in chat.text
    await chat.press("Yes, they agreed")
    assert "We added Sophea" in chat.text


@pytest.fixture
def relative(stack: VoiceStack, tmp_path: Path) -> Chat:
    deps = DialogDeps(
        session_factory=stack.sessions,
        clock=stack.clock.now,
        greeting_normaliser=greeting_normaliser(tmp_path / "greetings"),
    )
    return Chat(deps, "7301")


def record_renders(stack: VoiceStack, monkeypatch: pytest.MonkeyPatch) -> dict[str, Utterance]:
    """URL → the utterance rendered for it, for every <Play> of the calls."""
    rendered: dict[str, Utterance] = {}
    render = stack.audio.url_path

    async def recording(utterance: Utterance) -> str:
        path = await render(utterance)
        rendered[stack.app_url + path] = utterance
        return path

    monkeypatch.setattr(stack.audio, "url_path", recording)
    return rendered


def opening_plays(sim_call: SimCall) -> list[str]:
    """The media URLs of the call's first TwiML (what the worker hears before pressing anything)."""
    return [(verb.text or "").strip() for verb in ElementTree.fromstring(sim_call.twiml[0]).iter("Play")]


async def seconds_of(url: str, tmp_path: Path) -> float:
    async with ClientSession() as http, http.get(url) as response:
        assert response.status == 200 and response.content_type == "audio/wav"
        body = await response.read()
    played = tmp_path / "played.wav"
    played.write_bytes(body)
    return len(decode_pcm(played, 8000)) / 2 / 8000


async def test_the_consent_call_plays_the_relatives_greeting_after_the_recommender_clip(
    stack: VoiceStack, relative: Chat, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await nominate_sophea(relative, spoken_wav(tmp_path / "hello.wav", 2.0))
    async with stack.sessions() as session:
        nomination = await session.scalar(select(Nomination))
        assert nomination is not None and nomination.greeting_clip is not None
        greeting = Path(nomination.greeting_clip)
        assert greeting.parent == tmp_path / "greetings" and greeting in kept_greetings(tmp_path)
    rendered = record_renders(stack, monkeypatch)
    stack.scripts[SOPHEA] = Script(keys=["1"])
    await stack.dial()
    [sim_call] = stack.simulator.placed
    assert sim_call.to == SOPHEA and not sim_call.says
    recommender, said, rest = opening_plays(sim_call)
    assert rendered[recommender].keys == ("ivr.intro", "ivr.recommended.sibling")
    assert rendered[said].keys == ("ivr.greeting.intro", f"employer:{greeting.name}")
    assert rendered[rest] == composer.service_description("km") + composer.consent_question("km")
    # The greeting's URL serves audio: the "they have a message for you" clip and the 2 s greeting.
    assert await seconds_of(said, tmp_path) > 2.0

    # Once she agreed, the job call opens the same way: recommender, greeting, then the pitch.
    employer = await add_employer(stack.sessions)
    job = await add_job(stack.sessions, employer, province="03")
    async with stack.sessions() as session, session.begin():
        session.add(Event(kind="job.published", payload={"job_id": job}, created_at=stack.clock.now()))
    stack.scripts[SOPHEA] = Script(keys=["0"])
    stack.clock.advance(seconds=1)
    await stack.dial()
    async with stack.sessions() as session:
        purposes = (await session.scalars(select(Call.purpose).order_by(Call.id))).all()
    assert CallPurpose.JOB_PITCH in purposes
    pitch_call = stack.simulator.placed[-1]
    assert [rendered[url].keys[0] for url in opening_plays(pitch_call)[:3]] == [
        "ivr.intro",
        "ivr.greeting.intro",
        "ivr.pitch.intro",
    ]


async def test_without_a_greeting_the_relation_clip_is_all_and_a_long_greeting_is_refused(
    stack: VoiceStack, relative: Chat, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await relative.start()
    await relative.send("/nominate")
    for answer in ("Sophea", "012 345 678"):
        await relative.send(answer)
    for button in ("Brother or sister", "Woman"):
        await relative.press(button)
    await relative.send("2000")
    await relative.press("Kampong Cham")
    await relative.press("Done")
    await send_voice(relative, spoken_wav(tmp_path / "long.wav", 7.0))
    assert "too long" in relative.text and "5 seconds" in relative.text
    assert (await relative.state()).step == "nominate.greeting"  # type: ignore[union-attr]
    await relative.press("Skip")
    assert "Your greeting is recorded" not in relative.text
    await relative.press("Yes, they agreed")
    async with stack.sessions() as session:
        nomination = await session.scalar(select(Nomination))
        assert nomination is not None and nomination.greeting_clip is None
    assert not kept_greetings(tmp_path)  # the refused one was never kept
    rendered = record_renders(stack, monkeypatch)
    stack.scripts[SOPHEA] = Script(keys=["9"])
    await stack.dial()
    [sim_call] = stack.simulator.placed
    [played] = opening_plays(sim_call)
    assert rendered[played] == composer.consent_call("sibling", "km")


async def test_a_greeting_whose_file_is_gone_leaves_the_relation_clip(
    stack: VoiceStack, relative: Chat, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await nominate_sophea(relative, spoken_wav(tmp_path / "hello.wav", 1.5))
    async with stack.sessions() as session:
        nomination = await session.scalar(select(Nomination))
        assert nomination is not None and nomination.greeting_clip is not None
    await asyncio.to_thread(Path(nomination.greeting_clip).unlink)
    rendered = record_renders(stack, monkeypatch)
    stack.scripts[SOPHEA] = Script(keys=["1"])
    await stack.dial()
    [sim_call] = stack.simulator.placed
    assert [rendered[url] for url in opening_plays(sim_call)] == [composer.consent_call("sibling", "km")]


def test_a_greeting_is_its_own_utterance_after_the_recommender(tmp_path: Path) -> None:
    clip = tmp_path / "g.wav"
    assert composer.greeting(clip, "en").parts == ("ivr.greeting.intro", clip)
