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

from conversations.audio import VoiceNotes
from conversations.replies import JobCard, Reply, Voice
from conversations.turn import DialogDeps
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
    """The production wiring of voice notes (conversations.audio), around the held renderer."""
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
    from conversations.common import pitch_job
    from jobs_core.model import Job

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
