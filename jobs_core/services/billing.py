"""Paid listings: the invoice issued when a moderator approves a listing whose employer must pay, its
settlement when Bakong reports the payment, expiry and renewal, and refunds after a safety take-down.

Checking Bakong is a network call, so it never happens inside a transaction here: the poller claims due
invoices (:func:`claim_due`, committed), asks Bakong with no transaction open, then settles each answer
(:func:`settle`) in a transaction of its own — the same claim → commit → call → settle as the outbox senders.

Only employers are ever invoiced: an invoice is made from a listing and goes to that listing's employer.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import DateTime, and_, case, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from jobs_core.clock import PHNOM_PENH, start_of_local_day
from jobs_core.errors import NotAllowed, NotFound
from jobs_core.khqr import KHQR_VALIDITY, Merchant, khqr_for
from jobs_core.model import (
    Currency,
    Decision,
    Employer,
    Invoice,
    InvoiceStatus,
    Job,
    JobStatus,
    ModerationDecision,
    Payment,
    PrepaidUse,
    Product,
)
from jobs_core.pricing import Money, Prices
from jobs_core.uow import UnitOfWork

# A claimed invoice is not claimed again for this long: time enough to ask Bakong and settle the answer.
CLAIM_LEASE = timedelta(minutes=1)
# An expired invoice's code still scans in a bank app until the KHQR's own expiry (a day, the shortest the
# standard's timestamp allows): such a late payment is looked for now and then, and honoured.
LATE_CHECK_EVERY = timedelta(minutes=5)


@dataclass(frozen=True)
class Billing:
    """Payments switched on: the operator's prices, where the money goes, how long a QR code is good for."""

    prices: Prices
    merchant: Merchant
    lifetime: timedelta = timedelta(minutes=15)
    check_every: timedelta = timedelta(seconds=15)


@dataclass(frozen=True)
class SeenPayment:
    """Bakong's answer for a paid KHQR (check_transaction_by_md5, responseCode 0)."""

    external_ref: str  # the transaction hash
    currency: Currency
    amount_minor: int
    from_account: str | None
    paid_at: datetime


async def listing_charge(uow: UnitOfWork, job: Job, billing: Billing | None) -> Money | None:
    """What publishing ``job`` costs its employer, or None when it is free (payments off, an employer the
    operator does not charge, a revision of a listing already paid for, the monthly free quota)."""
    if billing is None or job.revision_of is not None:
        return None
    prices = billing.prices
    price = prices.listing_price()
    if price is None or prices.is_free_for(job.employer):
        return None
    if prices.monthly_quota:
        month_start = start_of_local_day(uow.now()).replace(day=1)
        approved = await uow.session.scalar(
            select(func.count(func.distinct(ModerationDecision.job_id)))
            .join(Job, Job.id == ModerationDecision.job_id)
            .where(
                Job.employer_id == job.employer_id,
                Job.revision_of.is_(None),
                Job.id != job.id,
                ModerationDecision.decision == Decision.APPROVE,
                ModerationDecision.created_at >= month_start,
            )
        )
        if int(approved or 0) < prices.monthly_quota:
            return None
    bundle = await _bundle_with_credit(uow, job.employer_id)
    if bundle is not None:
        # Prepaid: this listing uses one of the bundle's listings instead of an invoice of its own.
        uow.session.add(PrepaidUse(invoice_id=bundle.id, job_id=job.id, used_at=uow.now()))
        uow.audit("system", "invoice.prepaid_used", "invoice", bundle.id, job_id=job.id)
        return None
    return price


async def _bundle_with_credit(uow: UnitOfWork, employer_id: int) -> Invoice | None:
    """The employer's oldest paid bundle with listings left."""
    used = select(func.count()).where(PrepaidUse.invoice_id == Invoice.id).scalar_subquery()
    return await uow.session.scalar(
        select(Invoice)
        .where(
            Invoice.employer_id == employer_id,
            Invoice.product == Product.BUNDLE,
            Invoice.status == InvoiceStatus.PAID,
            Invoice.listings > used,
        )
        .order_by(Invoice.id)
        .limit(1)
        .with_for_update()
    )


async def prepaid_left(uow: UnitOfWork, employer_id: int) -> int:
    """Listings the employer's paid bundles still cover."""
    async with uow:
        bought = await uow.session.scalar(
            select(func.coalesce(func.sum(Invoice.listings), 0)).where(
                Invoice.employer_id == employer_id,
                Invoice.product == Product.BUNDLE,
                Invoice.status == InvoiceStatus.PAID,
            )
        )
        used = await uow.session.scalar(
            select(func.count())
            .select_from(PrepaidUse)
            .join(Invoice, Invoice.id == PrepaidUse.invoice_id)
            # A bundle marked for refund covers no more listings: neither its listings nor its uses count.
            .where(Invoice.employer_id == employer_id, Invoice.status == InvoiceStatus.PAID)
        )
        return int(bought or 0) - int(used or 0)


async def buy_bundle(uow: UnitOfWork, employer_id: int, number: int, billing: Billing, actor: str) -> Invoice:
    """An invoice for the operator's bundle ``number`` (0-based, as in the prices file)."""
    prices = billing.prices
    if not 0 <= number < len(prices.bundles):
        raise NotFound("bundle", number)
    bundle = prices.bundles[number]
    currency = prices.currency if prices.currency in bundle.prices else next(iter(bundle.prices))
    async with uow:
        employer = await uow.session.get(Employer, employer_id)
        if employer is None:
            raise NotFound("employer", employer_id)
        money = Money(currency, bundle.prices[currency])
        invoice = await _issue(uow, employer, None, Product.BUNDLE, money, billing, actor, listings=bundle.listings)
        await uow.commit()
        return invoice


# How many featured weeks one purchase may buy: a listing is published for 30 days, and a few more after a
# renewal; a longer wish is bought again.
MAX_FEATURED_WEEKS = 8
FEATURED_WEEK = timedelta(days=7)


def featured_price(prices: Prices, weeks: int) -> Money | None:
    """What ``weeks`` featured weeks cost, in the invoices' currency when priced in it; None: not for sale."""
    if not prices.featured_week:
        return None
    currency = prices.currency if prices.currency in prices.featured_week else next(iter(prices.featured_week))
    return Money(currency, prices.featured_week[currency] * weeks)


def featured_weeks_left(job: Job, now: datetime) -> int:
    """How many more featured weeks fit before the listing itself ends (weeks already bought come first):
    weeks past the listing's expiry would be paid for and never shown."""
    start = job.featured_until if job.featured_until is not None and job.featured_until > now else now
    if job.expires_at is None:
        return MAX_FEATURED_WEEKS
    # A week that starts before the end counts: the listing can be renewed, and most of it is shown.
    return max(0, min(MAX_FEATURED_WEEKS, -(-(job.expires_at - start) // FEATURED_WEEK)))


async def buy_featured(
    uow: UnitOfWork, job_id: int, employer_id: int, weeks: int, billing: Billing, actor: str
) -> Invoice:
    """An invoice for ``weeks`` featured weeks of the employer's own published listing."""
    if not 1 <= weeks <= MAX_FEATURED_WEEKS:
        raise NotAllowed(f"featured weeks are bought 1 to {MAX_FEATURED_WEEKS} at a time")
    money = featured_price(billing.prices, weeks)
    if money is None:
        raise NotAllowed("featured weeks are not for sale")
    async with uow:
        job = await uow.session.get(Job, job_id)
        if job is None or job.employer_id != employer_id:
            raise NotFound("job", job_id)
        if not job.is_live(uow.now()):
            raise NotAllowed("only a published listing can be featured")
        if weeks > featured_weeks_left(job, uow.now()):
            raise NotAllowed("the listing ends before these featured weeks would")
        employer = await uow.session.get(Employer, employer_id)
        assert employer is not None  # the job's employer, a foreign key
        invoice = await _issue(uow, employer, job, Product.FEATURED_WEEK, money, billing, actor, weeks=weeks)
        await uow.commit()
        return invoice


async def issue_invoice(
    uow: UnitOfWork, job: Job, money: Money, billing: Billing, actor: str, renewal_of: int | None = None
) -> Invoice:
    """An open invoice for ``job``, addressed to the listing's employer; event ``invoice.issued``."""
    employer = await uow.session.get(Employer, job.employer_id)
    if employer is None:  # an invoice has an employer, always (a foreign key the schema enforces too)
        raise NotFound("employer", job.employer_id)
    return await _issue(uow, employer, job, Product.LISTING, money, billing, actor, renewal_of=renewal_of)


async def _issue(
    uow: UnitOfWork,
    employer: Employer,
    job: Job | None,
    product: Product,
    money: Money,
    billing: Billing,
    actor: str,
    *,
    renewal_of: int | None = None,
    listings: int | None = None,
    weeks: int | None = None,
) -> Invoice:
    now = uow.now()
    reference = f"BP-{secrets.token_hex(4).upper()}"
    code = khqr_for(billing.merchant, money, reference)
    invoice = Invoice(
        reference=reference,
        employer_id=employer.id,
        job_id=job.id if job is not None else None,
        product=product,
        currency=money.currency,
        amount_minor=money.minor,
        listings=listings,
        weeks=weeks,
        status=InvoiceStatus.OPEN,
        khqr=code.payload,
        md5=code.md5,
        renewal_of=renewal_of,
        created_at=now,
        expires_at=now + billing.lifetime,
        next_check_at=now + billing.check_every,
    )
    uow.session.add(invoice)
    await uow.session.flush()
    job_id = job.id if job is not None else None
    uow.audit(actor, "invoice.issued", "invoice", invoice.id, job_id=job_id, amount=str(money), renewal_of=renewal_of)
    uow.emit("invoice.issued", invoice_id=invoice.id, job_id=job_id, employer_id=employer.id)
    return invoice


async def employer_invoice(uow: UnitOfWork, invoice_id: int, employer_id: int, *, lock: bool = False) -> Invoice:
    invoice = await uow.session.get(Invoice, invoice_id, with_for_update=lock)
    if invoice is None or invoice.employer_id != employer_id:
        raise NotFound("invoice", invoice_id)
    return invoice


async def latest_invoice(uow: UnitOfWork, job_id: int) -> Invoice | None:
    """The listing's newest invoice (a renewal replaces an expired one), a cancelled one only when there is
    no other (a renewal cancelled because the old code was paid after all leaves the paid one to show)."""
    cancelled_last = case((Invoice.status == InvoiceStatus.CANCELLED, 1), else_=0)
    async with uow:
        return await uow.session.scalar(
            select(Invoice)
            .where(Invoice.job_id == job_id, Invoice.product == Product.LISTING)
            .order_by(cancelled_last, Invoice.id.desc())
            .limit(1)
        )


async def ask_check(uow: UnitOfWork, invoice_id: int, employer_id: int) -> Invoice:
    """The employer pressed "check payment": the poller looks at once and answers them either way."""
    async with uow:
        invoice = await employer_invoice(uow, invoice_id, employer_id, lock=True)
        if invoice.status is InvoiceStatus.OPEN:
            invoice.next_check_at = uow.now()
            invoice.check_asked = True
            await uow.commit()
        return invoice


async def renew_invoice(uow: UnitOfWork, invoice_id: int, employer_id: int, billing: Billing, actor: str) -> Invoice:
    """A new invoice (a new QR code, good for another while) for a listing whose invoice expired unpaid."""
    async with uow:
        old = await employer_invoice(uow, invoice_id, employer_id, lock=True)
        if old.status is not InvoiceStatus.EXPIRED:
            raise NotAllowed(f"a {old.status.value} invoice cannot be renewed")
        newer = await uow.session.scalar(select(Invoice).where(Invoice.renewal_of == old.id).limit(1))
        if newer is not None:  # renewed already (a second press, another channel): the same new invoice
            return newer
        if old.product is Product.BUNDLE:  # the same bundle again, at its price then
            employer = await uow.session.get(Employer, old.employer_id)
            assert employer is not None
            money = Money(old.currency, old.amount_minor)
            invoice = await _issue(
                uow, employer, None, Product.BUNDLE, money, billing, actor, renewal_of=old.id, listings=old.listings
            )
            await uow.commit()
            return invoice
        job = await uow.session.get(Job, old.job_id, with_for_update=True) if old.job_id else None
        if old.product is Product.FEATURED_WEEK:  # the same weeks again, at the current price
            weeks = old.weeks or 1
            if job is None or not job.is_live(uow.now()):
                raise NotAllowed("this listing is no longer published")
            money = featured_price(billing.prices, weeks) or Money(old.currency, old.amount_minor)
            employer = await uow.session.get(Employer, old.employer_id)
            assert employer is not None
            invoice = await _issue(
                uow, employer, job, Product.FEATURED_WEEK, money, billing, actor, renewal_of=old.id, weeks=weeks
            )
            await uow.commit()
            return invoice
        if job is None or job.status is not JobStatus.AWAITING_PAYMENT:
            raise NotAllowed("this listing is no longer waiting for payment")
        money = billing.prices.price_in(old.currency) or Money(old.currency, old.amount_minor)
        invoice = await issue_invoice(uow, job, money, billing, actor, renewal_of=old.id)
        await uow.commit()
        return invoice


async def claim_due(uow: UnitOfWork, limit: int = 50) -> list[tuple[int, str]]:
    """Invoices due a look at Bakong (open ones, and expired ones whose code still scans), claimed for
    CLAIM_LEASE; (id, md5) each. Commits the claim."""
    async with uow:
        now = uow.now()
        rows = (
            await uow.session.scalars(
                select(Invoice)
                .where(
                    or_(
                        Invoice.status == InvoiceStatus.OPEN,
                        and_(Invoice.status == InvoiceStatus.EXPIRED, Invoice.created_at > now - KHQR_VALIDITY),
                    ),
                    Invoice.next_check_at <= now,
                )
                .order_by(Invoice.next_check_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
        for invoice in rows:
            invoice.next_check_at = now + CLAIM_LEASE
        claimed = [(invoice.id, invoice.md5) for invoice in rows]
        await uow.commit()
        return claimed


async def claim_one(uow: UnitOfWork, invoice_id: int, employer_id: int) -> tuple[str | None, InvoiceStatus]:
    """Claim one open invoice of this employer for a look right now (the website's "check payment"): its md5,
    or None when it is not open (nothing to ask), and its status."""
    async with uow:
        invoice = await employer_invoice(uow, invoice_id, employer_id, lock=True)
        if invoice.status is not InvoiceStatus.OPEN:
            return None, invoice.status
        invoice.next_check_at = uow.now() + CLAIM_LEASE
        await uow.commit()
        return invoice.md5, invoice.status


async def settle(uow: UnitOfWork, invoice_id: int, seen: SeenPayment | None, billing: Billing) -> InvoiceStatus:
    """Bakong's answer for a claimed invoice: paid → the payment recorded once (its hash is unique), the
    listing published, a receipt; not paid → looked at again later, or expired once its time is up."""
    async with uow:
        invoice = await uow.session.get(Invoice, invoice_id, with_for_update=True)
        if invoice is None:
            raise NotFound("invoice", invoice_id)
        now = uow.now()
        if seen is not None:
            await _record_payment(uow, invoice, seen)
        elif invoice.status is InvoiceStatus.OPEN:
            if now >= invoice.expires_at:
                invoice.move_to(InvoiceStatus.EXPIRED, now)
                invoice.next_check_at = now + LATE_CHECK_EVERY
                uow.audit("system", "invoice.expired", "invoice", invoice.id)
                uow.emit("invoice.expired", invoice_id=invoice.id, job_id=invoice.job_id)
            else:
                invoice.next_check_at = now + billing.check_every
                if invoice.check_asked:
                    uow.emit("invoice.unpaid", invoice_id=invoice.id)
            invoice.check_asked = False
        elif invoice.status is InvoiceStatus.EXPIRED:
            invoice.next_check_at = now + LATE_CHECK_EVERY
        await uow.commit()
        return invoice.status


async def _record_payment(uow: UnitOfWork, invoice: Invoice, seen: SeenPayment) -> None:
    now = uow.now()
    inserted = await uow.session.scalar(
        insert(Payment)
        .values(
            invoice_id=invoice.id,
            external_ref=seen.external_ref,
            currency=seen.currency,
            amount_minor=seen.amount_minor,
            from_account=seen.from_account,
            paid_at=seen.paid_at,
            recorded_at=now,
        )
        .on_conflict_do_nothing(index_elements=[Payment.external_ref])
        .returning(Payment.id)
    )
    if inserted is None:
        return  # reported before: recorded once, settled then
    uow.audit("bakong", "payment.recorded", "invoice", invoice.id, payment_id=inserted, hash=seen.external_ref)
    invoice.check_asked = False
    if invoice.status in (InvoiceStatus.OPEN, InvoiceStatus.EXPIRED):
        # Paid in time, or just after the invoice's time ran out: either way the listing goes out.
        invoice.move_to(InvoiceStatus.PAID, now)
        uow.audit("bakong", "invoice.paid", "invoice", invoice.id, amount=seen.amount_minor)
        uow.emit("invoice.paid", invoice_id=invoice.id, job_id=invoice.job_id, employer_id=invoice.employer_id)
        await _publish(uow, invoice, now)
    else:
        # Money for an invoice no longer payable (cancelled, or a second payment): it goes back to the payer.
        uow.audit("bakong", "payment.unexpected", "invoice", invoice.id, status=invoice.status.value)
        uow.emit("invoice.refund_due", invoice_id=invoice.id, reason="payment_after_close")


async def _publish(uow: UnitOfWork, invoice: Invoice, now: datetime) -> None:
    from jobs_core.services.jobs import DEFAULT_LIFETIME  # jobs imports this module for moderation

    if invoice.job_id is None:
        return  # a bundle: its listings are used as they are approved
    if invoice.product is Product.FEATURED_WEEK:
        await _feature(uow, invoice, now)
        return
    job = await uow.session.get(Job, invoice.job_id, with_for_update=True)
    if job is None or job.status is not JobStatus.AWAITING_PAYMENT:
        if job is not None:  # closed meanwhile: the money goes back
            invoice.move_to(InvoiceStatus.REFUND_DUE, now)
            invoice.refund_reason = f"listing {job.status.value} before payment arrived"
            uow.audit("system", "invoice.refund_due", "invoice", invoice.id, reason=invoice.refund_reason)
            uow.emit("invoice.refund_due", invoice_id=invoice.id, reason="listing_closed")
        return
    job.move_to(JobStatus.PUBLISHED, now)
    job.expires_at = now + DEFAULT_LIFETIME
    # Paid with an expired code after a renewal: the renewal is not wanted any more.
    for other in (
        await uow.session.scalars(
            select(Invoice)
            .where(Invoice.job_id == job.id, Invoice.id != invoice.id, Invoice.status == InvoiceStatus.OPEN)
            .with_for_update()
        )
    ).all():
        other.move_to(InvoiceStatus.CANCELLED, now)
        uow.audit("system", "invoice.cancelled", "invoice", other.id, reason=f"paid by invoice {invoice.reference}")
    uow.audit("system", "job.published", "job", job.id, invoice_id=invoice.id)
    uow.emit("job.published", job_id=job.id, employer_id=job.employer_id, reason=None)


async def _feature(uow: UnitOfWork, invoice: Invoice, now: datetime) -> None:
    """Paid featured weeks: the listing comes first from now (or from the end of weeks already paid for)."""
    job = await uow.session.get(Job, invoice.job_id, with_for_update=True)
    if job is None or not job.is_live(now):
        if job is not None:  # closed meanwhile: the money goes back
            invoice.move_to(InvoiceStatus.REFUND_DUE, now)
            invoice.refund_reason = f"listing {job.status.value} before payment arrived"
            uow.audit("system", "invoice.refund_due", "invoice", invoice.id, reason=invoice.refund_reason)
            uow.emit("invoice.refund_due", invoice_id=invoice.id, reason="listing_closed")
        return
    renewal_paid = await uow.session.scalar(
        select(Invoice.id).where(Invoice.renewal_of == invoice.id, Invoice.status == InvoiceStatus.PAID).limit(1)
    )
    if renewal_paid is not None:  # the expired code paid after its renewal was: the second payment goes back
        invoice.move_to(InvoiceStatus.REFUND_DUE, now)
        invoice.refund_reason = "featured weeks paid twice (an expired code and its renewal)"
        uow.audit("system", "invoice.refund_due", "invoice", invoice.id, reason=invoice.refund_reason)
        uow.emit("invoice.refund_due", invoice_id=invoice.id, reason="paid_twice")
        return
    start = job.featured_until if job.featured_until is not None and job.featured_until > now else now
    job.featured_until = start + FEATURED_WEEK * (invoice.weeks or 1)
    # Paid with an expired code after a renewal: the renewal is not wanted any more.
    for other in (
        await uow.session.scalars(
            select(Invoice)
            .where(
                Invoice.renewal_of == invoice.id,
                Invoice.status == InvoiceStatus.OPEN,
            )
            .with_for_update()
        )
    ).all():
        other.move_to(InvoiceStatus.CANCELLED, now)
        uow.audit("system", "invoice.cancelled", "invoice", other.id, reason=f"paid by invoice {invoice.reference}")
    uow.audit("system", "job.featured", "job", job.id, invoice_id=invoice.id, until=job.featured_until.isoformat())


async def end_featured(uow: UnitOfWork) -> int:
    """Listings whose featured weeks are over lose their place (audited ``job.featured_ended``); how many.
    Inside the caller's transaction (the listings' expiry sweep); browsing already orders by the date."""
    now = uow.now()
    ended = (
        await uow.session.scalars(
            update(Job).where(Job.featured_until <= now).values(featured_until=None).returning(Job.id)
        )
    ).all()
    for job_id in ended:
        uow.audit("system", "job.featured_ended", "job", job_id)
    return len(ended)


async def close_invoices_of(uow: UnitOfWork, job: Job, actor: str, reason: str) -> None:
    """A listing comes down: an open invoice is cancelled; money already paid is marked for refund and the
    operator is told (event ``invoice.refund_due``, to the moderators' chat). Inside the caller's transaction."""
    now = uow.now()
    invoices = (await uow.session.scalars(select(Invoice).where(Invoice.job_id == job.id).with_for_update())).all()
    for invoice in invoices:
        if invoice.status is InvoiceStatus.OPEN:
            invoice.move_to(InvoiceStatus.CANCELLED, now)
            uow.audit(actor, "invoice.cancelled", "invoice", invoice.id, reason=reason)
        elif invoice.status is InvoiceStatus.PAID:
            invoice.move_to(InvoiceStatus.REFUND_DUE, now)
            invoice.refund_reason = reason
            uow.audit(actor, "invoice.refund_due", "invoice", invoice.id, reason=reason)
            uow.emit("invoice.refund_due", invoice_id=invoice.id, reason=reason)


async def mark_refund_due(uow: UnitOfWork, invoice_id: int, actor: str, reason: str) -> Invoice:
    """The operator decides money already paid goes back (a bundle withdrawn with listings unused, featured
    weeks that could not be given): the invoice is marked refund due, with the reason, and the moderators'
    chat gets the refund card. A bundle marked so covers no more listings; those it covered stay published."""
    reason = reason.strip()
    if not reason:
        raise NotAllowed("a refund needs a reason")
    async with uow:
        invoice = await uow.session.get(Invoice, invoice_id, with_for_update=True)
        if invoice is None:
            raise NotFound("invoice", invoice_id)
        if invoice.status is not InvoiceStatus.PAID:
            raise NotAllowed(f"a {invoice.status.value} invoice cannot be marked for refund")
        if invoice.product is Product.BUNDLE:
            used = int(
                await uow.session.scalar(
                    select(func.count()).select_from(PrepaidUse).where(PrepaidUse.invoice_id == invoice.id)
                )
                or 0
            )
            reason = f"{reason} ({used} of {invoice.listings or 0} prepaid listings used)"
        invoice.move_to(InvoiceStatus.REFUND_DUE, uow.now())
        invoice.refund_reason = reason[:500]
        uow.audit(actor, "invoice.refund_due", "invoice", invoice.id, reason=invoice.refund_reason)
        uow.emit("invoice.refund_due", invoice_id=invoice.id, reason=invoice.refund_reason)
        await uow.commit()
        return invoice


async def mark_refunded(uow: UnitOfWork, invoice_id: int, actor: str) -> Invoice:
    """The operator paid the money back (through the bank): the invoice says so."""
    async with uow:
        invoice = await uow.session.get(Invoice, invoice_id, with_for_update=True)
        if invoice is None:
            raise NotFound("invoice", invoice_id)
        if invoice.status is not InvoiceStatus.REFUNDED:
            invoice.move_to(InvoiceStatus.REFUNDED, uow.now())
            uow.audit(actor, "invoice.refunded", "invoice", invoice.id)
            uow.emit("invoice.refunded", invoice_id=invoice.id, employer_id=invoice.employer_id)
            await uow.commit()
        return invoice


@dataclass(frozen=True)
class Revenue:
    month: date
    product: str
    currency: str
    paid_minor: int  # money received in the month (refunds included until paid back)
    refunded_minor: int  # of that, paid back


async def revenue_by_month(uow: UnitOfWork) -> list[Revenue]:
    """Money received per Phnom Penh month, by product and currency (the month of payment)."""
    async with uow:
        return await revenue_rows(uow.session)


async def revenue_rows(session: AsyncSession) -> list[Revenue]:
    """:func:`revenue_by_month` on an open session (the dashboard's and ``bongpheak stats``' reads)."""
    month = func.date_trunc("month", func.timezone(str(PHNOM_PENH), Invoice.paid_at), type_=DateTime)
    query = (
        select(month, Invoice.product, Invoice.currency, Invoice.status, func.sum(Invoice.amount_minor))
        .where(Invoice.paid_at.is_not(None))
        .group_by(month, Invoice.product, Invoice.currency, Invoice.status)
    )
    totals: dict[tuple[date, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for at, product, currency, status, amount in await session.execute(query):
        key = (at.date(), product.value, currency.value)
        totals[key][0] += int(amount)
        if status is InvoiceStatus.REFUNDED:
            totals[key][1] += int(amount)
    return [Revenue(m, p, c, paid, refunded) for (m, p, c), (paid, refunded) in sorted(totals.items())]
