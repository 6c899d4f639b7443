"""The dashboard's other queues (companies, reports, check-in alarms) and the prompt pack pages."""

from __future__ import annotations

import json
import math
import struct
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.web.admin import AdminDeps, setup_admin
from jobs_core.model import Employer, Job, JobStatus, Report, ReportPriority, ReportStatus, Verification
from jobs_core.services.reports import ReportProblem, report_problem
from media.catalog import load_catalog
from tests.builders import Builder
from tests.e2e.admin.conftest import Client, page, sign_in, submit


async def test_a_company_is_verified_and_another_needs_a_reason_to_be_rejected(
    client: Client, operator: str, build: Builder
) -> None:
    good, doubtful = await build.employer(), await build.employer("Quick Visa Jobs", external_id="5002")
    await sign_in(client)
    moderation = await page(client, "/admin/moderation")
    forms = {
        company: moderation.by_id(f"company-{company}").find("form")  # type: ignore[union-attr]
        for company in (good, doubtful)
    }
    assert all(forms.values())
    status, _ = await submit(client, forms[good], decision="verify")  # type: ignore[arg-type]
    assert status == 200
    status, refused = await submit(client, forms[doubtful], decision="reject")  # type: ignore[arg-type]
    assert status == 400 and refused.by_id("error") is not None
    status, _ = await submit(client, forms[doubtful], decision="reject", reason="No such company registered.")  # type: ignore[arg-type]
    assert status == 200
    async with build.sessions() as session:
        assert (await session.get(Employer, good)).verification is Verification.VERIFIED  # type: ignore[union-attr]
        assert (await session.get(Employer, doubtful)).verification is Verification.REJECTED  # type: ignore[union-attr]


async def test_a_check_in_alarm_shows_whom_to_call_and_upholding_a_report_takes_the_job_down(
    client: Client, operator: str, build: Builder
) -> None:
    job = await build.published()
    worker = await build.worker()
    alarm = await report_problem(
        ReportProblem(
            "abuse",
            job_id=job,
            details="Post-hire check-in: the worker pressed for help.",
            reporter_worker_id=worker,
            priority=ReportPriority.HIGH,
        ),
        build.uow(),
    )
    await sign_in(client)
    moderation = await page(client, "/admin/moderation")
    alarms = moderation.by_id("alarms")
    card = moderation.by_id(f"report-{alarm}")
    assert alarms is not None and card is not None and "(1)" in alarms.text
    call_back = card.find("p", class_="worker")
    assert call_back is not None and "Sophea" in call_back.text
    form = card.find("form")
    assert form is not None
    status, done = await submit(client, form, decision="uphold", resolution="Called the worker; police informed.")
    assert status == 200 and done.by_id("done") is not None
    async with build.sessions() as session:
        report = await session.get(Report, alarm)
        assert report is not None and report.status is ReportStatus.RESOLVED
        assert (await session.get(Job, job)).status is JobStatus.REJECTED  # type: ignore[union-attr]
        assert report.resolution == "Called the worker; police informed."
    # Posting the same decision again: already closed, said so.
    status, again = await submit(client, form, decision="dismiss")
    assert status == 409 and again.by_id("error") is not None


# --------------------------------------------------------------------------------------------- prompt packs


def _clip(path: Path, seconds: float = 0.6, amplitude: float = 0.2) -> None:
    rate = 16000
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        frames = (int(amplitude * 32767 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(int(rate * seconds)))
        out.writeframes(b"".join(struct.pack("<h", f) for f in frames))


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    """A tiny recorded pack: one catalog clip, one that is not in the catalog; all the others missing."""
    root = tmp_path / "packs" / "km"
    (root / "clips").mkdir(parents=True)
    manifest = {"lang": "km", "version": "t1", "sample_rate": 16000, "speaker": "Dara", "placeholder": False}
    (root / "manifest.json").write_text(json.dumps(manifest))
    _clip(root / "clips" / "ivr.intro.wav")
    _clip(root / "clips" / "not.in.catalog.wav")
    return root


@pytest.fixture
async def prompts_client(
    session_factory: async_sessionmaker[AsyncSession], pack: Path, tmp_path: Path
) -> AsyncIterator[Client]:
    app = web.Application()
    setup_admin(app, AdminDeps(session_factory, secure_cookies=False, clips_dir=tmp_path, prompt_packs={"km": pack}))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def test_the_prompt_pack_report_and_each_clip_to_listen_to(prompts_client: Client, operator: str) -> None:
    await sign_in(prompts_client)
    report = await page(prompts_client, "/admin/prompts?lang=en")
    section = report.by_id("pack-km")
    assert section is not None
    kinds = {row.find_all("td")[0].text for row in section.find_all("tr") if row.find_all("td")}
    assert kinds == {"missing", "extra"}
    missing = [row for row in section.find_all("tr") if row.find_all("td") and row.find_all("td")[0].text == "missing"]
    assert len(missing) == len(load_catalog()) - 1  # every catalog clip but the one recorded

    clips = await page(prompts_client, "/admin/prompts/km")
    row = clips.by_id("clip-ivr.intro")
    assert row is not None
    audio = row.find("audio")
    assert audio is not None
    heard = await prompts_client.get(audio.attrs["src"])
    assert heard.status == 200 and heard.content_type == "audio/wav"
    for wrong in ("/admin/prompts/km/clips/nothing", "/admin/prompts/km/clips/..%2Fmanifest", "/admin/prompts/xx"):
        assert (await prompts_client.get(wrong)).status == 404, wrong


async def test_a_long_queue_pages_by_itself_and_keeps_the_other_queues_place(
    client: Client, operator: str, build: Builder
) -> None:
    companies = [await build.employer(f"Company {n:02d}", external_id=f"70{n:02d}") for n in range(53)]
    await sign_in(client)
    first = await page(client, "/admin/moderation?reports_page=2")
    shown = [a.attrs["id"] for a in first.find_all("article") if a.attrs.get("id", "").startswith("company-")]
    assert shown == [f"company-{c}" for c in companies[:50]]  # oldest first
    pager = first.find("nav", **{"aria-label": "companies"})
    assert pager is not None and "1/2" in pager.text
    older = pager.find("a", rel="next").attrs["href"]  # type: ignore[union-attr]
    # The reports' page stays where the moderator left it.
    assert older == "/admin/moderation?companies_page=2&reports_page=2#companies"
    second = await page(client, older.split("#")[0])
    shown = [a.attrs["id"] for a in second.find_all("article") if a.attrs.get("id", "").startswith("company-")]
    assert shown == [f"company-{c}" for c in companies[50:]]
    back = second.find("nav", **{"aria-label": "companies"}).find("a", rel="prev")  # type: ignore[union-attr]
    assert back.attrs["href"] == "/admin/moderation?reports_page=2#companies"  # type: ignore[union-attr]
    # A page number that is not one is the first page, not an error.
    assert (await page(client, "/admin/moderation?companies_page=x")).by_id(f"company-{companies[0]}")
