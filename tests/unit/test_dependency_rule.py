"""Every package imports only what the dependency rule allows (docs/architecture.md), written as tables.

``ALLOWED`` says which of our packages each one may import; arrows point inward, to the core. ``LIBRARIES``
keeps transport and audio libraries out of the packages that must not know them. ``DIALER_PARTS`` does the
same inside the dialer, whose folders are layers. ``EXCEPTIONS`` lists, with the reason, each file allowed
one arrow its package's row does not have.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CORE = {"jobs_core", "media"}
CHANNELS = {"bots.telegram", "bots.messenger", "bots.web"}
# Which of our packages each package may import (besides itself).
ALLOWED: dict[str, set[str]] = {
    # The domain: rules, services and the event log. It knows nothing that uses it.
    "jobs_core": set(),
    # Prompts, clips and rendering: knows nothing of the domain's model (a listing is a Protocol there).
    "media": set(),
    # The dialogs, on the core; they know no channel.
    "conversations": CORE,
    # The IVR sits beside the chats, on the core: it knows no chat channel and no conversation.
    "dialer": CORE,
    # The channel adapters, each on the conversations; none knows another channel or the dialer.
    "bots": set(),
    "bots.telegram": {"conversations", *CORE},
    "bots.messenger": {"conversations", *CORE},
    "bots.web": {"conversations", *CORE},
    # The composition root wires everything.
    "bongpheak": {"conversations", "dialer", "bots", *CHANNELS, *CORE},
    # Benchmarks drive the real system, on the tests' databases and fakes.
    "bench": {"bongpheak", "conversations", "dialer", "bots", *CHANNELS, *CORE, "tests"},
    # Alembic's environment loads every table onto the metadata it compares, with the app's engine.
    "migrations": {"jobs_core", "conversations", "dialer", *CHANNELS, "bongpheak"},
}
OURS = {name.split(".")[0] for name in ALLOWED} | {"tests"}

EXCEPTIONS: dict[tuple[str, str], str] = {
    # The demo's phone page is the carrier simulator's face (the demo's calls ring there); nothing else of the
    # website knows the dialer.
    ("bots/web/demo/", "dialer.simulator"): "the demo phone page drives the carrier simulator",
    # Two type aliases of the dialog's entry point (DialogHandler, InputPreparer) that Messenger shares with
    # Telegram. They describe the channel port and belong in conversations/channel.py; until they move there,
    # Messenger imports them from Telegram's deps (the test below fails once the import is gone).
    ("bots/messenger/deps.py", "bots.telegram.deps"): "the dialog entry point's type aliases",
}

# Libraries a package must not import.
LIBRARIES: dict[str, set[str]] = {
    "jobs_core": {"aiogram", "aiohttp", "twilio", "pydub", "prometheus_client"},
    "media": {"aiogram", "aiohttp", "twilio"},
    "conversations": {"aiogram", "aiohttp", "twilio"},
    "dialer": {"aiogram"},
    "bots.telegram": {"twilio"},
    "bots.messenger": {"aiogram", "twilio"},
    "bots.web": {"aiogram", "twilio"},
}

# Inside the dialer: the provider port and its adapter know only the settings; placing and a call's life know
# the providers but not the IVR; the IVR (TwiML flows and webhooks) builds on the calls; the simulator is a
# carrier of its own, sharing only the clock; the runner wires the parts.
DIALER_PARTS: dict[str, set[str]] = {
    "dialer.settings": {"dialer.providers"},
    "dialer.clock": set(),
    "dialer.models": set(),
    "dialer.providers": {"dialer.settings"},
    "dialer.calls": {"dialer.providers", "dialer.settings", "dialer.models", "dialer.clock"},
    "dialer.ivr": {"dialer.calls", "dialer.providers", "dialer.settings", "dialer.models", "dialer.clock"},
    "dialer.simulator": {"dialer.clock"},
    "dialer.runner": {
        "dialer.calls",
        "dialer.ivr",
        "dialer.providers",
        "dialer.settings",
        "dialer.models",
        "dialer.clock",
    },
}


def imported_modules(path: Path) -> set[str]:
    """Every absolute import of a file, as dotted module names (relative imports stay inside the package)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
            # ``from dialer.calls import placing`` imports dialer.calls.placing.
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def imported_roots(path: Path) -> set[str]:
    return {module.split(".")[0] for module in imported_modules(path)}


def package_of(module: str) -> str:
    """The row of ``ALLOWED`` a module belongs to: bots' subpackages have their own rows."""
    parts = module.split(".")
    if parts[0] == "bots" and len(parts) > 1 and (ROOT / "bots" / parts[1]).is_dir():
        return f"bots.{parts[1]}"
    return parts[0]


def part_of(module: str) -> str:
    """The row of ``DIALER_PARTS`` a dialer module belongs to."""
    return ".".join(module.split(".")[:2])


def module_of(path: Path) -> str:
    relative = path.relative_to(ROOT).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return ".".join(parts)


def sources(package: str) -> Iterator[Path]:
    folder = ROOT / package.replace(".", "/")
    if package == "bots":
        yield from folder.glob("*.py")
    else:
        yield from folder.rglob("*.py")


def excused(path: Path, module: str) -> bool:
    where = str(path.relative_to(ROOT))
    return any(where.startswith(prefix) and (module + ".").startswith(target + ".") for prefix, target in EXCEPTIONS)


def test_every_package_has_a_row() -> None:
    packages = {p.name for p in ROOT.iterdir() if p.is_dir() and not p.name.startswith(".") and any(p.glob("*.py"))}
    channels = {f"bots.{p.name}" for p in (ROOT / "bots").iterdir() if (p / "__init__.py").is_file()}
    assert packages - {"tests"} | channels == set(ALLOWED)
    dialer_parts = {part_of(module_of(p)) for p in (ROOT / "dialer").rglob("*.py") if module_of(p) != "dialer"}
    assert dialer_parts == set(DIALER_PARTS)


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_the_packages_its_row_allows(package: str) -> None:
    offenders: dict[str, list[str]] = {}
    for path in sources(package):
        wrong = {
            module
            for module in imported_modules(path)
            if module.split(".")[0] in OURS
            and package_of(module) != package
            and package_of(module) not in ALLOWED[package]
            and not excused(path, module)
        }
        # "from bots.web import demo" names the package and the module: one arrow, reported once.
        wrong = {m for m in wrong if not any(o != m and m.startswith(o + ".") for o in wrong)}
        if wrong:
            offenders[str(path.relative_to(ROOT))] = sorted(wrong)
    assert offenders == {}


@pytest.mark.parametrize("package", sorted(LIBRARIES))
def test_package_imports_no_library_it_must_not_know(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) & LIBRARIES[package]) for path in sources(package)
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_dialers_parts_import_only_what_their_row_allows() -> None:
    offenders: dict[str, list[str]] = {}
    for path in (ROOT / "dialer").rglob("*.py"):
        own = part_of(module_of(path))
        if own == "dialer":
            continue
        wrong = {
            part_of(module)
            for module in imported_modules(path)
            if module.startswith("dialer.") and part_of(module) != own and part_of(module) not in DIALER_PARTS[own]
        }
        if wrong:
            offenders[str(path.relative_to(ROOT))] = sorted(wrong)
    assert offenders == {}


def test_every_exception_is_still_needed() -> None:
    # An exception nobody uses any more would let the arrow back in unnoticed.
    for prefix, target in EXCEPTIONS:
        where = ROOT / prefix
        paths = [where] if where.is_file() else list(where.rglob("*.py"))
        used = any((m + ".").startswith(target + ".") for p in paths for m in imported_modules(p))
        assert used, (prefix, target)


def test_the_rule_catches_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text(
        "import aiohttp\nfrom twilio.rest import Client\nfrom dialer.calls import placing\nfrom . import y\n"
    )
    assert imported_roots(sample) == {"aiohttp", "twilio", "dialer"}
    assert "dialer.calls.placing" in imported_modules(sample)
    assert package_of("bots.web.demo.phone") == "bots.web"
    assert package_of("dialer.calls.placing") not in ALLOWED["bots.telegram"]
    assert part_of("dialer.ivr.flows") not in DIALER_PARTS["dialer.calls"]
