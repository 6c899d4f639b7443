"""The command line imports no chat or voice client before a command needs it.

`serve` answers /healthz while it starts; aiogram alone takes seconds to import, so a command module that
imports it at the top delays every command and the first health answer (docs/operations.md).
"""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("aiogram", "twilio")


def test_building_the_command_line_imports_no_chat_or_voice_client() -> None:
    probe = (
        "import sys; from bongpheak.cli import build_parser; build_parser(); "
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == ""
