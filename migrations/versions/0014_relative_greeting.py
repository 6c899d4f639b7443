"""The relative's greeting: a short recording per nomination, played to the worker after the recommender clip.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("nominations", sa.Column("greeting_clip", sa.String(length=500), nullable=True))


def downgrade() -> None:
    op.drop_column("nominations", "greeting_clip")
