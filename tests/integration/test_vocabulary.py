"""One vocabulary: the codes of sectors, benefits, relations, currencies and pay periods mean the same set
everywhere they are written down — the model, the seeded table, the screener and its wage norms, the voice
clips and the chat's labels. A code added in one place and forgotten in another fails here, not in a call."""

from __future__ import annotations

import json
from importlib import resources

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import conversations.labels as chat
import media.catalog as clips
from jobs_core import screening
from jobs_core.model import Benefit, Currency, Relationship, SalaryPeriod, Sector
from jobs_core.model.job import DEFAULT_SECTORS

SECTORS = [code for code, _en, _km in DEFAULT_SECTORS]


async def test_sectors_are_one_set_in_the_model_the_database_the_screener_and_the_clips(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session:
        seeded = (await session.scalars(select(Sector.code).order_by(Sector.position, Sector.code))).all()
    norms = json.loads(resources.files("jobs_core.data").joinpath("wage_norms.json").read_text(encoding="utf-8"))
    assert sorted(seeded) == sorted(SECTORS)  # what the migrations seed
    assert list(screening.SECTORS) == SECTORS
    assert sorted(norms["sectors"]) == sorted(SECTORS)
    assert list(clips.SECTORS) == SECTORS  # each has its sector.<code> clip (tests/unit/media/test_catalog.py)


def test_benefits_relations_currencies_and_periods_are_one_set_each() -> None:
    assert sorted(clips.BENEFITS) == sorted(chat.BENEFITS) == sorted(b.value for b in Benefit)
    assert sorted(clips.CURRENCIES) == sorted(c.value for c in Currency)
    assert sorted(clips.PERIODS) == sorted(chat.PERIODS) == sorted(p.value for p in SalaryPeriod)
    # "self" is for someone applying on the website for themselves; the chat only asks about others.
    assert sorted(clips.RELATIONSHIPS) == sorted(r.value for r in Relationship)
    assert sorted(chat.RELATIONSHIPS) == sorted(r.value for r in Relationship if r is not Relationship.SELF)
