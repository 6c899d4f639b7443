"""Paying for a listing on the website, without JavaScript: the employer's page shows the KHQR code, the
amount and the reference; "check payment" asks the (fake) Bakong API at once; an expired code is renewed."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs_core.khqr import Merchant
from jobs_core.model import Decision, Invoice, Job, JobStatus
from jobs_core.pricing import parse_prices
from jobs_core.services.billing import Billing
from jobs_core.services.employers import RegisterEmployer, register_employer
from jobs_core.services.jobs import ModerateJob, SubmitJob, moderate_job, submit_job
from tests.fakes.bakong_api import FakeBakongAPI
from tests.integration.web.paying import Clock, paying_site, submit
from tests.integration.web.support import Site, parse
from tests.integration.web.test_employers import sign_in

MERCHANT = Merchant("bongpheak@aclb", "Bong Pheak", "Phnom Penh")
BILLING = Billing(
    parse_prices({"currency": "KHR", "listing": {"KHR": 20000}}), MERCHANT, lifetime=timedelta(minutes=15)
)


@pytest.fixture
async def pay_site(
    session_factory: async_sessionmaker[AsyncSession], now: datetime, tmp_path: Path
) -> AsyncIterator[tuple[Site, FakeBakongAPI, Clock]]:
    async with paying_site(BILLING, session_factory, now, tmp_path) as site:
        yield site


async def approved(site: Site, external_id: str = "5001", phone: str = "023 880 112") -> tuple[int, int]:
    registration = RegisterEmployer(
        "Golden Thread Apparel", phone, "Phnom Penh", channel="telegram", external_id=external_id
    )
    employer = await register_employer(registration, site.builder.uow())
    job_id = await site.builder.draft(employer, title="Hotel cooks")
    await submit_job(SubmitJob(job_id, employer, "employer"), site.builder.uow())
    await moderate_job(ModerateJob(job_id, "moderator:1", Decision.APPROVE, billing=BILLING), site.builder.uow())
    return employer, job_id


async def press(site: Site, page_path: str, cookie: str, do: str) -> str:
    response = await submit(site, await site.get(page_path, Cookie=cookie), cookie, do=do)
    body = await response.text()
    assert response.status == 200, body[:2000]
    return body


async def test_an_employer_pays_on_the_website_and_the_listing_is_published(
    pay_site: tuple[Site, FakeBakongAPI, Clock],
) -> None:
    site, bakong, _clock = pay_site
    _employer, job_id = await approved(site)
    cookie = await sign_in(site)
    listings = await site.get("/en/employers/jobs/new", Cookie=cookie)
    link = listings.find("section", id="awaiting-payment").find("a")
    assert link.attrs["href"] == f"/en/employers/jobs/{job_id}/pay" and link.all_text() == "Hotel cooks"

    page = await site.get(link.attrs["href"], Cookie=cookie)
    async with site.sessions() as session:
        invoice = await session.scalar(select(Invoice).where(Invoice.job_id == job_id))
    assert invoice is not None
    assert page.find("dd", id="amount").all_text() == "20,000 KHR"
    assert page.find("dd", id="reference").all_text() == invoice.reference
    image = page.find("img", **{"class": "khqr"}).attrs["src"]
    assert base64.b64decode(image.removeprefix("data:image/png;base64,")).startswith(b"\x89PNG")
    assert page.find("button").all_text() == "Check payment"

    said = parse(await press(site, link.attrs["href"], cookie, "check"))
    assert "No payment has arrived yet" in said.all_text()
    bakong.pay(invoice.khqr)
    said = parse(await press(site, link.attrs["href"], cookie, "check"))
    assert "Paid: 20,000 KHR" in said.all_text() and invoice.reference in said.all_text()
    async with site.sessions() as session:
        job = await session.get(Job, job_id)
    assert job is not None and job.status is JobStatus.PUBLISHED
    assert (await site.get(f"/en/jobs/{job_id}")).find("h1").all_text() == "Hotel cooks"


async def test_an_expired_code_is_renewed_on_the_website(pay_site: tuple[Site, FakeBakongAPI, Clock]) -> None:
    site, _bakong, clock = pay_site
    _employer, job_id = await approved(site)
    cookie = await sign_in(site)
    clock.at += timedelta(minutes=16)
    page = f"/en/employers/jobs/{job_id}/pay"
    said = parse(await press(site, page, cookie, "check"))  # the look at Bakong finds it unpaid and past its time
    assert "ran out before a payment arrived" in said.all_text()
    renewed = parse(await press(site, page, cookie, "renew"))
    assert renewed.find("img", **{"class": "khqr"})
    async with site.sessions() as session:
        count = len((await session.scalars(select(Invoice).where(Invoice.job_id == job_id))).all())
    assert count == 2


async def test_another_employer_cannot_see_the_invoice(pay_site: tuple[Site, FakeBakongAPI, Clock]) -> None:
    site, _bakong, _clock = pay_site
    _mine, my_job = await approved(site)
    _theirs, their_job = await approved(site, external_id="5999", phone="023 990 221")
    cookie = await sign_in(site)
    await site.get(f"/en/employers/jobs/{my_job}/pay", Cookie=cookie)
    await site.get(f"/en/employers/jobs/{their_job}/pay", status=404, Cookie=cookie)
    anonymous = await site.client.get(f"/en/employers/jobs/{my_job}/pay", allow_redirects=False)
    assert anonymous.status == 303
