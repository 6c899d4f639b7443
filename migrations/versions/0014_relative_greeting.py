"""The relative's greeting (a recording per nomination, played after the recommender clip); signed-off sector names.

Databases created before carry the first Khmer names of two sectors; a name an operator changed is left alone.

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


# code, the Khmer name before, the name a Khmer editor signed off (jobs_core.model.job.DEFAULT_SECTORS)
RENAMED_SECTORS = (
    ("manufacturing", "រោងចក្រ កាត់ដេរ", "រោងចក្រ ឬកាត់ដេរ"),
    ("domestic", "ការងារផ្ទះ", "ការងារបម្រើតាមផ្ទះ"),  # ការងារផ្ទះ reads as household chores
)


def _rename(before: int, after: int) -> None:
    for row in RENAMED_SECTORS:
        op.execute(
            sa.text("UPDATE sectors SET name_km = :new WHERE code = :code AND name_km = :old").bindparams(
                code=row[0], old=row[before], new=row[after]
            )
        )


def upgrade() -> None:
    op.add_column("nominations", sa.Column("greeting_clip", sa.String(length=500), nullable=True))
    _rename(1, 2)


def downgrade() -> None:
    _rename(2, 1)
    op.drop_column("nominations", "greeting_clip")
