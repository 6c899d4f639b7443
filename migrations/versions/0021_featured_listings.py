"""Featured listings and more employer kinds: a listing's featured place, an invoice's featured weeks, NGOs and
cooperatives as employer kinds (so the prices file's ``free.kinds`` can name them).

The employer kind is a VARCHAR with a CHECK constraint, so the constraint learns ``ngo`` and ``cooperative``.

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ("employer", "agency")


def _kind_check(kinds: Sequence[str]) -> None:
    op.drop_constraint(op.f("ck_employers_employerkind"), "employers", type_="check")
    values = ", ".join(f"'{kind}'" for kind in kinds)
    op.create_check_constraint(op.f("ck_employers_employerkind"), "employers", f"kind IN ({values})")


def upgrade() -> None:
    _kind_check((*KINDS, "ngo", "cooperative"))
    op.add_column("jobs", sa.Column("featured_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column("invoices", sa.Column("weeks", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("invoices", "weeks")
    op.drop_column("jobs", "featured_until")
    op.execute("UPDATE employers SET kind = 'employer' WHERE kind IN ('ngo', 'cooperative')")
    _kind_check(KINDS)
