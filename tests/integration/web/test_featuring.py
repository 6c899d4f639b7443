"""Featured weeks and bundles on the website, without JavaScript: the employer's page lists their published
listings with "Feature it"; the feature page sells weeks by KHQR; paid, the listing comes first in the job list,
marked "⭐ Featured", within the visitor's filters. The bundles page sells prepaid listings and says how many are
left. A fake Bakong API, real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs_core.khqr import Merchant
from jobs_core.model import Invoice, Product
from jobs_core.pricing import parse_prices
from jobs_core.services.billing import Billing
from tests.fakes.bakong_api import FakeBakongAPI
from tests.integration.web.paying import Clock, paying_site, submit
from tests.integration.web.support import Element, Site, parse
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


@pytest.fixture
async def pay_site(
    session_factory: async_sessionmaker[AsyncSession], now: datetime, tmp_path: Path
) -> AsyncIterator[tuple[Site, FakeBakongAPI, Clock]]:
    async with paying_site(BILLING, session_factory, now, tmp_path) as site:
        yield site


def card_titles(page: Element) -> list[str]:
    cards = [li for li in page.find_all("li") if "card" in li.classes() and li.find_all("h2")]
    return [li.find("h2").all_text() for li in cards]


async def test_an_employer_features_a_listing_on_the_website_and_it_comes_first(
    pay_site: tuple[Site, FakeBakongAPI, Clock],
) -> None:
    site, bakong, clock = pay_site
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
    pay_site: tuple[Site, FakeBakongAPI, Clock],
) -> None:
    site, bakong, _clock = pay_site
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
