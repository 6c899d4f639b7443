"""Dialer bookkeeping: event cursor, handled events, shared pacer, call attempts.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dialer_event_cursor",
        sa.Column("consumer", sa.String(length=40), nullable=False),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("consumer", name=op.f("pk_dialer_event_cursor")),
    )
    op.create_table(
        "dialer_handled_events",
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_dialer_handled_events")),
    )
    op.create_table(
        "dialer_pacer",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("next_slot_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_dialer_pacer")),
    )
    op.create_table(
        "call_attempts",
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("provider_sid", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=24), nullable=True),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_call_attempts_call_id_calls"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"], ["workers.id"], name=op.f("fk_call_attempts_worker_id_workers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("call_id", "attempt", name=op.f("pk_call_attempts")),
    )
    op.create_index("ix_call_attempts_worker_placed", "call_attempts", ["worker_id", "placed_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_call_attempts_worker_placed", table_name="call_attempts")
    op.drop_table("call_attempts")
    op.drop_table("dialer_pacer")
    op.drop_table("dialer_handled_events")
    op.drop_table("dialer_event_cursor")
