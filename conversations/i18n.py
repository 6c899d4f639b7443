"""Wording in Khmer (default) and English from gettext .po catalogs, compiled in memory on first use.

Flows write English msgids: ``t._("Welcome")``. Module-level texts are marked with :func:`N_` and
translated where they are shown. No build step: the .po files are read with Babel and turned into a
catalog in memory, so editing a .po file and restarting is all a translator needs.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LANGUAGES = ("km", "en")
DEFAULT_LANGUAGE = "km"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

Gettext = Callable[[str], str]


def N_(message: str) -> str:
    """Mark a message for translation where it is defined; it is translated where it is shown."""
    return message


def language_or_default(value: str | None) -> str:
    """One of LANGUAGES: the value if supported (``km-KH`` → ``km``), else Khmer."""
    if value:
        short = value.replace("_", "-").split("-")[0].lower()
        if short in LANGUAGES:
            return short
    return DEFAULT_LANGUAGE


@cache
def translations(language: str) -> NullTranslations:
    """The compiled catalog of ``language``."""
    po = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return NullTranslations()
    with po.open("rb") as f:
        catalog = read_po(f, locale=language)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def gettext_for(language: str) -> Gettext:
    """The translate function of ``language`` (an unknown language falls back to Khmer)."""
    return translations(language_or_default(language)).gettext
