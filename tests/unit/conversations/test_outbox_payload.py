"""Replies survive the trip through the outbox's JSON payload."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conversations.outbox import deserialize_reply, serialize_reply
from conversations.replies import AskPhone, AskVoice, Button, JobCard, Reply, Text, Voice

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
