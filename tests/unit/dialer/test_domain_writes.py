"""The dialer writes domain events only through jobs_core's services (jobs_core/services/calls.py), so each is
written where its rules are, in the transaction of the change it reports."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def events_built(path: Path) -> list[int]:
    """Lines where a file builds an ``Event`` row itself (``asyncio.Event`` is an attribute call, not counted)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Event"
    ]


def test_no_dialer_module_builds_an_event_row() -> None:
    built = {str(p.relative_to(ROOT)): events_built(p) for p in (ROOT / "dialer").rglob("*.py")}
    assert {k: v for k, v in built.items() if v} == {}


def test_the_check_sees_an_event_built_by_hand(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text("import asyncio\nasyncio.Event()\nsession.add(Event(kind='call.missed'))\n")
    assert events_built(sample) == [3]
