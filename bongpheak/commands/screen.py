"""``bongpheak screen FILE.jsonl``: trafficking-risk screening of job listings, one JSON object per line.

Each input line holds one listing (the fields of ``Listing``, plus ``id``); each output line is
``{"id": ..., "risk": "low|medium|high", "reasons": [...]}``. Lines that cannot be read (invalid JSON, a
missing or malformed field) are reported on stderr with their line number; the other lines are still
screened and the command exits with status 1 at the end.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from bongpheak.commands import CommandError
from jobs_core.screening import AGENCIES_ENV, LicensedAgencies, Listing, ListingError, explain, screen


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "screen",
        help="screen job listings (JSON lines) for trafficking risk",
        description="Screen job listings for trafficking risk: one JSON listing per line in, one JSON "
        "assessment per line out.",
    )
    parser.add_argument("file", help="a .jsonl file of listings, or - for standard input")
    parser.add_argument(
        "--agencies",
        metavar="CSV",
        help=f"licensed-agency list (licence_no,name); default: ${AGENCIES_ENV} or the bundled sample list",
    )
    parser.add_argument("--explain", action="store_true", help="add English explanations of the reasons")
    parser.set_defaults(handler=run)


def _load_agencies(path: str | None) -> LicensedAgencies:
    try:
        return LicensedAgencies.from_csv(path) if path else LicensedAgencies.default()
    except (OSError, ValueError) as exc:
        raise CommandError(f"cannot read the licensed-agency list: {exc}") from exc


def screen_lines(
    lines: TextIO, agencies: LicensedAgencies, out: TextIO, err: TextIO, *, explain_reasons: bool = False
) -> int:
    """Screen every line of ``lines``; returns how many lines were bad."""
    bad = 0
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            bad += 1
            print(f"line {number}: invalid JSON: {exc.msg} (column {exc.colno})", file=err)
            continue
        if not isinstance(record, dict):
            bad += 1
            print(f"line {number}: expected a JSON object, got {type(record).__name__}", file=err)
            continue
        if record.get("id") in (None, ""):
            bad += 1
            print(f"line {number}: field 'id': missing", file=err)
            continue
        try:
            listing = Listing.from_dict(record)
        except ListingError as exc:
            bad += 1
            print(f"line {number} (id {record['id']}): {exc}", file=err)
            continue
        assessment = screen(listing, agencies)
        result: dict[str, Any] = {"id": record["id"], "risk": str(assessment.risk), "reasons": list(assessment.reasons)}
        if explain_reasons:
            result["explanations"] = [explain(code) for code in assessment.reasons]
        print(json.dumps(result, ensure_ascii=False), file=out, flush=True)
    return bad


def run(args: argparse.Namespace) -> int:
    agencies = _load_agencies(args.agencies)
    if args.file == "-":
        bad = screen_lines(sys.stdin, agencies, sys.stdout, sys.stderr, explain_reasons=args.explain)
    else:
        path = Path(args.file)
        try:
            with path.open(encoding="utf-8-sig") as lines:
                bad = screen_lines(lines, agencies, sys.stdout, sys.stderr, explain_reasons=args.explain)
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path} is not UTF-8 text: {exc.reason}") from exc
    if bad:
        print(f"bongpheak screen: {bad} line(s) could not be screened", file=sys.stderr)
        return 1
    return 0
