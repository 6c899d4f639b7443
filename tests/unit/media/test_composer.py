"""Job → clip keys: the pitch for sample listings, its length, and the IVR's fixed utterances."""

from __future__ import annotations

import json
import logging
from datetime import date, time
from decimal import Decimal
from pathlib import Path

import pytest

from media import composer
from media.composer import PITCH_LIMIT_MS, PitchJob, Utterance, compose_pitch, estimate_ms, pitch_duration_report
from media.packs import PromptPack
from media.sample_jobs import sample_pitch_jobs

SAMPLES = Path(__file__).with_name("screening-sample.jsonl")  # the screening samples shared by the project
SAFETY = (
    "safety.intro",
    "safety.labour",
    "num.1",
    "num.2",
    "num.9",
    "num.7",
    "safety.police",
    "num.1",
    "num.1",
    "num.7",
)


def _listing(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "s01",
        "title": "Sewing machine operators",
        "location": "Phnom Penh",
        "sector": "manufacturing",
        "salary_amount": 210,
        "salary_currency": "USD",
        "salary_period": "month",
        "min_age": 18,
        "max_age": 45,
    }
    return {**base, **fields}


def test_garment_job_in_phnom_penh() -> None:
    pitch = compose_pitch(PitchJob.from_listing(_listing()), "km")
    assert pitch.keys == (
        "sector.manufacturing",
        *("place.in", "province.12"),
        *("pay.salary", "num.2", "num.100", "num.10", "currency.usd", "period.month"),
        *("age.from", "num.18", "word.to", "num.40", "num.5", "age.years"),
        *SAFETY,
    )


def test_riel_per_day_in_siem_reap() -> None:
    job = PitchJob.from_listing(
        _listing(location="Siem Reap", salary_amount=40000, salary_currency="KHR", salary_period="day")
    )
    assert job.province_code == "17"
    km, en = compose_pitch(job, "km").keys, compose_pitch(job, "en").keys
    assert km[3:8] == ("pay.salary", "num.4", "num.10000", "currency.khr", "period.day")
    assert en[3:8] == ("pay.salary", "num.40", "num.1000", "currency.khr", "period.day")


def test_job_abroad_names_the_country_and_unknown_countries_fall_back(caplog: pytest.LogCaptureFixture) -> None:
    assert compose_pitch(PitchJob.from_listing(_listing(location="abroad: Malaysia")), "en").keys[1:3] == (
        "place.abroad",
        "country.malaysia",
    )
    with caplog.at_level(logging.WARNING):
        keys = compose_pitch(PitchJob.from_listing(_listing(location="abroad: Atlantis")), "en").keys
    assert keys[1:3] == ("place.abroad", "pay.salary")
    assert "Atlantis" in caplog.text


def test_listing_without_pay_or_ages() -> None:
    job = PitchJob.from_listing(
        _listing(salary_amount=None, salary_currency=None, salary_period=None, min_age=None, max_age=None)
    )
    assert compose_pitch(job, "km").keys == (
        "sector.manufacturing",
        "place.in",
        "province.12",
        "pay.negotiable",
        *SAFETY,
    )


def test_every_sample_listing_composes() -> None:
    for line in SAMPLES.read_text().splitlines():
        for lang in ("km", "en"):
            assert compose_pitch(PitchJob.from_listing(json.loads(line)), lang).keys[-len(SAFETY) :] == SAFETY


def test_a_job_with_every_detail_in_order() -> None:
    job = PitchJob(
        sector="hospitality",
        province_code="18",
        salary_amount=Decimal("2.5"),
        salary_currency="USD",
        salary_period="hour",
        hours_start=time(7, 30),
        hours_end=time(17, 0),
        days_per_week=6,
        benefits=("meals", "accommodation", "nssf"),
        gender="female",
        min_age=18,
        positions=1,
        start_date=date(2026, 3, 2),
    )
    km = compose_pitch(job, "km")
    assert km.keys[: -len(SAFETY)] == (
        "sector.hospitality",
        *("place.in", "province.18"),
        *("pay.salary", "num.2", "num.point", "num.5", "currency.usd", "period.hour"),
        *("hours.from", "time.oclock", "num.7", "time.half", "time.morning"),
        *("word.to", "time.oclock", "num.5", "time.evening"),
        *("days.work", "num.6", "days.per_week"),
        *("benefit.intro", "benefit.meals", "benefit.accommodation", "word.and", "benefit.nssf"),
        "gender.female",
        *("age.min", "num.18", "age.years", "age.up"),
        *("positions.need", "num.1", "positions.person"),
        *("start.on", "weekday.mon", "date.day", "num.2", "month.03"),
    )
    en = compose_pitch(job, "en").keys
    assert ("hours.from", "num.7", "time.half", "time.morning", "word.to", "num.5", "time.oclock") == en[9:16]
    assert en[-len(SAFETY) - 4 : -len(SAFETY)] == ("start.on", "weekday.mon", "month.03", "num.2")
    assert compose_pitch(job, "km", today=date(2026, 3, 2)).keys[-len(SAFETY) - 1] == "start.now"


def test_employer_clip_is_spliced_before_the_safety_line(tmp_path: Path) -> None:
    clip = tmp_path / "employer-abc.wav"
    pitch = compose_pitch(PitchJob(sector="retail", employer_clip=clip), "km")
    assert pitch.parts[-len(SAFETY) - 2 : -len(SAFETY)] == ("employer.intro", clip)
    assert "employer:employer-abc.wav" in pitch.keys


@pytest.mark.parametrize("lang", ["km", "en"])
def test_pitches_fit_one_billed_minute(lang: str, packs: dict[str, PromptPack]) -> None:
    report = pitch_duration_report(sample_pitch_jobs(300), lang, packs[lang])
    assert report.over_limit == 0 and report.max_ms <= PITCH_LIMIT_MS
    assert 15_000 < report.median_ms < PITCH_LIMIT_MS
    assert str(report).startswith("300 pitches")


class _SlowClips:
    """Every clip lasts a second: long enough that a full pitch must be shortened."""

    def duration_ms(self, part: str | Path) -> int:
        return 1000


def test_overlong_pitch_drops_optional_details_first(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    job = PitchJob(
        sector="construction",
        province_code="02",
        salary_amount=250,
        salary_currency="USD",
        salary_period="month",
        hours_start=time(7),
        hours_end=time(16),
        days_per_week=6,
        benefits=("meals", "transport"),
        positions=30,
        start_date=date(2026, 5, 4),
        min_age=18,
        employer_clip=tmp_path / "employer.wav",
    )
    with caplog.at_level(logging.INFO):
        pitch = compose_pitch(job, "km", _SlowClips(), limit_ms=30_000)
    keys = set(pitch.keys)
    assert {"start.on", "days.work", "positions.need", "hours.from"}.isdisjoint(keys)
    assert {"sector.construction", "province.02", "pay.salary", "age.min", "safety.labour"} <= keys
    assert estimate_ms(pitch, _SlowClips()) <= 30_000


def test_ivr_utterances() -> None:
    assert composer.job_menu().keys == (
        "ivr.menu.apply",
        "ivr.menu.callback_hour",
        "ivr.menu.callback_tomorrow",
        "ivr.menu.repeat",
        "ivr.menu.stop",
        "ivr.menu.goodbye",
    )
    assert composer.consent_call("sibling", "en").keys == (
        "ivr.intro",
        "ivr.recommended.sibling",
        "ivr.service",
        "ivr.consent.question",
    )
    assert composer.callback_confirmation("tomorrow").keys == ("ivr.callback.tomorrow",)
    assert composer.safety_line().keys == SAFETY
    for make in (composer.experience_question, composer.company_will_contact, composer.invalid_key, composer.goodbye):
        assert len(make("km").keys) == 1
    assert composer.checkin_question().keys == ("ivr.checkin.question",)
    with pytest.raises(ValueError):
        composer.recommended_by("cousin")


def test_bad_jobs_are_refused() -> None:
    with pytest.raises(ValueError):
        PitchJob(sector="mining")
    with pytest.raises(ValueError):
        PitchJob(sector="other", benefits=("free phone",))
    with pytest.raises(ValueError):
        PitchJob.from_listing(_listing(location="Gotham"))
    with pytest.raises(ValueError):
        Utterance("th", ())
    with pytest.raises(ValueError):
        composer.intro("km") + composer.intro("en")
