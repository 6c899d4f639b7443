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
LABOUR = ("num.1", "num.2", "num.9", "num.7")
POLICE = ("num.1", "num.1", "num.7")
# Each hotline said twice: "... Labour Ministry, number 1 2 9 7, again: 1 2 9 7".
SAFETY = (
    "safety.intro",
    "safety.labour",
    *LABOUR,
    "safety.again",
    *LABOUR,
    "safety.police",
    *POLICE,
    "safety.again",
    *POLICE,
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
        *("positions.need", "sector.manufacturing", "place.in", "province.12"),
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
    assert km[4:9] == ("pay.salary", "num.4", "num.10000", "currency.khr", "period.day")
    assert en[4:9] == ("pay.salary", "num.40", "num.1000", "currency.khr", "period.day")


def test_job_abroad_names_the_country_and_unknown_countries_fall_back(caplog: pytest.LogCaptureFixture) -> None:
    # ធ្វើការនៅក្រៅប្រទេស គឺនៅប្រទេសម៉ាឡេស៊ី: "to work abroad, that is, in Malaysia"
    assert compose_pitch(PitchJob.from_listing(_listing(location="abroad: Malaysia")), "en").keys[2:5] == (
        "place.abroad",
        "place.country",
        "country.malaysia",
    )
    with caplog.at_level(logging.WARNING):
        keys = compose_pitch(PitchJob.from_listing(_listing(location="abroad: Atlantis")), "en").keys
    assert keys[2:4] == ("place.abroad", "pay.salary")
    assert "Atlantis" in caplog.text


def test_listing_without_pay_or_ages() -> None:
    job = PitchJob.from_listing(
        _listing(salary_amount=None, salary_currency=None, salary_period=None, min_age=None, max_age=None)
    )
    assert compose_pitch(job, "km").keys == (
        "positions.need",
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
    # What is needed and how many, where; pay; who may apply; hours, days, benefits, start; the safety line.
    assert km.keys[: -len(SAFETY)] == (
        *("positions.need", "sector.hospitality", "num.1", "positions.person", "place.in", "province.18"),
        *("pay.salary", "num.2", "currency.usd", "num.50", "currency.cents", "period.hour"),
        "gender.female",
        *("age.min", "num.18", "age.years", "age.up"),
        *("hours.from", "time.oclock", "num.7", "time.half", "time.morning"),
        *("word.to", "time.oclock", "num.5", "time.evening"),
        *("days.work", "num.6", "days.per_week"),
        *("benefit.intro", "benefit.meals", "benefit.accommodation", "word.and", "benefit.nssf"),
        *("start.on", "weekday.mon", "date.day", "num.2", "month.03"),
    )
    # "ត្រូវការកម្មករភោជនីយដ្ឋាន ឬសណ្ឋាគារ ១ នាក់ នៅខេត្តព្រះសីហនុ" is said in one breath.
    assert km.phrases[0] == (
        "positions.need",
        "sector.hospitality",
        "num.1",
        "positions.person",
        "place.in",
        "province.18",
    )
    en = compose_pitch(job, "en").keys
    assert (
        en[:6] == km.keys[:6]
    )  # the same order in English: "Workers needed: restaurant or hotel work, one person, in"
    assert en.index("pay.salary") < en.index("gender.female") < en.index("hours.from") < en.index("days.work")
    assert en.index("days.work") < en.index("benefit.intro") < en.index("start.on") < en.index("safety.intro")
    hours = en.index("hours.from")
    assert ("hours.from", "num.7", "time.half", "time.morning", "word.to", "num.5", "time.oclock") == en[
        hours : hours + 7
    ]
    assert en[-len(SAFETY) - 4 : -len(SAFETY)] == ("start.on", "weekday.mon", "month.03", "num.2")
    assert compose_pitch(job, "km", today=date(2026, 3, 2)).keys[-len(SAFETY) - 1] == "start.now"


def test_other_work_says_only_how_many_workers_are_needed() -> None:
    pitch = compose_pitch(PitchJob(sector="other", province_code="12", positions=5), "km")
    assert pitch.phrases[0] == ("positions.need", "num.5", "positions.people", "place.in", "province.12")


@pytest.mark.parametrize(
    ("amount", "currency", "km", "en"),
    [
        # 7.50 USD: ប្រាំពីរដុល្លារ ហាសិបសេន, never "ប្រាំពីរ ចុច ប្រាំ" (ចុច is also "press").
        ("7.50", "USD", ("num.7", "currency.usd", "num.50", "currency.cents"), None),
        ("7.5", "USD", ("num.7", "currency.usd", "num.50", "currency.cents"), None),
        ("2.25", "USD", ("num.2", "currency.usd", "num.20", "num.5", "currency.cents"), None),
        ("210", "USD", ("num.2", "num.100", "num.10", "currency.usd"), None),
        ("0.75", "USD", ("num.70", "num.5", "currency.cents"), None),
        # Exactly half a dollar: កន្លះដុល្លារ, the way people say it; English says fifty cents.
        ("0.50", "USD", ("num.half", "currency.usd"), ("num.50", "currency.cents")),
        ("1.05", "USD", ("num.1", "currency.usd", "num.5", "currency.cents"), None),
        ("0", "USD", ("num.0", "currency.usd"), None),
        # Riel has no coin below one riel: a fraction is rounded.
        ("1500.5", "KHR", ("num.1", "num.1000", "num.5", "num.100", "num.1", "currency.khr"), None),
        ("40000", "KHR", ("num.4", "num.10000", "currency.khr"), ("num.40", "num.1000", "currency.khr")),
    ],
)
def test_money_is_read_with_cents_never_with_point(
    amount: str, currency: str, km: tuple[str, ...], en: tuple[str, ...] | None
) -> None:
    assert tuple(composer.money_keys(Decimal(amount), currency, "km")) == km
    english = tuple(composer.money_keys(Decimal(amount), currency, "en"))
    assert english == (en or km)
    job = PitchJob(sector="retail", salary_amount=Decimal(amount), salary_currency=currency, salary_period="day")
    for lang in ("km", "en"):
        pay = next(p for p in compose_pitch(job, lang).phrases if p[0] == "pay.salary")
        assert "num.point" not in pay and pay[-1] == "period.day"


@pytest.mark.parametrize(
    ("start", "km_part", "en_part"),
    [
        (time(12, 30), "time.noon", "time.afternoon"),  # ម៉ោង ១២ កន្លះ ថ្ងៃត្រង់, not រសៀល
        (time(12, 0), "time.noon", "time.noon"),
        (time(12, 45), "time.noon", "time.afternoon"),
        (time(13, 0), "time.afternoon", "time.afternoon"),
        (time(11, 30), "time.morning", "time.morning"),
    ],
)
def test_the_part_of_day_a_listener_expects(start: time, km_part: str, en_part: str) -> None:
    job = PitchJob(sector="retail", hours_start=start, hours_end=time(20, 0))
    for lang, part in (("km", km_part), ("en", en_part)):
        hours = next(p for p in compose_pitch(job, lang).phrases if p[0] == "hours.from")
        assert hours[hours.index("word.to") - 1] == part


def test_hotlines_are_said_twice_with_a_pause_between_digits() -> None:
    line = composer.safety_line("km")
    assert line.keys == SAFETY
    # Every digit is its own phrase: the renderer leaves PHRASE_PAUSE_MS (~300 ms) between them.
    digit_phrases = [p for p in line.phrases if p[0].startswith("num.")]
    assert all(len(p) == 1 for p in digit_phrases) and len(digit_phrases) == 2 * (len(LABOUR) + len(POLICE))
    assert 250 <= composer.PHRASE_PAUSE_MS <= 400
    assert estimate_ms(line, _SlowClips()) == 1000 * len(SAFETY) + composer.PHRASE_PAUSE_MS * (len(SAFETY) - 1)


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
        pitch = compose_pitch(job, "km", _SlowClips(), limit_ms=40_000)
    keys = set(pitch.keys)
    assert {"start.on", "days.work", "positions.people", "num.30", "hours.from"}.isdisjoint(keys)
    assert {"positions.need", "sector.construction", "province.02", "pay.salary", "age.min", "safety.labour"} <= keys
    assert estimate_ms(pitch, _SlowClips()) <= 40_000


def test_ivr_utterances() -> None:
    assert composer.job_menu().keys == (
        "ivr.menu.intro",  # "If you are interested in this job, ..."
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
    assert composer.callback_confirmation("tomorrow").keys == ("ivr.callback.tomorrow", "ivr.goodbye")
    assert composer.another_job().keys == ("ivr.pitch.another",)
    # The check-in help call: a person will call, the hotlines, and the goodbye last.
    assert composer.checkin_help().keys == ("ivr.checkin.help", *SAFETY, "ivr.goodbye")
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
