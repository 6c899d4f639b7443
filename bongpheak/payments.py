"""Paid listings at run time: the Bakong poller ``serve`` runs, and the "check payment now" the website uses.

Each look at Bakong is claim → commit → call → settle: no transaction is open while Bakong is asked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from bongpheak.bakong import BakongClient, BakongError
from bongpheak.commands import CommandError
from bongpheak.settings import Settings
from jobs_core.backoff import Backoff
from jobs_core.khqr import Merchant
from jobs_core.model import InvoiceStatus
from jobs_core.pricing import PricesError, load_prices
from jobs_core.services.billing import Billing, claim_due, claim_one, settle
from jobs_core.uow import UnitOfWork

log = logging.getLogger(__name__)
POLL_SECONDS = 5.0


def billing_from(settings: Settings) -> Billing | None:
    """Payments on (PAYMENTS=true): the prices file read and checked; off: None, and nothing is charged."""
    if not settings.payments:
        return None
    settings.check_payments()
    assert settings.prices_file is not None
    try:
        prices = load_prices(settings.prices_file)
    except PricesError as error:
        raise CommandError(f"PRICES_FILE {settings.prices_file}: {error}") from None
    merchant = Merchant(
        settings.khqr_merchant_account or "", settings.khqr_merchant_name or "", settings.khqr_merchant_city or ""
    )
    return Billing(prices, merchant, lifetime=timedelta(minutes=settings.invoice_minutes))


@dataclass
class Payments:
    uow: Callable[[], UnitOfWork]
    billing: Billing
    bakong: BakongClient

    async def check_once(self, batch: int = 50) -> int:
        """Look at every invoice due a look; returns how many were claimed. BakongError: Bakong is down (the
        claims lapse and are taken again after the lease)."""
        claimed = await claim_due(self.uow(), batch)
        for invoice_id, md5 in claimed:
            seen = await self.bakong.check(md5)
            await settle(self.uow(), invoice_id, seen, self.billing)
        return len(claimed)

    async def check_now(self, invoice_id: int, employer_id: int) -> InvoiceStatus | None:
        """The employer asked on the website: one look right away, the invoice's status after it; None when
        Bakong could not answer. NotFound when the invoice is not this employer's."""
        md5, status = await claim_one(self.uow(), invoice_id, employer_id)
        if md5 is None:
            return status
        try:
            seen = await self.bakong.check(md5)
        except BakongError as error:
            log.warning("payment check for invoice %d: %s", invoice_id, error)
            return None
        return await settle(self.uow(), invoice_id, seen, self.billing)

    async def run(self, stop: asyncio.Event, backoff: Backoff, interval: float = POLL_SECONDS) -> None:
        """Until ``stop``: open invoices are looked at until paid or expired."""
        while not stop.is_set():
            try:
                claimed = await self.check_once()
            except Exception as error:
                await backoff.pause(error, stop)
                continue
            backoff.succeeded()
            if not claimed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), interval)
        await self.bakong.close()
