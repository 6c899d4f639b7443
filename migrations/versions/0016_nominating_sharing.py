"""Nominating: a relative can say the family member is their parent, child or spouse.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_RELATIONS = ("sibling", "relative", "friend", "acquaintance")
NEW_RELATIONS = ("parent", "child", "spouse", *OLD_RELATIONS)


def _relation_check(values: Sequence[str]) -> None:
    name = op.f("ck_nominations_relationship")
    op.drop_constraint(name, "nominations", type_="check")
    listed = ", ".join(f"'{v}'" for v in values)
    op.create_check_constraint(name, "nominations", f"relation IN ({listed})")


def upgrade() -> None:
    _relation_check(NEW_RELATIONS)


def downgrade() -> None:
    # The closer relations fold into "relative", which the IVR says for any family member.
    op.execute("UPDATE nominations SET relation = 'relative' WHERE relation IN ('parent', 'child', 'spouse')")
    _relation_check(OLD_RELATIONS)
