"""The retry ladder: busy, no answer or a machine → +10 min, +1 h, next day; at most 3 tries, then failed and
the relative is told (``call.missed``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from dialer.calls.lifecycle import emit_missed, schedule_retry
from dialer.settings import DialerSettings
from jobs_core.clock import PHNOM_PENH
from jobs_core.model import Call, CallPurpose, CallReason, CallStatus, Event

SETTINGS = DialerSettings()
NOW = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)  # 10:00 in Phnom Penh


def placed(attempts: int, purpose: CallPurpose = CallPurpose.JOB_PITCH) -> Call:
    return Call(
        id=5,
        worker_id=9,
        nomination_id=4,
        purpose=purpose,
        status=CallStatus.QUEUED,
        attempts=attempts,
        job_ids=[1],
        keys=[],
        flow_state={},
    )


class Session:
    """What emit_missed needs of a session."""

    def __init__(self) -> None:
        self.added: list[object] = []

    def add(self, row: object) -> None:
        self.added.append(row)


@pytest.mark.parametrize("reason", [CallReason.BUSY, CallReason.NO_ANSWER, CallReason.MACHINE])
def test_first_miss_is_retried_in_ten_minutes(reason: CallReason) -> None:
    call = placed(1)
    assert schedule_retry(call, reason, NOW, SETTINGS)
    assert (call.status, call.reason, call.ended_at) == (CallStatus.RETRY_WAIT, reason, NOW)
    assert call.next_attempt_at == NOW + timedelta(minutes=10)


def test_second_miss_is_retried_in_an_hour() -> None:
    call = placed(2)
    assert schedule_retry(call, CallReason.NO_ANSWER, NOW, SETTINGS)
    assert call.next_attempt_at == NOW + timedelta(hours=1)


def test_third_miss_fails_the_call_and_the_relative_is_told() -> None:
    call = placed(3)
    assert not schedule_retry(call, CallReason.BUSY, NOW, SETTINGS)
    assert (call.status, call.reason) == (CallStatus.FAILED, CallReason.BUSY)
    session = Session()
    emit_missed(session, call, NOW)  # type: ignore[arg-type]
    [event] = session.added
    assert isinstance(event, Event) and event.kind == "call.missed"
    assert event.payload == {"worker_id": 9, "nomination_id": 4, "call_id": 5}


def test_the_whole_ladder_with_a_fourth_try_allowed_uses_the_next_day_rung() -> None:
    # With the default three tries the third goes out an hour after the second (the daily cap of two calls a
    # number moves it to the next morning); allowed a fourth, the ladder's last rung is a day later.
    settings = DialerSettings(max_attempts=4)
    call = placed(1)
    moments = []
    at = NOW
    while schedule_retry(call, CallReason.NO_ANSWER, at, settings):
        moments.append(call.next_attempt_at - at)
        at = call.next_attempt_at
        call.move_to(CallStatus.QUEUED)
        call.attempts += 1
    assert moments == [timedelta(minutes=10), timedelta(hours=1), timedelta(days=1)]
    assert call.status is CallStatus.FAILED and call.attempts == 4


def test_a_retry_that_would_fall_outside_hours_waits_for_the_morning() -> None:
    evening = datetime.combine(date(2026, 3, 10), time(19, 55), tzinfo=PHNOM_PENH).astimezone(UTC)
    call = placed(1)
    assert schedule_retry(call, CallReason.BUSY, evening, SETTINGS)
    assert call.next_attempt_at == datetime.combine(date(2026, 3, 11), time(8, 0), tzinfo=PHNOM_PENH)


def test_a_retry_skips_holidays() -> None:
    settings = DialerSettings(holidays=frozenset({date(2026, 3, 11), date(2026, 3, 12)}))
    evening = datetime.combine(date(2026, 3, 10), time(19, 30), tzinfo=PHNOM_PENH).astimezone(UTC)
    call = placed(2)
    assert schedule_retry(call, CallReason.NO_ANSWER, evening, settings)
    assert call.next_attempt_at == datetime.combine(date(2026, 3, 13), time(8, 0), tzinfo=PHNOM_PENH)


@pytest.mark.parametrize("reason", [CallReason.FAILED, CallReason.REJECTED])
def test_a_failed_or_rejected_call_is_not_retried(reason: CallReason) -> None:
    call = placed(1)
    assert not schedule_retry(call, reason, NOW, SETTINGS)
    assert call.status is CallStatus.FAILED


def test_a_missed_checkin_does_not_tell_the_relative() -> None:
    session = Session()
    emit_missed(session, placed(3, CallPurpose.CHECKIN), NOW)  # type: ignore[arg-type]
    assert session.added == []


def test_no_ladder_means_no_retry() -> None:
    call = placed(1)
    assert not schedule_retry(call, CallReason.BUSY, NOW, DialerSettings(retry_ladder=()))
    assert call.status is CallStatus.FAILED
