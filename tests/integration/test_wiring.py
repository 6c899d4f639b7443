"""Settings that only the composition root hands on: each reaches what reads it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bongpheak.app import wire
from bongpheak.bootstrap import Database
from bongpheak.settings import Settings


def test_the_moderators_language_reaches_the_notifier(
    engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    def language(**values: object) -> str:
        settings = Settings(_env_file=None, data_dir=tmp_path, **values)  # type: ignore[call-arg]
        return wire(settings, Database(engine, session_factory)).dialog.moderators_language

    assert language() == "km"  # Khmer moderators by default, as the product is run in Cambodia
    assert language(moderators_language="en") == "en"
