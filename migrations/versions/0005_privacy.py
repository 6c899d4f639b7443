"""Privacy by relationship: what each relative entered, applications awaiting the worker.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = ("new", "seen", "contacted", "hired", "not_hired", "withdrawn")
NEW_STATUSES = ("awaiting_worker", *OLD_STATUSES, "expired")


def _status_check(values: Sequence[str]) -> None:
    name = op.f("ck_applications_applicationstatus")
    op.drop_constraint(name, "applications", type_="check")
    listed = ", ".join(f"'{v}'" for v in values)
    op.create_check_constraint(name, "applications", f"status IN ({listed})")


def upgrade() -> None:
    op.add_column("nominations", sa.Column("name", sa.String(length=120), server_default="", nullable=False))
    op.add_column(
        "nominations",
        sa.Column(
            "gender",
            sa.Enum("male", "female", name="gender", native_enum=False, create_constraint=True, length=24),
            nullable=True,
        ),
    )
    op.add_column("nominations", sa.Column("birth_year", sa.Integer(), nullable=True))
    op.add_column("nominations", sa.Column("province_code", sa.String(length=4), nullable=True))
    op.add_column(
        "nominations",
        sa.Column("sectors", postgresql.ARRAY(sa.String(length=24)), server_default="{}", nullable=False),
    )
    # Until now only the worker row held what was entered: it is the best guess of each family's entry.
    op.execute(
        "UPDATE nominations n SET name = w.name, gender = w.gender, birth_year = w.birth_year, "
        "province_code = w.province_code, sectors = w.sectors FROM workers w WHERE w.id = n.worker_id"
    )
    op.add_column("applications", sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
    # Every application so far was sent to the employer when it was made.
    op.execute("UPDATE applications SET confirmed_at = created_at")
    _status_check(NEW_STATUSES)


def downgrade() -> None:
    # Applications the worker never confirmed were never applications: they go, and so does the new status.
    unconfirmed = "SELECT id FROM applications WHERE confirmed_at IS NULL"
    op.execute(f"UPDATE calls SET application_id = NULL WHERE application_id IN ({unconfirmed})")
    op.execute(f"DELETE FROM applications WHERE id IN ({unconfirmed})")
    op.execute("UPDATE applications SET status = 'withdrawn' WHERE status = 'expired'")
    _status_check(OLD_STATUSES)
    op.drop_column("applications", "confirmed_at")
    for column in ("sectors", "province_code", "birth_year", "gender", "name"):
        op.drop_column("nominations", column)
