"""Paid listings through KHQR: invoices and payments, bundles of prepaid listings, listings waiting for payment.

Amounts are integer minor units (USD cents, KHR riel). A payment's Bakong transaction hash is unique, so a
payment reported twice is recorded once. The job status is a VARCHAR with a CHECK constraint, so the
constraint learns ``awaiting_payment``.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = (
    "draft",
    "pending_review",
    "published",
    "filled",
    "expired",
    "withdrawn",
    "rejected",
    "changes_requested",
    "suspended",
)


def _status_check(statuses: Sequence[str]) -> None:
    op.drop_constraint(op.f("ck_jobs_jobstatus"), "jobs", type_="check")
    values = ", ".join(f"'{status}'" for status in statuses)
    op.create_check_constraint(op.f("ck_jobs_jobstatus"), "jobs", f"status IN ({values})")


def upgrade() -> None:
    _status_check((*STATUSES, "awaiting_payment"))
    op.create_table(
        "invoices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=25), nullable=False),
        sa.Column("employer_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column(
            "product",
            sa.Enum("listing", "featured_week", "bundle", name="product", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("currency", sa.Enum("USD", "KHR", name="currency", native_enum=False, length=24), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("listings", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "paid",
                "expired",
                "cancelled",
                "refund_due",
                "refunded",
                name="invoicestatus",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("khqr", sa.Text(), nullable=False),
        sa.Column("md5", sa.String(length=32), nullable=False),
        sa.Column("renewal_of", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("check_asked", sa.Boolean(), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refund_reason", sa.String(length=500), nullable=True),
        sa.CheckConstraint("product IN ('listing', 'featured_week', 'bundle')", name=op.f("ck_invoices_product")),
        sa.CheckConstraint("currency IN ('USD', 'KHR')", name=op.f("ck_invoices_currency")),
        sa.CheckConstraint(
            "status IN ('open', 'paid', 'expired', 'cancelled', 'refund_due', 'refunded')",
            name=op.f("ck_invoices_invoicestatus"),
        ),
        sa.ForeignKeyConstraint(["employer_id"], ["employers.id"], name=op.f("fk_invoices_employer_id_employers")),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_invoices_job_id_jobs")),
        sa.ForeignKeyConstraint(["renewal_of"], ["invoices.id"], name=op.f("fk_invoices_renewal_of_invoices")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("md5", name=op.f("uq_invoices_md5")),
        sa.UniqueConstraint("reference", name=op.f("uq_invoices_reference")),
    )
    op.create_index(op.f("ix_invoices_employer_id"), "invoices", ["employer_id"])
    op.create_index(op.f("ix_invoices_job_id"), "invoices", ["job_id"])
    op.create_index(op.f("ix_invoices_status"), "invoices", ["status"])
    op.create_index("ix_invoices_due", "invoices", ["next_check_at"], postgresql_where=sa.text("status = 'open'"))
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("external_ref", sa.String(length=100), nullable=False),
        sa.Column("currency", sa.Enum("USD", "KHR", name="currency", native_enum=False, length=24), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("from_account", sa.String(length=100), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("currency IN ('USD', 'KHR')", name=op.f("ck_payments_currency")),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoices.id"], name=op.f("fk_payments_invoice_id_invoices")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("external_ref", name=op.f("uq_payments_external_ref")),
    )
    op.create_index(op.f("ix_payments_invoice_id"), "payments", ["invoice_id"])
    op.create_table(
        "prepaid_uses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoices.id"], name=op.f("fk_prepaid_uses_invoice_id_invoices")),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_prepaid_uses_job_id_jobs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prepaid_uses")),
        sa.UniqueConstraint("job_id", name=op.f("uq_prepaid_uses_job_id")),
    )
    op.create_index(op.f("ix_prepaid_uses_invoice_id"), "prepaid_uses", ["invoice_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_prepaid_uses_invoice_id"), table_name="prepaid_uses")
    op.drop_table("prepaid_uses")
    op.drop_index(op.f("ix_payments_invoice_id"), table_name="payments")
    op.drop_table("payments")
    op.drop_index("ix_invoices_due", table_name="invoices", postgresql_where=sa.text("status = 'open'"))
    op.drop_index(op.f("ix_invoices_status"), table_name="invoices")
    op.drop_index(op.f("ix_invoices_job_id"), table_name="invoices")
    op.drop_index(op.f("ix_invoices_employer_id"), table_name="invoices")
    op.drop_table("invoices")
    op.execute("UPDATE jobs SET status = 'withdrawn' WHERE status = 'awaiting_payment'")
    _status_check(STATUSES)
