"""Messenger: events received, reusable audio attachments, each person's messaging window and opt-in; linked
chat accounts and their one-time codes.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "messenger_events",
        sa.Column("event_key", sa.String(length=160), nullable=False),
        sa.Column("psid", sa.String(length=64), nullable=False),
        sa.Column("sent_at", sa.BigInteger(), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("event_key", name=op.f("pk_messenger_events")),
    )
    op.create_index(
        "ix_messenger_events_pending",
        "messenger_events",
        ["psid", "sent_at"],
        postgresql_where="handled_at IS NULL",
    )
    op.create_table(
        "messenger_attachments",
        sa.Column("audio_id", sa.String(length=128), nullable=False),
        sa.Column("attachment_id", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("audio_id", name=op.f("pk_messenger_attachments")),
    )
    op.create_table(
        "messenger_people",
        sa.Column("psid", sa.String(length=64), nullable=False),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notification_token", sa.String(length=255), nullable=True),
        sa.Column("notification_frequency", sa.String(length=16), nullable=True),
        sa.Column("token_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("psid", name=op.f("pk_messenger_people")),
    )
    op.create_table(
        "linked_accounts",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("relative_id", sa.Integer(), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["relative_id"],
            ["relatives.id"],
            name=op.f("fk_linked_accounts_relative_id_relatives"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("channel", "external_id", name=op.f("pk_linked_accounts")),
    )
    op.create_index(op.f("ix_linked_accounts_relative_id"), "linked_accounts", ["relative_id"], unique=False)
    op.create_table(
        "link_codes",
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("relative_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["relative_id"], ["relatives.id"], name=op.f("fk_link_codes_relative_id_relatives"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_link_codes")),
    )


def downgrade() -> None:
    op.drop_table("link_codes")
    op.drop_index(op.f("ix_linked_accounts_relative_id"), table_name="linked_accounts")
    op.drop_table("linked_accounts")
    op.drop_table("messenger_people")
    op.drop_table("messenger_attachments")
    op.drop_index("ix_messenger_events_pending", table_name="messenger_events", postgresql_where="handled_at IS NULL")
    op.drop_table("messenger_events")
