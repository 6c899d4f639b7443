"""Replies survive the trip through the outbox's JSON payload."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conversations.outbox import deserialize_reply, serialize_reply
from conversations.replies import AskPhone, AskVoice, Button, Edit, JobCard, QrCode, Reply, Text, Voice

VOICE = Voice("abc123", Path("/cache/a.ogg"), None, caption="listen", buttons=((Button("Again", "job:1"),),))
REPLIES: list[Reply] = [
    Text(
        "សួស្តី",
        ((Button("A", "a"), Button("Share", "job:1", kind="share")), (Button("Web", kind="url", url="https://x"),)),
    ),
    VOICE,
    JobCard(7, "💼 Cooks", VOICE, ((Button("Apply", "job:7:apply"),),)),
    JobCard(8, "no voice"),
    AskPhone("phone?"),
    AskVoice("record", ((Button("Skip", "@3:skip"),),)),
    Text("Which district?", force_reply=True),
    Edit("4411", "✅ Approved by Dara", ((Button("Undo", "mod:undo:3"),),)),
    Edit("4412", "Decided"),
    QrCode(
        "00020101021229180014bongpheak@aclb5204599953038405401563046A1F",
        "KHQR · 5 USD",
        ((Button("Check", "pay:1:c"),),),
    ),
]


@pytest.mark.parametrize("reply", REPLIES)
def test_round_trip(reply: Reply) -> None:
    payload = serialize_reply(reply)
    assert deserialize_reply(json.loads(json.dumps(payload))) == reply


def test_unknown_payloads_are_refused() -> None:
    with pytest.raises(ValueError):
        deserialize_reply({"type": "sticker"})
    with pytest.raises(TypeError):
        serialize_reply("text")  # type: ignore[arg-type]


def test_alerts_wait_for_the_morning_in_phnom_penh() -> None:
    from datetime import UTC, datetime

    from conversations.notifier import outside_quiet_hours

    day = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)  # 10:00 in Phnom Penh
    assert outside_quiet_hours(day) == day
    late = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)  # 22:30
    early = datetime(2026, 3, 10, 22, 0, tzinfo=UTC)  # 05:00 the next day
    morning = datetime(2026, 3, 11, 0, 0, tzinfo=UTC)  # 07:00 on the 11th
    assert outside_quiet_hours(late) == morning and outside_quiet_hours(early) == morning
