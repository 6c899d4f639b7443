"""Featured weeks and bundles on the website, without JavaScript: the employer's page lists their published
listings with "Feature it"; the feature page sells weeks by KHQR; paid, the listing comes first in the job list,
marked "⭐ Featured", within the visitor's filters. The bundles page sells prepaid listings and says how many are
left. A fake Bakong API, real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bongpheak.bakong import BakongClient
from bongpheak.payments import Payments
from bots.web import setup_web
from bots.web.deps import WebDeps
from jobs_core.khqr import Merchant
from jobs_core.model import Invoice, Product
from jobs_core.pricing import parse_prices
from jobs_core.services.billing import Billing
from jobs_core.uow import UnitOfWork
from tests.builders import Builder
from tests.fakes.bakong_api import FakeBakongAPI
from tests.integration.web.support import Element, Site, open_site, parse
from tests.integration.web.test_employers import sign_in

MERCHANT = Merchant("bongpheak@aclb", "Bong Pheak", "Phnom Penh")
BILLING = Billing(
    parse_prices(
        {
            "listing": {"USD": "5.00"},
            "featured_week": {"USD": "3.00"},
            "bundle": [{"name": "five", "listings": 5, "USD": "20.00"}],
        }
    ),
    MERCHANT,
    lifetime=timedelta(minutes=15),
)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
async def paying_site(
    session_factory: async_sessionmaker[AsyncSession], now: datetime, tmp_path: Path
) -> AsyncIterator[tuple[Site, FakeBakongAPI, Clock]]:
    clock = Clock(now)
    async with FakeBakongAPI() as bakong, open_site(session_factory, now, tmp_path) as plain:
        await plain.client.close()
        client = BakongClient(bakong.base_url, bakong.token, MERCHANT.account)
        payments = Payments(lambda: UnitOfWork(session_factory, now=clock.at), BILLING, client)
        deps = replace(plain.deps, billing=BILLING, clock=clock)
        app = web.Application()
        setup_web(app, WebDeps(deps, public_base_url="https://jobs.example.org", check_payment=payments.check_now))
        async with TestClient(TestServer(app)) as test_client:
            yield Site(test_client, Builder(session_factory, now), session_factory, deps), bakong, clock
        await client.close()


async def submit(site: Site, page: Element, cookie: str, **fields: str) -> web.StreamResponse:
    form = page.find("form")
    hidden = {i.attrs["name"]: i.attrs.get("value", "") for i in form.find_all("input", type="hidden")}
    return await site.client.post(
        form.attrs["action"], data={**hidden, **fields}, headers={"Cookie": cookie}, allow_redirects=False
    )


def card_titles(page: Element) -> list[str]:
    cards = [li for li in page.find_all("li") if "card" in li.classes() and li.find_all("h2")]
    return [li.find("h2").all_text() for li in cards]


async def test_an_employer_features_a_listing_on_the_website_and_it_comes_first(
    paying_site: tuple[Site, FakeBakongAPI, Clock],
) -> None:
    site, bakong, clock = paying_site
    build = site.builder
    employer = await build.employer()
    build.now = clock.at - timedelta(hours=2)
    featured = await build.published(employer, title="Cooks in Siem Reap", province="Siem Reap")
    build.now = clock.at - timedelta(hours=1)
    await build.published(employer, title="Sewing operators")
    assert card_titles(await site.get("/en/")) == ["Sewing operators", "Cooks in Siem Reap"]

    cookie = await sign_in(site)
    mine = await site.get("/en/employers/jobs/new", Cookie=cookie)
    rows = {li.all_text().split(" · ")[0]: li.find("a") for li in mine.find("section", id="published").find_all("li")}
    assert rows["Cooks in Siem Reap"].all_text() == "Feature it"
    assert rows["Cooks in Siem Reap"].attrs["href"] == f"/en/employers/jobs/{featured}/feature"
    page = await site.get(f"/en/employers/jobs/{featured}/feature", Cookie=cookie)
    assert "2 weeks · 6.00 USD" in page.all_text() and "6 weeks" not in page.all_text()  # 30 days published
    response = await submit(site, page, cookie, weeks="2")
    assert response.status == 303
    invoice_page = response.headers["Location"]
    paying = await site.get(invoice_page, Cookie=cookie)
    assert paying.find("dd", id="amount").all_text() == "6.00 USD"
    assert "2 featured weeks" in paying.find("p", id="what").all_text()
    assert paying.find("img", **{"class": "khqr"})

    async with site.sessions() as session:
        invoice = await session.get(Invoice, int(invoice_page.rsplit("/", 1)[1]))
    assert invoice is not None and invoice.product is Product.FEATURED_WEEK and invoice.job_id == featured
    bakong.pay(invoice.khqr)
    said = parse(await (await submit(site, paying, cookie, do="check")).text())
    assert "Your listing is featured" in said.all_text() and invoice.reference in said.all_text()

    listing = await site.get("/en/")
    assert card_titles(listing) == ["Cooks in Siem Reap", "Sewing operators"]
    first = listing.find("li", **{"class": "card featured"})
    assert first is not None and "⭐ Featured" in first.all_text()
    assert "⭐" in (await site.get("/", Cookie=cookie)).find("li", **{"class": "card featured"}).all_text()
    # The visitor's filters first: a featured job elsewhere is not shown.
    assert card_titles(await site.get("/en/?province=12")) == ["Sewing operators"]
    # Another employer cannot feature it, and a bad number of weeks is said plainly.
    await site.get(f"/en/employers/jobs/{featured + 100}/feature", status=404, Cookie=cookie)
    refused = await submit(site, page, cookie, weeks="99")
    assert refused.status == 400 and "error" in await refused.text()


async def test_an_employer_buys_prepaid_listings_on_the_website(
    paying_site: tuple[Site, FakeBakongAPI, Clock],
) -> None:
    site, bakong, _clock = paying_site
    await site.builder.employer()
    cookie = await sign_in(site)
    mine = await site.get("/en/employers/jobs/new", Cookie=cookie)
    assert "Prepaid listings left: 0" in mine.find("p", id="bundles").all_text()
    page = await site.get("/en/employers/bundles", Cookie=cookie)
    assert "5 listings · 20.00 USD" in page.all_text()
    response = await submit(site, page, cookie, bundle="0")
    assert response.status == 303
    paying = await site.get(response.headers["Location"], Cookie=cookie)
    assert paying.find("dd", id="amount").all_text() == "20.00 USD"
    async with site.sessions() as session:
        invoice = await session.get(Invoice, int(response.headers["Location"].rsplit("/", 1)[1]))
    assert invoice is not None and invoice.product is Product.BUNDLE
    bakong.pay(invoice.khqr)
    said = parse(await (await submit(site, paying, cookie, do="check")).text())
    assert "Your prepaid listings are ready" in said.all_text()
    assert "Prepaid listings left: 5" in (await site.get("/en/employers/bundles", Cookie=cookie)).all_text()
    # Somebody else's invoice is not found; signed out, the page asks to sign in.
    await site.get(f"/en/employers/invoices/{invoice.id + 1}", status=404, Cookie=cookie)
    anonymous = await site.client.get(f"/en/employers/invoices/{invoice.id}", allow_redirects=False)
    assert anonymous.status == 303
