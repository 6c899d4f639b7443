from __future__ import annotations

from sqlalchemy import select

from jobs_core.model import Sector
from jobs_core.uow import UnitOfWork


async def test_migrated_database_has_the_sectors(uow: UnitOfWork) -> None:
    async with uow:
        codes = set((await uow.session.scalars(select(Sector.code))).all())
    assert {"manufacturing", "construction", "fishing", "domestic", "other"} <= codes
