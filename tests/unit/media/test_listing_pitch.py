"""One job → pitch mapping (media.listing_pitch) for the chat, the calls and the website."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from pathlib import Path

import bots.web.public
import conversations.cards
import conversations.notifier
import dialer.ivr.flows
from jobs_core.model import Job
from jobs_core.model.job import Currency, GenderPreference, SalaryPeriod
from media.composer import compose_pitch
from media.listing_pitch import pitch_job


def job(**changes: object) -> Job:
    fields: dict[str, object] = dict(
        id=7,
        title="Sewing",
        sector_code="manufacturing",
        province_code="12",
        country=None,
        salary_amount=Decimal("250.00"),
        salary_currency=Currency.USD,
        salary_period=SalaryPeriod.MONTH,
        hours_start=time(7),
        hours_end=time(16),
        days_per_week=6,
        positions=3,
        gender=GenderPreference.FEMALE,
        min_age=18,
        max_age=40,
        benefits=["meals"],
        start_date=date(2026, 12, 15),
        voice_clip=None,
        voice_clip_approved=False,
    )
    fields.update(changes)
    return Job(**fields)


def test_a_jobs_facts_are_what_its_pitch_says() -> None:
    facts = pitch_job(job(), with_clip=False)
    assert (facts.sector, facts.province_code, facts.salary_currency, facts.salary_period, facts.gender) == (
        "manufacturing",
        "12",
        "USD",
        "month",
        "female",
    )
    assert (facts.salary_amount, facts.positions, facts.benefits) == (Decimal("250.00"), 3, ("meals",))
    keys = compose_pitch(facts, "km").keys
    assert "sector.manufacturing" in keys and "gender.female" in keys


def test_a_job_abroad_names_its_country() -> None:
    keys = compose_pitch(pitch_job(job(country="Thailand", province_code=None), with_clip=False), "km").keys
    assert "country.thailand" in keys


def test_the_employers_recording_only_when_wanted_and_there(tmp_path: Path) -> None:
    clip = tmp_path / "employer.wav"
    clip.write_bytes(b"RIFF")
    assert pitch_job(job(voice_clip=str(clip)), with_clip=True).employer_clip == clip
    assert pitch_job(job(voice_clip=str(clip)), with_clip=False).employer_clip is None
    # A recording whose file is gone leaves the pitch without it rather than without a voice at all.
    gone = tmp_path / "gone.wav"
    assert pitch_job(job(voice_clip=str(gone)), with_clip=True).employer_clip is None


def test_codes_the_clips_do_not_know_cost_only_themselves() -> None:
    facts = pitch_job(job(sector_code="mining", benefits=["meals", "free phone"]), with_clip=False)
    assert (facts.sector, facts.benefits) == ("other", ("meals",))


def test_chat_calls_and_website_use_the_one_mapping() -> None:
    assert conversations.cards.pitch_job is pitch_job
    assert conversations.notifier.pitch_job is pitch_job
    assert dialer.ivr.flows.pitch_job is pitch_job
    assert bots.web.public.pitch_job is pitch_job
