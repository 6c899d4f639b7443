"""The database remembers that it holds demo data.

A database seeded before this table existed is recognised by the seed's own actors in the audit log
(``employer:demo``, ``moderator:demo``, ``ivr:demo``: no person or adapter acts under those names) and marked
too, so upgrading an old demo database does not leave it free to reach real people.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "demo_data",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seeded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_demo_data")),
    )
    op.execute(
        "INSERT INTO demo_data (id, seeded_at) "
        "SELECT 1, min(at) FROM audit_log WHERE actor IN ('employer:demo', 'moderator:demo', 'ivr:demo') "
        "HAVING count(*) > 0"
    )


def downgrade() -> None:
    op.drop_table("demo_data")
