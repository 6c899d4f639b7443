"""Free text people type: trimmed, control characters removed, length checked."""

from __future__ import annotations

import unicodedata

from jobs_core.errors import InvalidField


def clean_text(field: str, text: str | None, *, max_length: int, required: bool = False) -> str:
    """Normalised text (NFC, no control characters), or InvalidField when empty/too long."""
    value = unicodedata.normalize("NFC", text or "")
    # Drop control and unpaired-surrogate characters; keep format characters (Khmer uses zero-width
    # spaces and joiners inside words).
    value = "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs")).strip()
    if required and not value:
        raise InvalidField(field, "required", "may not be empty")
    if len(value) > max_length:
        raise InvalidField(field, "too_long", f"at most {max_length} characters")
    return value
