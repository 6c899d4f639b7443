"""Paid listings against real PostgreSQL and a fake Bakong API: invoice on approval, payment seen by polling,
expiry and renewal on a controlled clock, a payment reported twice, a refund after a safety take-down."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bongpheak.bakong import BakongClient, BakongError
from bongpheak.payments import Payments
from jobs_core.errors import NotAllowed, NotFound
from jobs_core.khqr import Merchant
from jobs_core.model import (
    AuditEntry,
    Base,
    Currency,
    Decision,
    Employer,
    Event,
    Invoice,
    InvoiceStatus,
    Job,
    JobStatus,
    Payment,
    Verification,
)
from jobs_core.pricing import parse_prices
from jobs_core.services import billing
from jobs_core.services.billing import Billing, SeenPayment
from jobs_core.services.employers import DecideEmployer, decide_employer
from jobs_core.services.jobs import CloseJob, ModerateJob, SubmitJob, close_job, moderate_job, submit_job
from jobs_core.services.reports import DecideReport, ReportProblem, decide_report, report_problem
from jobs_core.uow import UnitOfWork
from tests.builders import Builder
from tests.fakes.bakong_api import FakeBakongAPI

MERCHANT = Merchant("bongpheak@aclb", "Bong Pheak", "Phnom Penh")
PRICES = {"listing": {"USD": "5.00", "KHR": 20000}}


def billing_with(**prices: object) -> Billing:
    return Billing(parse_prices({**PRICES, **prices}), MERCHANT, lifetime=timedelta(minutes=15))


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@pytest.fixture
async def bakong() -> AsyncIterator[FakeBakongAPI]:
    async with FakeBakongAPI() as fake:
        yield fake


@pytest.fixture
def clock(now: datetime) -> Clock:
    return Clock(now)


@pytest.fixture
async def payments(
    session_factory: async_sessionmaker[AsyncSession], clock: Clock, bakong: FakeBakongAPI
) -> AsyncIterator[Payments]:
    client = BakongClient(bakong.base_url, bakong.token, MERCHANT.account)
    yield Payments(lambda: UnitOfWork(session_factory, now=clock.at), billing_with(), client)
    await client.close()


async def approved(build: Builder, clock: Clock, charging: Billing | None, employer_id: int | None = None) -> int:
    employer_id = employer_id or await build.employer(external_id=f"e{build.next_phone()}")
    job_id = await build.draft(employer_id)
    await submit_job(SubmitJob(job_id, employer_id, "employer"), build.uow(clock.at))
    await moderate_job(ModerateJob(job_id, "moderator:1", Decision.APPROVE, billing=charging), build.uow(clock.at))
    return job_id


async def state(build: Builder, job_id: int) -> tuple[JobStatus, list[InvoiceStatus]]:
    async with build.uow() as uow:
        job = await uow.session.get(Job, job_id)
        assert job is not None
        invoices = (
            await uow.session.scalars(select(Invoice).where(Invoice.job_id == job_id).order_by(Invoice.id))
        ).all()
        return job.status, [i.status for i in invoices]


async def invoice_of(build: Builder, job_id: int) -> Invoice:
    invoice = await billing.latest_invoice(build.uow(), job_id)
    assert invoice is not None
    return invoice


async def kinds(build: Builder) -> list[str]:
    async with build.uow() as uow:
        return list((await uow.session.scalars(select(Event.kind).order_by(Event.id))).all())


async def test_with_payments_off_an_approved_listing_is_published_free(build: Builder, clock: Clock) -> None:
    job_id = await approved(build, clock, None)
    assert await state(build, job_id) == (JobStatus.PUBLISHED, [])


async def test_an_approved_listing_waits_for_payment_then_is_published_with_a_receipt(
    build: Builder, clock: Clock, payments: Payments, bakong: FakeBakongAPI
) -> None:
    job_id = await approved(build, clock, payments.billing)
    assert await state(build, job_id) == (JobStatus.AWAITING_PAYMENT, [InvoiceStatus.OPEN])
    invoice = await invoice_of(build, job_id)
    assert (invoice.currency, invoice.amount_minor) == (Currency.USD, 500)
    assert invoice.reference in invoice.khqr  # the bill number the payer's bank shows

    clock.advance(seconds=20)
    assert await payments.check_once() == 1  # asked Bakong: not found
    assert await state(build, job_id) == (JobStatus.AWAITING_PAYMENT, [InvoiceStatus.OPEN])
    assert await payments.check_once() == 0  # not due again yet

    bakong.pay(invoice.khqr)
    clock.advance(seconds=20)
    assert await payments.check_once() == 1
    assert await state(build, job_id) == (JobStatus.PUBLISHED, [InvoiceStatus.PAID])
    async with build.uow() as uow:
        payment = (await uow.session.scalars(select(Payment))).one()
        assert (payment.currency, payment.amount_minor, payment.from_account) == (Currency.USD, 500, "dara_sok@aclb")
        job = await uow.session.get(Job, job_id)
        assert job is not None and job.expires_at == clock.at + timedelta(days=30)
        actions = set((await uow.session.scalars(select(AuditEntry.action))).all())
    assert {"invoice.issued", "payment.recorded", "invoice.paid", "job.published"} <= actions
    events = await kinds(build)
    assert "invoice.issued" in events and events[-2:] == ["invoice.paid", "job.published"]
    assert "job.published" not in events[: events.index("invoice.paid")]  # not before it was paid


async def test_a_payment_reported_twice_is_recorded_once(
    build: Builder, clock: Clock, payments: Payments, bakong: FakeBakongAPI
) -> None:
    job_id = await approved(build, clock, payments.billing)
    invoice = await invoice_of(build, job_id)
    transaction = bakong.pay(invoice.khqr)
    assert await payments.check_now(invoice.id, invoice.employer_id) is InvoiceStatus.PAID
    # Bakong's answer comes again (a second poller, a retry after a crash): nothing more happens.
    seen = SeenPayment(transaction, Currency.USD, 500, "dara_sok@aclb", clock.at)
    for _ in range(2):
        assert await billing.settle(build.uow(clock.at), invoice.id, seen, payments.billing) is InvoiceStatus.PAID
    assert await payments.check_now(invoice.id, invoice.employer_id) is InvoiceStatus.PAID  # not asked again
    async with build.uow() as uow:
        assert (await uow.session.scalars(select(Payment.external_ref))).all() == [transaction]
    events = await kinds(build)
    assert events.count("invoice.paid") == 1 and events.count("job.published") == 1
    assert bakong.checks == [invoice.md5]
    # A second, different payment for the same invoice is money to give back.
    other = SeenPayment("another-hash", Currency.USD, 500, "dara_sok@aclb", clock.at)
    await billing.settle(build.uow(clock.at), invoice.id, other, payments.billing)
    assert (await kinds(build))[-1] == "invoice.refund_due"


async def test_an_unpaid_invoice_expires_and_can_be_renewed(
    build: Builder, clock: Clock, payments: Payments, bakong: FakeBakongAPI
) -> None:
    job_id = await approved(build, clock, payments.billing)
    first = await invoice_of(build, job_id)
    clock.advance(minutes=15, seconds=1)
    await payments.check_once()
    assert await state(build, job_id) == (JobStatus.AWAITING_PAYMENT, [InvoiceStatus.EXPIRED])
    assert "invoice.expired" in await kinds(build)
    with pytest.raises(NotFound):  # another employer's invoice
        await billing.renew_invoice(build.uow(clock.at), first.id, first.employer_id + 1, payments.billing, "x")
    renewed = await billing.renew_invoice(build.uow(clock.at), first.id, first.employer_id, payments.billing, "e")
    with pytest.raises(NotAllowed):  # only an expired invoice is renewed
        await billing.renew_invoice(build.uow(clock.at), renewed.id, first.employer_id, payments.billing, "e")
    again = await billing.renew_invoice(build.uow(clock.at), first.id, first.employer_id, payments.billing, "e")
    assert renewed.id == again.id and renewed.md5 != first.md5 and renewed.renewal_of == first.id
    assert await state(build, job_id) == (JobStatus.AWAITING_PAYMENT, [InvoiceStatus.EXPIRED, InvoiceStatus.OPEN])
    bakong.pay(renewed.khqr)
    clock.advance(seconds=20)
    await payments.check_once()
    assert await state(build, job_id) == (JobStatus.PUBLISHED, [InvoiceStatus.EXPIRED, InvoiceStatus.PAID])


async def test_a_late_payment_of_an_expired_code_is_honoured_and_the_renewal_cancelled(
    build: Builder, clock: Clock, payments: Payments, bakong: FakeBakongAPI
) -> None:
    job_id = await approved(build, clock, payments.billing)
    first = await invoice_of(build, job_id)
    clock.advance(minutes=16)
    await payments.check_once()
    renewed = await billing.renew_invoice(build.uow(clock.at), first.id, first.employer_id, payments.billing, "e")
    bakong.pay(first.khqr)  # the employer paid the old code after all (their bank app still took it)
    clock.advance(minutes=5)
    await payments.check_once()
    assert await state(build, job_id) == (JobStatus.PUBLISHED, [InvoiceStatus.PAID, InvoiceStatus.CANCELLED])
    assert renewed.md5 in bakong.checks
    assert (await invoice_of(build, job_id)).id == first.id  # the paid one is what the employer is shown
    # A day on, an expired code no longer scans: it is not asked about any more.
    job_2 = await approved(build, clock, payments.billing)
    clock.advance(minutes=16)
    await payments.check_once()
    assert (await state(build, job_2))[1] == [InvoiceStatus.EXPIRED]
    asked = len(bakong.checks)
    clock.advance(days=1, minutes=1)
    assert await payments.check_once() == 0 and len(bakong.checks) == asked


async def test_check_payment_asked_by_the_employer_is_answered_even_when_unpaid(
    build: Builder, clock: Clock, payments: Payments
) -> None:
    job_id = await approved(build, clock, payments.billing)
    invoice = await invoice_of(build, job_id)
    with pytest.raises(NotFound):
        await billing.ask_check(build.uow(clock.at), invoice.id, invoice.employer_id + 1)
    await billing.ask_check(build.uow(clock.at), invoice.id, invoice.employer_id)
    assert await payments.check_once() == 1  # due at once, not in 15 s
    assert (await kinds(build))[-1] == "invoice.unpaid"


async def test_bakong_down_leaves_the_invoice_open_for_later(
    build: Builder, clock: Clock, payments: Payments, bakong: FakeBakongAPI
) -> None:
    job_id = await approved(build, clock, payments.billing)
    bakong.down = True
    clock.advance(seconds=20)
    with pytest.raises(BakongError):
        await payments.check_once()
    bakong.down = False
    bakong.pay((await invoice_of(build, job_id)).khqr)
    clock.advance(minutes=2)  # the claim lapsed
    assert await payments.check_once() == 1
    assert await state(build, job_id) == (JobStatus.PUBLISHED, [InvoiceStatus.PAID])


async def test_a_paid_listing_taken_down_for_safety_is_marked_for_refund(
    build: Builder, clock: Clock, payments: Payments, bakong: FakeBakongAPI
) -> None:
    job_id = await approved(build, clock, payments.billing)
    invoice = await invoice_of(build, job_id)
    bakong.pay(invoice.khqr)
    assert await payments.check_now(invoice.id, invoice.employer_id) is InvoiceStatus.PAID
    report = await report_problem(ReportProblem("fees", job_id=job_id, details="asks $300"), build.uow(clock.at))
    await decide_report(DecideReport(report, "moderator:2", uphold=True), build.uow(clock.at))
    assert await state(build, job_id) == (JobStatus.REJECTED, [InvoiceStatus.REFUND_DUE])
    assert (await kinds(build))[-2:] == ["invoice.refund_due", "report.decided"]
    refunded = await billing.mark_refunded(build.uow(clock.at), invoice.id, "telegram:42")
    assert refunded.status is InvoiceStatus.REFUNDED
    revenue = await billing.revenue_by_month(build.uow())
    assert [(r.month.isoformat(), r.product, r.currency, r.paid_minor, r.refunded_minor) for r in revenue] == [
        ("2026-03-01", "listing", "USD", 500, 500)
    ]


async def test_withdrawing_an_unpaid_listing_cancels_its_invoice(
    build: Builder, clock: Clock, payments: Payments
) -> None:
    job_id = await approved(build, clock, payments.billing)
    invoice = await invoice_of(build, job_id)
    await close_job(CloseJob(job_id, invoice.employer_id, "employer", filled=False), build.uow(clock.at))
    assert await state(build, job_id) == (JobStatus.WITHDRAWN, [InvoiceStatus.CANCELLED])


async def test_free_employers_and_the_monthly_quota_pay_nothing(build: Builder, clock: Clock) -> None:
    charging = billing_with(free={"kinds": ["employer"], "verified_only": True, "monthly_quota": 1})
    employer = await build.employer(external_id="q1")
    assert (await state(build, await approved(build, clock, charging, employer)))[0] is JobStatus.PUBLISHED
    assert (await state(build, await approved(build, clock, charging, employer)))[0] is JobStatus.AWAITING_PAYMENT
    await decide_employer(DecideEmployer(employer, "moderator:1", verify=True), build.uow(clock.at))
    assert (await state(build, await approved(build, clock, charging, employer)))[0] is JobStatus.PUBLISHED
    named = billing_with(free={"employers": [employer + 1]})
    other = await build.employer(external_id="q2")
    assert other == employer + 1
    assert (await state(build, await approved(build, clock, named, other)))[0] is JobStatus.PUBLISHED


def test_no_invoice_can_be_addressed_to_anyone_but_an_employer() -> None:
    """The schema itself: an invoice names an employer (required), a job, an earlier invoice — nothing else;
    no column could point at a relative or a worker."""
    table = Base.metadata.tables["invoices"]
    targets = {fk.column.table.name for fk in table.foreign_keys}
    assert targets == {"employers", "jobs", "invoices"}
    assert not table.c.employer_id.nullable
    people = {"relatives", "workers", "nominations", "applications"}
    assert not any(fk.column.table.name in people for fk in Base.metadata.tables["payments"].foreign_keys)


async def test_the_invoice_goes_to_the_listings_own_employer(build: Builder, clock: Clock) -> None:
    employer = await build.employer(external_id="own")
    job_id = await approved(build, clock, billing_with(), employer)
    invoice = await invoice_of(build, job_id)
    async with build.uow() as uow:
        assert invoice.employer_id == employer
        assert isinstance(await uow.session.get(Employer, invoice.employer_id), Employer)
        verification = (await uow.session.get(Employer, employer)).verification  # type: ignore[union-attr]
    assert verification is Verification.UNVERIFIED


async def test_a_paid_bundle_publishes_its_listings_without_invoices_until_it_is_used_up(
    build: Builder, clock: Clock, bakong: FakeBakongAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    charging = billing_with(bundle=[{"name": "two", "listings": 2, "USD": "8.00", "KHR": 32000}])
    client = BakongClient(bakong.base_url, bakong.token, MERCHANT.account)
    payments = Payments(lambda: UnitOfWork(session_factory, now=clock.at), charging, client)
    try:
        employer = await build.employer(external_id="b1")
        with pytest.raises(NotFound):
            await billing.buy_bundle(build.uow(clock.at), employer, 1, charging, "employer")
        bundle = await billing.buy_bundle(build.uow(clock.at), employer, 0, charging, "employer")
        assert (bundle.product.value, bundle.job_id, bundle.listings, bundle.amount_minor) == ("bundle", None, 2, 800)
        assert await billing.prepaid_left(build.uow(), employer) == 0  # not paid yet
        bakong.pay(bundle.khqr)
        assert await payments.check_now(bundle.id, employer) is InvoiceStatus.PAID
        assert await billing.prepaid_left(build.uow(), employer) == 2
        first = await approved(build, clock, charging, employer)
        second = await approved(build, clock, charging, employer)
        third = await approved(build, clock, charging, employer)
    finally:
        await client.close()
    assert await state(build, first) == (JobStatus.PUBLISHED, [])
    assert await state(build, second) == (JobStatus.PUBLISHED, [])
    assert await state(build, third) == (JobStatus.AWAITING_PAYMENT, [InvoiceStatus.OPEN])
    assert await billing.prepaid_left(build.uow(), employer) == 0
    revenue = await billing.revenue_by_month(build.uow())
    assert [(r.product, r.currency, r.paid_minor) for r in revenue] == [("bundle", "USD", 800)]
