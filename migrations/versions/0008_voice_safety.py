"""Voice webhooks: incoming calls de-duplicated by CallSid; provider account alarms. Telegram: callback queries
answered and handled once by their id.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dialer_account_alarm",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.String(length=240), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("probe_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refusals", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_dialer_account_alarm")),
    )
    op.create_table(
        "dialer_incoming_calls",
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("call_sid", name=op.f("pk_dialer_incoming_calls")),
    )
    op.create_index(
        op.f("ix_dialer_incoming_calls_received_at"), "dialer_incoming_calls", ["received_at"], unique=False
    )
    op.create_table(
        "telegram_callback_queries",
        sa.Column("query_id", sa.String(length=64), nullable=False),
        sa.Column("handled", sa.Boolean(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("query_id", name=op.f("pk_telegram_callback_queries")),
    )


def downgrade() -> None:
    op.drop_table("telegram_callback_queries")
    op.drop_index(op.f("ix_dialer_incoming_calls_received_at"), table_name="dialer_incoming_calls")
    op.drop_table("dialer_incoming_calls")
    op.drop_table("dialer_account_alarm")
