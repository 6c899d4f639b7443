"""A job's page and its forms: apply for yourself, call my family member, report; refusals keep what was typed;
forged or missing CSRF tokens are refused with nothing written; unknown jobs get a 404 in the visitor's language."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, select

from jobs_core.model import (
    Application,
    ApplicationStatus,
    CallRequest,
    Event,
    Job,
    JobStatus,
    Nomination,
    Relative,
    Report,
    WebCount,
    WebVisitor,
    Worker,
)
from tests.integration.web.support import Site

SELF = {"name": "Sokha", "phone": "012 345 678", "gender": "female", "birth_year": "1998", "province": "12"}
FAMILY = {
    **SELF,
    "name": "Dara",
    "phone": "097 765 4321",
    "relation": "sibling",
    "gender": "male",
    "your_name": "Sokha",
}


async def rows(site: Site, model: type) -> int:  # type: ignore[type-arg]
    async with site.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_the_page_shows_the_listing_voice_note_safety_line_share_links_and_open_graph(site: Site) -> None:
    job = await site.job(title="Sewing operators", description="Garment factory, overtime paid.")
    page = await site.get(f"/en/jobs/{job}")
    assert page.find("h1").all_text() == "Sewing operators"
    assert page.find("audio").attrs["src"] == f"/audio/jobs/{job}-en.mp3"
    assert page.find("audio").attrs["preload"] == "none"
    assert page.find_all("a", href="tel:1297") and page.find_all("a", href="tel:117")
    assert page.find("meta", property="og:title").attrs["content"] == "Sewing operators"
    assert page.find("meta", property="og:url").attrs["content"] == f"https://jobs.example.org/en/jobs/{job}"
    assert page.find("input", id="share-link").attrs["value"] == f"https://jobs.example.org/en/jobs/{job}"
    posting = json.loads(page.find("script", type="application/ld+json").all_text())
    assert posting["@type"] == "JobPosting" and posting["title"] == "Sewing operators"
    assert posting["baseSalary"]["currency"] == "USD" and posting["baseSalary"]["value"]["value"] == 210
    assert posting["jobLocation"]["address"]["addressRegion"] == "Phnom Penh"
    # Telegram's share page gets the job's link; the share is counted.
    response = await site.client.get(f"/go/{job}/telegram?lang=en", allow_redirects=False)
    assert response.status == 303
    target = urlsplit(response.headers["Location"])
    assert (target.netloc, target.path) == ("t.me", "/share/url")
    assert parse_qs(target.query)["url"] == [f"https://jobs.example.org/en/jobs/{job}"]
    # Nothing is loaded from another site.
    for tag, attr in (("link", "href"), ("script", "src"), ("audio", "src")):
        for element in page.find_all(tag):
            assert not element.attrs.get(attr, "/").startswith(("http:", "https:", "//")) or tag == "link"
    assert all(link.attrs["href"].startswith(("/", "https://jobs.example.org")) for link in page.find_all("link"))


async def test_the_voice_note_is_served_as_mp3_and_plays_are_counted(site: Site) -> None:
    job = await site.job()
    response = await site.client.get(f"/audio/jobs/{job}-km.mp3")
    assert response.status == 200 and response.content_type == "audio/mpeg"
    assert (await response.read()).startswith(b"ID3")
    # The rest of the same play (a range request) is not another play.
    await site.client.get(f"/audio/jobs/{job}-km.mp3", headers={"Range": "bytes=1000-"})
    await site.get(f"/jobs/{job}")
    await site.get("/")
    async with site.sessions() as session:
        counts = {(c.kind, c.job_id): c.count for c in await session.scalars(select(WebCount))}
        visitors = (await session.scalars(select(WebVisitor))).all()
    assert counts == {("play", job): 1, ("view", job): 1, ("view", 0): 1}
    # One visitor, stored only as a 16-byte hash: no address, no cookie.
    assert len(visitors) == 1 and len(visitors[0].visitor) == 16
    response = await site.client.get("/")
    assert "Set-Cookie" not in response.headers


async def test_an_unknown_or_hidden_job_is_a_404_page_in_the_visitors_language(site: Site) -> None:
    page = await site.get("/jobs/999999", status=404)
    assert page.find("html").attrs["lang"] == "km"
    english = await site.get("/en/jobs/999999", status=404)
    assert english.find("h1").all_text() == "Page not found"
    await site.get("/en/jobs/not-a-number", status=404)
    draft = await site.builder.draft(await site.builder.employer(external_id="e2"))
    await site.get(f"/en/jobs/{draft}", status=404)


async def test_an_expired_job_is_marked_and_its_forms_are_gone(site: Site) -> None:
    job = await site.job()
    async with site.sessions() as session, session.begin():
        found = await session.get(Job, job)
        assert found is not None
        found.expires_at = site.builder.now - timedelta(days=1)
        found.status = JobStatus.EXPIRED
    page = await site.get(f"/en/jobs/{job}")
    assert page.by_class("expired")
    assert not page.find_all("form", id="apply") and not page.find_all("form", id="family")
    posting = json.loads(page.find("script", type="application/ld+json").all_text())
    assert posting["validThrough"] < site.builder.now.isoformat()
    sitemap = await (await site.client.get("/sitemap.xml")).text()
    assert f"/jobs/{job}<" not in sitemap


async def test_the_sitemap_lists_live_jobs_in_both_languages(site: Site) -> None:
    job = await site.job()
    response = await site.client.get("/sitemap.xml")
    assert response.content_type == "application/xml"
    text = await response.text()
    assert f"<loc>https://jobs.example.org/jobs/{job}</loc>" in text
    assert f"<loc>https://jobs.example.org/en/jobs/{job}</loc>" in text


async def test_applying_for_yourself_asks_the_worker_on_the_phone_first(site: Site) -> None:
    job = await site.job()
    action, hidden = await site.form(f"/en/jobs/{job}", "apply")
    page = await site.post(action, {**hidden, **SELF, "agreed_to_calls": "yes"})
    assert "We will call you" in page.find("form", id="apply").by_class("done")[0].all_text()
    async with site.sessions() as session:
        application = await session.scalar(select(Application))
        assert application is not None and application.status is ApplicationStatus.AWAITING_WORKER
        worker = await session.get(Worker, application.worker_id)
        assert worker is not None and worker.phone == "+85512345678"
        kinds = list((await session.scalars(select(Event.kind))).all())
        relative = await session.scalar(select(Relative))
    # The dialer is asked to call (consent first); the employer hears nothing until the worker pressed 1.
    assert "worker.nominated" in kinds and "job.call_requested" in kinds and "application.created" not in kinds
    assert relative is not None and relative.channel.value == "web" and relative.unreachable
    # Applying again the same day is answered without a second application.
    page = await site.post(action, {**hidden, **SELF, "agreed_to_calls": "yes"})
    assert "already applied" in page.find("form", id="apply").all_text()
    assert await rows(site, Application) == 1


async def test_calling_a_family_member_nominates_them_and_asks_for_a_call_about_the_job(site: Site) -> None:
    job = await site.job()
    action, hidden = await site.form(f"/jobs/{job}", "family")
    page = await site.post(action, {**hidden, **FAMILY, "agreed_to_calls": "yes"})
    assert page.find("form", id="family").by_class("done")
    async with site.sessions() as session:
        nomination = await session.scalar(select(Nomination))
        request = await session.scalar(select(CallRequest))
    assert nomination is not None and nomination.name == "Dara" and nomination.relation.value == "sibling"
    assert request is not None and request.job_id == job and request.worker_id == nomination.worker_id


async def test_a_refused_form_names_the_field_and_keeps_what_was_typed(site: Site) -> None:
    job = await site.job()
    action, hidden = await site.form(f"/en/jobs/{job}", "family")
    typed = {**FAMILY, "phone": "12345", "birth_year": "2020"}
    page = await site.post(action, {**hidden, **typed}, status=400)
    form = page.find("form", id="family")
    assert form.find("input", name="phone").attrs["value"] == "12345"
    assert form.find("input", name="name").attrs["value"] == "Dara"
    assert form.find("input", name="phone").attrs.get("aria-invalid") == "true"
    errors = " ".join(e.all_text() for e in form.by_class("error"))
    assert "phone number" in errors and "15 years" in errors and "agreed" in errors
    assert form.find("option", value="sibling").attrs.get("selected") is not None
    assert await rows(site, Nomination) == 0 and await rows(site, Relative) == 0


async def test_the_daily_cap_on_nominations_holds_on_the_website(site: Site) -> None:
    job = await site.job()
    action, hidden = await site.form(f"/en/jobs/{job}", "family")
    for n in range(site.deps.nominations_per_day):
        await site.post(action, {**hidden, **FAMILY, "phone": f"097 765 43{n:02d}", "agreed_to_calls": "yes"})
    page = await site.post(action, {**hidden, **FAMILY, "phone": "097 765 4399", "agreed_to_calls": "yes"}, 409)
    assert "today's limit" in page.find("form", id="family").all_text()
    assert await rows(site, Nomination) == site.deps.nominations_per_day


async def test_a_report_of_fees_hides_the_job_at_once(site: Site) -> None:
    job = await site.job()
    action, hidden = await site.form(f"/en/jobs/{job}", "report")
    await site.post(action, {**hidden, "details": "they want $50"}, status=400)
    page = await site.post(action, {**hidden, "reason": "fees", "details": "they want $50"})
    assert "hidden this job" in page.by_class("done")[0].all_text()
    async with site.sessions() as session:
        report = await session.scalar(select(Report))
        found = await session.get(Job, job)
    assert report is not None and report.reason == "fees" and report.details == "they want $50"
    assert found is not None and found.status is JobStatus.SUSPENDED
    await site.get(f"/en/jobs/{job}", status=404)


async def test_forged_or_missing_csrf_tokens_are_refused_and_nothing_is_written(site: Site) -> None:
    job = await site.job()
    action, hidden = await site.form(f"/en/jobs/{job}", "apply")
    good = {**SELF, "agreed_to_calls": "yes"}
    refused = await site.post(action, good, status=403)
    assert refused.find("html").attrs["lang"] == "en" and "Nothing was saved" in refused.find("main").all_text()
    await site.post(action, {**good, "csrf": "1.forged"}, status=403)
    issued, _, signature = hidden["csrf"].partition(".")
    await site.post(action, {**good, "csrf": f"{int(issued) + 1}.{signature}"}, status=403)
    # A token of another form does not open this one.
    report_action, report_hidden = await site.form(f"/en/jobs/{job}", "report")
    await site.post(action, {**good, **report_hidden}, status=403)
    # A good token sent from another site is refused as well.
    response = await site.client.post(action, data={**hidden, **good}, headers={"Origin": "https://evil.example"})
    assert response.status == 403
    await site.post(report_action, {"reason": "fees"}, status=403)
    assert await rows(site, Application) == 0 and await rows(site, Nomination) == 0 and await rows(site, Report) == 0
    assert await rows(site, Relative) == 0


async def test_a_visitor_may_file_only_a_few_reports_a_day(site: Site) -> None:
    jobs = [await site.job(title=f"Job {n}") for n in range(5)]
    for job in jobs[:3]:
        action, hidden = await site.form(f"/en/jobs/{job}", "report")
        await site.post(action, {**hidden, "reason": "other"})
    action, hidden = await site.form(f"/en/jobs/{jobs[3]}", "report")
    page = await site.post(action, {**hidden, "reason": "fees", "details": "they want $50"}, status=409)
    form = page.find("form", id="report")
    assert "today's limit" in form.all_text()
    assert form.find("textarea", name="details").all_text() == "they want $50"
    assert await rows(site, Report) == 3
    async with site.sessions() as session:
        found = await session.get(Job, jobs[3])
    assert found is not None and found.status is JobStatus.PUBLISHED
