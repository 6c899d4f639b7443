"""The back-off every background loop shares: waits grow and are capped; an outage is logged once, its end once."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.exc import OperationalError

from jobs_core.backoff import Backoff, is_outage


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_waits_double_up_to_the_cap_and_start_over_after_a_success() -> None:
    backoff = Backoff("notifier", first=0.5, cap=4.0, clock=Clock())
    waits = [backoff.failed(ConnectionRefusedError()) for _ in range(6)]
    assert waits == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    backoff.succeeded()
    assert backoff.healthy and backoff.failed(ConnectionRefusedError()) == 0.5


def test_an_outage_is_one_line_then_one_per_interval_then_one_for_the_recovery(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    backoff = Backoff("telegram outbox", report_every=60.0, clock=clock)
    caplog.set_level(logging.INFO)
    for _ in range(100):  # 100 failures within 50 s: one line
        backoff.failed(ConnectionRefusedError(111, "Connect call failed"))
        clock.now += 0.5
    assert [r.getMessage() for r in caplog.records] == [
        "telegram outbox failing: ConnectionRefusedError: [Errno 111] Connect call failed"
    ]
    assert not caplog.records[0].exc_info  # an unreachable dependency: no traceback
    clock.now += 11  # past the interval: one reminder, and none for the next failure
    backoff.failed(ConnectionRefusedError(111, "Connect call failed"))
    backoff.failed(ConnectionRefusedError(111, "Connect call failed"))
    assert len(caplog.records) == 2
    assert "still failing (101 tries in 61 s)" in caplog.records[-1].getMessage()
    assert backoff.status().startswith("failing for 61 s: ConnectionRefusedError")
    backoff.succeeded()
    backoff.succeeded()
    assert len(caplog.records) == 3
    assert caplog.records[-1].getMessage() == "telegram outbox recovered after 102 failed tries in 61 s"
    assert backoff.status() == "ok"


def test_a_bug_keeps_its_traceback_once(caplog: pytest.LogCaptureFixture) -> None:
    backoff = Backoff("notifier", clock=Clock())
    for _ in range(3):
        try:
            {}["missing"]
        except KeyError as error:
            backoff.failed(error)
    assert len(caplog.records) == 1 and caplog.records[0].exc_info


def test_what_counts_as_an_outage() -> None:
    assert is_outage(ConnectionRefusedError()) and is_outage(TimeoutError())
    assert is_outage(OperationalError("SELECT 1", {}, Exception("server closed the connection")))
    wrapped = RuntimeError("batch failed")
    wrapped.__cause__ = OSError("network is unreachable")
    assert is_outage(wrapped)
    assert not is_outage(KeyError("missing")) and not is_outage(ValueError("bad"))
