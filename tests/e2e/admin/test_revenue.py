"""Revenue from paid listings on the dashboard and in `bongpheak stats`: per month, product and currency,
the same numbers in the page, the CSV and the command."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bongpheak.commands.stats import render_stats
from jobs_core.khqr import Merchant
from jobs_core.model import Currency, Decision, Job
from jobs_core.pricing import parse_prices
from jobs_core.services import billing
from jobs_core.services.billing import Billing, SeenPayment
from jobs_core.services.jobs import ModerateJob, SubmitJob, moderate_job, submit_job
from tests.builders import Builder
from tests.e2e.admin.conftest import Client, sign_in
from tests.e2e.admin.test_dashboard import html_rows

MERCHANT = Merchant("bongpheak@aclb", "Bong Pheak", "Phnom Penh")


async def paid_listing(build: Builder, currency: str, external_id: str, refund: bool = False) -> None:
    charging = Billing(
        parse_prices({"currency": currency, "listing": {"USD": "5.00", "KHR": 20000}}), MERCHANT, timedelta(minutes=15)
    )
    employer = await build.employer(external_id=external_id)
    job_id = await build.draft(employer)
    await submit_job(SubmitJob(job_id, employer, "employer"), build.uow())
    await moderate_job(ModerateJob(job_id, "moderator:1", Decision.APPROVE, billing=charging), build.uow())
    invoice = await billing.latest_invoice(build.uow(), job_id)
    assert invoice is not None
    seen = SeenPayment(f"hash-{external_id}", Currency(currency), invoice.amount_minor, "payer@aclb", build.now)
    await billing.settle(build.uow(), invoice.id, seen, charging)
    if refund:
        async with build.uow() as uow:
            job = await uow.session.get(Job, job_id)
            assert job is not None
            await billing.close_invoices_of(uow, job, "moderator:1", "taken down")
            await uow.commit()
        await billing.mark_refunded(build.uow(), invoice.id, "moderator:1")


async def test_revenue_per_month_by_product_and_currency_in_the_dashboard_csv_and_stats(
    client: Client, operator: str, build: Builder, session_factory: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    await paid_listing(build, "USD", "r1")
    await paid_listing(build, "USD", "r2", refund=True)
    await paid_listing(build, "KHR", "r3")
    figures = await sign_in(client)
    expected = [["2026-03", "listing", "KHR", "20000", "0"], ["2026-03", "listing", "USD", "10.00", "5.00"]]
    assert html_rows(figures, "revenue") == expected
    link = figures.by_id("csv-revenue")
    assert link is not None
    response = await client.get(link.attrs["href"])
    rows = list(csv.reader(io.StringIO((await response.read()).decode("utf-8-sig"))))
    assert rows == [["month", "product", "currency", "received", "refunded"], *expected]

    text = await render_stats(database_url)
    assert "revenue month" in text and "10.00" in text and "20000" in text
    lines = [json.loads(line) for line in (await render_stats(database_url, as_json=True)).splitlines()]
    revenue = [line["revenue"] for line in lines if "revenue" in line]
    assert revenue == [
        {"month": "2026-03", "product": "listing", "currency": "KHR", "received": "20000", "refunded": "0"},
        {"month": "2026-03", "product": "listing", "currency": "USD", "received": "10.00", "refunded": "5.00"},
    ]
