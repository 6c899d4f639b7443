"""Moderators' group: decided cards, suspended listings while a report is open.

A listing reported for fees, kept documents or abuse is ``suspended`` until a moderator decides; the job
status is a VARCHAR with a CHECK constraint, so the constraint learns the new value.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = (
    "draft",
    "pending_review",
    "published",
    "filled",
    "expired",
    "withdrawn",
    "rejected",
    "changes_requested",
)


def _status_check(statuses: Sequence[str]) -> None:
    op.drop_constraint(op.f("ck_jobs_jobstatus"), "jobs", type_="check")
    values = ", ".join(f"'{status}'" for status in statuses)
    op.create_check_constraint(op.f("ck_jobs_jobstatus"), "jobs", f"status IN ({values})")


def upgrade() -> None:
    _status_check((*STATUSES, "suspended"))


def downgrade() -> None:
    # A suspended listing goes back to published: the older code has no state to keep it off browsing.
    op.execute("UPDATE jobs SET status = 'published' WHERE status = 'suspended'")
    _status_check(STATUSES)
