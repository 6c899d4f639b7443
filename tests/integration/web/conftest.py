"""The website fixture: see ``support``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.integration.web.support import Site, open_site


@pytest.fixture
async def site(session_factory: async_sessionmaker[AsyncSession], now: datetime, tmp_path: Path) -> AsyncIterator[Site]:
    async with open_site(session_factory, now, tmp_path) as opened:
        yield opened
