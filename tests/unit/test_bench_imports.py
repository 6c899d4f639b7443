"""The benchmarks (bench/) import no test code: they run the product's own modules and fakes, so a change to a
test helper cannot change what a benchmark measures, and bench/ runs from a checkout without tests/."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imports_of_tests(source: str) -> set[str]:
    """Every module ``source`` imports by absolute name, at any depth (also inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == "tests")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] == "tests":
                found.add(node.module)
    return found


def test_no_benchmark_imports_test_code() -> None:
    benchmarks = sorted((ROOT / "bench").rglob("*.py"))
    assert benchmarks, "no benchmark found: the path is wrong"
    offenders = {
        str(path.relative_to(ROOT)): sorted(imports)
        for path in benchmarks
        if (imports := imports_of_tests(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


def test_the_check_sees_every_form_of_import() -> None:
    source = (
        "import tests\n"
        "import tests.fakes.telegram_api as api\n"
        "from tests.database import fresh_database\n"
        "def later():\n"
        "    from tests.builders import Builder\n"
        "from . import tests_nearby\n"
        "import testsuite\n"
        "from bongpheak.scratch_database import fresh_database\n"
    )
    assert imports_of_tests(source) == {"tests", "tests.fakes.telegram_api", "tests.database", "tests.builders"}
