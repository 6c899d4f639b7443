"""`bongpheak prompts`: the recording script, pack checks, importing recordings, placeholder packs."""

from __future__ import annotations

import argparse
import csv
import html
import sys
from pathlib import Path

from tqdm import tqdm

from bongpheak.commands import CommandError
from bongpheak.settings import Settings
from media.catalog import LANGUAGES, load_catalog
from media.composer import pitch_duration_report
from media.ffmpeg import FfmpegError
from media.pack_check import check_pack
from media.packs import BUNDLED_PACKS, PackError, load_pack
from media.placeholder import make_placeholder_pack
from media.recording import DEFAULT_SAMPLE_RATE, import_recordings, recording_files
from media.recording_script import recording_script
from media.sample_jobs import sample_pitch_jobs


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("prompts", help="prompt packs: recording script, checks, import")
    actions = parser.add_subparsers(dest="prompts_command", required=True, metavar="ACTION")

    script = actions.add_parser("script", help="write the recording script (CSV and printable HTML)")
    script.add_argument("--out", type=Path, default=Path("."), help="folder to write into (default: here)")
    script.set_defaults(handler=_script)

    check = actions.add_parser("check", help="coverage and quality of a pack; exit 1 when it has defects")
    check.add_argument("pack", type=Path, help="a pack folder (with manifest.json and clips/)")
    check.set_defaults(handler=_check)

    imp = actions.add_parser("import", help="normalise recorded files named <key>.<ext> into a pack")
    imp.add_argument("src", type=Path, metavar="DIR")
    imp.add_argument("--lang", choices=LANGUAGES, required=True)
    imp.add_argument("--out", type=Path, required=True, metavar="PACK")
    imp.add_argument("--rate", type=int, default=DEFAULT_SAMPLE_RATE, help="sample rate of the pack")
    imp.add_argument("--speaker", default="unknown", help="who recorded it")
    imp.add_argument("--version", help="pack version (default: the time of import)")
    imp.set_defaults(handler=_import)

    placeholder = actions.add_parser("placeholder", help="regenerate the placeholder packs with espeak-ng")
    placeholder.add_argument("--out", type=Path, default=BUNDLED_PACKS, help="folder holding km/ and en/")
    placeholder.add_argument("--lang", choices=LANGUAGES, action="append", help="default: all")
    placeholder.set_defaults(handler=_placeholder)

    lengths = actions.add_parser("lengths", help="distribution of pitch lengths over made-up jobs")
    lengths.add_argument("--jobs", type=int, default=1000)
    lengths.set_defaults(handler=_lengths)


def _script(args: argparse.Namespace) -> int:
    lines = recording_script()
    args.out.mkdir(parents=True, exist_ok=True)
    csv_path, html_path = args.out / "recording-script.csv", args.out / "recording-script.html"
    with csv_path.open("w", encoding="utf-8-sig", newline="") as f:  # BOM: spreadsheets then read Khmer
        writer = csv.writer(f)
        writer.writerow(SCRIPT_COLUMNS)
        writer.writerows(
            [
                line.key,
                line.km,
                line.gloss,
                line.category,
                line.used_in,
                line.intonation,
                line.note,
                " ".join(line.keys[1:]),
            ]
            for line in lines
        )
    e = html.escape
    rows = "\n".join(
        f"<tr><td class=n>{i}</td><td class=k>{e(line.key)}</td><td class=km>{e(line.km)}</td>"
        f"<td>{e(line.gloss)}</td><td class=u>{e(line.used_in)}</td><td>{e(line.intonation)}</td>"
        f"<td>{e(line.note)}</td><td class=c>☐</td></tr>"
        for i, line in enumerate(lines, 1)
    )
    clips = sum(len(line.keys) for line in lines)
    html_path.write_text(_SCRIPT_PAGE.format(count=len(lines), clips=clips, rows=rows), encoding="utf-8")
    print(f"{len(lines)} recordings for {clips} clips: {csv_path}, {html_path}")
    print("Save each recording as <key>.wav (or .mp3/.m4a/.ogg), then: bongpheak prompts import DIR --lang km")
    return 0


SCRIPT_COLUMNS = ("key", "khmer", "gloss", "category", "used in", "intonation", "notes", "also fills")

_SCRIPT_PAGE = """<!doctype html>
<html lang="km"><head><meta charset="utf-8"><title>Bong Pheak recording script</title>
<style>
body {{ font-family: "Noto Sans Khmer", "Khmer OS", sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border: 1px solid #999; padding: .4em; vertical-align: top; text-align: left; }}
td.km {{ font-size: 1.4em; }} td.k, td.n {{ font-family: monospace; font-size: .85em; color: #444; }}
td.u {{ color: #333; }} td.c {{ font-size: 1.4em; text-align: center; }}
@media print {{ tr {{ page-break-inside: avoid; }} }}
</style></head><body>
<h1>Bong Pheak — recording script ({count} recordings for {clips} clips)</h1>
<p>Read each Khmer line once, calmly, with a short silence before and after. One file per line, named by its key
(e.g. <code>ivr.intro.wav</code>); a text used by several clips is recorded once and fills them all.
Mono, 48 kHz, no music or echo. Tick the box when it is recorded.</p>
<p>Short pieces are joined into sentences in the call: <b>used in</b> shows one such sentence with the piece in «»;
<b>continuing</b> means the voice stays up (more follows), <b>final</b> means it falls (the phrase ends there).</p>
<table><tr><th>#</th><th>key</th><th>Khmer (read this)</th><th>English gloss</th><th>used in</th>
<th>intonation</th><th>notes</th><th>done</th></tr>
{rows}
</table></body></html>
"""


def _check(args: argparse.Namespace) -> int:
    if not args.pack.is_dir():
        raise CommandError(f"no pack folder at {args.pack}")
    with tqdm(desc="checking clips", unit="clip", file=sys.stderr, disable=None) as bar:
        report = check_pack(args.pack, ffmpeg=Settings().ffmpeg_binary, progress=bar.update)
    if report.manifest:
        kind = "placeholder pack (English gloss), not Khmer" if report.manifest.placeholder else "recorded"
        print(f"{args.pack}: {report.manifest.lang} pack {report.manifest.version}, {kind}")
    for defect in report.defects:
        print(f"  {defect}")
    print(f"{report.clips_checked} clips checked, {len(report.defects)} defects")
    return 0 if report.ok else 1


def _import(args: argparse.Namespace) -> int:
    if not args.src.is_dir():
        raise CommandError(f"no folder of recordings at {args.src}")
    files = recording_files(args.src)
    if not files:
        raise CommandError(f"no audio files in {args.src}")
    with tqdm(total=len(files), desc="importing", unit="clip", file=sys.stderr) as bar:
        result = import_recordings(
            args.src,
            args.lang,
            args.out,
            sample_rate=args.rate,
            speaker=args.speaker,
            version=args.version,
            ffmpeg=Settings().ffmpeg_binary,
            progress=bar.update,
        )
    print(f"imported {len(result.imported)} clips into {args.out}")
    for name in result.unknown:
        print(f"  skipped {name}: not a catalog key")
    for key, why in result.rejected.items():
        print(f"  rejected {key}: {why}")
    if result.missing:
        print(f"  still to record: {len(result.missing)} clips, e.g. {', '.join(result.missing[:5])}")
    return 1 if result.rejected else 0


def _placeholder(args: argparse.Namespace) -> int:
    for lang in args.lang or LANGUAGES:
        with tqdm(total=len(load_catalog()), desc=f"{lang} placeholder", unit="clip", file=sys.stderr) as bar:
            try:
                make_placeholder_pack(lang, args.out / lang, ffmpeg=Settings().ffmpeg_binary, progress=bar.update)
            except (FileNotFoundError, FfmpegError) as exc:
                raise CommandError(str(exc)) from None
        print(f"wrote {args.out / lang} (placeholder pack (English gloss), not Khmer)")
    return 0


def _lengths(args: argparse.Namespace) -> int:
    settings = Settings()
    jobs = sample_pitch_jobs(args.jobs)
    for lang in LANGUAGES:
        try:
            pack = load_pack(lang, settings.audio_cache, settings.prompt_pack_dir, settings.ffmpeg_binary)
        except PackError as exc:
            raise CommandError(str(exc)) from None
        print(f"{lang} ({pack.describe()}): {pitch_duration_report(jobs, lang, pack)}")
    return 0
