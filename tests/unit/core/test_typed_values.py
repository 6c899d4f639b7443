"""Numbers, phones, provinces and free text as people type them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobs_core import geo
from jobs_core.errors import InvalidField
from jobs_core.numbers import latin_digits, parse_amount, parse_int
from jobs_core.phones import mask_phone, normalize_phone
from jobs_core.text import clean_text

KHMER = "០១២៣៤៥៦៧៨៩"


@pytest.mark.parametrize(
    ("typed", "value"),
    [("1500", 1500), ("១៥០០", 1500), ("1,500", 1500), ("១,៥០០", 1500), ("1 500", 1500), ("2០2៦", 2026), (" 7 ", 7)],
)
def test_whole_numbers_in_latin_khmer_and_mixed_digits(typed: str, value: int) -> None:
    assert parse_int("positions", typed) == value


@given(st.integers(min_value=0, max_value=10**9))
def test_any_number_typed_in_khmer_digits_reads_the_same(n: int) -> None:
    khmer = str(n).translate(str.maketrans("0123456789", KHMER))
    assert parse_int("x", khmer) == n
    assert latin_digits(khmer) == str(n)


@pytest.mark.parametrize("typed", ["", "abc", "12a", "1.5", "--3", "٣"])
def test_not_a_number_names_the_field(typed: str) -> None:
    with pytest.raises(InvalidField) as error:
        parse_int("positions", typed)
    assert error.value.field == "positions" and error.value.code == "not_a_number"


def test_ranges_are_enforced() -> None:
    with pytest.raises(InvalidField) as low:
        parse_int("positions", "0", minimum=1)
    assert low.value.code == "too_small"
    with pytest.raises(InvalidField) as high:
        parse_amount("salary_amount", "៩៩៩៩៩៩", minimum=Decimal("0.01"), maximum=Decimal(20000))
    assert high.value.code == "too_large"
    with pytest.raises(InvalidField):
        parse_amount("salary_amount", "-5", minimum=Decimal("0.01"), maximum=Decimal(20000))
    assert parse_amount("salary_amount", "$210.5", minimum=Decimal(1), maximum=Decimal(500)) == Decimal("210.50")


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("012 345 678", "+85512345678"),
        ("០១២ ៣៤៥ ៦៧៨", "+85512345678"),
        ("0១2-345-6៧8", "+85512345678"),
        ("+855 12 345 678", "+85512345678"),
        ("097 7123 456", "+855977123456"),
    ],
)
def test_cambodian_phones_in_any_digits_become_e164(typed: str, e164: str) -> None:
    assert normalize_phone(typed) == e164


@pytest.mark.parametrize("typed", ["", "12", "012 345", "hello", "+66 81 234 5678", "1" * 40, "000 000 000"])
def test_impossible_or_foreign_phones_are_refused(typed: str) -> None:
    with pytest.raises(InvalidField) as error:
        normalize_phone(typed)
    assert error.value.field == "phone"


def test_masked_phone_hides_the_middle() -> None:
    masked = mask_phone("+85512345678")
    assert masked.startswith("012") and masked.endswith("78") and "345" not in masked


@pytest.mark.parametrize("name", ["Siem Reap", "siemreap", "17", "សៀមរាប", "Preah Sihanouk", "Phnom Penh", "ភ្នំពេញ"])
def test_provinces_by_name_code_or_khmer(name: str) -> None:
    assert geo.province(name).code in {"17", "18", "12"}


@pytest.mark.parametrize("name", ["", "Atlantis", "Bangkok"])
def test_unknown_provinces_are_refused(name: str) -> None:
    with pytest.raises(InvalidField) as error:
        geo.province(name)
    assert error.value.code == "unknown_province"


def test_districts_come_from_the_official_list() -> None:
    siem_reap = geo.province("Siem Reap")
    names = {d.name_en for d in geo.districts(siem_reap.code)}
    assert len(names) > 5
    some = geo.districts(siem_reap.code)[0]
    assert geo.district(siem_reap.code, some.name_en.upper()) == some
    with pytest.raises(InvalidField):
        geo.district(siem_reap.code, "Chbar Ampov")  # a Phnom Penh khan


def test_text_is_trimmed_and_limited_but_keeps_khmer_joiners() -> None:
    assert clean_text("title", "  ការងារ\u200bល្អ\x00 ", max_length=20) == "ការងារ\u200bល្អ"
    with pytest.raises(InvalidField) as error:
        clean_text("title", "x" * 121, max_length=120)
    assert error.value.code == "too_long"
    with pytest.raises(InvalidField):
        clean_text("title", "   ", max_length=120, required=True)
