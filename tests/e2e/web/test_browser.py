"""A visitor on a phone-sized screen, in Debian's Chromium driven by Playwright (headless, no browser download):
filters the list, plays a voice note, asks us to call a family member. Screenshots of each step, in Khmer and
English, are kept under ``var/test-artifacts/web/``. Skipped, saying why, when Playwright or Chromium is absent
(``.ci/run`` installs Chromium when it can)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs_core.model import CallRequest, Nomination, WebCount
from tests.integration.web.support import Site, open_site

ARTIFACTS = Path(__file__).resolve().parents[3] / "var" / "test-artifacts" / "web"
PHONE = {"width": 360, "height": 740}
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")

try:
    from playwright.async_api import async_playwright
except ImportError:  # pragma: no cover - depends on the machine
    async_playwright = None  # type: ignore[assignment]

pytestmark = [
    pytest.mark.skipif(
        async_playwright is None, reason="Playwright for Python is not installed (pip install playwright)"
    ),
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (apt-get install chromium)"),
]


def real_mp3(path: Path) -> Path:
    """One second of a tone as MP3, so the browser really plays something."""
    import imageio_ffmpeg

    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=1",
            "-codec:a",
            "libmp3lame",
            "-b:a",
            "32k",
            str(path),
        ],
        check=True,
    )
    return path


@pytest.fixture
async def site(session_factory: async_sessionmaker[AsyncSession], now: datetime, tmp_path: Path) -> AsyncIterator[Site]:
    async with open_site(session_factory, now, tmp_path, mp3=real_mp3(tmp_path / "tone.mp3")) as opened:
        yield opened


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    assert async_playwright is not None and CHROMIUM is not None
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--autoplay-policy=no-user-gesture-required"]
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.mark.parametrize("language", ["km", "en"])
async def test_a_visitor_filters_plays_a_voice_note_and_has_a_family_member_called(
    site: Site, browser: Any, language: str
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await site.job(title="Sewing operators", description="Garment factory, overtime paid, NSSF.")
    wanted = await site.job(title="Hotel cook", province="Siem Reap", sector="hospitality", salary_amount="320")
    home = str(site.client.make_url("/" if language == "km" else "/en/"))
    context = await browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = await context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(home.rsplit("/", 2)[0]) else None)
    await page.goto(home)
    await page.screenshot(path=str(ARTIFACTS / f"{language}-1-list.png"), full_page=True)

    await page.select_option("select[name=province]", "17")
    await page.click("form.filters button[type=submit]")
    await page.wait_for_load_state()
    cards = page.locator("li.card[data-job]")
    assert await cards.count() == 1
    assert "Hotel cook" in await cards.first.inner_text()

    played = await page.evaluate(
        """async () => { const a = document.querySelector('li.card audio'); await a.play();
        await new Promise(r => setTimeout(r, 300)); return !a.paused || a.ended; }"""
    )
    assert played
    await page.screenshot(path=str(ARTIFACTS / f"{language}-2-filtered.png"), full_page=True)

    await cards.first.locator("h2 a").click()
    await page.wait_for_load_state()
    form = page.locator("form#family")
    await form.locator("[name=name]").fill("Dara")
    await form.locator("[name=phone]").fill("097 765 4321")
    await form.locator("[name=relation]").select_option("sibling")
    await form.locator("[name=gender]").select_option("male")
    await form.locator("[name=birth_year]").fill("1999")
    await form.locator("[name=agreed_to_calls]").check()
    await page.screenshot(path=str(ARTIFACTS / f"{language}-3-job.png"), full_page=True)
    await form.locator("button[type=submit]").click()
    await page.wait_for_load_state()
    assert await page.locator("form#family .done").count() == 1
    await page.screenshot(path=str(ARTIFACTS / f"{language}-4-done.png"), full_page=True)
    await context.close()

    async with site.sessions() as session:
        nomination = await session.scalar(select(Nomination))
        request = await session.scalar(select(CallRequest))
        plays = (await session.scalars(select(WebCount).where(WebCount.kind == "play"))).all()
    assert nomination is not None and nomination.name == "Dara"
    assert request is not None and request.job_id == wanted
    assert [(p.job_id, p.count) for p in plays] == [(wanted, 1)]
    assert outside == []
