"""Featured weeks against real PostgreSQL and a fake Bakong API: bought for a published listing, paid by KHQR,
first in browsing within the filters, ended by date (audited); a take-down for safety makes the money due back;
bundles marked for refund by the operator; NGO and cooperative employer kinds made free by the prices file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bongpheak.bakong import BakongClient
from bongpheak.commands import CommandError
from bongpheak.commands.invoice import refund_due
from bongpheak.payments import Payments
from jobs_core.errors import NotAllowed, NotFound
from jobs_core.khqr import Merchant
from jobs_core.model import AuditEntry, Currency, Decision, Event, Invoice, InvoiceStatus, Job, JobStatus, Product
from jobs_core.pricing import PricesError, parse_prices
from jobs_core.services import billing
from jobs_core.services.billing import Billing
from jobs_core.services.employers import RegisterEmployer, register_employer
from jobs_core.services.jobs import ModerateJob, SubmitJob, expire_jobs, live_jobs, moderate_job, submit_job
from jobs_core.services.reports import DecideReport, ReportProblem, decide_report, report_problem
from jobs_core.uow import UnitOfWork
from tests.builders import Builder
from tests.fakes.bakong_api import FakeBakongAPI

MERCHANT = Merchant("bongpheak@aclb", "Bong Pheak", "Phnom Penh")
PRICES = parse_prices(
    {
        "listing": {"USD": "5.00"},
        "featured_week": {"USD": "3.00", "KHR": 12000},
        "bundle": [{"name": "five", "listings": 5, "USD": "20.00"}],
    }
)
BILLING = Billing(PRICES, MERCHANT, lifetime=timedelta(minutes=15))


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@pytest.fixture
def clock(now: datetime) -> Clock:
    return Clock(now)


@pytest.fixture
async def bakong() -> AsyncIterator[FakeBakongAPI]:
    async with FakeBakongAPI() as fake:
        yield fake


@pytest.fixture
async def payments(
    session_factory: async_sessionmaker[AsyncSession], clock: Clock, bakong: FakeBakongAPI
) -> AsyncIterator[Payments]:
    client = BakongClient(bakong.base_url, bakong.token, MERCHANT.account)
    yield Payments(lambda: UnitOfWork(session_factory, now=clock.at), BILLING, client)
    await client.close()


async def published(build: Builder, clock: Clock, employer_id: int, **changes: object) -> int:
    job_id = await build.draft(employer_id, **changes)
    await submit_job(SubmitJob(job_id, employer_id, "employer"), build.uow(clock.at))
    await moderate_job(ModerateJob(job_id, "moderator:1", Decision.APPROVE), build.uow(clock.at))
    return job_id


async def titles(build: Builder, clock: Clock, **filters: str) -> list[str]:
    return [job.title for job in await live_jobs(build.uow(clock.at), limit=20, **filters)]


async def audit_actions(build: Builder, job_id: int) -> list[str]:
    async with build.uow() as uow:
        query = select(AuditEntry.action).where(AuditEntry.subject_type == "job", AuditEntry.subject_id == job_id)
        return list((await uow.session.scalars(query.order_by(AuditEntry.id))).all())


async def test_featured_weeks_are_bought_paid_shown_first_within_the_filters_and_end_by_date(
    build: Builder, clock: Clock, payments: Payments, bakong: FakeBakongAPI
) -> None:
    employer = await build.employer()
    old = await published(build, clock, employer, title="Cooks in Siem Reap", province="Siem Reap")
    clock.advance(hours=1)
    await published(build, clock, employer, title="Guards in Phnom Penh", sector="security")
    clock.advance(hours=1)
    await published(build, clock, employer, title="Sewing operators")
    assert await titles(build, clock) == ["Sewing operators", "Guards in Phnom Penh", "Cooks in Siem Reap"]

    invoice = await billing.buy_featured(build.uow(clock.at), old, employer, 2, BILLING, "employer")
    assert (invoice.product, invoice.weeks, invoice.currency, invoice.amount_minor) == (
        Product.FEATURED_WEEK,
        2,
        Currency.USD,
        600,
    )
    assert await titles(build, clock) == ["Sewing operators", "Guards in Phnom Penh", "Cooks in Siem Reap"]
    # The listing's own invoice (none here) is what the listing's pay page shows, never featured weeks.
    assert await billing.latest_invoice(build.uow(), old) is None

    bakong.pay(invoice.khqr)
    assert await payments.check_now(invoice.id, employer) is InvoiceStatus.PAID
    async with build.uow() as uow:
        job = await uow.session.get(Job, old)
        assert job is not None and job.featured_until == clock.at + timedelta(weeks=2)
    assert await titles(build, clock) == ["Cooks in Siem Reap", "Sewing operators", "Guards in Phnom Penh"]
    # Never above the relatives' own filters: a featured job elsewhere is not shown at all.
    assert await titles(build, clock, province_code="12") == ["Sewing operators", "Guards in Phnom Penh"]
    assert await titles(build, clock, sector_code="security") == ["Guards in Phnom Penh"]
    assert "job.featured" in await audit_actions(build, old)

    # A second purchase while featured adds its weeks after the first ones.
    again = await billing.buy_featured(build.uow(clock.at), old, employer, 1, BILLING, "employer")
    bakong.pay(again.khqr)
    await payments.check_now(again.id, employer)
    async with build.uow() as uow:
        job = await uow.session.get(Job, old)
        assert job is not None and job.featured_until == clock.at + timedelta(weeks=3)

    clock.advance(weeks=3, minutes=1)
    await expire_jobs(build.uow(clock.at))
    assert await titles(build, clock) == ["Sewing operators", "Guards in Phnom Penh", "Cooks in Siem Reap"]
    assert (await audit_actions(build, old))[-1] == "job.featured_ended"
    async with build.uow() as uow:
        job = await uow.session.get(Job, old)
        assert job is not None and job.featured_until is None


async def test_only_the_employers_own_published_listing_can_be_featured(build: Builder, clock: Clock) -> None:
    employer = await build.employer()
    other = await build.employer(name="Other Co", external_id="5002")
    job_id = await published(build, clock, employer)
    draft = await build.draft(employer)
    with pytest.raises(NotFound):
        await billing.buy_featured(build.uow(clock.at), job_id, other, 1, BILLING, "employer")
    with pytest.raises(NotAllowed):
        await billing.buy_featured(build.uow(clock.at), draft, employer, 1, BILLING, "employer")
    with pytest.raises(NotAllowed):
        await billing.buy_featured(build.uow(clock.at), job_id, employer, 0, BILLING, "employer")
    with pytest.raises(NotAllowed, match="ends before"):  # published for 30 days: a sixth week is never shown
        await billing.buy_featured(build.uow(clock.at), job_id, employer, 6, BILLING, "employer")
    not_for_sale = Billing(parse_prices({"listing": {"USD": "5.00"}}), MERCHANT)
    with pytest.raises(NotAllowed):
        await billing.buy_featured(build.uow(clock.at), job_id, employer, 1, not_for_sale, "employer")
    async with build.uow() as uow:
        assert (await uow.session.scalars(select(Invoice))).all() == []


async def test_a_featured_listing_taken_down_for_safety_is_refund_due(
    build: Builder, clock: Clock, payments: Payments, bakong: FakeBakongAPI
) -> None:
    employer = await build.employer()
    job_id = await published(build, clock, employer)
    invoice = await billing.buy_featured(build.uow(clock.at), job_id, employer, 1, BILLING, "employer")
    bakong.pay(invoice.khqr)
    await payments.check_now(invoice.id, employer)
    report = await report_problem(ReportProblem("fees", job_id=job_id, details="asks $300"), build.uow(clock.at))
    await decide_report(DecideReport(report, "moderator:1", uphold=True), build.uow(clock.at))
    async with build.uow() as uow:
        paid = await uow.session.get(Invoice, invoice.id)
        assert paid is not None and paid.status is InvoiceStatus.REFUND_DUE
        assert paid.refund_reason == f"taken down after report #{report}"
        events = (await uow.session.scalars(select(Event.kind).order_by(Event.id))).all()
    assert "invoice.refund_due" in events  # the moderators' chat gets the refund card
    assert (await titles(build, clock)) == []


async def test_an_expired_featured_invoice_is_renewed_for_the_same_weeks(
    build: Builder, clock: Clock, payments: Payments, bakong: FakeBakongAPI
) -> None:
    employer = await build.employer()
    job_id = await published(build, clock, employer)
    first = await billing.buy_featured(build.uow(clock.at), job_id, employer, 4, BILLING, "employer")
    clock.advance(minutes=16)
    await payments.check_once()
    renewed = await billing.renew_invoice(build.uow(clock.at), first.id, employer, BILLING, "employer")
    assert (renewed.product, renewed.weeks, renewed.amount_minor, renewed.renewal_of) == (
        Product.FEATURED_WEEK,
        4,
        1200,
        first.id,
    )
    bakong.pay(renewed.khqr)
    await payments.check_now(renewed.id, employer)
    # The expired code paid after all, late: the weeks are not given twice, the money is due back.
    bakong.pay(first.khqr)
    clock.advance(minutes=5)
    await payments.check_once()
    async with build.uow() as uow:
        job = await uow.session.get(Job, job_id)
        assert job is not None and job.featured_until is not None
        assert job.featured_until < clock.at + timedelta(weeks=4)
        late = await uow.session.get(Invoice, first.id)
        assert late is not None and late.status is InvoiceStatus.REFUND_DUE


async def test_the_operator_marks_a_paid_bundle_for_refund_and_it_covers_no_more_listings(
    build: Builder, clock: Clock, payments: Payments, bakong: FakeBakongAPI
) -> None:
    employer = await build.employer()
    bundle = await billing.buy_bundle(build.uow(clock.at), employer, 0, BILLING, "employer")
    with pytest.raises(NotAllowed):  # not paid yet: nothing to give back
        await billing.mark_refund_due(build.uow(clock.at), bundle.id, "operator", "withdrawn")
    bakong.pay(bundle.khqr)
    await payments.check_now(bundle.id, employer)
    job_id = await build.draft(employer)
    await submit_job(SubmitJob(job_id, employer, "employer"), build.uow(clock.at))
    await moderate_job(ModerateJob(job_id, "moderator:1", Decision.APPROVE, billing=BILLING), build.uow(clock.at))
    assert await billing.prepaid_left(build.uow(), employer) == 4

    with pytest.raises(NotAllowed):
        await billing.mark_refund_due(build.uow(clock.at), bundle.id, "operator", "  ")
    marked = await billing.mark_refund_due(build.uow(clock.at), bundle.id, "operator", "the employer gave up")
    assert marked.status is InvoiceStatus.REFUND_DUE
    assert marked.refund_reason == "the employer gave up (1 of 5 prepaid listings used)"
    assert await billing.prepaid_left(build.uow(), employer) == 0
    async with build.uow() as uow:
        job = await uow.session.get(Job, job_id)
        assert job is not None and job.status is JobStatus.PUBLISHED  # what it covered stays published
        events = (await uow.session.scalars(select(Event.kind).order_by(Event.id))).all()
    assert events[-1] == "invoice.refund_due"
    await billing.mark_refunded(build.uow(clock.at), bundle.id, "moderator:1")


async def test_ngos_and_cooperatives_are_kinds_the_operator_can_make_free(build: Builder, clock: Clock) -> None:
    prices = parse_prices(
        {"listing": {"USD": "5.00"}, "free": {"kinds": ["ngo", "cooperative"], "verified_only": False}}
    )
    charging = Billing(prices, MERCHANT)
    outcome = {}
    for kind, phone in (("ngo", "023 880 113"), ("cooperative", "023 880 114"), ("employer", "023 880 115")):
        registration = RegisterEmployer(
            f"A {kind}", phone, "Phnom Penh", kind=kind, channel="telegram", external_id=kind
        )
        employer = await register_employer(registration, build.uow(clock.at))
        job_id = await build.draft(employer)
        await submit_job(SubmitJob(job_id, employer, "employer"), build.uow(clock.at))
        await moderate_job(ModerateJob(job_id, "moderator:1", Decision.APPROVE, billing=charging), build.uow(clock.at))
        async with build.uow() as uow:
            job = await uow.session.get(Job, job_id)
            assert job is not None
            outcome[kind] = job.status
    assert outcome == {
        "ngo": JobStatus.PUBLISHED,
        "cooperative": JobStatus.PUBLISHED,
        "employer": JobStatus.AWAITING_PAYMENT,
    }
    with pytest.raises(PricesError, match=r"free\.kinds: .*ngo, cooperative"):
        parse_prices({"free": {"kinds": ["worker"]}})


async def test_the_operators_command_marks_a_paid_invoice_for_refund(
    build: Builder, clock: Clock, payments: Payments, bakong: FakeBakongAPI, database_url: str
) -> None:
    employer = await build.employer()
    job_id = await published(build, clock, employer)
    invoice = await billing.buy_featured(build.uow(clock.at), job_id, employer, 1, BILLING, "employer")
    with pytest.raises(CommandError, match="open invoice cannot be marked for refund; nothing was changed"):
        await refund_due(database_url, invoice.reference, "the listing moved")
    bakong.pay(invoice.khqr)
    await payments.check_now(invoice.id, employer)
    said = await refund_due(database_url, invoice.reference.lower(), "the listing moved")
    assert said == f"{invoice.reference}: refund due (the listing moved); the moderators' chat is told"
    with pytest.raises(CommandError, match="no invoice BP-NOPE"):
        await refund_due(database_url, "BP-NOPE", "x")
    async with build.uow() as uow:
        marked = await uow.session.get(Invoice, invoice.id)
        assert marked is not None and marked.status is InvoiceStatus.REFUND_DUE
        refund_due_by = select(AuditEntry.actor).where(AuditEntry.action == "invoice.refund_due")
        actors = (await uow.session.scalars(refund_due_by)).all()
    assert actors == ["operator"]
