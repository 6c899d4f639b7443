"""Cambodian phone numbers, stored in E.164 (+855…) so one phone is one worker whatever way it was typed."""

from __future__ import annotations

import phonenumbers

from jobs_core.errors import InvalidField
from jobs_core.numbers import latin_digits


def normalize_phone(text: str, field: str = "phone") -> str:
    """E.164 form of a valid Cambodian number (Khmer digits accepted), or InvalidField."""
    raw = latin_digits(text or "").strip()
    if not raw or len(raw) > 32:
        raise InvalidField(field, "invalid_phone", "expected a Cambodian phone number")
    try:
        parsed = phonenumbers.parse(raw, "KH")
    except phonenumbers.NumberParseException as exc:
        raise InvalidField(field, "invalid_phone", "expected a Cambodian phone number") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidField(field, "invalid_phone", "not a valid phone number")
    if phonenumbers.region_code_for_number(parsed) != "KH":
        raise InvalidField(field, "not_cambodian", "only Cambodian numbers can be called")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str) -> str:
    """The national form people in Cambodia read (012 345 678)."""
    return phonenumbers.format_number(phonenumbers.parse(e164, "KH"), phonenumbers.PhoneNumberFormat.NATIONAL)


def mask_phone(e164: str) -> str:
    """A phone with its middle hidden, for anyone who must not see it whole."""
    national = display_phone(e164).replace(" ", "")
    return f"{national[:3]}•••{national[-2:]}"
