"""Paying for a listing in chat: the invoice with its KHQR code, "check payment", "renew" once it expired;
and the moderators' "refunded" button. Only an employer acting for the listing's own company sees or presses
any of it; no other flow (relatives, workers) ever meets an invoice.

Bakong is never asked from here (a turn runs inside a transaction): "check payment" asks the poller to look at
once, and its answer comes as a message (a receipt, or "not paid yet").
"""

from __future__ import annotations

from conversations.i18n import Gettext
from conversations.replies import Button, QrCode, Reply, Text
from conversations.state import IDLE
from conversations.turn import BadInput, Turn
from jobs_core.clock import local
from jobs_core.errors import NotAllowed, NotFound
from jobs_core.model import Currency, Invoice, InvoiceStatus, Job, Product
from jobs_core.numbers import parse_int
from jobs_core.pricing import Money
from jobs_core.services import billing


def amount_words(invoice: Invoice) -> str:
    return str(Money(Currency(invoice.currency), invoice.amount_minor))


def what_for(invoice: Invoice, job: Job | None, _: Gettext) -> str:
    if invoice.product is Product.BUNDLE:
        return _("{count} prepaid listings").format(count=invoice.listings or 0)
    if invoice.product is Product.FEATURED_WEEK:
        return _('{count} featured weeks for "{title}"').format(
            count=invoice.weeks or 1, title=job.title if job is not None else ""
        )
    return job.title if job is not None else ""


def invoice_replies(invoice: Invoice, job: Job | None, _: Gettext) -> list[Reply]:
    """The invoice in words, then the KHQR code to scan, with "check payment" under it."""
    until = local(invoice.expires_at).strftime("%H:%M")
    if invoice.product is Product.BUNDLE:
        first = _("💳 {count} prepaid listings: each listing approved after this is published at once. Please pay:")
        first = first.format(count=invoice.listings or 0)
    elif invoice.product is Product.FEATURED_WEEK:
        first = _("⭐ {what}: your job comes first in the job lists while featured. Please pay:").format(
            what=what_for(invoice, job, _)
        )
    else:
        first = _('💳 Your job "{title}" is approved. To publish it, please pay:')
        first = first.format(title=what_for(invoice, job, _))
    text = "\n".join(
        [
            first,
            _("Amount: {amount}").format(amount=amount_words(invoice)),
            _("Reference: {reference}").format(reference=invoice.reference),
            _("Scan the KHQR code below with your bank app (any Cambodian bank) before {time}.").format(time=until),
            _("Workers never pay anything to find a job here."),
        ]
    )
    caption = _("KHQR code · {amount} · {reference}").format(amount=amount_words(invoice), reference=invoice.reference)
    check = ((Button(_("🔄 Check payment"), f"pay:{invoice.id}:c"),),)
    return [Text(text), QrCode(invoice.khqr, caption, check)]


def receipt(invoice: Invoice, job: Job | None, _: Gettext) -> Reply:
    paid = local(invoice.paid_at).strftime("%Y-%m-%d %H:%M") if invoice.paid_at else ""
    return Text(
        "\n".join(
            [
                _("🧾 Receipt"),
                _("Paid: {amount}").format(amount=amount_words(invoice)),
                _("Reference: {reference}").format(reference=invoice.reference),
                _("Date: {date}").format(date=paid),
                _for(invoice, job, _),
                _("Thank you!"),
            ]
        )
    )


def _for(invoice: Invoice, job: Job | None, _: Gettext) -> str:
    if invoice.product is Product.BUNDLE:
        return _("For: {count} prepaid listings").format(count=invoice.listings or 0)
    if invoice.product is Product.FEATURED_WEEK:
        featured = _("For: {what}").format(what=what_for(invoice, job, _))
        if job is not None and job.featured_until is not None:
            until = local(job.featured_until).strftime("%Y-%m-%d %H:%M")
            featured += "\n" + _("Featured until: {date}").format(date=until)
        return featured
    return _('For: publishing the job "{title}"').format(title=job.title if job else "")


def expired_notice(invoice: Invoice, job: Job | None, _: Gettext) -> Reply:
    return Text(
        _('The QR code for "{title}" ({reference}) expired before a payment arrived. Get a new one?').format(
            title=what_for(invoice, job, _), reference=invoice.reference
        ),
        ((Button(_("🔁 New QR code"), f"pay:{invoice.id}:r"),),),
    )


def unpaid_notice(invoice: Invoice, _: Gettext) -> Reply:
    return Text(
        _("No payment for {reference} has arrived yet. Scan the QR code with your bank app; we keep checking.").format(
            reference=invoice.reference
        ),
        ((Button(_("🔄 Check payment"), f"pay:{invoice.id}:c"),),),
    )


async def pay(t: Turn, args: list[str]) -> str:
    """pay:<invoice id>:s|c|r — show the invoice again, check payment now, renew an expired one."""
    _ = t._
    if len(args) != 2 or args[1] not in ("s", "c", "r"):
        raise BadInput(_("This button is no longer valid."))
    invoice_id = parse_int("invoice", args[0], minimum=1, maximum=2**31 - 1)
    employer = await t.employer()
    if employer is None:
        raise NotFound("invoice", invoice_id)
    invoice = await billing.employer_invoice(t.uow, invoice_id, employer.id)
    job = await t.session.get(Job, invoice.job_id) if invoice.job_id else None
    if args[1] == "r":
        if t.deps.billing is None:
            raise NotAllowed("payments are off")
        renewed = await billing.renew_invoice(t.uow, invoice.id, employer.id, t.deps.billing, t.actor)
        for reply in invoice_replies(renewed, job, _):
            t.add(reply)
        return IDLE
    if invoice.status is InvoiceStatus.PAID:
        t.add(receipt(invoice, job, _))
    elif invoice.status is InvoiceStatus.EXPIRED:
        t.add(expired_notice(invoice, job, _))
    elif invoice.status is not InvoiceStatus.OPEN:
        t.say(_("This invoice is closed ({reference}).").format(reference=invoice.reference))
    elif args[1] == "s":
        for reply in invoice_replies(invoice, job, _):
            t.add(reply)
    else:
        await billing.ask_check(t.uow, invoice.id, employer.id)
        t.say(_("Checking with Bakong… You will get a receipt here as soon as the payment has arrived."))
    return IDLE


async def bundles(t: Turn, args: list[str]) -> str:
    """bnd[:<number>] — the operator's bundles of prepaid listings; one chosen: its invoice and KHQR code."""
    _ = t._
    employer = await t.employer()
    billing_on = t.deps.billing
    if employer is None or billing_on is None or not billing_on.prices.bundles:
        raise BadInput(_("This button is no longer valid."))
    if not args:
        left = await billing.prepaid_left(t.reads, employer.id)
        prices = billing_on.prices
        rows = []
        for number, bundle in enumerate(prices.bundles):
            currency = prices.currency if prices.currency in bundle.prices else next(iter(bundle.prices))
            price = Money(currency, bundle.prices[currency])
            label = _("{count} listings · {amount}").format(count=bundle.listings, amount=price)
            rows.append((Button(label, f"bnd:{number}"),))
        t.say(
            _("Prepaid listings: pay once, and each listing approved after that is published at once.")
            + "\n"
            + _("Prepaid listings left: {count}").format(count=left),
            tuple(rows),
        )
        return IDLE
    number = parse_int("bundle", args[0], minimum=0, maximum=99)
    invoice = await billing.buy_bundle(t.uow, employer.id, number, billing_on, t.actor)
    for reply in invoice_replies(invoice, None, _):
        t.add(reply)
    return IDLE


async def feature(t: Turn, args: list[str]) -> str:
    """ftr:<job id>[:<weeks>] — featured weeks for the employer's own published listing, then its invoice."""
    _ = t._
    billing_on = t.deps.billing
    if len(args) not in (1, 2) or billing_on is None or not billing_on.prices.featured_week:
        raise BadInput(_("This button is no longer valid."))
    job_id = parse_int("job", args[0], minimum=1, maximum=2**31 - 1)
    employer = await t.employer()
    job = await t.session.get(Job, job_id)
    if employer is None or job is None or job.employer_id != employer.id:
        raise NotFound("job", job_id)
    if not job.is_live(t.uow.now()):
        raise BadInput(_("Only a published job can be featured."))
    if len(args) == 1:
        lines = [
            _('⭐ Feature "{title}": it comes first in the job lists, in its province and sector.').format(
                title=job.title
            )
        ]
        if job.is_featured(t.uow.now()) and job.featured_until is not None:
            until = local(job.featured_until).strftime("%Y-%m-%d %H:%M")
            lines.append(_("Featured until: {date}").format(date=until))
        fits = billing.featured_weeks_left(job, t.uow.now())
        if not fits:
            raise BadInput(_("This job ends before another featured week would."))
        rows = []
        for weeks in [w for w in FEATURED_CHOICES if w <= fits] or [fits]:
            price = billing.featured_price(billing_on.prices, weeks)
            label = _("{count} weeks · {amount}").format(count=weeks, amount=price)
            rows.append((Button(label, f"ftr:{job.id}:{weeks}"),))
        t.say("\n".join(lines), tuple(rows))
        return IDLE
    weeks = parse_int("weeks", args[1], minimum=1, maximum=billing.MAX_FEATURED_WEEKS)
    invoice = await billing.buy_featured(t.uow, job.id, employer.id, weeks, billing_on, t.actor)
    for reply in invoice_replies(invoice, job, _):
        t.add(reply)
    return IDLE


# The weeks offered as buttons (any number up to MAX_FEATURED_WEEKS is accepted).
FEATURED_CHOICES = (1, 2, 4)


async def refunded(t: Turn, args: list[str]) -> str:
    """mpr:<invoice id> — a moderator says the money was paid back."""
    if not t.is_moderator:
        raise NotAllowed("moderators only")
    if len(args) != 1:
        raise BadInput(t._("This button is no longer valid."))
    invoice_id = parse_int("invoice", args[0], minimum=1, maximum=2**31 - 1)
    invoice = await billing.mark_refunded(t.uow, invoice_id, t.actor)
    t.say(t._("Invoice {reference} marked as refunded.").format(reference=invoice.reference))
    return IDLE


def refund_due_card(invoice: Invoice, job: Job | None, reason: str, _: Gettext) -> Reply:
    employer = invoice.employer
    lines = [
        _("💸 Refund due: {amount} to {employer} (company #{id})").format(
            amount=amount_words(invoice), employer=employer.name, id=employer.id
        ),
        _("Invoice {reference}").format(reference=invoice.reference)
        + (" · " + _("Job #{id}: {title}").format(id=job.id, title=job.title) if job else ""),
        _("Why: {reason}").format(reason=reason),
        _("Pay it back through the bank, then press the button."),
    ]
    return Text("\n".join(lines), ((Button(_("✅ Refunded"), f"mpr:{invoice.id}"),),))


ACTIONS = {"pay": pay, "bnd": bundles, "ftr": feature}  # "mpr" is a moderator's action: conversations.flows.moderate
