"""Outcome calls: a call's purpose may be ``outcome`` (a worker told the outcome of their application when the
relative who applied for them could not be reached on Messenger).

The purpose is a VARCHAR with a CHECK constraint, so the constraint learns ``outcome``.

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | Sequence[str] | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PURPOSES = ("consent", "job_pitch", "callback", "checkin")


def _purpose_check(purposes: Sequence[str]) -> None:
    op.drop_constraint(op.f("ck_calls_callpurpose"), "calls", type_="check")
    values = ", ".join(f"'{purpose}'" for purpose in purposes)
    op.create_check_constraint(op.f("ck_calls_callpurpose"), "calls", f"purpose IN ({values})")


def upgrade() -> None:
    _purpose_check((*PURPOSES, "outcome"))


def downgrade() -> None:
    # An outcome call not yet placed has no other purpose to become: it is dropped with its attempts.
    op.execute("DELETE FROM calls WHERE purpose = 'outcome'")
    _purpose_check(PURPOSES)
