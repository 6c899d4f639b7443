"""A dialog turn never waits for ffmpeg: job cards and review cards take voice notes from the audio cache.

The real composer and renderer (bundled placeholder packs, an empty cache) with the render held back at a
gate: a turn that rendered inside its transaction would hang at the gate instead of answering.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from conversations.replies import AskVoice, JobCard, Reply, Voice
from conversations.turn import DialogDeps
from conversations.voice_notes import VoiceNotes
from media.composer import Utterance
from media.packs import load_packs
from media.renderer import Format, Renderer
from tests.builders import Builder
from tests.integration.conversations.conftest import MODERATOR, Chat
from tests.integration.conversations.test_moderator import pending

TURN_LIMIT = 60.0  # far beyond any turn: reaching it means the turn waited for the held-back render


class HeldRenderer:
    """The renderer, with every render waiting at a gate and recorded."""

    def __init__(self, cache: Path) -> None:
        self.renderer = Renderer(load_packs(cache), cache)
        self.gate = asyncio.Event()
        self.renders: list[tuple[str, Format]] = []
        real = self.renderer.render_async

        async def held(utterance: Utterance, fmt: Format) -> Path:
            self.renders.append((utterance.lang, fmt))
            await self.gate.wait()
            return await real(utterance, fmt)

        self.renderer.render_async = held  # type: ignore[method-assign]


@pytest.fixture
def held(tmp_path: Path) -> HeldRenderer:
    return HeldRenderer(tmp_path / "audio")


@pytest.fixture
def notes(held: HeldRenderer) -> VoiceNotes:
    return VoiceNotes(held.renderer)


@pytest.fixture
def voiced(deps: DialogDeps, notes: VoiceNotes) -> DialogDeps:
    """The production wiring of voice notes (conversations.voice_notes), around the held renderer."""
    return replace(deps, audio=notes.make, cached_audio=notes.ready)


async def answered(turn: Awaitable[list[Reply]]) -> list[Reply]:
    return await asyncio.wait_for(turn, TURN_LIMIT)


async def until(check: Callable[[], bool]) -> None:
    for _ in range(1000):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the background render was never asked for")


async def test_browsing_answers_without_waiting_for_a_render_and_the_note_is_there_next_time(
    voiced: DialogDeps, held: HeldRenderer, notes: VoiceNotes, build: Builder
) -> None:
    job_id = await build.published(province="Kampot")
    chat = Chat(voiced, "7001")
    await chat.start()

    await answered(chat.act("jobs:-:-:0"))
    [card] = chat.cards()
    # Not rendered yet: the card goes out with its words and buttons, without a voice note.
    assert card.job_id == job_id and "Sewing machine operators" in card.text and card.voice is None
    assert "Jobs 1–1" in chat.text
    state = await chat.state()
    assert state is not None and state.started  # the turn committed while the render was held back
    await until(lambda: bool(held.renders))
    # Another look meanwhile neither waits nor asks for a second render of the same note.
    await answered(chat.act("jobs:-:-:0"))
    assert chat.cards()[0].voice is None

    held.gate.set()
    await notes.rendered()
    assert held.renders == [("en", "ogg"), ("en", "mp3")]
    await answered(chat.act("jobs:-:-:0"))
    voice = chat.cards()[0].voice
    assert voice is not None and voice.ogg is not None and voice.mp3 is not None
    assert voice.ogg.read_bytes()[:4] == b"OggS" and voice.audio_id == voice.ogg.stem
    assert held.renders == [("en", "ogg"), ("en", "mp3")]  # read from the cache, not rendered again


async def test_a_review_card_comes_without_its_pitch_until_the_pitch_is_rendered(
    voiced: DialogDeps, held: HeldRenderer, notes: VoiceNotes, build: Builder
) -> None:
    job_id = await pending(build)
    moderator = Chat(voiced, MODERATOR)
    await moderator.start()
    await moderator.send("/mod")
    await answered(moderator.press("Jobs waiting for review"))
    assert f"Job #{job_id} for review" in moderator.text
    assert not [r for r in moderator.last if isinstance(r, Voice)]
    await until(lambda: bool(held.renders))

    held.gate.set()
    await notes.rendered()
    await moderator.send("/mod")
    await answered(moderator.press("Jobs waiting for review"))
    [pitch] = [r for r in moderator.last if isinstance(r, Voice)]
    assert f"Job #{job_id}: what callers will hear" in pitch.caption


async def test_publication_renders_with_make_so_the_first_browse_has_the_note(
    voiced: DialogDeps, held: HeldRenderer, notes: VoiceNotes, build: Builder
) -> None:
    """What the notifier does at publication (no transaction of an update open): ``make`` renders now."""
    from jobs_core.model import Job
    from media.listing_pitch import pitch_job

    job_id = await build.published()
    held.gate.set()
    async with voiced.session_factory() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        assert await notes.make(pitch_job(job, False), "en") is not None
    chat = Chat(voiced, "7002")
    await chat.start()
    await answered(chat.act("jobs:-:-:0"))
    cards: list[JobCard] = chat.cards()
    assert cards[0].voice is not None
    assert held.renders == [("en", "ogg"), ("en", "mp3")]


async def at_the_voice_question(chat: Chat) -> None:
    """An employer posting a job abroad, every optional field skipped, up to the voice description."""
    from tests.integration.conversations.test_employer import register

    await chat.start()
    await register(chat)
    await chat.act("post")
    await chat.send("Farm workers")
    await chat.press("Agriculture")
    await chat.press("Abroad")
    await chat.send("Thailand")
    await chat.press("Skip")  # description
    await chat.send("$300/month")  # pay
    await chat.send("7-16")  # hours
    await chat.press("Skip")  # days
    await chat.send("5")
    await chat.press("Men and women")
    await chat.press("Skip")  # ages
    await chat.press("Done")
    await chat.press("Skip")  # start
    await chat.press("Skip")  # contact


async def test_an_employers_recording_is_normalised_before_the_turn_and_the_turn_only_attaches_it(
    deps: DialogDeps, tmp_path: Path
) -> None:
    from conversations.dialog import handle, prepare
    from jobs_core.model import Job

    normalised: list[Path] = []

    async def normaliser(upload: Path) -> Path:
        normalised.append(upload)
        if upload.suffix == ".bad":
            from media.employer_clip import EmployerClipRejected

            raise EmployerClipRejected("too_long", "31 s")
        return upload.with_suffix(".wav")

    async def no_normalising_in_a_turn(upload: Path) -> Path:
        raise AssertionError("a turn normalised a recording the adapter had prepared")

    chat = Chat(replace(deps, clip_normaliser=normaliser), "5001")
    # Anyone else's recording is left alone: nothing is normalised for a relative's voice message.
    assert (await prepare(chat.incoming(voice=tmp_path / "hello.ogg"), chat.deps)).voice_clip is None
    assert normalised == []
    await at_the_voice_question(chat)
    in_turn = replace(deps, clip_normaliser=no_normalising_in_a_turn)

    too_long = await prepare(chat.incoming(voice=tmp_path / "long.bad"), chat.deps)
    assert too_long.voice_problem == "too_long"
    chat.last = await handle(too_long, in_turn)
    assert "too long" in chat.text and isinstance(chat.last[-1], AskVoice)

    ready = await prepare(chat.incoming(voice=tmp_path / "clip.ogg"), chat.deps)
    assert ready.voice_clip == tmp_path / "clip.wav"
    chat.last = await handle(ready, in_turn)
    assert "This is how your job will look" in chat.text
    assert normalised == [tmp_path / "long.bad", tmp_path / "clip.ogg"]
    async with deps.session_factory() as session:
        job = await session.scalar(select(Job))
        assert job is not None and job.voice_clip == str(tmp_path / "clip.wav")
