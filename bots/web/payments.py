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

from bots.web import csrf
from bots.web.employers import signed_in
from bots.web.i18n import web_gettext
from bots.web.pages import DEPS, KEYS, language_of, prefix, render
from conversations.common import error_message
from conversations.invoices import amount_words
from jobs_core.clock import local
from jobs_core.errors import DomainError, NotFound
from jobs_core.khqr import qr_png
from jobs_core.model import Invoice, InvoiceStatus, Job
from jobs_core.services import billing
from jobs_core.uow import UnitOfWork


def setup(app: web.Application) -> None:
    for lang_prefix in ("", "/en"):
        app.router.add_get(f"{lang_prefix}/employers/jobs/{{job_id:[0-9]{{1,9}}}}/pay", pay_page)
        app.router.add_post(f"{lang_prefix}/employers/jobs/{{job_id:[0-9]{{1,9}}}}/pay", pay_action)


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


async def _page(request: web.Request, token: str, job: Job, invoice: Invoice, said: str = "") -> web.Response:
    context: dict[str, Any] = {
        "job": job,
        "invoice": invoice,
        "said": said,
        "amount": amount_words(invoice),
        "until": local(invoice.expires_at).strftime("%Y-%m-%d %H:%M"),
        "paid_at": local(invoice.paid_at).strftime("%Y-%m-%d %H:%M") if invoice.paid_at else "",
        "qr": base64.b64encode(qr_png(invoice.khqr, scale=6)).decode() if invoice.status is InvoiceStatus.OPEN else "",
        "action": f"{prefix(language_of(request))}/employers/jobs/{job.id}/pay",
    }
    return await render(request, "employer_pay.html", context, session=token)


async def pay_page(request: web.Request) -> web.Response:
    who = await signed_in(request)
    if who is None:
        raise web.HTTPSeeOther(f"{prefix(language_of(request))}/employers/")
    job, invoice = await _own(request, who[0])
    return await _page(request, who[1], job, invoice)


async def pay_action(request: web.Request) -> web.Response:
    """check: ask Bakong now; renew: a new QR code for an expired invoice."""
    who = await signed_in(request)
    if who is None:
        raise csrf.Refused()
    employer_id, token = who
    form = await csrf.require(request, await request.app[KEYS].csrf(), session=token)
    _ = web_gettext(language_of(request))
    job, invoice = await _own(request, employer_id)
    deps = request.app[DEPS]
    said = ""
    try:
        if form.get("do") == "renew" and deps.dialog.billing is not None:
            actor = f"web:employer:{employer_id}"
            await billing.renew_invoice(_uow(request), invoice.id, employer_id, deps.dialog.billing, actor)
        elif form.get("do") == "check" and deps.check_payment is not None:
            status = await deps.check_payment(invoice.id, employer_id)
            if status is None:
                said = _("Bakong could not be reached just now. Please try again in a minute.")
            elif status is InvoiceStatus.OPEN:
                said = _("No payment has arrived yet. Scan the QR code with your bank app, then check again.")
    except NotFound:
        raise web.HTTPNotFound() from None
    except DomainError as error:
        said = error_message(error, _)
    job, invoice = await _own(request, employer_id)
    return await _page(request, token, job, invoice, said)
