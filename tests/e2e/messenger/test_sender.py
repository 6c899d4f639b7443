"""What leaves for Messenger: the channel's limits, voice notes uploaded once, the 24-hour window, opt-ins,
blocked people and rate limits."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.messenger.models import MessengerPerson
from bots.messenger.sender import BY_TELEGRAM, SENDER_LOCK, WINDOW_HELD
from bots.messenger.webhook import PROCESSOR
from conversations.links import LinkedAccount
from conversations.outbox import NORMAL, URGENT, OutboxMessage, enqueue, enqueue_many
from conversations.replies import JobCard, Text, Voice
from jobs_core.model import Channel, Relative
from tests.e2e.messenger.conftest import (
    PAGE_ID,
    Clock,
    MessengerPage,
    message_event,
    page_body,
    postback_event,
)


async def _queue(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, psid: str, reply: Text | JobCard, key: str
) -> None:
    async with sessions() as session, session.begin():
        await enqueue(session, "messenger", psid, reply, key, priority=NORMAL, now=clock())


async def test_a_long_text_is_split_under_2000_characters(page: MessengerPage) -> None:
    assert await page.post(page_body(message_event("601", "long"))) == 200
    texts = page.api.texts("601")
    assert len(texts) == 3 and all(len(t) <= 2000 for t in texts) and "".join(texts) == "ក" * 4500


async def test_quick_replies_keep_messenger_limits_and_more_choices_become_button_templates(
    page: MessengerPage,
) -> None:
    assert await page.post(page_body(message_event("602", "hi"))) == 200
    [sent] = page.api.to("602")
    assert sent.kind == "quick_replies" and sent.choices == [("🔎 Jobs", "jobs")]
    assert await page.post(page_body(message_event("602", "many"))) == 200
    templates = page.api.to("602", "button")
    assert [len(t.choices) for t in templates] == [3, 3, 3, 3, 3, 1]  # 16 choices, three to a message
    assert all(len(title) <= 20 for t in templates for title, _payload in t.choices)
    assert templates[0].text == "Choose:" and templates[0].choices[0] == ("Province number 0 o…", "p:0")


async def test_a_job_list_is_a_carousel_with_its_voice_note_uploaded_once(page: MessengerPage) -> None:
    assert await page.post(page_body(postback_event("603", "jobs"))) == 200
    kinds = [s.kind for s in page.api.to("603")]
    assert kinds == ["typing_on", "audio", "generic"]
    [carousel] = page.api.to("603", "generic")
    elements = carousel.message["attachment"]["payload"]["elements"]
    assert [e["title"] for e in elements] == ["Sewing machine operators", "Security guards"]
    assert elements[0]["subtitle"] == "$210/month, Phnom Penh"
    assert (("📤 Share", f"https://m.me/{PAGE_ID}?ref=job_8")) in carousel.choices
    assert len(page.api.uploads) == 1 and page.api.uploads[0].startswith(b"ID3")
    # Someone else hears the same note by its attachment id: no second upload.
    assert await page.post(page_body(postback_event("604", "jobs"))) == 200
    assert len(page.api.uploads) == 1
    [audio] = page.api.to("604", "audio")
    assert (
        audio.message["attachment"]["payload"]["attachment_id"]
        == "att" + audio.message["attachment"]["payload"]["attachment_id"][3:]
    )


async def test_an_attachment_id_messenger_no_longer_accepts_is_uploaded_again(page: MessengerPage) -> None:
    assert await page.post(page_body(postback_event("605", "jobs"))) == 200
    page.api.forget_attachments = True
    assert await page.post(page_body(postback_event("606", "jobs"))) == 200
    assert len(page.api.uploads) == 2
    assert len(page.api.to("606", "audio")) == 1


async def test_a_person_who_blocked_the_page_is_marked_unreachable(
    page: MessengerPage, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    page.api.blocked.add("607")
    assert await page.post(page_body(message_event("607", "hi"))) == 200
    async with session_factory() as session:
        relative = await session.scalar(
            select(Relative).where(Relative.channel == Channel.MESSENGER, Relative.external_id == "607")
        )
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.chat_id == "607"))
    assert relative is not None and relative.unreachable
    assert row is not None and row.failed and "551" in (row.error or "")


async def test_calls_exceeded_postpones_and_the_message_goes_later(
    page: MessengerPage, clock: Clock, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    page.api.calls_exceeded = 1
    assert await page.post(page_body(message_event("608", "hi"))) == 200
    assert page.api.texts("608") == []
    clock.advance(seconds=61)
    await page.settle()
    assert page.api.texts("608") == ["You said: hi"]


async def test_outside_the_24_hour_window_messages_wait_for_the_person(
    page: MessengerPage, clock: Clock, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    assert await page.post(page_body(message_event("609", "hi"))) == 200
    clock.advance(hours=23)
    await _queue(session_factory, clock, "609", Text("Your application was confirmed"), "ev:1:messenger:609")
    await page.settle()
    assert page.api.texts("609")[-1] == "Your application was confirmed"  # within the window
    clock.advance(hours=2)  # 25 hours after the person's last message
    await _queue(session_factory, clock, "609", Text("Sophea agreed"), "ev:2:messenger:609")
    await page.settle()
    assert "Sophea agreed" not in page.api.texts("609")
    async with session_factory() as session:
        held = await session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == "ev:2:messenger:609"))
    assert held is not None and held.error == WINDOW_HELD and not held.failed
    # The person writes again: what waited goes out with the answer.
    assert await page.post(page_body(message_event("609", "hello again", at=int(clock().timestamp() * 1000)))) == 200
    assert {"Sophea agreed", "You said: hello again"} <= set(page.api.texts("609"))


async def test_alerts_outside_the_window_go_by_the_notification_messages_opt_in(
    page: MessengerPage, clock: Clock, voice: Voice, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    optin = {
        "sender": {"id": "610"},
        "recipient": {"id": PAGE_ID},
        "timestamp": int(clock().timestamp() * 1000),
        "optin": {
            "type": "notification_messages",
            "payload": "alerts",
            "notification_messages_token": "tok-610",
            "notification_messages_frequency": "DAILY",
            "token_expiry_timestamp": int(clock().timestamp() * 1000) + 180 * 86_400_000,
        },
    }
    assert await page.post(page_body(optin)) == 200
    async with session_factory() as session:
        person = await session.get(MessengerPerson, "610")
    assert person is not None and person.notification_token == "tok-610" and person.notification_frequency == "DAILY"
    clock.advance(days=3)
    await _queue(session_factory, clock, "610", JobCard(7, "New job: cooks", voice), "ev:3:messenger:610")
    await _queue(session_factory, clock, "610", Text("Not an alert"), "ev:4:messenger:610")
    await page.settle()
    by_token = [s for s in page.api.sends if s.recipient == {"notification_messages_token": "tok-610"}]
    assert [s.kind for s in by_token] == ["audio", "generic"]
    assert "Not an alert" not in [s.text for s in page.api.sends]


async def test_outside_the_window_a_person_with_a_linked_telegram_account_gets_it_there(
    page: MessengerPage, clock: Clock, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    assert await page.post(page_body(message_event("611", "hi"))) == 200
    async with session_factory() as session, session.begin():
        relative_id = await session.scalar(
            select(Relative.id).where(Relative.channel == Channel.MESSENGER, Relative.external_id == "611")
        )
        assert relative_id is not None
        session.add(LinkedAccount(channel="telegram", external_id="5555", relative_id=relative_id))
    clock.advance(hours=30)
    await _queue(session_factory, clock, "611", Text("Sophea agreed"), "ev:5:messenger:611")
    await page.settle()
    assert "Sophea agreed" not in page.api.texts("611")
    async with session_factory() as session:
        moved = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.channel == "telegram", OutboxMessage.chat_id == "5555")
        )
        left = await session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == "ev:5:messenger:611"))
    assert moved is not None and moved.payload["text"] == "Sophea agreed"
    assert left is not None and left.failed and left.error == BY_TELEGRAM


async def test_one_process_sends_for_the_page_at_a_time(
    page: MessengerPage, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    assert await page.post(page_body(message_event("612", "hi")), settle=False) == 200
    await page.client.server.app[PROCESSOR].drain()
    engine = session_factory.kw["bind"]
    async with engine.connect() as other_process:
        assert await other_process.scalar(select(func.pg_try_advisory_lock(SENDER_LOCK)))
        await other_process.commit()
        assert await page.sender.send_round() is None  # another process is the page's sender now
        assert page.api.texts("612") == []
        await other_process.scalar(select(func.pg_advisory_unlock(SENDER_LOCK)))
        await other_process.commit()
    assert await page.sender.send_round() == 1
    assert page.api.texts("612") == ["You said: hi"]


async def test_a_queued_reply_wakes_the_sender_at_once(
    page: MessengerPage, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    assert await page.post(page_body(message_event("613", "hi"))) == 200  # the person wrote: the window is open
    # Looking for due rows only every 10 minutes: only the NOTIFY of the queued reply can deliver it in time.
    page.sender.idle_delay = 600
    stop = asyncio.Event()
    running = asyncio.create_task(page.sender.run(stop))
    try:
        await asyncio.sleep(0.5)  # the first round found nothing; the sender waits
        async with session_factory() as session, session.begin():
            await enqueue_many(
                session,
                "messenger",
                [("613", Text("Hello again"), "wake-1")],
                priority=URGENT,
                now=page.deps.clock(),
                wake=True,
            )
        async with asyncio.timeout(20):
            # The fake Graph API has no event to wait on.
            while page.api.texts("613") != ["You said: hi", "Hello again"]:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await running
