"""A carrier of its own for tests, the benchmark and the demo (carrier.py)."""
