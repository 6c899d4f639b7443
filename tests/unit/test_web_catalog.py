"""The website's wording: every text the pages translate has a Khmer translation (in the website's catalog or
the chat's), and translations keep their {placeholders}."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

from bots.web.i18n import LOCALE_DIR, web_gettext

WEB = Path(__file__).resolve().parents[2] / "bots" / "web"
LITERAL = re.compile(r"""_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*\)""")
# Python sources also build messages from adjacent string literals: joined before looking.
ADJACENT = re.compile(r'"\s*\n\s*"')


def used_messages() -> set[str]:
    found: set[str] = set()
    for path in [*WEB.glob("templates/*.html"), *WEB.glob("admin/templates/*.html"), *WEB.glob("*.py")]:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".py":
            text = ADJACENT.sub("", text)
        for double, single in LITERAL.findall(text):
            found.add((double or single).replace('\\"', '"').replace("\\'", "'"))
    return found


def test_every_text_the_website_shows_has_a_khmer_translation() -> None:
    khmer = web_gettext("km")
    used = used_messages()
    assert len(used) > 50
    missing = sorted(m for m in used if khmer(m) == m)
    assert missing == []


def test_translations_keep_their_placeholders() -> None:
    with (LOCALE_DIR / "km" / "LC_MESSAGES" / "web.po").open("rb") as f:
        catalog = read_po(f, locale="km")
    for message in catalog:
        if not message.id or not message.string:
            continue
        assert set(re.findall(r"{\w+}", str(message.id))) == set(re.findall(r"{\w+}", str(message.string))), message.id
