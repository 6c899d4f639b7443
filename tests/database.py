"""The tests' fresh database: :func:`bongpheak.scratch_database.fresh_database`, shared with the benchmarks."""

from bongpheak.scratch_database import fresh_database

__all__ = ["fresh_database"]
