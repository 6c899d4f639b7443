"""Whether this database holds demo data: one row, written by ``bongpheak seed --demo`` before anything else.

``serve`` and ``dialer`` read it at start and refuse to talk to a real Telegram or voice provider from such a
database, so made-up people can never be messaged or called for real.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Mapped, mapped_column

from jobs_core.model.base import Base, utcnow

DEMO_ROW = 1


class DemoData(Base):
    """Present (a single row, id 1) when the database was seeded with demo data; never deleted by the program."""

    __tablename__ = "demo_data"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seeded_at: Mapped[datetime] = mapped_column(default=utcnow)
