"""Every message the flows say has a Khmer and an English translation with the same placeholders."""

from __future__ import annotations

import re

import pytest

from conversations.catalog_tools import catalog_messages, missing, used_messages
from conversations.i18n import gettext_for, language_or_default

PLACEHOLDER = re.compile(r"\{[a-z_]*\}")


@pytest.mark.parametrize("language", ["km", "en"])
def test_every_message_is_translated(language: str) -> None:
    assert sorted(missing(language)) == []


@pytest.mark.parametrize("language", ["km", "en"])
def test_translations_keep_the_placeholders(language: str) -> None:
    for msgid, msgstr in catalog_messages(language).items():
        assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(msgstr)), msgid


def test_khmer_translations_are_khmer() -> None:
    khmer = re.compile(r"[\u1780-\u17ff]")
    used = used_messages()
    untranslated = [m for m, s in catalog_messages("km").items() if m in used and not khmer.search(s)]
    assert untranslated == ["🕒 {start}–{end}"]  # only times, which need no words


def test_gettext_and_language_fallbacks() -> None:
    assert gettext_for("km")("Skip") == "រំលង"
    assert gettext_for("en")("Skip") == "Skip"
    assert gettext_for("fr")("Skip") == "រំលង"  # unknown languages fall back to Khmer
    assert [language_or_default(v) for v in (None, "", "en-US", "km_KH", "th")] == ["km", "km", "en", "km", "km"]


def test_every_catalog_file_reads_without_a_complaint() -> None:
    """Each .po in the project parses strictly: an entry without its msgstr (two branches appending at the
    end of a file can leave one) would otherwise only print a warning and drop the translation."""
    from pathlib import Path

    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parents[3]
    files = [p for p in root.glob("*/**/LC_MESSAGES/*.po") if ".venv" not in p.parts]
    assert len(files) >= 4
    for path in files:
        with path.open("rb") as handle:
            read_po(handle, abort_invalid=True)
