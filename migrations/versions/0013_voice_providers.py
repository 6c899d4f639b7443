"""Voice providers: Somleng and Twilio as they behave; numbers the network says do not exist.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dialer_unreachable_numbers",
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("sip_code", sa.Integer(), nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["worker_id"],
            ["workers.id"],
            name=op.f("fk_dialer_unreachable_numbers_worker_id_workers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("worker_id", name=op.f("pk_dialer_unreachable_numbers")),
    )


def downgrade() -> None:
    op.drop_table("dialer_unreachable_numbers")
