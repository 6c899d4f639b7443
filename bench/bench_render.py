"""Render benchmark: our renderer against the ffmpeg floor (one concat-filter command), plus cache hits.

Run: .venv/bin/python bench/bench_render.py [--pitches 50] [--lang km]
For each of N different pitches and each format it times, in the same run and interleaved:
  ours  - Renderer.render into an empty cache (clips already decoded and in memory, as in a running server);
  floor - one ffmpeg command joining the same WAV files (and silence WAVs for the pauses) with the concat
          filter and encoding with the same encoder settings.
Then it times cache hits (rendering an already-rendered utterance again).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from media import audio
from media.composer import PHRASE_PAUSE_MS, WORD_GAP_MS, Utterance, compose_pitch, estimate_ms
from media.ffmpeg import ffmpeg_exe
from media.packs import PromptPack, load_pack
from media.renderer import ENCODER_ARGS, FORMATS, Renderer
from media.sample_jobs import sample_pitch_jobs


def floor_command(utterance: Utterance, pack: PromptPack, gaps: dict[int, Path], fmt: str, out: Path) -> list[str]:
    """The plain ffmpeg way to produce the same file: every WAV an input, joined by the concat filter."""
    inputs: list[Path] = []
    for i, phrase in enumerate(utterance.phrases):
        if i:
            inputs.append(gaps[PHRASE_PAUSE_MS])
        for j, part in enumerate(phrase):
            if j:
                inputs.append(gaps[WORD_GAP_MS])
            inputs.append(pack.wav(part) if isinstance(part, str) else part)
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-y"]
    for path in inputs:
        args += ["-i", str(path)]
    args += ["-filter_complex", f"concat=n={len(inputs)}:v=0:a=1", *ENCODER_ARGS[fmt], str(out)]
    return args


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pitches", type=int, default=50)
    parser.add_argument("--lang", default="km")
    parser.add_argument("--hits", type=int, default=20, help="cache-hit renders per pitch")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        pack = load_pack(args.lang, tmp / "cache")
        pack.prepare()
        for key in pack.sources:
            pack.segment(key)  # a running server has its clips in memory after the first pitches
        gaps = {}
        for ms in (WORD_GAP_MS, PHRASE_PAUSE_MS):
            gaps[ms] = tmp / f"gap-{ms}.wav"
            audio.write_wav(audio.from_pcm(audio.silence_pcm(ms, pack.sample_rate), pack.sample_rate), gaps[ms])
        pitches = [compose_pitch(job, args.lang, pack) for job in sample_pitch_jobs(args.pitches, seed=2024)]
        assert len({p.phrases for p in pitches}) == len(pitches), "pitches must all differ"
        clips = [len(p.parts) for p in pitches]

        ours: dict[str, list[float]] = {fmt: [] for fmt in FORMATS}
        floor: dict[str, list[float]] = {fmt: [] for fmt in FORMATS}
        renderer = Renderer({args.lang: pack}, tmp / "cache")
        for i, pitch in enumerate(pitches):
            for fmt in FORMATS:
                command = floor_command(pitch, pack, gaps, fmt, tmp / f"floor.{fmt}")
                # Alternate which goes first so neither always gets the warmer CPU cache.
                for turn in (0, 1) if i % 2 else (1, 0):
                    start = time.perf_counter()
                    if turn:
                        renderer.render(pitch, fmt)
                    else:
                        subprocess.run(command, check=True)
                    (ours if turn else floor)[fmt].append(time.perf_counter() - start)

        hits = []
        for pitch in pitches:
            for _ in range(args.hits):
                start = time.perf_counter()
                renderer.render(pitch, "ogg")
                hits.append(time.perf_counter() - start)

    lengths = sorted(estimate_ms(p, pack) / 1000 for p in pitches)
    machine = _cpu_model() or platform.machine()
    print(f"machine: {machine}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"ffmpeg: {ffmpeg_exe()}")
    span = f"{min(clips)}–{max(clips)} clips, {lengths[0]:.1f}–{lengths[-1]:.1f} s"
    print(f"{len(pitches)} {args.lang} pitches, {span} each\n")
    print("| format | ours total | floor total | ratio (total) | median per-pitch ratio | ours median |")
    print("|---|---|---|---|---|---|")
    for fmt in FORMATS:
        ratio = sum(ours[fmt]) / sum(floor[fmt])
        per_pitch = statistics.median(o / f for o, f in zip(ours[fmt], floor[fmt], strict=True))
        print(
            f"| {fmt} | {sum(ours[fmt]):.2f} s | {sum(floor[fmt]):.2f} s | {ratio:.2f} | {per_pitch:.2f} | "
            f"{statistics.median(ours[fmt]) * 1000:.0f} ms |"
        )
    hits_ms = sorted(h * 1000 for h in hits)
    print(
        f"\ncache hit: median {statistics.median(hits_ms):.3f} ms, "
        f"p99 {hits_ms[int(0.99 * (len(hits_ms) - 1))]:.3f} ms, max {hits_ms[-1]:.3f} ms over {len(hits_ms)} renders"
    )
    return 0


def _cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return ""
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "")


if __name__ == "__main__":
    sys.exit(main())
