"""The job list's filters and query: province, sector, pay from/to in the job's own currency, pages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from jobs_core import geo
from jobs_core.errors import InvalidField
from jobs_core.model import Currency, Employer, Job, JobStatus
from jobs_core.numbers import parse_int

PAGE_SIZE = 10
MAX_PAGE = 1000
MAX_PAY = 10**9


@dataclass
class Filters:
    """What the visitor asked for, as typed (``values``, shown back in the form) and as read."""

    values: dict[str, str] = field(default_factory=dict)
    province: str | None = None
    # With a province: that province and those it borders, the province's own jobs first.
    near: bool = False
    sector: str | None = None
    currency: str = Currency.USD.value
    pay_from: int | None = None
    pay_to: int | None = None
    page: int = 1
    errors: dict[str, InvalidField] = field(default_factory=dict)

    def query(self, page: int) -> str:
        """The query string of ``page`` with these filters (empty ones left out)."""
        from urllib.parse import urlencode

        kept = {k: v for k, v in self.values.items() if v and k != "page"}
        if page > 1:
            kept["page"] = str(page)
        return ("?" + urlencode(kept)) if kept else ""


def read_filters(query: Mapping[str, str], sector_codes: set[str]) -> Filters:
    """Read the filters; a bad one is left out of the search and named in ``errors``, its text kept."""
    names = ("province", "near", "sector", "currency", "pay_from", "pay_to", "page")
    filters = Filters(values={n: query.get(n, "").strip()[:40] for n in names})
    v = filters.values
    if v["province"]:
        try:
            filters.province = geo.province(v["province"]).code
        except InvalidField as error:
            filters.errors["province"] = error
    # A checkbox: any value means ticked; without a province there is nothing to be near.
    filters.near = bool(v["near"]) and filters.province is not None
    if v["sector"]:
        if v["sector"] in sector_codes:
            filters.sector = v["sector"]
        else:
            filters.errors["sector"] = InvalidField("sector", "unknown_sector", "unknown sector")
    if v["currency"] in (Currency.USD.value, Currency.KHR.value):
        filters.currency = v["currency"]
    elif v["currency"]:
        filters.errors["currency"] = InvalidField("currency", "invalid_choice", "USD or KHR")
    for name in ("pay_from", "pay_to"):
        if v[name]:
            try:
                setattr(filters, name, parse_int(name, v[name], minimum=0, maximum=MAX_PAY))
            except InvalidField as error:
                filters.errors[name] = error
    if v["page"]:
        try:
            filters.page = parse_int("page", v["page"], minimum=1, maximum=MAX_PAGE)
        except InvalidField as error:
            filters.errors["page"] = error
    return filters


def _where(query: Select[Any], filters: Filters, now: datetime) -> Select[Any]:
    query = query.where(Job.status == JobStatus.PUBLISHED, Job.expires_at > now, Job.revision_of.is_(None))
    if filters.province and filters.near:
        query = query.where(Job.province_code.in_(geo.near(filters.province)))
    elif filters.province:
        query = query.where(Job.province_code == filters.province)
    if filters.sector:
        query = query.where(Job.sector_code == filters.sector)
    if filters.pay_from is not None or filters.pay_to is not None:
        # Pay is compared in the job's own currency: no exchange rate decides what someone sees.
        query = query.where(Job.salary_currency == Currency(filters.currency))
        if filters.pay_from is not None:
            query = query.where(Job.salary_amount >= Decimal(filters.pay_from))
        if filters.pay_to is not None:
            query = query.where(Job.salary_amount <= Decimal(filters.pay_to))
    return query


async def browse(session: AsyncSession, filters: Filters, now: datetime) -> tuple[list[Job], int]:
    """One page of live listings, featured then newest first (near a province: its own first), and how many
    match in all."""
    total = int(await session.scalar(_where(select(func.count()).select_from(Job), filters, now)) or 0)
    # Paid featured weeks come first, within the filters and after the chosen province's own listings.
    order: list[Any] = [(Job.featured_until > now).is_(True).desc(), Job.published_at.desc(), Job.id.desc()]
    if filters.near and filters.province:
        order.insert(0, (Job.province_code == filters.province).desc())
    query = (
        _where(select(Job), filters, now)
        .order_by(*order)
        .offset((filters.page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
        .options(
            joinedload(Job.employer, innerjoin=True).raiseload(Employer.identities),
            joinedload(Job.sector, innerjoin=True),
        )
    )
    return list((await session.scalars(query)).unique().all()), total
