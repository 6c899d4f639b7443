"""`python -m tests.check_migrations`: migrate a fresh database and fail if models and migrations differ."""

from __future__ import annotations

from bongpheak.migrate import check
from tests.database import fresh_database

if __name__ == "__main__":
    with fresh_database() as url:
        check(url)
    print("migrations: schema matches the models")
