"""Numbers as people type them: Latin or Khmer digits (០–៩), mixed, with separators."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from jobs_core.errors import InvalidField

_KHMER_DIGITS = str.maketrans("០១២៣៤៥៦៧៨៩", "0123456789")
# Thousands separators and spaces people put inside numbers ("1,500", "1 500", "១.៥០០" is not a decimal).
_GROUPING = re.compile(r"(?<=\d)[,\s\u00a0\u202f](?=\d{3}(\D|$))")


def latin_digits(text: str) -> str:
    """Replace Khmer digits with Latin ones, leaving everything else alone."""
    return text.translate(_KHMER_DIGITS)


def parse_int(field: str, text: str | int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """A whole number from what a person typed, or InvalidField naming ``field``."""
    if isinstance(text, bool):
        raise InvalidField(field, "not_a_number", "expected a whole number")
    if isinstance(text, int):
        value = text
    else:
        cleaned = _GROUPING.sub("", latin_digits(text).strip())
        if not re.fullmatch(r"[+-]?[0-9]{1,12}", cleaned):
            raise InvalidField(field, "not_a_number", "expected a whole number")
        value = int(cleaned)
    _check_range(field, Decimal(value), minimum, maximum)
    return value


def parse_amount(field: str, text: str | int | float | Decimal, *, minimum: Decimal, maximum: Decimal) -> Decimal:
    """A money amount (up to two decimals) from what a person typed, or InvalidField naming ``field``."""
    if isinstance(text, bool):
        raise InvalidField(field, "not_a_number", "expected an amount")
    if isinstance(text, str):
        cleaned = _GROUPING.sub("", latin_digits(text).strip()).replace("$", "").strip()
        if not re.fullmatch(r"[+-]?[0-9]{1,12}(\.[0-9]{1,2})?", cleaned):
            raise InvalidField(field, "not_a_number", "expected an amount")
        text = cleaned
    try:
        value = Decimal(str(text))
    except InvalidOperation as exc:
        raise InvalidField(field, "not_a_number", "expected an amount") from exc
    if not value.is_finite():
        raise InvalidField(field, "not_a_number", "expected an amount")
    _check_range(field, value, minimum, maximum)
    return value.quantize(Decimal("0.01"))


def _check_range(field: str, value: Decimal, minimum: int | Decimal | None, maximum: int | Decimal | None) -> None:
    if minimum is not None and value < minimum:
        raise InvalidField(field, "too_small", f"must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise InvalidField(field, "too_large", f"must be at most {maximum}")
