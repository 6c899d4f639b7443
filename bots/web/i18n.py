"""The website's wording: its own catalog (``bots/web/locale/<lang>/LC_MESSAGES/web.po``), falling back to the
chat's catalog, so a sentence the bots already say (safety line, report reasons, errors) reads the same here.

Like ``conversations.i18n``: no build step, the .po files are compiled in memory on first use.
"""

from __future__ import annotations

from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from conversations.i18n import LANGUAGES, Gettext, language_or_default, translations

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "web"

__all__ = ["LANGUAGES", "Gettext", "web_gettext", "web_translations"]


@cache
def web_translations(language: str) -> NullTranslations:
    """The website catalog of ``language`` with the chat's catalog behind it."""
    language = language_or_default(language)
    chat = translations(language)
    po = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po.exists():
        return chat
    with po.open("rb") as f:
        catalog = read_po(f, locale=language)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    own = Translations(compiled, domain=DOMAIN)
    own.add_fallback(chat)
    return own


def web_gettext(language: str) -> Gettext:
    return web_translations(language).gettext
