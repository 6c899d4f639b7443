"""Telegram adapter: handled update ids, uploaded voice notes' file_ids

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 21:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "telegram_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_telegram_updates")),
    )
    op.create_table(
        "telegram_files",
        sa.Column("audio_id", sa.String(length=128), nullable=False),
        sa.Column("file_id", sa.String(length=255), nullable=False),
        sa.Column("file_unique_id", sa.String(length=128), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("audio_id", name=op.f("pk_telegram_files")),
    )
    op.create_index(op.f("ix_telegram_files_job_id"), "telegram_files", ["job_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_telegram_files_job_id"), table_name="telegram_files")
    op.drop_table("telegram_files")
    op.drop_table("telegram_updates")
