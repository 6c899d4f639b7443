"""One event log: per-consumer marks (tries, error, retry time, handled, dead) and floors for every consumer;
call requests as a table of their own. The dialer's cursor tables, the notifier's handled rows and the
never-written handling columns of ``events`` go.

Progress carries over, so an upgraded deployment re-sends no alert and re-places no call: the notifier keeps
its floor (``event_floors`` is unchanged) and its handled rows above it become marks; the dialer's cursor
becomes its floor (everything at or below the cursor was handled) and its handled ids become marks. Call
requests are filled from the ``job.call_requested`` events already written.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DIALER = "dialer"


def upgrade() -> None:
    op.create_table(
        "event_marks",
        sa.Column("consumer", sa.String(length=24), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dead_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_event_marks_event_id_events"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("consumer", "event_id", name=op.f("pk_event_marks")),
    )
    op.create_index(
        "ix_event_marks_waiting",
        "event_marks",
        ["consumer", "event_id"],
        unique=False,
        postgresql_where="handled_at IS NULL AND dead_at IS NULL",
    )
    op.create_index(
        "ix_event_marks_dead", "event_marks", ["consumer"], unique=False, postgresql_where="dead_at IS NOT NULL"
    )
    op.create_table(
        "call_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("nomination_id", sa.Integer(), nullable=True),
        sa.Column("relative_id", sa.Integer(), nullable=True),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_call_requests_application_id_applications"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_call_requests_job_id_jobs"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["nomination_id"],
            ["nominations.id"],
            name=op.f("fk_call_requests_nomination_id_nominations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["relative_id"], ["relatives.id"], name=op.f("fk_call_requests_relative_id_relatives"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"], ["workers.id"], name=op.f("fk_call_requests_worker_id_workers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_requests")),
    )
    op.create_index("ix_call_requests_worker_created", "call_requests", ["worker_id", "created_at"], unique=False)

    # The notifier: its handled rows above its floor become handled marks (those below are covered by it).
    op.execute(
        """
        INSERT INTO event_marks (consumer, event_id, attempts, last_error, handled_at)
        SELECT h.consumer, h.event_id, 1, h.error, h.handled_at
        FROM handled_events h LEFT JOIN event_floors f ON f.consumer = h.consumer
        WHERE h.event_id >= COALESCE(f.below_id, 0)
        """
    )
    # The dialer: every event at or below its cursor was handled; the ids above it it handled become marks.
    op.execute(
        f"""
        INSERT INTO event_floors (consumer, below_id)
        SELECT '{DIALER}', last_event_id + 1 FROM dialer_event_cursor WHERE consumer = '{DIALER}'
        ON CONFLICT (consumer) DO UPDATE SET below_id = GREATEST(event_floors.below_id, excluded.below_id)
        """
    )
    op.execute(
        f"""
        INSERT INTO event_marks (consumer, event_id, attempts, handled_at)
        SELECT '{DIALER}', d.event_id, 1, d.handled_at
        FROM dialer_handled_events d JOIN events e ON e.id = d.event_id
        ON CONFLICT DO NOTHING
        """
    )
    op.execute(
        """
        INSERT INTO call_requests (worker_id, job_id, nomination_id, relative_id, application_id, created_at)
        SELECT w.id, j.id, n.id, r.id, a.id, e.created_at
        FROM events e
        JOIN workers w ON w.id = (e.payload ->> 'worker_id')::int
        JOIN jobs j ON j.id = (e.payload ->> 'job_id')::int
        LEFT JOIN nominations n ON n.id = (e.payload ->> 'nomination_id')::int
        LEFT JOIN relatives r ON r.id = (e.payload ->> 'relative_id')::int
        LEFT JOIN applications a ON a.id = (e.payload ->> 'application_id')::int
        WHERE e.kind = 'job.call_requested'
        ORDER BY e.id
        """
    )

    op.drop_table("handled_events")
    op.drop_table("dialer_handled_events")
    op.drop_table("dialer_event_cursor")
    op.drop_index("ix_events_pending", table_name="events", postgresql_where="handled_at IS NULL")
    op.drop_column("events", "error")
    op.drop_column("events", "attempts")
    op.drop_column("events", "handled_at")


def downgrade() -> None:
    op.add_column("events", sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("events", sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
    op.alter_column("events", "attempts", server_default=None)
    op.add_column("events", sa.Column("error", sa.String(length=500), nullable=True))
    op.create_index("ix_events_pending", "events", ["id"], unique=False, postgresql_where="handled_at IS NULL")
    op.create_table(
        "dialer_event_cursor",
        sa.Column("consumer", sa.String(length=40), nullable=False),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("consumer", name=op.f("pk_dialer_event_cursor")),
    )
    op.create_table(
        "dialer_handled_events",
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_dialer_handled_events")),
    )
    op.create_table(
        "handled_events",
        sa.Column("consumer", sa.String(length=24), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_handled_events_event_id_events"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("consumer", "event_id", name=op.f("pk_handled_events")),
    )

    # Back to the old bookkeeping; a dead-lettered event counts as handled there (with its error), as the old
    # code marked a failed event.
    op.execute(
        f"""
        INSERT INTO handled_events (consumer, event_id, handled_at, error)
        SELECT consumer, event_id, COALESCE(handled_at, dead_at), last_error
        FROM event_marks
        WHERE consumer <> '{DIALER}' AND (handled_at IS NOT NULL OR dead_at IS NOT NULL)
        """
    )
    op.execute(
        f"""
        INSERT INTO dialer_event_cursor (consumer, last_event_id)
        SELECT consumer, GREATEST(below_id - 1, 0) FROM event_floors WHERE consumer = '{DIALER}'
        """
    )
    op.execute(
        f"""
        INSERT INTO dialer_handled_events (event_id, handled_at)
        SELECT event_id, COALESCE(handled_at, dead_at)
        FROM event_marks
        WHERE consumer = '{DIALER}' AND (handled_at IS NOT NULL OR dead_at IS NOT NULL)
        """
    )
    op.execute(f"DELETE FROM event_floors WHERE consumer = '{DIALER}'")

    op.drop_index("ix_call_requests_worker_created", table_name="call_requests")
    op.drop_table("call_requests")
    op.drop_index("ix_event_marks_dead", table_name="event_marks", postgresql_where="dead_at IS NOT NULL")
    op.drop_index(
        "ix_event_marks_waiting", table_name="event_marks", postgresql_where="handled_at IS NULL AND dead_at IS NULL"
    )
    op.drop_table("event_marks")
