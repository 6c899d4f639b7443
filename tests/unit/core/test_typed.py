"""Typed answers: dates, hours, pay and years as people type them, and every value written back read again."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobs_core.errors import InvalidField
from jobs_core.typed import (
    Hours,
    Pay,
    format_date,
    format_hours,
    format_pay,
    khmer_digits,
    parse_date,
    parse_hours,
    parse_pay,
    parse_year,
)

TODAY = date(2026, 11, 29)
NOISE = st.sampled_from(["", " ", "  ", "\u200b", "🙂", " 👍 ", "\ufeff", "\u200b "])


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("15/12/2026", date(2026, 12, 15)),
        ("15-12-26", date(2026, 12, 15)),
        ("15.12.2026", date(2026, 12, 15)),
        ("2026-12-15", date(2026, 12, 15)),
        ("១៥/១២/២០២៦", date(2026, 12, 15)),
        ("15 ធ្នូ", date(2026, 12, 15)),
        ("១៥ ធ្នូ", date(2026, 12, 15)),
        ("ថ្ងៃទី១៥ ខែធ្នូ ឆ្នាំ២០២៦", date(2026, 12, 15)),
        ("15\u200bធ្នូ", date(2026, 12, 15)),
        ("3 មករា", date(2027, 1, 3)),  # no year: the next 3 January
        ("15/12", date(2026, 12, 15)),
        ("១/១", date(2027, 1, 1)),
        ("10 កុម្ភ", date(2027, 2, 10)),
        ("15 December 2026", date(2026, 12, 15)),
        ("Dec 15", date(2026, 12, 15)),
        ("15th dec", date(2026, 12, 15)),
        (" 15 / 12 / 2026 🙂 ", date(2026, 12, 15)),
    ],
)
def test_dates_as_people_type_them(typed: str, expected: date) -> None:
    assert parse_date(typed, TODAY) == expected


@pytest.mark.parametrize("typed", ["31/02/2026", "15/13/2026", "tomorrow", "15", "ធ្នូ", "", "12/2026", "31/2"])
def test_what_is_not_a_date_is_refused_as_a_date(typed: str) -> None:
    with pytest.raises(InvalidField) as refused:
        parse_date(typed, TODAY)
    assert refused.value.code == "invalid_date"


@given(st.dates(date(2000, 1, 1), date(2099, 12, 31)), st.sampled_from(["en", "km"]), NOISE, NOISE)
def test_a_written_date_reads_back(day: date, language: str, before: str, after: str) -> None:
    assert parse_date(before + format_date(day, language) + after, TODAY) == day
    assert parse_date(day.isoformat(), TODAY) == day
    assert parse_date(khmer_digits(f"{day.day}-{day.month}-{day.year % 100:02d}"), TODAY) == day


@pytest.mark.parametrize(
    ("typed", "start", "end", "guessed"),
    [
        ("07:00-16:00", time(7), time(16), False),
        ("7am-4pm", time(7), time(16), False),
        ("7 AM to 4 PM", time(7), time(16), False),
        ("7-16", time(7), time(16), False),
        ("7-4pm", time(7), time(16), False),
        ("៧ព្រឹក ដល់ ៤ល្ងាច", time(7), time(16), False),
        ("ម៉ោង ៧ព្រឹក ដល់ ម៉ោង ៥ល្ងាច", time(7), time(17), False),
        ("៧:៣០ - ១៦:៣០", time(7, 30), time(16, 30), False),
        ("៧ ដល់ ៤", time(7), time(16), True),
        ("7-4", time(7), time(16), True),
        ("22-6", time(22), time(6), False),
        ("8-12", time(8), time(12), False),
        ("7\u200b-\u200b16 🕖", time(7), time(16), False),
        ("7h-16h", time(7), time(16), False),
        ("7:30am-4:30pm", time(7, 30), time(16, 30), False),
        ("from 7am to 4pm", time(7), time(16), False),
        ("ពីម៉ោង៧ព្រឹក ដល់ម៉ោង៥ល្ងាច", time(7), time(17), False),
        ("៨ព្រឹក-១២ថ្ងៃត្រង់", time(8), time(12), False),
    ],
)
def test_hours_as_people_type_them(typed: str, start: time, end: time, guessed: bool) -> None:
    assert parse_hours(typed) == Hours(start, end, guessed)


def test_a_shift_over_fourteen_hours_is_long() -> None:
    assert parse_hours("6-22").long
    assert parse_hours("22-6").length == timedelta(hours=8)
    assert not parse_hours("7-16").long


@pytest.mark.parametrize("typed", ["7", "25-26", "7:75-16", "morning", "7-16-18", "", "13pm-4"])
def test_what_is_not_a_shift_is_refused_as_a_time(typed: str) -> None:
    with pytest.raises(InvalidField) as refused:
        parse_hours(typed)
    assert refused.value.code == "invalid_time"


@given(st.times(), st.times(), NOISE)
def test_written_hours_read_back(start: time, end: time, noise: str) -> None:
    hours = Hours(start.replace(second=0, microsecond=0), end.replace(second=0, microsecond=0))
    assert parse_hours(format_hours(hours) + noise) == hours
    assert parse_hours(khmer_digits(format_hours(hours).replace("-", " ដល់ "))) == hours


@pytest.mark.parametrize(
    ("typed", "pay"),
    [
        ("250", Pay(Decimal(250), None)),
        ("$250", Pay(Decimal(250), "USD")),
        ("250$", Pay(Decimal(250), "USD")),
        ("250 ដុល្លារ", Pay(Decimal(250), "USD")),
        ("២៥០ដុល្លារ", Pay(Decimal(250), "USD")),
        ("៥០ម៉ឺនរៀល", Pay(Decimal(500_000), "KHR")),
        ("៥០ ម៉ឺន", Pay(Decimal(500_000), "KHR")),
        ("500000 riel", Pay(Decimal(500_000), "KHR")),
        ("500,000៛", Pay(Decimal(500_000), "KHR")),
        ("500k", Pay(Decimal(500_000), "KHR")),
        ("1.5 លាន", Pay(Decimal(1_500_000), "KHR")),
        ("1លាន 2សែន រៀល", Pay(Decimal(1_200_000), "KHR")),
        ("$250/month", Pay(Decimal(250), "USD", "month")),
        ("២៥០ដុល្លារ ក្នុងមួយខែ", Pay(Decimal(250), "USD", "month")),
        ("$12.50 per day", Pay(Decimal("12.50"), "USD", "day")),
        ("២៥០ដុល្លារ/ខែ", Pay(Decimal(250), "USD", "month")),
        ("250$ ក្នុង១ខែ", Pay(Decimal(250), "USD", "month")),
        ("៣ម៉ឺនរៀល ក្នុងមួយថ្ងៃ", Pay(Decimal(30_000), "KHR", "day")),
        ("💵 $ 250 🙂", Pay(Decimal(250), "USD")),
    ],
)
def test_pay_as_people_type_it(typed: str, pay: Pay) -> None:
    assert parse_pay(typed) == pay


@pytest.mark.parametrize("typed", ["", "$", "two hundred", "250 ដុល្លារ 3", "0", "-5", "1.234", "$$"])
def test_what_is_not_an_amount_is_refused_as_a_number(typed: str) -> None:
    with pytest.raises(InvalidField) as refused:
        parse_pay(typed)
    assert refused.value.code == "not_a_number"


@given(
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal(80_000_000), places=2),
    st.sampled_from(["USD", "KHR"]),
    st.sampled_from(["en", "km"]),
    NOISE,
)
def test_written_pay_reads_back_with_its_currency(amount: Decimal, currency: str, language: str, noise: str) -> None:
    assert parse_pay(noise + format_pay(amount, currency, language) + noise) == Pay(amount, currency)


@pytest.mark.parametrize("typed", ["1998", "១៩៩៨", "ឆ្នាំ១៩៩៨", " 1998 🙂", "born in 1998", "1998\u200b"])
def test_years_as_people_type_them(typed: str) -> None:
    assert parse_year(typed, minimum=1946, maximum=2011) == 1998


@pytest.mark.parametrize(("typed", "code"), [("98", "not_a_year"), ("1930", "too_small"), ("2020", "too_large")])
def test_a_year_out_of_range_or_short_is_refused(typed: str, code: str) -> None:
    with pytest.raises(InvalidField) as refused:
        parse_year(typed, minimum=1946, maximum=2011)
    assert refused.value.code == code


@given(st.integers(1946, 2011), st.booleans(), NOISE)
def test_a_written_year_reads_back(year: int, khmer: bool, noise: str) -> None:
    written = khmer_digits(str(year)) if khmer else str(year)
    assert parse_year(noise + written + noise, minimum=1946, maximum=2011) == year


def test_hundreds_of_typed_digits_are_not_an_amount_and_raise_nothing_else() -> None:
    for typed in ("១" * 300, "9" * 40, "$" + "5" * 29):
        with pytest.raises(InvalidField):
            parse_pay(typed)
