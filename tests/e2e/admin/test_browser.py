"""An operator in a real browser (Playwright driving Debian's chromium, headless): signs in, approves a listing,
downloads a CSV. Screenshots are kept in var/screenshots/ as the test's artifacts.

Skipped, with the reason, where playwright or chromium is not installed (``apt-get install chromium``).
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from bongpheak.app import Wiring, build_app
from bongpheak.settings import ROOT
from jobs_core.model import Job, JobStatus
from jobs_core.services.jobs import SubmitJob, submit_job
from tests.builders import Builder
from tests.e2e.admin.conftest import NAME, PASSWORD

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = ROOT / "var" / "screenshots"

playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed (pip)")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (apt-get install chromium)")


async def test_an_operator_signs_in_approves_a_listing_and_downloads_a_csv(
    wiring: Wiring, operator: str, build: Builder, tmp_path: Path
) -> None:
    employer = await build.employer()
    job = await build.draft(employer)
    await submit_job(SubmitJob(job, employer, "employer"), build.uow())
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    server = TestServer(build_app(wiring, None), host="127.0.0.1")
    await server.start_server()
    try:
        async with playwright_api.async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True)
            context = await browser.new_context(viewport={"width": 412, "height": 915}, accept_downloads=True)
            tab = await context.new_page()
            await tab.goto(str(server.make_url("/admin/?lang=en")))
            await tab.get_by_label("Name").fill(NAME)
            await tab.get_by_label("Password").fill(PASSWORD)
            await tab.get_by_role("button", name="Sign in").click()
            await tab.locator("#who").wait_for()

            await tab.get_by_role("link", name="Moderation").click()
            card = tab.locator(f"#job-{job}")
            await card.get_by_role("button", name="Approve").click()
            await tab.locator("#done").wait_for()
            assert f"#{job}" in await tab.locator("#done").inner_text()
            assert await tab.locator(f"#job-{job}").count() == 0
            await tab.screenshot(path=str(SCREENSHOTS / "dashboard-moderation-en.png"), full_page=True)

            await tab.get_by_role("link", name="Figures").click()
            await tab.locator("#chart-applications").wait_for()
            async with tab.expect_download() as waiting:
                await tab.locator("#csv-sectors").click()
            download = await waiting.value
            saved = tmp_path / download.suggested_filename
            await download.save_as(saved)
            await tab.set_viewport_size({"width": 1280, "height": 900})
            await tab.screenshot(path=str(SCREENSHOTS / "dashboard-figures-en.png"), full_page=True)
            # In Khmer (the default language), phone-sized: the queue an on-call moderator reads.
            await tab.set_viewport_size({"width": 412, "height": 915})
            await tab.goto(str(server.make_url("/admin/moderation?lang=km")))
            assert await tab.locator("html").get_attribute("lang") == "km"
            await tab.screenshot(path=str(SCREENSHOTS / "dashboard-moderation-km.png"), full_page=True)
            await browser.close()
    finally:
        await server.close()

    assert saved.name == "bongpheak-sectors.csv"
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert [(r["sector"], r["jobs published"]) for r in rows] == [("Garment / manufacturing", "1")]
    async with build.sessions() as session:
        approved = await session.get(Job, job)
        assert approved is not None and approved.status is JobStatus.PUBLISHED
