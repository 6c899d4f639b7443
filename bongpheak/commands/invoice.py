"""`bongpheak invoice refund-due REFERENCE --reason TEXT`: the operator marks money already paid for refund
(a bundle withdrawn with listings unused, featured weeks that could not be given). The moderators' chat gets the
refund card with its "Refunded" button, as for a listing taken down for safety (docs/payments.md)."""

from __future__ import annotations

import argparse
import asyncio

from sqlalchemy import select

from bongpheak.bootstrap import connect, running_database
from bongpheak.commands import CommandError
from bongpheak.settings import Settings
from jobs_core.errors import NotAllowed
from jobs_core.model import Invoice
from jobs_core.services.billing import mark_refund_due
from jobs_core.uow import UnitOfWork


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("invoice", help="paid listings: mark a paid invoice for refund")
    actions = parser.add_subparsers(dest="invoice_command", required=True, metavar="ACTION")
    due = actions.add_parser("refund-due", help="mark a paid invoice (a bundle, featured weeks, a listing) for refund")
    due.add_argument("reference", help="the invoice's reference, e.g. BP-1A2B3C4D")
    due.add_argument("--reason", required=True, help="why the money goes back (shown to the moderators)")
    due.set_defaults(handler=_refund_due)


def _refund_due(args: argparse.Namespace) -> int:
    with running_database(Settings()) as url:
        print(asyncio.run(refund_due(url, args.reference, args.reason)))
    return 0


async def refund_due(url: str, reference: str, reason: str) -> str:
    async with connect(url, pool_size=1) as db:
        async with db.sessions() as session:
            invoice_id = await session.scalar(select(Invoice.id).where(Invoice.reference == reference.strip().upper()))
        if invoice_id is None:
            raise CommandError(f"no invoice {reference}; nothing was changed")
        try:
            invoice = await mark_refund_due(UnitOfWork(db.sessions), invoice_id, "operator", reason)
        except NotAllowed as error:
            raise CommandError(f"{error.reason}; nothing was changed") from None
    return f"{invoice.reference}: refund due ({invoice.refund_reason}); the moderators' chat is told"
