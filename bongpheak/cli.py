"""The ``bongpheak`` command: one sub-command group per module in ``bongpheak.commands``."""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from collections.abc import Sequence

from pydantic import ValidationError
from pydantic_settings import SettingsError

from bongpheak import commands
from bongpheak.commands import CommandError
from bongpheak.settings import settings_problem


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bongpheak", description="Bong Pheak: jobs for offline workers.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"bongpheak.commands.{info.name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        stream=sys.stdout if getattr(args, "log_to_stdout", False) else sys.stderr,
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Their INFO lines describe every step of starting a server or migrating; the operator needs the outcome.
    for chatty in ("pgserver", "alembic"):
        logging.getLogger(chatty).setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    # The one place a problem the operator can fix becomes one line on stderr and exit code 2: a setting that
    # cannot be read, a missing one, an unreachable database or Telegram, a port in use.
    try:
        result = args.handler(args)
    except CommandError as exc:
        print(f"bongpheak: {exc}", file=sys.stderr)
        return 2
    except (ValidationError, SettingsError) as exc:
        problem = settings_problem(exc)
        if problem is None:
            raise
        print(f"bongpheak: {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
