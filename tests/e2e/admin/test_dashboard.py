"""The operator's dashboard: sign-in and CSRF refusals, moderation through the chat's services, figures and CSV."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import struct
import wave
from datetime import date
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bongpheak.app import Wiring, build_app, wire
from bongpheak.bootstrap import Database
from bongpheak.commands.stats import render_stats
from bongpheak.demo_seed import seed_demo
from bongpheak.settings import Settings
from bots.web.admin.models import StaffSession
from conversations.i18n import gettext_for
from conversations.notifier import notify_once
from conversations.outbox import OutboxMessage
from jobs_core.model import AuditEntry, Consent, Job, JobStatus, ModerationDecision, Nomination, Worker
from jobs_core.model.web import WebCount, WebVisitor
from jobs_core.services.jobs import AttachVoiceClip, SubmitJob, attach_voice_clip, submit_job
from tests.builders import Builder
from tests.e2e.admin.conftest import NAME, PASSWORD, Client, page, sign_in, submit
from tests.e2e.admin.html_page import Element, parse

RISKY = "Pay a deposit of $300 before you start. We keep your passport until the contract ends."


async def pending_job(build: Builder, description: str | None = None, clip: Path | None = None) -> tuple[int, int]:
    employer = await build.employer()
    job = await build.draft(employer, **({"description": description} if description else {}))
    if clip is not None:
        await attach_voice_clip(AttachVoiceClip(job, employer, str(clip), "employer"), build.uow())
    await submit_job(SubmitJob(job, employer, "employer"), build.uow())
    return employer, job


async def status_of(sessions: async_sessionmaker[AsyncSession], job_id: int) -> JobStatus:
    async with sessions() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        return job.status


def decision_form(moderation: Element, job_id: int) -> Element:
    card = moderation.by_id(f"job-{job_id}")
    assert card is not None, "the listing is in the queue"
    form = card.find("form")
    assert form is not None
    return form


# ----------------------------------------------------------------------------------------------- sign-in


async def test_without_a_session_every_page_is_the_sign_in_page(client: Client, build: Builder) -> None:
    _, job = await pending_job(build)
    for path in ("/admin/", "/admin", "/admin/moderation", "/admin/figures/monthly.csv", "/admin/prompts"):
        response = await client.get(path)
        assert response.status == 200 and response.url.path == "/admin/sign-in", path
        assert (await page(client, str(response.url.path))).find("form", id="sign-in") is not None
    # A decision posted without a session is refused and changes nothing.
    response = await client.post(f"/admin/jobs/{job}/decision", data={"decision": "approve", "csrf": "x"})
    assert response.status == 403
    assert await status_of(build.sessions, job) is JobStatus.PENDING_REVIEW


async def test_a_wrong_password_is_refused_with_the_name_kept_and_repeated_failures_lock(
    client: Client, operator: str, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    refused = await sign_in(client, password="not the password", status=401)
    assert refused.by_id("sign-in-error") is not None
    name_box = refused.find("input", name="name")
    assert name_box is not None and name_box.attrs["value"] == operator
    unknown = await sign_in(client, name="nobody", password="whatever it is", status=401)
    error, other = unknown.by_id("sign-in-error"), refused.by_id("sign-in-error")
    assert error is not None and other is not None and error.text == other.text  # never says which was wrong
    assert other.text == gettext_for("km")("Wrong name or password.")  # Khmer unless English is chosen

    for _ in range(4):
        await sign_in(client, password="still not it", status=401)
    locked = await sign_in(client, status=401)  # the right password, but the account now waits
    message = locked.by_id("sign-in-error")
    assert message is not None and message.text != other.text
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(StaffSession)) == 0


async def test_a_sign_in_without_the_form_token_is_refused(
    client: Client, operator: str, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    response = await client.post("/admin/sign-in", data={"name": operator, "password": "long enough pass phrase"})
    assert response.status == 403
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(StaffSession)) == 0


async def test_signing_in_and_out(
    client: Client, operator: str, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    form = (await page(client, "/admin/sign-in")).find("form", id="sign-in")
    assert form is not None
    fields = form.form_fields() | {"name": operator, "password": PASSWORD}
    response = await client.post("/admin/sign-in", data=fields, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/admin/"
    cookie = response.cookies["bp_staff"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/admin/"
    assert not cookie["secure"]  # PUBLIC_BASE_URL is not https here; see the next test
    figures = await page(client, "/admin/")
    who = figures.by_id("who")
    assert who is not None and operator in who.text
    async with session_factory() as session:
        signed = await session.scalar(select(AuditEntry).where(AuditEntry.action == "staff.signed_in"))
        assert signed is not None and signed.actor == f"staff:{operator}"
    sign_out = figures.find("form", action="/admin/sign-out")
    assert sign_out is not None
    await submit(client, sign_out)
    response = await client.get("/admin/moderation")
    assert response.url.path == "/admin/sign-in"


async def test_cookies_are_secure_when_the_public_address_is_https(
    engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession], tmp_path: Path, operator: str
) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, public_base_url="https://jobs.example.org")  # type: ignore[call-arg]
    app = build_app(wire(settings, Database(engine, session_factory)), None)
    async with TestClient(TestServer(app)) as https_client:
        response = await https_client.get("/admin/sign-in")
        assert response.cookies["bp_staff_csrf"]["secure"]
        form = parse(await response.text()).find("form", id="sign-in")
        assert form is not None
        fields = form.form_fields() | {"name": operator, "password": PASSWORD}
        signed = await https_client.post(
            "/admin/sign-in",
            data=fields,
            allow_redirects=False,
            headers={"Cookie": f"bp_staff_csrf={fields['csrf']}"},
        )
        assert signed.status == 303
        assert signed.cookies["bp_staff"]["secure"] and signed.cookies["bp_staff"]["httponly"]


async def test_approving_a_listing_publishes_it_under_the_staff_name_and_tells_the_employer(
    client: Client, operator: str, build: Builder, wiring: Wiring, tmp_path: Path
) -> None:
    clip = tmp_path / "employer-clips" / "job.wav"
    clip.parent.mkdir()
    with wave.open(str(clip), "wb") as recording:  # a second of a quiet tone, as the normaliser leaves it
        recording.setnchannels(1)
        recording.setsampwidth(2)
        recording.setframerate(16000)
        recording.writeframes(b"".join(struct.pack("<h", 800 if i % 40 < 20 else -800) for i in range(16000)))
    _, job = await pending_job(build, clip=clip)
    await sign_in(client)
    moderation = await page(client, "/admin/moderation")
    card = moderation.by_id(f"job-{job}")
    assert card is not None and "Sewing machine operators" in card.text
    audio = card.find("audio")
    assert audio is not None
    heard = await client.get(audio.attrs["src"])
    assert heard.status == 200 and heard.content_type == "audio/wav" and await heard.read() == clip.read_bytes()

    status, done = await submit(client, decision_form(moderation, job), decision="approve")
    assert status == 200 and done.by_id("done") is not None
    assert await status_of(build.sessions, job) is JobStatus.PUBLISHED
    async with build.sessions() as session:
        decision = await session.scalar(select(ModerationDecision).where(ModerationDecision.job_id == job))
        assert decision is not None and decision.moderator == f"staff:{NAME}"
    # The notifier (running in the app, and here once more) tells the employer in their chat.
    told: list[OutboxMessage] = []
    for _ in range(200):
        await notify_once(wiring.dialog)
        async with build.sessions() as session:
            told = list((await session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == "5001"))).all())
        if told:
            break
        await asyncio.sleep(0.05)
    # In the employer's language (Khmer, the default), the words the chat uses for a published listing.
    published = gettext_for("km")('Your job "{title}" is published. 🎉').format(title="Sewing machine operators")
    assert [m.payload.get("text") for m in told] == [published]


async def test_rejecting_needs_a_reason_and_a_high_risk_listing_needs_the_box(
    client: Client, operator: str, build: Builder
) -> None:
    _, risky = await pending_job(build, RISKY)
    await sign_in(client)
    moderation = await page(client, "/admin/moderation")
    card = moderation.by_id(f"job-{risky}")
    assert card is not None
    reasons = card.find("ul", class_="reasons")
    assert reasons is not None and len(reasons.find_all("li")) >= 2  # the screening's reasons, in words

    status, refused = await submit(client, decision_form(moderation, risky), decision="approve", reason="Check the fee")
    assert status == 400 and refused.by_id("error") is not None
    kept = decision_form(refused, risky).find("textarea", name="reason")
    assert kept is not None and kept.text == "Check the fee"  # what was typed is kept
    english = refused.find("a", lang="en")
    assert english is not None and english.attrs["href"] == "/admin/moderation?lang=en"
    in_english = await page(client, english.attrs["href"])
    assert in_english.find("html", lang="en") is not None and in_english.by_id(f"job-{risky}") is not None
    status, refused = await submit(client, decision_form(moderation, risky), decision="reject")
    assert status == 400 and refused.by_id("error") is not None
    assert await status_of(build.sessions, risky) is JobStatus.PENDING_REVIEW

    status, _ = await submit(client, decision_form(moderation, risky), decision="reject", reason="Fees are illegal.")
    assert status == 200
    assert await status_of(build.sessions, risky) is JobStatus.REJECTED
    # The same form again: already decided, said so, nothing more written.
    status, again = await submit(client, decision_form(moderation, risky), decision="approve", confirm_high_risk="yes")
    assert status == 409 and again.by_id("error") is not None


async def test_a_forged_or_missing_form_token_writes_nothing(client: Client, operator: str, build: Builder) -> None:
    _, job = await pending_job(build)
    await sign_in(client)
    form = decision_form(await page(client, "/admin/moderation"), job)
    async with build.sessions() as session:
        audit_before = await session.scalar(select(func.count()).select_from(AuditEntry))
    for token in ("forged-token", ""):
        response = await client.post(form.attrs["action"], data={"csrf": token, "decision": "approve"})
        assert response.status == 403
        said = parse(await response.text()).by_id("refusal")
        assert said is not None and said.text == gettext_for("km")(
            "This form has expired or did not come from this site. Nothing was changed."
        )
        refusal = (await page(client, "/admin/moderation")).by_id(f"job-{job}")
        assert refusal is not None  # still waiting
    response = await client.post(form.attrs["action"], data={"decision": "approve"})
    assert response.status == 403
    assert await status_of(build.sessions, job) is JobStatus.PENDING_REVIEW
    async with build.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(AuditEntry)) == audit_before


# ------------------------------------------------------------------------------------------------- figures


def html_rows(figures: Element, name: str) -> list[list[str]]:
    table = figures.by_id(f"table-{name}")
    assert table is not None
    body = table.find("tbody")
    assert body is not None
    return [[cell.text for cell in row.walk() if cell.tag in ("th", "td")] for row in body.find_all("tr")]


async def test_the_figures_equal_bongpheak_stats_and_each_table_downloads_as_csv(
    client: Client, operator: str, session_factory: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    await seed_demo(session_factory)
    stats = [json.loads(line) for line in (await render_stats(database_url, as_json=True)).splitlines()]
    assert len(stats) >= 5
    figures = await sign_in(client)
    table = figures.by_id("table-monthly")
    assert table is not None
    columns = [th.text for th in table.find_all("th", scope="col")]
    shown = {row[0]: dict(zip(columns, row, strict=True)) for row in html_rows(figures, "monthly")}
    for month in stats:
        row = shown[month["month"]]
        assert int(row["jobs published"]) == month["jobs_published"]
        assert int(row["calls placed"]) == month["calls_placed"]
        assert int(row["calls answered"]) == month["calls_answered"]
        assert int(row["hires"]) == month["hires"]
        for channel in ("telegram", "messenger"):
            assert int(row[f"relatives active: {channel}"]) == month["active_relatives"].get(channel, 0)
        for channel in ("telegram", "messenger", "ivr", "web"):
            assert int(row[f"applications: {channel}"]) == month["applications"].get(channel, 0)
    async with session_factory() as session:
        nominations = await session.scalar(select(func.count()).select_from(Nomination))
        consented = await session.scalar(select(func.count()).where(Worker.consent == Consent.CONSENTED))
    assert sum(int(row["nominations"]) for row in shown.values()) == nominations
    assert sum(int(row["workers consented"]) for row in shown.values()) == consented
    # By province: the same applications, only grouped otherwise.
    provinces = html_rows(figures, "provinces")
    province_columns = [th.text for th in figures.by_id("table-provinces").find_all("th", scope="col")]  # type: ignore[union-attr]
    applications = province_columns.index("applications")
    assert sum(int(r[applications]) for r in provinces) == sum(sum(m["applications"].values()) for m in stats)
    assert figures.find("script", src="/admin/static/chart.umd.min.js") is not None
    chart_lib = await client.get("/admin/static/chart.umd.min.js")
    assert chart_lib.status == 200

    for name in ("monthly", "provinces", "sectors"):
        link = figures.by_id(f"csv-{name}")
        assert link is not None
        response = await client.get(link.attrs["href"])
        assert response.status == 200 and response.content_type == "text/csv"
        assert "attachment" in response.headers["Content-Disposition"]
        rows = list(csv.reader(io.StringIO((await response.read()).decode("utf-8-sig"))))
        html_table = figures.by_id(f"table-{name}")
        assert html_table is not None
        assert rows[0] == [th.text for th in html_table.find_all("th", scope="col")]
        assert rows[1:] == html_rows(figures, name)


async def test_a_month_that_is_not_one_is_refused(client: Client, operator: str) -> None:
    await sign_in(client)
    refused = await page(client, "/admin/?month=March", status=400)
    assert refused.by_id("refusal") is not None
    assert (await client.get("/admin/figures/monthly.csv?month=2026-13")).status == 400
    assert (await client.get("/admin/figures/nothing.csv")).status == 404


async def test_the_websites_counts_are_in_the_monthly_figures(
    client: Client, operator: str, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session, session.begin():
        for day, kind, job_id, n in (
            (date(2026, 3, 1), "view", 0, 40),
            (date(2026, 3, 2), "view", 7, 9),
            (date(2026, 3, 2), "play", 7, 5),
            (date(2026, 3, 31), "share", 7, 2),
            (date(2026, 4, 1), "view", 0, 11),
        ):
            session.add(WebCount(day=day, kind=kind, job_id=job_id, count=n))
        for day, visitor in (
            (date(2026, 3, 1), 1),
            (date(2026, 3, 2), 1),
            (date(2026, 3, 2), 2),
            (date(2026, 4, 1), 1),
        ):
            session.add(WebVisitor(day=day, visitor=bytes([visitor]) * 16))
    figures = await sign_in(client)
    table = figures.by_id("table-monthly")
    assert table is not None
    columns = [th.text for th in table.find_all("th", scope="col")]
    shown = {row[0]: dict(zip(columns, row, strict=True)) for row in html_rows(figures, "monthly")}
    march, april = shown["2026-03"], shown["2026-04"]
    # A visitor is distinct within a day only (the salt changes daily): the same person on two days counts twice.
    assert (march["website visitors"], march["website job views"], march["website voice plays"]) == ("3", "49", "5")
    assert (march["website shares"], april["website visitors"], april["website job views"]) == ("2", "1", "11")
