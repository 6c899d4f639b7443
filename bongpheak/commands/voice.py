"""`bongpheak voice`: hear a listing's pitch, or normalise an employer's recording, from the command line."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from bongpheak.commands import CommandError
from bongpheak.settings import Settings
from media.catalog import LANGUAGES
from media.composer import PitchJob, compose_pitch, estimate_ms
from media.employer_clip import EmployerClipRejected, normalise_employer_clip
from media.ffmpeg import FfmpegError
from media.packs import PackError, load_pack
from media.renderer import ALL_FORMATS, Renderer


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("voice", help="render pitches and employer clips")
    actions = parser.add_subparsers(dest="voice_command", required=True, metavar="ACTION")

    render = actions.add_parser("render", help="render one listing (a JSON object; - for stdin)")
    render.add_argument("listing", metavar="LISTING.json")
    render.add_argument("--lang", choices=LANGUAGES, default="km")
    render.add_argument("--format", choices=ALL_FORMATS, default="ogg", dest="fmt")
    render.add_argument("--out", type=Path, required=True, metavar="FILE")
    render.add_argument("--employer-clip", type=Path, help="an approved, normalised employer clip (WAV)")
    render.set_defaults(handler=_render)

    clip = actions.add_parser("employer-clip", help="normalise an employer's recording as the bot would")
    clip.add_argument("upload", type=Path)
    clip.add_argument("--out", type=Path, required=True, metavar="DIR")
    clip.set_defaults(handler=_employer_clip)


def _render(args: argparse.Namespace) -> int:
    listing = _read_listing(args.listing)
    settings = Settings()
    try:
        job = PitchJob.from_listing(listing)
        if args.employer_clip:
            job = PitchJob(**{**job.__dict__, "employer_clip": args.employer_clip})
        pack = load_pack(args.lang, settings.audio_cache, settings.prompt_pack_dir, settings.ffmpeg_binary)
        renderer = Renderer({args.lang: pack}, settings.audio_cache, settings.ffmpeg_binary)
        utterance = compose_pitch(job, args.lang, pack)
        rendered = renderer.render(utterance, args.fmt)
    except (ValueError, PackError, FfmpegError) as exc:
        raise CommandError(str(exc)) from None
    args.out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(rendered, args.out)
    print(f"pack: {pack.describe()}")
    print("clips: " + " ".join(utterance.keys))
    duration = renderer.duration_ms(args.out)
    print(f"duration: {duration / 1000:.1f} s (estimated {estimate_ms(utterance, pack) / 1000:.1f} s)")
    print(f"wrote {args.out}")
    return 0


def _read_listing(name: str) -> dict[str, object]:
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
        listing = json.loads(text)
    except (OSError, json.JSONDecodeError) as exc:
        raise CommandError(f"cannot read listing {name}: {exc}") from None
    if not isinstance(listing, dict):
        raise CommandError(f"{name}: expected one JSON object with the listing's fields")
    return listing


def _employer_clip(args: argparse.Namespace) -> int:
    settings = Settings()
    try:
        path = normalise_employer_clip(args.upload, args.out, ffmpeg=settings.ffmpeg_binary)
    except (EmployerClipRejected, OSError) as exc:
        raise CommandError(f"refused: {exc}") from None
    print(f"wrote {path}")
    return 0
