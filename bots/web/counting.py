"""Counting without tracking: page views, voice plays and shares per day, and distinct visitors per day as
``sha256(day's salt, address, browser)`` cut to 16 bytes. No cookie, no address stored, nothing from another
site; the salt is replaced every day (``keys.Keys.salt``), so a day's hashes cannot be tied to anyone after it.

Figures for a month add the days: a visitor who comes on two days counts twice (an estimate, said so where
it is shown)."""

from __future__ import annotations

import hashlib
import logging
from datetime import date

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.web.keys import Keys
from jobs_core.clock import local_date
from jobs_core.model import WebCount, WebVisitor
from jobs_core.model.base import utcnow

log = logging.getLogger(__name__)

KINDS = ("view", "play", "share")
# Link previewers and crawlers are not visitors.
ROBOTS = ("bot", "crawler", "spider", "preview", "facebookexternalhit", "telegram")


def visitor_hash(salt: bytes, address: str, browser: str) -> bytes:
    return hashlib.sha256(salt + b"\0" + address.encode() + b"\0" + browser.encode()).digest()[:16]


def client_address(request: web.Request) -> str:
    """The visitor's address as the load balancer saw it (first of X-Forwarded-For), else the peer."""
    forwarded = request.headers.get("X-Forwarded-For", "")
    return forwarded.split(",")[0].strip() or (request.remote or "")


async def count(
    sessions: async_sessionmaker[AsyncSession],
    keys: Keys,
    request: web.Request,
    kind: str,
    job_id: int = 0,
    *,
    today: date | None = None,
) -> None:
    """Count one ``kind`` for ``job_id`` today and note the visitor; a counting failure never fails the page."""
    browser = request.headers.get("User-Agent", "")
    if any(word in browser.lower() for word in ROBOTS):
        return
    today = today or local_date(utcnow())
    try:
        salt = await keys.salt(today)
        async with sessions() as session:
            await session.execute(
                insert(WebCount)
                .values(day=today, kind=kind, job_id=job_id, count=1)
                .on_conflict_do_update(index_elements=["day", "kind", "job_id"], set_={"count": WebCount.count + 1})
            )
            await session.execute(
                insert(WebVisitor)
                .values(day=today, visitor=visitor_hash(salt, client_address(request), browser))
                .on_conflict_do_nothing()
            )
            await session.commit()
    except Exception:
        log.exception("counting a %s failed", kind)


async def daily_figures(session: AsyncSession, start: date, end: date) -> dict[str, int]:
    """Totals between two days (inclusive): views, plays, shares and distinct visitors summed over the days."""
    totals = dict.fromkeys((*KINDS, "visitors"), 0)
    rows = await session.execute(
        select(WebCount.kind, func.sum(WebCount.count))
        .where(WebCount.day >= start, WebCount.day <= end)
        .group_by(WebCount.kind)
    )
    for kind, total in rows:
        totals[kind] = int(total or 0)
    totals["visitors"] = int(
        await session.scalar(
            select(func.count()).select_from(WebVisitor).where(WebVisitor.day >= start, WebVisitor.day <= end)
        )
        or 0
    )
    return totals
