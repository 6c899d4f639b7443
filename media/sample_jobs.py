"""Varied made-up jobs, for the pitch-length report, the demo and the render benchmark."""

from __future__ import annotations

import random
from datetime import date, time, timedelta
from decimal import Decimal

from media.catalog import BENEFITS, COUNTRIES, SECTORS
from media.composer import PitchJob

_USD_MONTH = (150, 180, 195, 210, 230, 250, 280, 320, 450, 700, 1200, 1600)
_KHR_DAY = (25_000, 30_000, 40_000, 45_000, 60_000)


def sample_pitch_jobs(n: int, seed: int = 1) -> list[PitchJob]:
    """n different jobs, some with every detail filled in, some with few; the same for the same seed."""
    rng = random.Random(seed)
    jobs = []
    for _ in range(n):
        abroad = rng.random() < 0.15
        currency, period, amount = rng.choice(
            [
                ("USD", "month", Decimal(rng.choice(_USD_MONTH))),
                ("KHR", "day", Decimal(rng.choice(_KHR_DAY))),
                ("USD", "hour", Decimal(rng.choice(("1.5", "2", "2.25", "3")))),
                ("KHR", "piece", Decimal(rng.choice((500, 800, 1200)))),
            ]
        )
        start_hour = rng.choice((6, 7, 7, 8, 18))
        full = rng.random() < 0.6
        jobs.append(
            PitchJob(
                sector=rng.choice(SECTORS),
                province_code=None if abroad else f"{rng.randint(1, 25):02d}",
                country=rng.choice(COUNTRIES).replace("_", " ").title() if abroad else None,
                salary_amount=amount if rng.random() < 0.9 else None,
                salary_currency=currency,
                salary_period=period,
                hours_start=time(start_hour, rng.choice((0, 0, 30))) if full else None,
                hours_end=time((start_hour + rng.choice((8, 9, 10))) % 24, 0) if full else None,
                days_per_week=rng.choice((5, 6, 6, 7)) if full else None,
                benefits=tuple(rng.sample(BENEFITS, rng.randint(0, len(BENEFITS)))),
                gender=rng.choice(("any", "any", "male", "female")),
                min_age=rng.choice((None, 18, 18, 20)),
                max_age=rng.choice((None, 35, 40, 45, 50)),
                positions=rng.choice((None, 1, 5, 20, 120, 350)),
                start_date=date(2026, 1, 5) + timedelta(days=rng.randint(0, 200)) if full else None,
            )
        )
    return jobs
