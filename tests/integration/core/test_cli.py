"""The operator's commands against a real database: seed the demo, read the stats."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bongpheak.bootstrap import connect
from bongpheak.cli import main
from jobs_core.model import Application, Employer, Job, JobStatus, Relative, Worker


def _counts(url: str) -> dict[str, int]:
    """Counted on an engine of its own: the CLI ran its own event loops, the fixtures' engine is on another."""

    async def count() -> dict[str, int]:
        async with connect(url, pool_size=1) as db, db.sessions() as session:
            return await _count(session)

    return asyncio.run(count())


async def _count(session: AsyncSession) -> dict[str, int]:
    return {
        "employers": await session.scalar(select(func.count()).select_from(Employer)) or 0,
        "jobs": await session.scalar(select(func.count()).select_from(Job)) or 0,
        "provinces": await session.scalar(select(func.count(func.distinct(Job.province_code)))) or 0,
        "sectors": await session.scalar(select(func.count(func.distinct(Job.sector_code)))) or 0,
        "flagged": await session.scalar(select(func.count()).where(Job.risk != "low")) or 0,
        "published": await session.scalar(select(func.count()).where(Job.status == JobStatus.PUBLISHED)) or 0,
        "relatives": await session.scalar(select(func.count()).select_from(Relative)) or 0,
        "workers": await session.scalar(select(func.count()).select_from(Worker)) or 0,
        "applications": await session.scalar(select(func.count()).select_from(Application)) or 0,
    }


def test_seed_demo_then_stats(
    session_factory: async_sessionmaker[AsyncSession],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["seed", "--demo"]) == 0
    counts = _counts(database_url)
    assert counts["employers"] >= 30 and counts["jobs"] >= 80
    assert counts["provinces"] >= 10 and counts["sectors"] >= 8
    assert counts["flagged"] >= 3 and counts["published"] > 0
    assert counts["relatives"] > 0 and counts["workers"] > 0 and counts["applications"] > 0

    assert main(["seed", "--demo"]) == 0
    assert "already present" in capsys.readouterr().out
    assert _counts(database_url) == counts

    assert main(["stats", "--json"]) == 0
    months = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert len(months) >= 5
    # Every listing published in the past counts in its month, including those expired since.
    assert sum(m["jobs_published"] for m in months) >= counts["published"]
    assert sum(sum(m["applications"].values()) for m in months) == counts["applications"]
    assert any(m["hires"] for m in months) and any(m["calls_placed"] for m in months)


def test_seed_without_a_kind_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["seed"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bongpheak:") and "Traceback" not in err


def test_demo_seeds_prints_stats_and_checks_every_pitch_fits_a_billed_minute(
    session_factory: async_sessionmaker[AsyncSession],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: object,
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    assert main(["demo", "--no-serve"]) == 0
    out = capsys.readouterr().out
    assert "seeded" in out and "calls placed/answered" in out
    assert "This is demo data" in out and "DATA_DIR" in out
    pitch_lines = [line for line in out.splitlines() if "pitches:" in line]
    assert len(pitch_lines) == 2  # km and en
    for line in pitch_lines:
        assert "placeholder pack (English gloss), not Khmer" in line
        assert ", 0 over 45.0 s" in line


@pytest.mark.parametrize(
    ("env", "args", "named"),
    [
        ({}, ["serve"], "TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_BOT_TOKEN": "1:x"}, ["serve"], "TELEGRAM_WEBHOOK_SECRET"),
        ({}, ["dialer"], "VOICE_ACCOUNT_SID"),
    ],
)
def test_a_missing_setting_is_named_in_one_line(
    env: dict[str, str],
    args: list[str],
    named: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: object,
) -> None:
    monkeypatch.chdir(str(tmp_path))  # no .env here
    for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "VOICE_ACCOUNT_SID", "VOICE_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("bongpheak:") and named in err and "\n" not in err
