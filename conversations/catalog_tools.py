"""Finding the messages the flows say, to keep the .po catalogs complete (used by the catalog tests).

``python -m conversations.catalog_tools`` prints the msgids missing from each catalog.
"""

from __future__ import annotations

import ast
from pathlib import Path

from babel.messages.pofile import read_po

from conversations.i18n import LANGUAGES, LOCALE_DIR

PACKAGE = Path(__file__).resolve().parent
MARKERS = {"_", "N_"}


def used_messages(package: Path = PACKAGE) -> set[str]:
    """Every literal passed to ``_``, ``t._`` or ``N_`` in the package's modules."""
    found: set[str] = set()
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            first = node.args[0]
            if name in MARKERS and isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.add(first.value)
    return found


def catalog_messages(language: str) -> dict[str, str]:
    """msgid → msgstr of a language's catalog."""
    with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale=language)
    return {str(m.id): str(m.string) for m in catalog if m.id and isinstance(m.id, str)}


def missing(language: str) -> set[str]:
    """Messages used in the code without a translation in ``language``'s catalog."""
    have = catalog_messages(language)
    return {m for m in used_messages() if not have.get(m)}


if __name__ == "__main__":
    for lang in LANGUAGES:
        for message in sorted(missing(lang)):
            print(f"{lang}: {message!r}")
