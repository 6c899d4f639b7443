"""Dialer claims: a call being checked with the provider carries a lease (``calls.checking_until``).

The recovery sweeps claim orphans and calls whose final callback was lost in a short transaction, ask the
provider with no transaction open, and settle each call in a transaction of its own.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("calls", sa.Column("checking_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("calls", "checking_until")
