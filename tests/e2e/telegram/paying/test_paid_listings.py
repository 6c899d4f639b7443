"""Paying for a listing in Telegram: the moderator approves, the employer gets the invoice and the KHQR code
as a photo, presses "check payment", pays (the fake Bakong learns of it), and gets a receipt; the listing is
published. Webhook in, recorded Bot API calls out, a fake Bakong API, real PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bongpheak.bakong import BakongClient
from bongpheak.payments import Payments
from conversations.notifier import notify_once
from conversations.turn import DialogDeps
from jobs_core.model import Decision, Invoice, InvoiceStatus, Job, JobStatus
from jobs_core.pricing import parse_prices
from jobs_core.services.billing import Billing
from jobs_core.services.jobs import ModerateJob, SubmitJob, moderate_job, submit_job
from jobs_core.services.reports import DecideReport, ReportProblem, decide_report, report_problem
from jobs_core.uow import UnitOfWork
from tests.builders import Builder
from tests.e2e.telegram.conftest import all_sent
from tests.e2e.telegram.paying.conftest import MERCHANT, Client
from tests.e2e.telegram.test_flows import MODERATOR, MODERATORS_GROUP, TelegramUser
from tests.fakes.bakong_api import FakeBakongAPI
from tests.fakes.telegram_api import FakeTelegramAPI, callback_update

PRICES = parse_prices(
    {"listing": {"USD": "5.00", "KHR": 20000}, "bundle": [{"name": "five", "listings": 5, "USD": "20.00"}]}
)
BILLING = Billing(PRICES, MERCHANT, lifetime=timedelta(minutes=15))


@pytest.fixture
def billing() -> Billing:
    return BILLING


def decoded_qr(png: bytes) -> bool:
    """The photo is a PNG image (a QR code drawn by segno; tests/unit/core/test_khqr_image.py reads one back)."""
    return png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 200


async def test_an_employer_pays_a_listing_by_khqr_in_telegram_and_gets_a_receipt(
    flow_client: Client,
    fake_api: FakeTelegramAPI,
    dialog_deps: DialogDeps,
    session_factory: async_sessionmaker[AsyncSession],
    payments: Payments,
    bakong: FakeBakongAPI,
    tmp_path: Path,
) -> None:
    boss = TelegramUser(flow_client, fake_api, 8001)
    await boss.start()  # English from now on
    build = Builder(session_factory, now=UnitOfWork(session_factory).now())
    employer = await build.employer(external_id="8001")
    job_id = await build.draft(employer, title="Security guards")
    await submit_job(SubmitJob(job_id, employer, "employer"), UnitOfWork(session_factory))

    assert await notify_once(dialog_deps) > 0
    await all_sent(session_factory)
    moderator = TelegramUser(flow_client, fake_api, MODERATOR, chat_id=MODERATORS_GROUP)
    moderator.last = [c for c in fake_api.sent(MODERATORS_GROUP) if f"Job #{job_id} for review" in c.content]
    await moderator.press("Approve")
    assert "💳" in moderator.text  # the card, edited: approved, waiting for the employer's payment (in Khmer)

    # The invoice, then the KHQR code as a photo with "check payment" under it.
    assert await notify_once(dialog_deps) > 0
    await all_sent(session_factory)
    sent = fake_api.sent(8001)
    invoice_text = next(c for c in sent if "To publish it, please pay" in c.content)
    assert "5.00 USD" in invoice_text.content and "Workers never pay" in invoice_text.content
    photo = next(c for c in sent if c.method == "sendPhoto")
    assert decoded_qr(photo.files["photo"])
    async with session_factory() as session:
        invoice = await session.scalar(select(Invoice).where(Invoice.job_id == job_id))
        assert invoice is not None and invoice.reference in photo.content
        job = await session.get(Job, job_id)
        assert job is not None and job.status is JobStatus.AWAITING_PAYMENT

    # "My listings" shows it waiting for payment, with the invoice a press away.
    await boss.send("/listings")
    assert "approved, waiting for payment" in boss.text and invoice.reference in boss.text
    await boss.press("Pay")
    assert any(c.method == "sendPhoto" for c in boss.last)

    # Pressed before paying: checked at once, "not yet".
    boss.last = [photo]
    await boss.press("Check payment")
    assert "Checking with Bakong" in boss.text
    assert await payments.check_once() == 1
    await notify_once(dialog_deps)
    await all_sent(session_factory)
    assert "has arrived yet" in fake_api.sent(8001)[-1].content

    # Paid in the bank app: the next check (the button under "not yet") finds it; a receipt, and the job is
    # published.
    bakong.pay(invoice.khqr)
    boss.last = [fake_api.sent(8001)[-1]]
    await boss.press("Check payment")
    assert await payments.check_once() == 1
    await notify_once(dialog_deps)
    await all_sent(session_factory)
    told = [c.content for c in fake_api.sent(8001)]
    receipt = next(text for text in told if "Receipt" in text)
    assert invoice.reference in receipt and "5.00 USD" in receipt
    assert any("is published" in text for text in told)
    async with session_factory() as session:
        job = await session.get(Job, job_id)
        paid = await session.get(Invoice, invoice.id)
        assert job is not None and job.status is JobStatus.PUBLISHED
        assert paid is not None and paid.status is InvoiceStatus.PAID

    # Pressing the old "check payment" under the QR code shows the receipt again.
    boss.last = [photo]
    await boss.press("Check payment")
    assert "Receipt" in boss.text

    # Taken down for safety after it was paid: the moderators' chat is told a refund is due, and says when
    # the money went back.
    report = await report_problem(
        ReportProblem("fees", job_id=job_id, details="asks $300"), UnitOfWork(session_factory)
    )
    await decide_report(DecideReport(report, "moderator:1", uphold=True), UnitOfWork(session_factory))
    await notify_once(dialog_deps)
    await all_sent(session_factory)
    refund = [c for c in fake_api.sent(MODERATORS_GROUP) if invoice.reference in c.content and "💸" in c.content]
    assert refund and "5.00 USD" in refund[0].content and "Golden Thread Apparel" in refund[0].content
    moderator.last = refund
    await moderator.press("✅")
    assert invoice.reference in moderator.text
    async with session_factory() as session:
        refunded = await session.get(Invoice, invoice.id)
        assert refunded is not None and refunded.status is InvoiceStatus.REFUNDED
    await notify_once(dialog_deps)
    await all_sent(session_factory)
    assert "paid back 5.00 USD" in fake_api.sent(8001)[-1].content


async def test_an_expired_qr_code_is_renewed_from_the_chat(
    flow_client: Client,
    fake_api: FakeTelegramAPI,
    dialog_deps: DialogDeps,
    session_factory: async_sessionmaker[AsyncSession],
    bakong: FakeBakongAPI,
) -> None:
    boss = TelegramUser(flow_client, fake_api, 8002)
    await boss.start()
    build = Builder(session_factory, now=UnitOfWork(session_factory).now())
    employer = await build.employer(external_id="8002")
    job_id = await build.draft(employer)
    await submit_job(SubmitJob(job_id, employer, "employer"), UnitOfWork(session_factory))
    await moderate_job(
        ModerateJob(job_id, "moderator:1", Decision.APPROVE, billing=BILLING), UnitOfWork(session_factory)
    )
    # Twenty minutes later (a controlled clock): the poller finds it unpaid and past its time.
    later = UnitOfWork(session_factory).now() + timedelta(minutes=20)
    client = BakongClient(bakong.base_url, bakong.token, MERCHANT.account)
    try:
        await Payments(lambda: UnitOfWork(session_factory, now=later), BILLING, client).check_once()
    finally:
        await client.close()
    await notify_once(dialog_deps)
    await all_sent(session_factory)
    boss.last = [c for c in fake_api.sent(8002) if "expired before a payment arrived" in c.content]
    assert boss.last
    await boss.press("New QR code")
    assert any(c.method == "sendPhoto" for c in boss.last)
    async with session_factory() as session:
        statuses = (
            await session.scalars(select(Invoice.status).where(Invoice.job_id == job_id).order_by(Invoice.id))
        ).all()
    assert statuses == [InvoiceStatus.EXPIRED, InvoiceStatus.OPEN]


async def test_nobody_but_the_listings_employer_can_see_or_check_its_invoice(
    flow_client: Client,
    fake_api: FakeTelegramAPI,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    build = Builder(session_factory, now=UnitOfWork(session_factory).now())
    employer = await build.employer(external_id="8004")
    job_id = await build.draft(employer)
    await submit_job(SubmitJob(job_id, employer, "employer"), UnitOfWork(session_factory))
    approve = ModerateJob(job_id, "moderator:1", Decision.APPROVE, billing=BILLING)
    await moderate_job(approve, UnitOfWork(session_factory))
    async with session_factory() as session:
        invoice = await session.scalar(select(Invoice).where(Invoice.job_id == job_id))
        assert invoice is not None
    relative = TelegramUser(flow_client, fake_api, 8005)  # a relative helping a family member find work
    await relative.start()
    await relative.press("Help a family member")
    other_employer = TelegramUser(flow_client, fake_api, 8006)
    await build.employer(name="Other Co", external_id="8006")
    await other_employer.start()
    for person in (relative, other_employer):
        for verb in ("s", "c", "r"):
            action = f"pay:{invoice.id}:{verb}"
            update = callback_update(900_000 + len(fake_api.calls), person.chat_id, action, from_id=person.user_id)
            await person._post(update)
            assert invoice.reference not in person.text and not any(c.method == "sendPhoto" for c in person.last)
    async with session_factory() as session:
        unchanged = await session.get(Invoice, invoice.id)
        assert unchanged is not None and unchanged.status is InvoiceStatus.OPEN and not unchanged.check_asked


async def test_an_employer_buys_prepaid_listings_in_the_chat(
    flow_client: Client, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    build = Builder(session_factory, now=UnitOfWork(session_factory).now())
    await build.employer(external_id="8007")
    boss = TelegramUser(flow_client, fake_api, 8007)
    await boss.start()
    await boss.send("/employer")
    await boss.press("Prepaid listings")
    assert "Prepaid listings left: 0" in boss.text
    await boss.press("5 listings · 20.00 USD")
    assert "5 prepaid listings" in boss.text and "20.00 USD" in boss.text
    assert any(c.method == "sendPhoto" for c in boss.last)
    async with session_factory() as session:
        invoice = await session.scalar(select(Invoice))
        assert invoice is not None and invoice.listings == 5 and invoice.job_id is None
