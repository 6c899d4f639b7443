"""Fixtures of the demo's tests: the dialer's voice stack, a fresh database per demo, one shared audio cache."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.database import fresh_database
from tests.e2e.dialer.conftest import audio, provider_mode, stack  # noqa: F401


@pytest.fixture(scope="session")
def audio_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One audio cache for every demo a test run starts: the voice notes are rendered once."""
    return tmp_path_factory.mktemp("demo-audio")


@pytest.fixture
def demo_database() -> Iterator[str]:
    """A fresh database of its own: the demo seeds it, and it is a demo database for good."""
    with fresh_database() as url:
        yield url
