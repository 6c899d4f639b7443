"""Cambodian phone numbers, stored in E.164 (+855…) so one phone is one worker whatever way it was typed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import phonenumbers

from jobs_core.errors import InvalidField
from jobs_core.numbers import latin_digits

# The demo's phone numbers: +855 20 0xx xxx (national 020 0xx xxx), 100,000 of them. They cannot ring anyone:
# Cambodia has no area code 20 (fixed lines are 23-26, 32-36, 42-45, 52-55, 62-65, 72-75, mobiles 1x, 31,
# 38, 6x, 7x, 8x, 9x), and its numbering plan gives out no subscriber number starting with 0. The phonenumbers
# metadata agrees (not a valid number), so nobody can enter one in a chat flow either: only the demo seed
# writes them, inside ``demo_numbers_accepted()``, and the dialer refuses to call them on any database.
DEMO_PHONE_PREFIX = "+855200"
DEMO_PHONE_COUNT = 100_000
_demo_numbers_accepted: ContextVar[bool] = ContextVar("demo_numbers_accepted", default=False)


def demo_phone(n: int) -> str:
    """The n-th number of the demo range (E.164)."""
    if not 0 <= n < DEMO_PHONE_COUNT:
        raise ValueError(f"the demo range has {DEMO_PHONE_COUNT} numbers")
    return f"{DEMO_PHONE_PREFIX}{n:05d}"


def is_demo_phone(e164: str) -> bool:
    """Whether a stored (E.164) number is in the demo range, which must never be dialled."""
    return len(e164) == len(DEMO_PHONE_PREFIX) + 5 and e164.startswith(DEMO_PHONE_PREFIX) and e164[1:].isdigit()


@contextmanager
def demo_numbers_accepted() -> Iterator[None]:
    """Within this block (the demo seed, and nothing else) ``normalize_phone`` also accepts the demo range."""
    token = _demo_numbers_accepted.set(True)
    try:
        yield
    finally:
        _demo_numbers_accepted.reset(token)


def normalize_phone(text: str, field: str = "phone") -> str:
    """E.164 form of a valid Cambodian number (Khmer digits accepted), or InvalidField."""
    raw = latin_digits(text or "").strip()
    if not raw or len(raw) > 32:
        raise InvalidField(field, "invalid_phone", "expected a Cambodian phone number")
    try:
        parsed = phonenumbers.parse(raw, "KH")
    except phonenumbers.NumberParseException as exc:
        raise InvalidField(field, "invalid_phone", "expected a Cambodian phone number") from exc
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if _demo_numbers_accepted.get() and is_demo_phone(e164):
        return e164
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidField(field, "invalid_phone", "not a valid phone number")
    if phonenumbers.region_code_for_number(parsed) != "KH":
        raise InvalidField(field, "not_cambodian", "only Cambodian numbers can be called")
    return e164


def display_phone(e164: str) -> str:
    """The national form people in Cambodia read (012 345 678)."""
    return phonenumbers.format_number(phonenumbers.parse(e164, "KH"), phonenumbers.PhoneNumberFormat.NATIONAL)


def mask_phone(e164: str) -> str:
    """A phone with its middle hidden, for anyone who must not see it whole."""
    national = display_phone(e164).replace(" ", "")
    return f"{national[:3]}•••{national[-2:]}"
