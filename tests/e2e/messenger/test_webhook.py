"""Messenger's webhook: the handshake, signatures, batches, redeliveries and the order of a person's events."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.messenger.models import MessengerEvent
from bots.messenger.webhook import MAX_TRIES, WEBHOOK_PATH, prune_handled_events
from conversations.outbox import OutboxMessage
from tests.e2e.messenger.conftest import (
    APP_SECRET,
    VERIFY_TOKEN,
    MessengerPage,
    StandInDialog,
    message_event,
    page_body,
    postback_event,
    sign,
    stamp,
)
from tests.e2e.telegram.conftest import count


async def test_the_subscription_handshake_echoes_the_challenge_only_for_the_right_token(page: MessengerPage) -> None:
    ok = await page.client.get(
        WEBHOOK_PATH, params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    )
    assert ok.status == 200 and await ok.text() == "1158201444"
    for params in (
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.challenge": "1"},
    ):
        refused = await page.client.get(WEBHOOK_PATH, params=params)
        assert refused.status == 403


async def test_forged_or_missing_signatures_are_refused_and_nothing_is_written(
    page: MessengerPage, dialog: StandInDialog, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    body = page_body(message_event("501", "hello"))
    assert await page.post(body, signature=None) == 403
    assert await page.post(body, signature="sha256=" + "0" * 64) == 403
    assert await page.post(body, signature=sign(b"another body")) == 403
    assert await page.post(body, signature=sign(b"{}", secret=APP_SECRET + "x")) == 403
    assert await page.post(body, signature="sha1=abc") == 403
    assert await count(session_factory, MessengerEvent) == 0
    assert dialog.seen == [] and page.api.sends == []
    assert await page.post(body) == 200
    assert page.api.texts("501") == ["You said: hello"]


async def test_a_body_that_is_no_page_event_gets_400(page: MessengerPage) -> None:
    assert await page.post({"object": "instagram", "entry": []}) == 400
    assert await page.post({"object": "page", "entry": [{"messaging": [{"message": {"mid": "x"}}]}]}) == 400


async def test_a_redelivered_message_or_postback_is_handled_once(
    page: MessengerPage, dialog: StandInDialog, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    message = message_event("502", "hello")
    postback = postback_event("502", "jobs", "Jobs")
    assert await page.post(page_body(message, postback)) == 200
    assert await page.post(page_body(message)) == 200
    assert await page.post(page_body(postback, message)) == 200
    assert [i.text or i.action for i in dialog.seen] == ["hello", "jobs"]
    assert page.api.texts("502").count("You said: hello") == 1
    assert await count(session_factory, OutboxMessage, OutboxMessage.sent_at.is_(None)) == 0


async def test_a_batch_from_several_people_is_handled_each_in_the_order_they_wrote(
    page: MessengerPage, dialog: StandInDialog
) -> None:
    late = message_event("503", "second", at=stamp(200))
    early = message_event("503", "first", at=stamp(100) - 100)
    other = message_event("504", "other person", at=stamp(150))
    # Out of order in the POST (Messenger does not promise order across entries).
    assert await page.post(page_body(late, other, early)) == 200
    assert [i.text for i in dialog.seen if i.chat_id == "503"] == ["first", "second"]
    assert page.api.texts("503") == ["You said: first", "You said: second"]
    assert page.api.texts("504") == ["You said: other person"]


async def test_echoes_deliveries_and_reads_are_ignored(page: MessengerPage, dialog: StandInDialog) -> None:
    echo = message_event("505", "our own words", is_echo=True)
    read = {"sender": {"id": "505"}, "recipient": {"id": "1"}, "timestamp": 5, "read": {"watermark": 4}}
    assert await page.post(page_body(echo, read)) == 200
    assert dialog.seen == [] and page.api.sends == []


async def test_the_answer_comes_before_the_processing(page: MessengerPage, dialog: StandInDialog) -> None:
    """The webhook only stores: the dialog runs after the 200 (here, when the test lets the loop run)."""
    assert await page.post(page_body(message_event("506", "hello")), settle=False) == 200
    assert dialog.seen == []
    await page.settle()
    assert page.api.texts("506") == ["You said: hello"]


async def test_a_received_audio_attachment_is_downloaded_for_the_flow(
    page: MessengerPage, dialog: StandInDialog
) -> None:
    url = page.api.media_url("clip.mp4", b"\x00\x00\x00\x18ftypmp42" + b"a" * 100)
    event = message_event("507", None, attachments=[{"type": "audio", "payload": {"url": url}}])
    assert await page.post(page_body(event)) == 200
    [incoming] = dialog.seen
    assert incoming.voice is not None and incoming.voice.read_bytes().startswith(b"\x00\x00\x00\x18ftyp")
    assert page.api.texts("507") == ["Got your recording (112 bytes)"]


async def test_a_shared_link_lands_on_the_job(page: MessengerPage, dialog: StandInDialog) -> None:
    referral = {
        "sender": {"id": "508"},
        "recipient": {"id": "1"},
        "timestamp": 9,
        "referral": {"ref": "job_12", "source": "SHORTLINK", "type": "OPEN_THREAD"},
    }
    get_started = postback_event("509", "start", "Get Started", referral={"ref": "job_12", "source": "SHORTLINK"})
    foreign = {
        "sender": {"id": "510"},
        "recipient": {"id": "1"},
        "timestamp": 9,
        "referral": {"ref": "drop table", "source": "SHORTLINK"},
    }
    assert await page.post(page_body(referral, get_started, foreign)) == 200
    assert [(i.chat_id, i.text) for i in dialog.seen] == [("508", "/start job_12"), ("509", "/start job_12")]


async def test_a_nul_character_is_dropped_not_refused(page: MessengerPage, dialog: StandInDialog) -> None:
    assert await page.post(page_body(message_event("511", "he\x00llo"))) == 200
    assert [i.text for i in dialog.seen] == ["hello"]


async def test_an_event_that_keeps_failing_is_given_up_and_the_person_goes_on(
    page: MessengerPage, dialog: StandInDialog, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    broken, later = message_event("512", "boom"), message_event("512", "after")
    assert await page.post(page_body(broken, later)) == 200
    assert page.api.texts("512") == []  # the later one waits behind the failed one, in order
    for _ in range(MAX_TRIES):  # the last attempt gives it up; the next round takes the later one
        await page.settle()
    assert page.api.texts("512") == ["You said: after"]
    async with session_factory() as session:
        given_up = await session.get(MessengerEvent, f"m:{broken['message']['mid']}")
    assert given_up is not None and given_up.tries == MAX_TRIES and "the dialog broke" in (given_up.error or "")
    assert await count(session_factory, OutboxMessage) == 1  # nothing of the failed attempts was kept


async def test_handled_events_are_forgotten_after_a_week(
    page: MessengerPage, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    assert await page.post(page_body(message_event("513", "hello"))) == 200
    assert await prune_handled_events(session_factory) == 0
    assert await prune_handled_events(session_factory, older_than=timedelta(seconds=-1)) == 1
    assert await count(session_factory, MessengerEvent) == 0
