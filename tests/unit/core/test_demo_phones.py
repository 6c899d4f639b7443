"""The demo's phone range: outside Cambodia's numbering plan, refused from people, written only by the seed."""

from __future__ import annotations

import phonenumbers
import pytest

from jobs_core.errors import InvalidField
from jobs_core.phones import (
    DEMO_PHONE_COUNT,
    demo_numbers_accepted,
    demo_phone,
    display_phone,
    is_demo_phone,
    normalize_phone,
)

SAMPLE = [demo_phone(n) for n in (0, 1, 4242, 50_000, DEMO_PHONE_COUNT - 1)]


@pytest.mark.parametrize("number", SAMPLE)
def test_no_demo_number_is_a_valid_cambodian_number(number: str) -> None:
    # If a phonenumbers upgrade ever calls the range valid, Cambodia may have allocated it: pick another.
    assert is_demo_phone(number)
    assert not phonenumbers.is_valid_number(phonenumbers.parse(number, "KH"))
    assert display_phone(number).startswith("020 0")


@pytest.mark.parametrize("typed", ["020 012 345", "+855 20 012 345", "០២០ ០១២ ៣៤៥"])
def test_nobody_can_enter_a_demo_number_in_a_chat_flow(typed: str) -> None:
    with pytest.raises(InvalidField):
        normalize_phone(typed)


def test_only_the_seed_block_accepts_the_demo_range() -> None:
    with demo_numbers_accepted():
        assert normalize_phone("020 012 345") == "+85520012345"
        assert normalize_phone("012 345 678") == "+85512345678"  # real numbers still work inside
        with pytest.raises(InvalidField):
            normalize_phone("021 012 345")  # next to the range, still not a number
    with pytest.raises(InvalidField):
        normalize_phone("020 012 345")


@pytest.mark.parametrize(
    "number", ["+85512345678", "+85520112345", "+8552001234", "+855200123456", "+85523012345", "+44200012345"]
)
def test_numbers_outside_the_range_are_not_demo_numbers(number: str) -> None:
    assert not is_demo_phone(number)
