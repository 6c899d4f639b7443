"""The public website: counted views and plays per day, distinct visitors as daily-salted hashes, its keys,
employers' one-time sign-in codes and sessions.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# A worker asking on the website to be called about a job is nominated by themselves (relation "self").
RELATIONS = ("parent", "child", "spouse", "sibling", "relative", "friend", "acquaintance")


def _relation_check(values: Sequence[str]) -> None:
    name = op.f("ck_nominations_relationship")
    op.drop_constraint(name, "nominations", type_="check")
    listed = ", ".join(f"'{v}'" for v in values)
    op.create_check_constraint(name, "nominations", f"relation IN ({listed})")


def upgrade() -> None:
    _relation_check((*RELATIONS, "self"))
    op.create_table(
        "web_keys",
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("secret", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("purpose", name=op.f("pk_web_keys")),
    )
    op.create_table(
        "web_counts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "kind", "job_id", name=op.f("pk_web_counts")),
    )
    op.create_table(
        "web_visitors",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("visitor", sa.LargeBinary(16), nullable=False),
        sa.PrimaryKeyConstraint("day", "visitor", name=op.f("pk_web_visitors")),
    )

    op.create_table(
        "web_sign_in_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employer_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["employer_id"],
            ["employers.id"],
            name=op.f("fk_web_sign_in_codes_employer_id_employers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sign_in_codes")),
    )
    op.create_index(op.f("ix_web_sign_in_codes_employer_id"), "web_sign_in_codes", ["employer_id"])
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("employer_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["employer_id"], ["employers.id"], name=op.f("fk_web_sessions_employer_id_employers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_web_sessions")),
    )
    op.create_index(op.f("ix_web_sessions_employer_id"), "web_sessions", ["employer_id"])


def downgrade() -> None:
    op.execute("UPDATE nominations SET relation = 'acquaintance' WHERE relation = 'self'")
    _relation_check(RELATIONS)
    op.drop_table("web_sessions")
    op.drop_table("web_sign_in_codes")
    op.drop_table("web_visitors")
    op.drop_table("web_counts")
    op.drop_table("web_keys")
