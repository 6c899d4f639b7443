"""What a pitch sounds like: the safety line once, at its end, and the 45 s limit applied with the pack's clips."""

from __future__ import annotations

import wave
from datetime import date, time
from decimal import Decimal
from pathlib import Path

import pytest

from dialer.ivr.flows import pitch_of
from dialer.ivr.prompt_audio import MediaAudio, SilentAudio
from dialer.simulator.carrier import Script
from jobs_core.model import Currency, Event, GenderPreference, Job, JobStatus, SalaryPeriod
from media import composer
from media.composer import PITCH_LIMIT_MS, Utterance, estimate_ms
from media.listing_pitch import pitch_job
from tests.e2e.dialer.conftest import VoiceStack
from tests.integration.dialer.support import add_employer, add_job, add_worker, phone

SAFETY_KEYS = composer.safety_line("km").keys


def occurrences(keys: tuple[str, ...], run: tuple[str, ...]) -> int:
    return sum(1 for i in range(len(keys) - len(run) + 1) if keys[i : i + len(run)] == run)


def long_job(clip: Path | None = None) -> Job:
    """A job with every optional detail, and an approved employer clip when given."""
    return Job(
        id=7,
        employer_id=1,
        title="Sewing operator",
        sector_code="manufacturing",
        province_code="12",
        salary_amount=Decimal("5689443"),
        salary_currency=Currency.KHR,
        salary_period=SalaryPeriod.MONTH,
        hours_start=time(7, 0),
        hours_end=time(16, 30),
        days_per_week=6,
        benefits=["meals", "housing", "transport", "insurance"],
        gender=GenderPreference.FEMALE,
        min_age=18,
        max_age=45,
        positions=250,
        start_date=date(2026, 4, 20),
        status=JobStatus.PUBLISHED,
        risk_reasons=[],
        voice_clip=str(clip) if clip else None,
        voice_clip_approved=clip is not None,
    )


def silent_wav(path: Path, seconds: float) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\0\0" * int(16000 * seconds))
    return path


async def test_the_safety_line_is_heard_exactly_once_per_pitch(
    stack: VoiceStack, audio: MediaAudio, monkeypatch: pytest.MonkeyPatch
) -> None:
    spoken: list[Utterance] = []
    render = audio.url_path

    async def recording(utterance: Utterance) -> str:
        spoken.append(utterance)
        return await render(utterance)

    monkeypatch.setattr(audio, "url_path", recording)
    employer = await add_employer(stack.sessions)
    job = await add_job(stack.sessions, employer)
    await add_worker(stack.sessions, phone(41))
    stack.scripts[phone(41)] = Script(keys=["0"])
    async with stack.sessions() as session, session.begin():
        session.add(Event(kind="job.published", payload={"job_id": job}, created_at=stack.clock.now()))
    [call_id] = await stack.dial()
    sim_call = stack.simulator.placed[0]
    assert sim_call.pressed == ["0"]
    # Everything played in the call, in order: the safety line once, and right where the pitch ends.
    keys = tuple(k for utterance in spoken for k in utterance.keys)
    assert occurrences(keys, SAFETY_KEYS) == 1
    assert keys.count("safety.intro") == keys.count("safety.labour") == keys.count("safety.police") == 1
    pitch = next(u for u in spoken if "safety.intro" in u.keys)
    assert pitch.keys[-len(SAFETY_KEYS) :] == SAFETY_KEYS
    assert call_id and "<Say" not in sim_call.twiml[0]  # every prompt was real audio


def test_pitch_has_one_safety_line_without_durations_too() -> None:
    keys = pitch_of(long_job(), "km", SilentAudio().durations("km")).keys
    assert occurrences(keys, SAFETY_KEYS) == 1 and keys[-len(SAFETY_KEYS) :] == SAFETY_KEYS


def test_pitches_are_cut_to_45_seconds_with_the_packs_clip_lengths(audio: MediaAudio, tmp_path: Path) -> None:
    durations = audio.durations("km")
    assert durations is not None
    job = long_job(silent_wav(tmp_path / "employer.wav", 40.0))
    uncut = composer.compose_pitch(pitch_job(job, job.voice_clip_approved), "km")
    assert estimate_ms(uncut, durations) > PITCH_LIMIT_MS  # the employer's 40 s clip alone nearly fills it
    pitch = pitch_of(job, "km", durations)
    assert estimate_ms(pitch, durations) <= PITCH_LIMIT_MS
    assert not any(k.startswith("employer:") for k in pitch.keys)
    # What a worker must hear to judge a job safely is never dropped.
    for key in ("sector.manufacturing", "pay.salary", "gender.female", "safety.intro"):
        assert key in pitch.keys
    assert pitch.keys[-len(SAFETY_KEYS) :] == SAFETY_KEYS


def test_a_pitch_that_fits_is_left_whole(audio: MediaAudio) -> None:
    durations = audio.durations("km")
    assert durations is not None
    job = long_job()
    job.benefits, job.start_date, job.hours_start, job.hours_end = ["meals"], None, None, None
    # A short pay figure: with both hotlines said twice, 5 689 443 riel alone would tip it over 45 s.
    job.salary_amount, job.salary_currency = Decimal("250"), Currency.USD
    assert pitch_of(job, "km", durations).keys == pitch_of(job, "km").keys
