"""Telegram sender: outbox rows claimed before sending (``claimed_at``), the due-rows index without given-up
rows, and ``telegram_chats`` (what the one sender learnt about a chat, kept when leadership moves).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
    op.drop_index("ix_outbox_due", table_name="outbox", postgresql_where="sent_at IS NULL")
    op.create_index(
        "ix_outbox_due",
        "outbox",
        ["channel", "priority", "not_before", "id"],
        unique=False,
        postgresql_where="sent_at IS NULL AND NOT failed",
    )
    op.create_table(
        "telegram_chats",
        sa.Column("chat_id", sa.String(length=64), nullable=False),
        sa.Column("voice_forbidden", sa.Boolean(), nullable=False),
        sa.Column("contact_keyboard_shown", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_telegram_chats")),
    )


def downgrade() -> None:
    op.drop_table("telegram_chats")
    op.drop_index("ix_outbox_due", table_name="outbox", postgresql_where="sent_at IS NULL AND NOT failed")
    op.create_index(
        "ix_outbox_due",
        "outbox",
        ["channel", "priority", "not_before", "id"],
        unique=False,
        postgresql_where="sent_at IS NULL",
    )
    op.drop_column("outbox", "claimed_at")
