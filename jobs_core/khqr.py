"""KHQR, Cambodia's national payment QR (the Bakong standard every bank app scans): the EMV payload for an
invoice, its MD5 (how Bakong is asked whether it was paid) and the QR code drawn as a PNG.

The payload and its CRC come from the ``bakong-khqr`` library, used offline only: its own Bakong calls use a
hard-coded address and block the event loop, so payments are checked by our own client (bongpheak.bakong).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta

import segno
from bakong_khqr import KHQR

from jobs_core.pricing import Money

# How long a bank app accepts the code: the payload's expiry timestamp, a whole number of days in the library.
KHQR_VALIDITY = timedelta(days=1)


@dataclass(frozen=True)
class Merchant:
    account: str  # the Bakong account id money goes to, e.g. bongpheak@aclb
    name: str
    city: str


@dataclass(frozen=True)
class Khqr:
    payload: str
    md5: str


def khqr_for(merchant: Merchant, money: Money, bill_number: str) -> Khqr:
    """A dynamic KHQR asking for exactly ``money``, carrying the invoice reference as its bill number."""
    made = KHQR().create_qr(
        amount=float(money.major()),
        account_id=merchant.account,
        merchant_name=merchant.name,
        merchant_city=merchant.city,
        currency=money.currency.value,
        bill_number=bill_number,
        expiration=KHQR_VALIDITY.days,
    )
    payload = str(made)
    return Khqr(payload, KHQR().generate_md5(payload))


def qr_png(payload: str, scale: int = 8) -> bytes:
    """The QR code as a PNG a phone camera reads off a screen (error correction M, a quiet zone of 4)."""
    out = io.BytesIO()
    segno.make_qr(payload, error="m").save(out, kind="png", scale=scale, border=4)
    return out.getvalue()
