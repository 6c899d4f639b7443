"""Featured weeks in Telegram: an employer's published listing is featured from "My listings" (weeks, invoice,
KHQR code, payment, receipt); relatives browsing see it first, marked "⭐ Featured", only within their filters.
Registration offers the NGO and cooperative kinds. Webhook in, recorded Bot API calls out, a fake Bakong API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bongpheak.payments import Payments
from conversations.notifier import notify_once
from conversations.turn import DialogDeps
from jobs_core.model import Employer, EmployerKind, Invoice, InvoiceStatus, Job, Product
from jobs_core.pricing import parse_prices
from jobs_core.services.billing import Billing
from jobs_core.uow import UnitOfWork
from tests.builders import Builder
from tests.e2e.telegram.conftest import all_sent
from tests.e2e.telegram.paying.conftest import MERCHANT, Client
from tests.e2e.telegram.test_flows import TelegramUser
from tests.fakes.bakong_api import FakeBakongAPI
from tests.fakes.telegram_api import FakeTelegramAPI

PRICES = parse_prices({"listing": {"USD": "5.00"}, "featured_week": {"USD": "3.00"}})
BILLING = Billing(PRICES, MERCHANT, lifetime=timedelta(minutes=15))


@pytest.fixture
def billing() -> Billing:
    return BILLING


async def browse(person: TelegramUser, province: str = "Any province") -> list[str]:
    await person.send("/start")
    await person.press("Help a family member")
    await person.press("Browse jobs")
    await person.press(province)
    await person.press("Any kind of work")
    said = [str(c.params.get("caption") or c.params.get("text") or "") for c in person.last]
    return [text for text in said if text.startswith(("💼", "⭐"))]  # the job cards


async def test_an_employer_features_a_listing_from_my_listings_and_relatives_see_it_first(
    flow_client: Client,
    fake_api: FakeTelegramAPI,
    dialog_deps: DialogDeps,
    session_factory: async_sessionmaker[AsyncSession],
    payments: Payments,
    bakong: FakeBakongAPI,
) -> None:
    build = Builder(session_factory, now=UnitOfWork(session_factory).now() - timedelta(hours=2))
    employer = await build.employer(external_id="8101")
    featured = await build.published(employer, title="Cooks in Siem Reap", province="Siem Reap")
    build.now += timedelta(hours=1)
    await build.published(employer, title="Sewing operators")
    dara = TelegramUser(flow_client, fake_api, 8102)
    await dara.start()
    cards = await browse(dara)
    assert [c.splitlines()[0] for c in cards][:2] == ["💼 Sewing operators", "💼 Cooks in Siem Reap"]

    boss = TelegramUser(flow_client, fake_api, 8101)
    await boss.start()
    await boss.send("/listings")
    boss.last = [c for c in boss.last if "Cooks in Siem Reap" in str(c.params.get("text"))]
    await boss.press("⭐ Feature")
    assert "comes first in the job lists" in boss.text
    await boss.press("2 weeks · 6.00 USD")
    assert "2 featured weeks" in boss.text and "6.00 USD" in boss.text and "Workers never pay" in boss.text
    assert any(c.method == "sendPhoto" for c in boss.last)
    async with session_factory() as session:
        invoice = await session.scalar(select(Invoice).where(Invoice.job_id == featured))
        assert invoice is not None and invoice.product is Product.FEATURED_WEEK and invoice.weeks == 2

    bakong.pay(invoice.khqr)
    boss.last = [c for c in boss.last if c.method == "sendPhoto"]
    await boss.press("Check payment")
    assert await payments.check_once() == 1
    await notify_once(dialog_deps)
    await all_sent(session_factory)
    receipt = next(c.content for c in fake_api.sent(8101) if "Receipt" in c.content)
    assert invoice.reference in receipt and "6.00 USD" in receipt and "Featured until" in receipt
    async with session_factory() as session:
        paid = await session.get(Invoice, invoice.id)
        assert paid is not None and paid.status is InvoiceStatus.PAID

    cards = await browse(dara)
    assert cards[0].startswith("⭐ Featured\n💼 Cooks in Siem Reap")
    assert not cards[1].startswith("⭐")
    # Within the relative's own filters only: browsing Phnom Penh does not show the Siem Reap job.
    cards = await browse(dara, "Phnom Penh")
    assert [c.splitlines()[0] for c in cards] == ["💼 Sewing operators"]

    await boss.send("/listings")
    assert "⭐ Featured until" in boss.text


async def test_an_ngo_registers_as_an_ngo(
    flow_client: Client, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    boss = TelegramUser(flow_client, fake_api, 8103)
    await boss.start()
    await boss.press("I am an employer")
    await boss.send("Helping Hands Cambodia")
    await boss.send(contact={"phone_number": "+85523880119", "first_name": "Boss", "user_id": 8103})
    await boss.press("Phnom Penh")
    assert {"An NGO", "A cooperative"} <= set(boss.labels())
    await boss.press("An NGO")
    async with session_factory() as session:
        employer = await session.scalar(select(Employer).where(Employer.name == "Helping Hands Cambodia"))
        assert employer is not None and employer.kind is EmployerKind.NGO
        assert (await session.scalars(select(Job))).all() == []
