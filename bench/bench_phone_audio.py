"""Phone-line audio benchmark: which file format <Play> should fetch (size, encode, serve and fetch, decode).

Run: .venv/bin/python bench/bench_phone_audio.py [--runs 5] [--pitches 10] [--fetches 20] [--lang km]
For real prompt audio (N composed pitches of the sample jobs, and the short job menu) and each candidate:
  size    - bytes of the file, and the TCP round trips a first fetch needs from a cold connection (slow start
            from an initial window of 10 segments of 1448 bytes, doubling each round trip; no loss);
  encode  - ffmpeg turning the joined PCM into the file (what a cache miss costs us);
  fetch   - GET of the file from our aiohttp media route over loopback (FileResponse, as served), whole body;
  decode  - ffmpeg turning the file into 8 kHz μ-law, the phone line's G.711, as a provider must before playing.
Each run prints its medians; the last table gives the median of the runs and their spread (min–max).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from aiohttp import web

from media.composer import Utterance, compose_pitch, estimate_ms, job_menu
from media.ffmpeg import ffmpeg_exe
from media.packs import load_pack
from media.renderer import ENCODER_ARGS, Renderer
from media.sample_jobs import sample_pitch_jobs

MP3_8K = ["-c:a", "libmp3lame", "-ar", "8000", "-ac", "1", "-f", "mp3"]


@dataclass(frozen=True)
class Candidate:
    name: str
    suffix: str
    content_type: str
    encoder: list[str]


CANDIDATES = (
    Candidate("mp3 24 kHz 48k (before)", "mp3", "audio/mpeg", ENCODER_ARGS["mp3"]),
    Candidate("μ-law wav 8 kHz", "wav", "audio/wav", ENCODER_ARGS["wav"]),
    Candidate("mp3 8 kHz 16k", "mp3", "audio/mpeg", [*MP3_8K[:2], "-b:a", "16k", *MP3_8K[2:]]),
    Candidate("mp3 8 kHz 24k", "mp3", "audio/mpeg", [*MP3_8K[:2], "-b:a", "24k", *MP3_8K[2:]]),
)
MEASURES = ("encode", "fetch", "decode")


def encode(ffmpeg: str, pcm: bytes, rate: int, candidate: Candidate, out: Path) -> float:
    args = [ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-y", "-f", "s16le", "-ar", str(rate), "-ac", "1"]
    args += ["-i", "pipe:0", *candidate.encoder, str(out)]
    start = time.perf_counter()
    subprocess.run(args, input=pcm, check=True, capture_output=True)
    return time.perf_counter() - start


def decode_to_line(ffmpeg: str, path: Path) -> float:
    args = [ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-i", str(path)]
    args += ["-ar", "8000", "-ac", "1", "-c:a", "pcm_mulaw", "-f", "mulaw", "-"]
    start = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True)
    return time.perf_counter() - start


def slow_start_round_trips(size: int, segment: int = 1448, initial_window: int = 10) -> int:
    sent, window, trips = 0, initial_window * segment, 0
    while sent < size:
        sent += window
        window *= 2
        trips += 1
    return trips


async def fetch_times(files: dict[str, Path], fetches: int) -> dict[str, float]:
    """Median seconds to GET each file whole from an aiohttp FileResponse route over loopback."""

    async def media(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        return web.FileResponse(files[name], headers={"Cache-Control": "max-age=86400"})

    app = web.Application()
    app.router.add_get("/voice/media/{name}", media)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    medians: dict[str, float] = {}
    try:
        async with aiohttp.ClientSession() as http:
            for name in files:
                times = []
                for _ in range(fetches):
                    start = time.perf_counter()
                    async with http.get(f"http://127.0.0.1:{port}/voice/media/{name}") as response:
                        await response.read()
                    times.append(time.perf_counter() - start)
                medians[name] = statistics.median(times)
    finally:
        await runner.cleanup()
    return medians


def one_run(
    ffmpeg: str, renderer: Renderer, prompts: dict[str, list[Utterance]], tmp: Path, fetches: int
) -> tuple[dict[tuple[str, str], dict[str, float]], dict[tuple[str, str], int]]:
    """Per (prompt kind, candidate): median encode/fetch/decode seconds, and median size in bytes."""
    times: dict[tuple[str, str], dict[str, list[float]]] = {}
    sizes: dict[tuple[str, str], list[int]] = {}
    files: dict[str, Path] = {}
    owner: dict[str, tuple[str, str]] = {}
    for kind, utterances in prompts.items():
        for i, utterance in enumerate(utterances):
            segment = renderer.join(utterance)
            for c, candidate in enumerate(CANDIDATES):
                key = (kind, candidate.name)
                out = tmp / f"{kind}-{i}-{c}.{candidate.suffix}"
                bucket = times.setdefault(key, {m: [] for m in MEASURES})
                bucket["encode"].append(encode(ffmpeg, segment.raw_data, segment.frame_rate, candidate, out))
                bucket["decode"].append(decode_to_line(ffmpeg, out))
                sizes.setdefault(key, []).append(out.stat().st_size)
                files[out.name], owner[out.name] = out, key
    for name, seconds in asyncio.run(fetch_times(files, fetches)).items():
        times[owner[name]]["fetch"].append(seconds)
    medians = {key: {m: statistics.median(v) for m, v in bucket.items()} for key, bucket in times.items()}
    return medians, {key: int(statistics.median(v)) for key, v in sizes.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pitches", type=int, default=10)
    parser.add_argument("--fetches", type=int, default=20, help="GETs of each file per run")
    parser.add_argument("--lang", default="km")
    args = parser.parse_args()
    ffmpeg = ffmpeg_exe()

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        pack = load_pack(args.lang, tmp / "cache")
        renderer = Renderer({args.lang: pack}, tmp / "cache")
        pitches = [compose_pitch(job, args.lang, pack) for job in sample_pitch_jobs(args.pitches, seed=2024)]
        prompts = {"pitch": pitches, "menu": [job_menu(args.lang)]}
        lengths = sorted(estimate_ms(p, pack) / 1000 for p in pitches)
        print(f"machine: {_cpu_model() or platform.machine()}, {os.cpu_count()} cores, load {_load()}")
        print(f"ffmpeg: {ffmpeg}; pack: {pack.describe()}")
        print(
            f"{len(pitches)} {args.lang} pitches of {lengths[0]:.1f}–{lengths[-1]:.1f} s and the job menu "
            f"({estimate_ms(prompts['menu'][0], pack) / 1000:.1f} s); {args.fetches} fetches a file a run\n"
        )
        runs = []
        for run in range(1, args.runs + 1):
            (tmp / f"run{run}").mkdir()
            medians, sizes = one_run(ffmpeg, renderer, prompts, tmp / f"run{run}", args.fetches)
            runs.append(medians)
            print(f"run {run}: " + "; ".join(_brief(k, medians[k]) for k in medians if k[0] == "pitch"))
    print("\n| prompt | format | size (median) | cold-fetch round trips | encode ms | fetch ms | decode ms |")
    print("|---|---|---|---|---|---|---|")
    for key in runs[0]:
        cells = []
        for measure in MEASURES:
            values = sorted(r[key][measure] * 1000 for r in runs)
            cells.append(f"{statistics.median(values):.1f} ({values[0]:.1f}–{values[-1]:.1f})")
        size = sizes[key]
        row = [key[0], key[1], f"{size / 1024:.1f} KiB", str(slow_start_round_trips(size)), *cells]
        print("| " + " | ".join(row) + " |")
    print(f"\n{len(runs)} runs; each cell: median of the runs' medians (min–max over the runs)")
    return 0


def _brief(key: tuple[str, str], medians: dict[str, float]) -> str:
    return f"{key[1]} fetch {medians['fetch'] * 1000:.1f} ms"


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def _cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return ""
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "")


if __name__ == "__main__":
    sys.exit(main())
