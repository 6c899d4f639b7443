"""Paying for a listing on the website: the employer's page for a listing waiting for payment shows the KHQR
code (an inline PNG: no script, no second request), the amount, the reference and when it runs out, with a
"check payment" button (a plain form) and, once it ran out, "new QR code".

The check asks Bakong right away through the composition root's ``check_payment`` (claim → commit → call →
settle: no transaction is open meanwhile). Only the signed-in employer of the listing sees its invoice.
"""

from __future__ import annotations

import base64
from typing import Any

from aiohttp import web

from bots.web.employers import signed_in_form, signed_in_or_sign_in
from bots.web.i18n import web_gettext
from bots.web.pages import DEPS, language_of, prefix, render
from conversations.errors import error_message
from conversations.invoices import amount_words, what_for
from jobs_core.clock import local
from jobs_core.errors import DomainError, NotFound
from jobs_core.khqr import qr_png
from jobs_core.model import Invoice, InvoiceStatus, Job
from jobs_core.numbers import parse_int
from jobs_core.pricing import Money
from jobs_core.services import billing
from jobs_core.uow import UnitOfWork


def setup(app: web.Application) -> None:
    for lang_prefix in ("", "/en"):
        app.router.add_get(f"{lang_prefix}/employers/jobs/{{job_id:[0-9]{{1,9}}}}/pay", pay_page)
        app.router.add_post(f"{lang_prefix}/employers/jobs/{{job_id:[0-9]{{1,9}}}}/pay", pay_action)
        app.router.add_get(f"{lang_prefix}/employers/invoices/{{invoice_id:[0-9]{{1,9}}}}", invoice_page)
        app.router.add_post(f"{lang_prefix}/employers/invoices/{{invoice_id:[0-9]{{1,9}}}}", invoice_action)
        app.router.add_get(f"{lang_prefix}/employers/jobs/{{job_id:[0-9]{{1,9}}}}/feature", feature_page)
        app.router.add_post(f"{lang_prefix}/employers/jobs/{{job_id:[0-9]{{1,9}}}}/feature", buy_feature)
        app.router.add_get(f"{lang_prefix}/employers/bundles", bundles_page)
        app.router.add_post(f"{lang_prefix}/employers/bundles", buy_bundle)


def _uow(request: web.Request) -> UnitOfWork:
    dialog = request.app[DEPS].dialog
    return UnitOfWork(dialog.session_factory, now=dialog.clock())


async def _own(request: web.Request, employer_id: int) -> tuple[Job, Invoice]:
    """The listing and its newest invoice, if both are this employer's; else 404 (the same as no such page)."""
    job_id = int(request.match_info["job_id"])
    async with request.app[DEPS].dialog.session_factory() as session:
        job = await session.get(Job, job_id)
    invoice = await billing.latest_invoice(_uow(request), job_id) if job is not None else None
    if job is None or invoice is None or job.employer_id != employer_id or invoice.employer_id != employer_id:
        raise web.HTTPNotFound()
    return job, invoice


async def _page(
    request: web.Request, token: str, job: Job | None, invoice: Invoice, said: str = "", action: str = ""
) -> web.Response:
    language = language_of(request)
    context: dict[str, Any] = {
        "what": what_for(invoice, job, web_gettext(language)),
        "job": job,
        "invoice": invoice,
        "said": said,
        "amount": amount_words(invoice),
        "until": local(invoice.expires_at).strftime("%Y-%m-%d %H:%M"),
        "paid_at": local(invoice.paid_at).strftime("%Y-%m-%d %H:%M") if invoice.paid_at else "",
        "qr": base64.b64encode(qr_png(invoice.khqr, scale=6)).decode() if invoice.status is InvoiceStatus.OPEN else "",
        "action": action or f"{prefix(language)}/employers/jobs/{invoice.job_id}/pay",
    }
    return await render(request, "employer_pay.html", context, session=token)


async def pay_page(request: web.Request) -> web.Response:
    who = await signed_in_or_sign_in(request)
    job, invoice = await _own(request, who[0])
    return await _page(request, who[1], job, invoice)


async def pay_action(request: web.Request) -> web.Response:
    """check: ask Bakong now; renew: a new QR code for an expired invoice."""
    employer_id, token, form = await signed_in_form(request)
    job, invoice = await _own(request, employer_id)
    said, _renewed = await _check_or_renew(request, form.get("do", ""), invoice, employer_id)
    job, invoice = await _own(request, employer_id)
    return await _page(request, token, job, invoice, said)


async def _check_or_renew(
    request: web.Request, do: str, invoice: Invoice, employer_id: int
) -> tuple[str, Invoice | None]:
    """``check``: ask Bakong now; ``renew``: a new QR code for an expired invoice. What to say on the page, and
    the renewed invoice if one was made."""
    deps = request.app[DEPS]
    _ = web_gettext(language_of(request))
    try:
        if do == "renew" and deps.dialog.billing is not None:
            actor = f"web:employer:{employer_id}"
            renewed = await billing.renew_invoice(_uow(request), invoice.id, employer_id, deps.dialog.billing, actor)
            return "", renewed
        if do == "check" and deps.check_payment is not None:
            status = await deps.check_payment(invoice.id, employer_id)
            if status is None:
                return _("Bakong could not be reached just now. Please try again in a minute."), None
            if status is InvoiceStatus.OPEN:
                return _("No payment has arrived yet. Scan the QR code with your bank app, then check again."), None
    except NotFound:
        raise web.HTTPNotFound() from None
    except DomainError as error:
        return error_message(error, _), None
    return "", None


# ------------------------------------------------------------------- any invoice: featured weeks, bundles


async def _own_invoice(request: web.Request, employer_id: int) -> tuple[Job | None, Invoice]:
    """The employer's invoice named in the address (a renewal's newest one), and its listing; else 404."""
    invoice_id = int(request.match_info["invoice_id"])
    uow = _uow(request)
    try:
        async with uow:
            invoice = await billing.employer_invoice(uow, invoice_id, employer_id)
            job = await uow.session.get(Job, invoice.job_id) if invoice.job_id else None
    except NotFound:
        raise web.HTTPNotFound() from None
    return job, invoice


def _invoice_address(request: web.Request, invoice: Invoice) -> str:
    return f"{prefix(language_of(request))}/employers/invoices/{invoice.id}"


async def invoice_page(request: web.Request) -> web.Response:
    who = await signed_in_or_sign_in(request)
    job, invoice = await _own_invoice(request, who[0])
    return await _page(request, who[1], job, invoice, action=_invoice_address(request, invoice))


async def invoice_action(request: web.Request) -> web.Response:
    """check: ask Bakong now; renew: a new QR code (a new invoice, shown at its own address)."""
    employer_id, token, form = await signed_in_form(request)
    job, invoice = await _own_invoice(request, employer_id)
    said, renewed = await _check_or_renew(request, form.get("do", ""), invoice, employer_id)
    if renewed is not None:  # a new invoice, shown at its own address
        raise web.HTTPSeeOther(_invoice_address(request, renewed))
    job, invoice = await _own_invoice(request, employer_id)
    return await _page(request, token, job, invoice, said, action=_invoice_address(request, invoice))


async def _own_live_job(request: web.Request, employer_id: int) -> Job:
    job_id = int(request.match_info["job_id"])
    async with request.app[DEPS].dialog.session_factory() as session:
        job = await session.get(Job, job_id)
    if job is None or job.employer_id != employer_id:
        raise web.HTTPNotFound()
    return job


async def _feature_form(request: web.Request, token: str, job: Job, said: str = "", status: int = 200) -> web.Response:
    deps = request.app[DEPS]
    prices = deps.dialog.billing.prices if deps.dialog.billing is not None else None
    if prices is None or not prices.featured_week:
        raise web.HTTPNotFound()
    now = deps.dialog.clock()
    context: dict[str, Any] = {
        "job": job,
        "said": said,
        "live": job.is_live(now),
        "fits": billing.featured_weeks_left(job, now),
        "until": local(job.featured_until).strftime("%Y-%m-%d %H:%M")
        if job.is_featured(now) and job.featured_until
        else "",
        "choices": [
            (weeks, str(billing.featured_price(prices, weeks)))
            for weeks in range(1, billing.featured_weeks_left(job, now) + 1)
        ],
        "action": f"{prefix(language_of(request))}/employers/jobs/{job.id}/feature",
    }
    return await render(request, "employer_feature.html", context, status=status, session=token)


async def feature_page(request: web.Request) -> web.Response:
    """Featured weeks for one of the employer's published listings: how many, and what they cost."""
    who = await signed_in_or_sign_in(request)
    return await _feature_form(request, who[1], await _own_live_job(request, who[0]))


async def buy_feature(request: web.Request) -> web.Response:
    employer_id, token, form = await signed_in_form(request)
    _ = web_gettext(language_of(request))
    job = await _own_live_job(request, employer_id)
    deps = request.app[DEPS]
    if deps.dialog.billing is None:
        raise web.HTTPNotFound()
    try:
        weeks = parse_int("weeks", str(form.get("weeks", "")), minimum=1, maximum=billing.MAX_FEATURED_WEEKS)
        actor = f"web:employer:{employer_id}"
        invoice = await billing.buy_featured(_uow(request), job.id, employer_id, weeks, deps.dialog.billing, actor)
    except NotFound:
        raise web.HTTPNotFound() from None
    except DomainError as error:
        return await _feature_form(request, token, job, error_message(error, _), status=400)
    raise web.HTTPSeeOther(_invoice_address(request, invoice))


async def _bundles_form(request: web.Request, who: tuple[int, str], said: str = "", status: int = 200) -> web.Response:
    deps = request.app[DEPS]
    prices = deps.dialog.billing.prices if deps.dialog.billing is not None else None
    if prices is None or not prices.bundles:
        raise web.HTTPNotFound()
    choices = []
    for number, bundle in enumerate(prices.bundles):
        currency = prices.currency if prices.currency in bundle.prices else next(iter(bundle.prices))
        choices.append((number, bundle.listings, str(Money(currency, bundle.prices[currency]))))
    context: dict[str, Any] = {
        "said": said,
        "left": await billing.prepaid_left(_uow(request), who[0]),
        "choices": choices,
        "action": f"{prefix(language_of(request))}/employers/bundles",
    }
    return await render(request, "employer_bundles.html", context, status=status, session=who[1])


async def bundles_page(request: web.Request) -> web.Response:
    """The operator's bundles of prepaid listings with their prices, and how many the employer has left."""
    who = await signed_in_or_sign_in(request)
    return await _bundles_form(request, who)


async def buy_bundle(request: web.Request) -> web.Response:
    employer_id, token, form = await signed_in_form(request)
    who = (employer_id, token)
    _ = web_gettext(language_of(request))
    deps = request.app[DEPS]
    if deps.dialog.billing is None:
        raise web.HTTPNotFound()
    try:
        number = parse_int("bundle", str(form.get("bundle", "")), minimum=0, maximum=99)
        actor = f"web:employer:{employer_id}"
        invoice = await billing.buy_bundle(_uow(request), employer_id, number, deps.dialog.billing, actor)
    except DomainError as error:
        return await _bundles_form(request, who, error_message(error, _), status=400)
    raise web.HTTPSeeOther(_invoice_address(request, invoice))
