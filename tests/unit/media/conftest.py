"""Fixtures for the media tests: the bundled placeholder packs decoded once per session."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import pytest

from bongpheak.commands import CommandError, prompts, voice
from media.ffmpeg import ffmpeg_exe
from media.packs import PromptPack, load_packs
from media.renderer import Renderer


@pytest.fixture(scope="session")
def media_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("audio-cache")


@pytest.fixture(scope="session")
def packs(media_cache: Path) -> dict[str, PromptPack]:
    packs = load_packs(media_cache)
    for pack in packs.values():
        pack.prepare()
    return packs


@pytest.fixture
def renderer(packs: dict[str, PromptPack], tmp_path: Path) -> Renderer:
    """A renderer with a render cache of its own (the decoded clips are shared)."""
    return Renderer(packs, tmp_path / "cache")


@pytest.fixture
def counting_ffmpeg(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An ffmpeg that logs each call to a file before running the real one."""
    log = tmp_path / "ffmpeg-calls"
    log.touch()
    script = tmp_path / "ffmpeg-counting"
    script.write_text(f'#!/bin/sh\necho call >> "{log}"\nexec "{ffmpeg_exe()}" "$@"\n')
    script.chmod(0o755)
    yield str(script), log


def run_cli(argv: list[str]) -> int:
    """Run our command groups the way bongpheak.cli does (CommandError → exit 2)."""
    parser = argparse.ArgumentParser(prog="bongpheak")
    sub = parser.add_subparsers(dest="command", required=True)
    prompts.register(sub)
    voice.register(sub)
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except CommandError:
        return 2
