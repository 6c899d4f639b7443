"""Employers on the website: a one-time code to their Telegram chat (through the outbox), then a listing
through the same validation, screening and moderation as the chat."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from conversations.outbox import OutboxMessage
from jobs_core.model import Decision, Job, JobStatus, WebSession, WebSignInCode
from jobs_core.services.jobs import ModerateJob, moderate_job
from tests.integration.web.support import Site, parse

JOB = {
    "title": "Hotel cooks",
    "sector": "hospitality",
    "province": "17",
    "description": "Cook breakfast for hotel guests. Meals included.",
    "salary_amount": "280",
    "salary_currency": "USD",
    "salary_period": "month",
    "hours_start": "06:00",
    "hours_end": "14:00",
    "days_per_week": "6",
    "positions": "2",
}


async def sign_in(site: Site, phone: str = "023 880 112") -> str:
    """The code from the employer's Telegram chat typed back; returns the session cookie header."""
    action, hidden = await site.form("/en/employers/", "sign-in")
    page = await site.post(action, {**hidden, "phone": phone})
    form = page.find("form", id="code")
    hidden = {i.attrs["name"]: i.attrs.get("value", "") for i in form.find_all("input", type="hidden")}
    async with site.sessions() as session:
        message = await session.scalar(select(OutboxMessage).order_by(OutboxMessage.id.desc()))
    assert message is not None and message.channel == "telegram" and message.chat_id == "5001"
    code = re.search(r"\b(\d{6})\b", message.payload["text"])
    assert code is not None
    response = await site.client.post(
        form.attrs["action"], data={**hidden, "code": code.group(1)}, allow_redirects=False
    )
    assert response.status == 303 and response.headers["Location"] == "/en/employers/jobs/new"
    cookie = response.cookies["bp_employer"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    return f"bp_employer={cookie.value}"


async def test_an_employer_signs_in_with_a_telegram_code_and_posts_a_listing_through_moderation(site: Site) -> None:
    employer = await site.builder.employer()
    cookie = await sign_in(site)
    response = await site.client.get("/en/employers/jobs/new", headers={"Cookie": cookie})
    page = parse(await response.text())
    hidden = {i.attrs["name"]: i.attrs["value"] for i in page.find("form", id="job").find_all("input", type="hidden")}
    response = await site.client.post("/en/employers/jobs/new", data={**hidden, **JOB}, headers={"Cookie": cookie})
    assert response.status == 200, await response.text()
    async with site.sessions() as session:
        job = await session.scalar(select(Job))
    assert job is not None and job.employer_id == employer and job.status is JobStatus.PENDING_REVIEW
    assert job.risk is not None  # screened like a listing sent from the chat
    # Not public before a moderator approves it.
    await site.get(f"/en/jobs/{job.id}", status=404)
    await moderate_job(ModerateJob(job.id, "moderator:1", Decision.APPROVE), site.builder.uow())
    listing = await site.get(f"/en/jobs/{job.id}")
    assert listing.find("h1").all_text() == "Hotel cooks"


async def test_a_listing_with_a_bad_field_is_refused_with_the_field_named_and_the_text_kept(site: Site) -> None:
    await site.builder.employer()
    cookie = await sign_in(site)
    page = await site.get("/en/employers/jobs/new", Cookie=cookie)
    hidden = {i.attrs["name"]: i.attrs["value"] for i in page.find("form", id="job").find_all("input", type="hidden")}
    response = await site.client.post(
        "/en/employers/jobs/new",
        data={**hidden, **JOB, "hours_start": "breakfast", "title": ""},
        headers={"Cookie": cookie},
    )
    assert response.status == 400
    form = parse(await response.text()).find("form", id="job")
    assert form.find("input", name="hours_start").attrs["value"] == "breakfast"
    assert form.find("input", name="salary_amount").attrs["value"] == "280"
    assert "job title" in " ".join(e.all_text() for e in form.by_class("error"))
    async with site.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Job)) == 0


async def test_an_unknown_phone_gets_the_same_answer_and_no_code(site: Site) -> None:
    await site.builder.employer()
    action, hidden = await site.form("/en/employers/", "sign-in")
    page = await site.post(action, {**hidden, "phone": "not a phone"}, status=400)
    assert page.find("input", name="phone").attrs["value"] == "not a phone"
    assert "phone number" in page.by_class("error")[0].all_text()
    page = await site.post(action, {**hidden, "phone": "012 999 888"})
    assert page.find("form", id="code")
    async with site.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert await session.scalar(select(func.count()).select_from(WebSignInCode)) == 0


async def test_a_wrong_code_signs_nobody_in_and_posting_needs_a_session_and_a_token(site: Site) -> None:
    await site.builder.employer()
    action, hidden = await site.form("/en/employers/", "sign-in")
    page = await site.post(action, {**hidden, "phone": "023 880 112"})
    form = page.find("form", id="code")
    hidden = {i.attrs["name"]: i.attrs.get("value", "") for i in form.find_all("input", type="hidden")}
    await site.post(form.attrs["action"], {**hidden, "code": "000000x"}, status=400)
    response = await site.client.get("/en/employers/jobs/new", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/en/employers/"
    response = await site.client.post("/en/employers/jobs/new", data=JOB)
    assert response.status == 403
    cookie = await sign_in(site)
    response = await site.client.post("/en/employers/jobs/new", data=JOB, headers={"Cookie": cookie})
    assert response.status == 403
    async with site.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Job)) == 0
        assert await session.scalar(select(func.count()).select_from(WebSession)) == 1


async def test_a_new_company_is_sent_to_the_registration_form_or_the_bots_registration(site: Site) -> None:
    page = await site.get("/en/employers/")
    assert page.find("a", id="register").attrs["href"] == "/en/employers/register"
    assert page.find("a", id="register-telegram").attrs["href"] == "https://t.me/BongPheakTestBot?start=employer"
