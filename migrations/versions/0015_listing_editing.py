"""Editing a published listing: the edit waits for review as a revision row (jobs.revision_of).

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("revision_of", sa.Integer(), nullable=True))
    op.create_foreign_key("fk_jobs_revision_of_jobs", "jobs", "jobs", ["revision_of"], ["id"])
    op.create_index("ix_jobs_revision_of", "jobs", ["revision_of"])


def downgrade() -> None:
    op.drop_index("ix_jobs_revision_of", table_name="jobs")
    op.drop_constraint("fk_jobs_revision_of_jobs", "jobs", type_="foreignkey")
    op.drop_column("jobs", "revision_of")
