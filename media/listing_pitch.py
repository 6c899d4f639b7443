"""A job listing → the facts its pitch speaks: one mapping for the chat's voice notes, the calls and the website.

Media knows nothing of the domain's model, so a listing is anything with a job's fields (``Listing``); the
domain's ``Job`` is one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, time
from decimal import Decimal
from pathlib import Path
from typing import Protocol

from media.catalog import BENEFITS, SECTORS
from media.composer import PitchJob


class Listing(Protocol):
    """The fields of a job listing a pitch reads (coded values as text: a ``StrEnum`` is one)."""

    @property
    def sector_code(self) -> str: ...
    @property
    def province_code(self) -> str | None: ...
    @property
    def country(self) -> str | None: ...
    @property
    def salary_amount(self) -> Decimal | None: ...
    @property
    def salary_currency(self) -> str | None: ...
    @property
    def salary_period(self) -> str | None: ...
    @property
    def hours_start(self) -> time | None: ...
    @property
    def hours_end(self) -> time | None: ...
    @property
    def days_per_week(self) -> int | None: ...
    @property
    def benefits(self) -> Sequence[str]: ...
    @property
    def gender(self) -> str: ...
    @property
    def min_age(self) -> int | None: ...
    @property
    def max_age(self) -> int | None: ...
    @property
    def positions(self) -> int: ...
    @property
    def start_date(self) -> date | None: ...
    @property
    def voice_clip(self) -> str | None: ...


def pitch_job(job: Listing, with_clip: bool) -> PitchJob:
    """The facts a pitch speaks; the employer's own recording only when wanted and its file is there.

    A sector or benefit the clips do not know (a listing older than the catalog) is said as "other" or left
    out rather than costing the whole pitch; a recording whose file is gone leaves the pitch without it.
    """
    clip = Path(job.voice_clip) if with_clip and job.voice_clip else None
    return PitchJob(
        sector=job.sector_code if job.sector_code in SECTORS else "other",
        province_code=job.province_code,
        country=job.country or None,
        salary_amount=job.salary_amount,
        salary_currency=str(job.salary_currency) if job.salary_currency else None,
        salary_period=str(job.salary_period) if job.salary_period else None,
        hours_start=job.hours_start,
        hours_end=job.hours_end,
        days_per_week=job.days_per_week,
        benefits=tuple(b for b in job.benefits or () if b in BENEFITS),
        gender=str(job.gender),
        min_age=job.min_age,
        max_age=job.max_age,
        positions=job.positions,
        start_date=job.start_date,
        employer_clip=clip if clip is not None and clip.is_file() else None,
    )
