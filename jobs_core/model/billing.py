"""Invoices for paid listings and the payments that settle them; amounts in integer minor units.

An invoice is addressed to an employer and nobody else: the table has no column that could name a relative
or a worker (workers never pay, the anti-trafficking rule this service exists for).

    open ──> paid ──> refund_due ──> refunded
      ├────> expired     (not paid in time; the employer may renew: a new invoice, a new QR code; paid
      │                   after all, it is paid)
      └────> cancelled   (the listing was closed before it was paid for)
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jobs_core.model.base import Base, check_transition, enum_type, utcnow
from jobs_core.model.employer import Employer
from jobs_core.model.job import Currency


class Product(enum.StrEnum):
    LISTING = "listing"
    FEATURED_WEEK = "featured_week"
    BUNDLE = "bundle"


class InvoiceStatus(enum.StrEnum):
    OPEN = "open"
    PAID = "paid"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    # A paid listing taken down for safety: the employer's money goes back, by hand, through the bank.
    REFUND_DUE = "refund_due"
    REFUNDED = "refunded"


INVOICE_STEPS = {
    InvoiceStatus.OPEN: frozenset({InvoiceStatus.PAID, InvoiceStatus.EXPIRED, InvoiceStatus.CANCELLED}),
    # Paid just after our time ran out (the bank app still took the code): the employer paid all the same.
    InvoiceStatus.EXPIRED: frozenset({InvoiceStatus.PAID}),
    InvoiceStatus.PAID: frozenset({InvoiceStatus.REFUND_DUE, InvoiceStatus.REFUNDED}),
    InvoiceStatus.REFUND_DUE: frozenset({InvoiceStatus.REFUNDED}),
}


class Invoice(Base):
    __tablename__ = "invoices"
    # The poller's claim: open invoices by when they are next due a look at Bakong.
    __table_args__ = (Index("ix_invoices_due", "next_check_at", postgresql_where="status = 'open'"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Shown to the employer and carried in the KHQR's bill number: BP-<id>-<n>.
    reference: Mapped[str] = mapped_column(String(25), unique=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id"), index=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"), index=True)
    product: Mapped[Product] = mapped_column(enum_type(Product))
    currency: Mapped[Currency] = mapped_column(enum_type(Currency))
    amount_minor: Mapped[int] = mapped_column(BigInteger)  # USD cents or KHR riel
    listings: Mapped[int | None]  # a bundle: how many listings it prepays
    weeks: Mapped[int | None]  # featured weeks: how many weeks the listing comes first
    status: Mapped[InvoiceStatus] = mapped_column(enum_type(InvoiceStatus), default=InvoiceStatus.OPEN, index=True)
    # The EMV payload drawn as the QR code, and its MD5: how Bakong is asked whether it was paid.
    khqr: Mapped[str] = mapped_column(Text)
    md5: Mapped[str] = mapped_column(String(32), unique=True)
    renewal_of: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    # Polling: when the next look is due; a claim pushes it forward so two pollers never ask at once.
    next_check_at: Mapped[datetime]
    # The employer pressed "check payment": the next look answers them even when nothing was paid yet.
    check_asked: Mapped[bool] = mapped_column(default=False)
    paid_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    refund_reason: Mapped[str | None] = mapped_column(String(500))

    employer: Mapped[Employer] = relationship(lazy="selectin")

    def move_to(self, target: InvoiceStatus, at: datetime) -> None:
        check_transition("invoice", INVOICE_STEPS, self.status, target)
        self.status = target
        if target is InvoiceStatus.PAID:
            self.paid_at = at
        else:
            self.closed_at = at


class Payment(Base):
    """Money Bakong says arrived for an invoice; its transaction hash is unique, so a payment reported twice
    is recorded once."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    external_ref: Mapped[str] = mapped_column(String(100), unique=True)  # Bakong's transaction hash
    currency: Mapped[Currency] = mapped_column(enum_type(Currency))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    from_account: Mapped[str | None] = mapped_column(String(100))
    paid_at: Mapped[datetime]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class PrepaidUse(Base):
    """One listing published on a paid bundle instead of an invoice of its own."""

    __tablename__ = "prepaid_uses"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)  # the bundle's invoice
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), unique=True)
    used_at: Mapped[datetime] = mapped_column(default=utcnow)
