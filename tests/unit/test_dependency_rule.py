"""The domain core stays free of transport and audio libraries (DESIGN.md's dependency rule)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {
    "jobs_core": {
        "aiogram",
        "aiohttp",
        "twilio",
        "pydub",
        "prometheus_client",
        "media",
        "conversations",
        "bots",
        "dialer",
        "bongpheak",
    },
    "media": {"aiogram", "aiohttp", "twilio", "jobs_core", "conversations", "bots", "dialer", "bongpheak"},
    "conversations": {"aiogram", "aiohttp", "twilio", "bots", "dialer", "bongpheak"},
    # The IVR sits beside the chats, on the core: it knows no chat channel and no conversation.
    "dialer": {"aiogram", "bots", "conversations", "bongpheak"},
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_what_the_dependency_rule_allows(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_rule_catches_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text("import aiohttp\nfrom twilio.rest import Client\nfrom . import y\n")
    assert imported_roots(sample) == {"aiohttp", "twilio"}
