"""The webhook route: secret token, exactly-once updates, translation to Incoming, rendering of replies."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.telegram.models import TelegramCallbackQuery, TelegramFile
from bots.telegram.render import CONTACT_LABEL, split_text, utf16_len
from bots.telegram.webhook import SECRET_HEADER, WEBHOOK_PATH
from jobs_core.model import AuditEntry, Relative
from tests.e2e.telegram.conftest import (
    SECRET,
    StandInDialog,
    all_sent,
    count,
    handled_updates,
    post_update,
    turns,
)
from tests.fakes.telegram_api import FakeTelegramAPI, callback_update, message_update

Client = TestClient[web.Request, web.Application]
CHAT = 424242


async def test_a_wrong_or_missing_secret_is_refused_and_nothing_is_written(
    client: Client, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession], dialog: StandInDialog
) -> None:
    update = message_update(1, CHAT, "/start")
    assert await post_update(client, update, secret="wrong") == 403
    assert await post_update(client, update, secret=None) == 403
    assert await post_update(client, update, secret="S3cret-token_for-tests") == 403
    assert dialog.seen == []
    assert fake_api.calls == []
    assert await handled_updates(session_factory) == 0


async def test_start_is_answered_with_an_inline_keyboard_and_a_share_button(
    client: Client, fake_api: FakeTelegramAPI, dialog: StandInDialog
) -> None:
    assert await post_update(client, message_update(2, CHAT, "/start")) == 200
    incoming = dialog.seen[0]
    assert (incoming.channel, incoming.chat_id, incoming.user_id, incoming.text) == (
        "telegram",
        str(CHAT),
        str(CHAT),
        "/start",
    )
    assert incoming.language_hint == "km" and not incoming.in_group
    [call] = fake_api.sent(CHAT)
    assert call.method == "sendMessage" and call.params["text"] == "Welcome! Choose:"
    [[jobs, share]] = call.params["reply_markup"]["inline_keyboard"]
    assert jobs == {"text": "🔎 Jobs", "callback_data": "jobs"}
    assert share == {"text": "📤 Share", "switch_inline_query": "#1"}


async def test_a_duplicate_update_is_processed_once(
    client: Client, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession], dialog: StandInDialog
) -> None:
    update = message_update(3, CHAT, "hello")
    assert await post_update(client, update) == 200
    assert await post_update(client, update) == 200
    statuses = await asyncio.gather(*(post_update(client, update) for _ in range(5)))
    assert statuses == [200] * 5
    assert len(dialog.seen) == 1
    assert await turns(session_factory) == 1
    assert len(fake_api.sent(CHAT)) == 1


async def test_a_failure_rolls_everything_back_and_answers_500_so_telegram_retries(
    client: Client, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession], dialog: StandInDialog
) -> None:
    dialog.fail_next = 1
    update = message_update(4, CHAT, "hello")
    assert await post_update(client, update) == 500
    assert await handled_updates(session_factory) == 0
    assert await turns(session_factory) == 0  # the dialog's write went with the failed transaction
    assert await post_update(client, update) == 200  # Telegram's retry
    assert await turns(session_factory) == 1
    assert [c.params["text"] for c in fake_api.sent(CHAT)] == ["You said: hello"]


async def test_a_body_that_is_not_an_update_is_a_400(client: Client) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-token_for-tests"}
    response = await client.post("/telegram/webhook", data=b"{not json", headers=headers)
    assert response.status == 400
    response = await client.post("/telegram/webhook", json={"no": "update_id"}, headers=headers)
    assert response.status == 400


async def test_a_pressed_button_is_answered_and_becomes_an_action(
    client: Client, fake_api: FakeTelegramAPI, dialog: StandInDialog
) -> None:
    assert await post_update(client, callback_update(5, CHAT, "jobs")) == 200
    assert fake_api.calls[0].method == "answerCallbackQuery"
    assert fake_api.calls[0].params["callback_query_id"] == "cbq5"
    assert dialog.seen[0].action == "jobs"
    [voice] = fake_api.sent(CHAT)
    assert voice.method == "sendVoice" and voice.files["voice"].startswith(b"OggS")
    assert voice.params["caption"] == "Sewing machine operators, $210/month"
    assert voice.params["reply_markup"]["inline_keyboard"] == [[{"text": "Apply", "callback_data": "job:1:apply"}]]


async def test_stale_and_forged_buttons_are_answered_and_refused_politely(
    client: Client, fake_api: FakeTelegramAPI, dialog: StandInDialog
) -> None:
    assert await post_update(client, callback_update(6, CHAT, "@3:yes")) == 200
    assert await post_update(client, callback_update(7, CHAT, "x" * 64)) == 200
    assert await post_update(client, callback_update(8, CHAT, "job:999999:apply; DROP TABLE jobs")) == 200
    assert len(fake_api.calls_of("answerCallbackQuery")) == 3
    texts = [c.params["text"] for c in fake_api.sent(CHAT)]
    assert texts == [
        "That button belongs to an earlier question.",
        "This button is no longer valid.",
        "This button is no longer valid.",
    ]


async def test_a_callback_whose_answer_fails_is_still_processed(
    client: Client, fake_api: FakeTelegramAPI, dialog: StandInDialog
) -> None:
    fake_api.fail_next("answerCallbackQuery", 400, "Bad Request: query is too old and response timeout expired")
    assert await post_update(client, callback_update(9, CHAT, "voice")) == 200
    assert dialog.seen[0].action == "voice"
    assert len(fake_api.sent(CHAT)) == 1


async def test_a_voice_note_is_uploaded_once_then_sent_by_file_id(
    client: Client, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    for update_id, chat in ((10, CHAT), (11, CHAT + 1), (12, CHAT + 2)):
        assert await post_update(client, callback_update(update_id, chat, "jobs")) == 200
    first, second, third = fake_api.calls_of("sendVoice")
    assert "voice" in first.files
    file_id = first.params["voice"]
    assert file_id.startswith("attach://")
    async with session_factory() as session:
        cached = await session.scalar(select(TelegramFile).where(TelegramFile.audio_id == "audio-job-1"))
    assert cached is not None and cached.job_id == 1
    assert second.files == {} and second.params["voice"] == cached.file_id
    assert third.files == {} and third.params["voice"] == cached.file_id


async def test_a_refused_file_id_is_uploaded_again(
    client: Client, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session:
        session.add(TelegramFile(audio_id="audio-job-1", file_id="GONE", file_unique_id="gone", job_id=1))
        await session.commit()
    assert await post_update(client, callback_update(13, CHAT, "jobs")) == 200
    refused, uploaded = fake_api.calls_of("sendVoice")
    assert refused.params["voice"] == "GONE" and not refused.ok
    assert "voice" in uploaded.files and uploaded.ok


async def test_voice_messages_forbidden_falls_back_to_an_audio_file_for_that_chat(
    client: Client, fake_api: FakeTelegramAPI
) -> None:
    fake_api.forbid_voice(CHAT)
    assert await post_update(client, callback_update(14, CHAT, "jobs")) == 200
    assert await post_update(client, callback_update(15, CHAT, "voice")) == 200
    methods = [(c.method, c.status) for c in fake_api.calls_of("sendVoice", "sendAudio")]
    # Learned once: the second voice goes straight to sendAudio.
    assert methods == [("sendVoice", 400), ("sendAudio", 200), ("sendAudio", 200)]
    audio = fake_api.calls_of("sendAudio")[0]
    assert audio.files["audio"].startswith(b"ID3")
    assert audio.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "job:1:apply"


async def test_a_blocked_bot_marks_the_relative_unreachable_and_stops(
    client: Client, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    fake_api.block(CHAT)
    assert await post_update(client, message_update(16, CHAT, "long")) == 200
    # The first of the two chunks got 403; the second was not tried.
    assert len(fake_api.calls_of("sendMessage")) == 1
    async with session_factory() as session:
        relative = await session.scalar(select(Relative).where(Relative.external_id == str(CHAT)))
    assert relative is not None and relative.unreachable


async def test_the_person_blocking_the_bot_is_noticed_from_my_chat_member(
    client: Client, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    assert await post_update(client, message_update(17, CHAT, "hi")) == 200
    member = {"user": {"id": CHAT, "is_bot": False, "first_name": "Sokha"}}
    update = {
        "update_id": 18,
        "my_chat_member": {
            "chat": {"id": CHAT, "type": "private", "first_name": "Sokha"},
            "from": {"id": CHAT, "is_bot": False, "first_name": "Sokha"},
            "date": 1,
            "old_chat_member": {**member, "status": "member"},
            "new_chat_member": {**member, "status": "kicked", "until_date": 0},
        },
    }
    assert await post_update(client, update) == 200
    async with session_factory() as session:
        relative = await session.scalar(select(Relative).where(Relative.external_id == str(CHAT)))
    assert relative is not None and relative.unreachable


async def test_429_pauses_and_the_reply_is_sent_after_retry_after(client: Client, fake_api: FakeTelegramAPI) -> None:
    fake_api.rate_limit_next(1, "sendMessage")
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await post_update(client, message_update(19, CHAT, "hi")) == 200
    assert loop.time() - started >= 0.95
    first, second = fake_api.calls_of("sendMessage")
    assert (first.status, second.status) == (429, 200)
    assert second.at - first.at >= 0.95


async def test_a_long_429_holds_the_reply_not_the_update(
    client: Client, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    fake_api.rate_limit_next(3, "sendMessage")
    update = message_update(20, CHAT, "hi")
    assert await post_update(client, update, delivered=False) == 200  # handled: Telegram need not retry it
    assert await handled_updates(session_factory) == 1
    await all_sent(session_factory)
    limited, sent = fake_api.calls_of("sendMessage")
    assert (limited.status, sent.status) == (429, 200) and sent.params["text"] == "You said: hi"
    assert sent.at - limited.at >= 2.95


async def test_long_text_is_split_under_4096(client: Client, fake_api: FakeTelegramAPI) -> None:
    assert await post_update(client, message_update(21, CHAT, "long")) == 200
    chunks = [c.params["text"] for c in fake_api.sent(CHAT)]
    assert len(chunks) == 2 and "".join(chunks) == "ក" * 5000
    assert all(len(c) <= 4096 for c in chunks)


def test_split_text_counts_utf16_and_prefers_line_breaks() -> None:
    text = ("😀" * 3000) + "\n" + "word " * 10
    chunks = split_text(text)
    assert all(utf16_len(c) <= 4096 for c in chunks)
    assert "".join(chunks).replace("\n", "") == text.replace("\n", "").rstrip() or len(chunks) > 1
    lines = "line\n" * 2000
    assert all(c.endswith("line") for c in split_text(lines)[:-1])
    assert split_text("") == [""]


async def test_ask_phone_offers_the_contact_button_and_a_shared_contact_comes_back(
    client: Client, fake_api: FakeTelegramAPI, dialog: StandInDialog
) -> None:
    assert await post_update(client, message_update(22, CHAT, "phone")) == 200
    ask, more = fake_api.sent(CHAT)
    keyboard = ask.params["reply_markup"]
    assert keyboard["keyboard"] == [[{"text": CONTACT_LABEL, "request_contact": True}]]
    assert keyboard["one_time_keyboard"] is True
    assert more.params["reply_markup"]["inline_keyboard"] == [[{"text": "Skip", "callback_data": "skip"}]]
    contact = {"phone_number": "+85512345678", "first_name": "Sokha", "user_id": CHAT}
    assert await post_update(client, message_update(23, CHAT, contact=contact)) == 200
    assert dialog.seen[-1].contact_phone == "+85512345678"
    assert dialog.seen[-1].extra["contact_is_own"] == "1"
    thanks = fake_api.sent(CHAT)[-1]
    assert thanks.params["reply_markup"] == {"remove_keyboard": True}


async def test_a_voice_message_is_downloaded_and_handed_to_the_dialog(
    client: Client, fake_api: FakeTelegramAPI, dialog: StandInDialog
) -> None:
    recording = b"OggS" + b"\x01" * 777
    file_id, unique = fake_api.add_file(recording)
    voice = {"file_id": file_id, "file_unique_id": unique, "duration": 4, "mime_type": "audio/ogg"}
    assert await post_update(client, message_update(24, CHAT, voice=voice)) == 200
    assert [c.method for c in fake_api.calls_of("getFile")] == ["getFile"]
    path = dialog.seen[0].voice
    assert path is not None and path.read_bytes() == recording
    assert fake_api.sent(CHAT)[0].params["text"] == "Got your recording (781 bytes)"


async def test_photos_stickers_and_documents_are_other_media(client: Client, dialog: StandInDialog) -> None:
    photo = [{"file_id": "p1", "file_unique_id": "up1", "width": 90, "height": 90}]
    sticker = {
        "file_id": "s1",
        "file_unique_id": "us1",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    document = {"file_id": "d1", "file_unique_id": "ud1", "file_name": "cv.pdf"}
    for update_id, content in ((25, {"photo": photo}), (26, {"sticker": sticker}), (27, {"document": document})):
        assert await post_update(client, message_update(update_id, CHAT, **content)) == 200
    assert [i.other_media for i in dialog.seen] == [True, True, True]


async def test_a_group_message_is_marked_in_group(client: Client, dialog: StandInDialog) -> None:
    sender = {"id": 555, "is_bot": False, "first_name": "Dara", "language_code": "en"}
    assert await post_update(client, message_update(28, -100123, "/queue", from_user=sender)) == 200
    incoming = dialog.seen[0]
    assert incoming.in_group and incoming.chat_id == "-100123" and incoming.user_id == "555"
    assert incoming.language_hint == "en"


async def test_concurrent_updates_of_one_chat_are_handled_in_order_one_at_a_time(
    client: Client, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession], dialog: StandInDialog
) -> None:
    updates: list[dict[str, Any]] = [message_update(100 + i, CHAT, f"m{i}") for i in range(8)]
    others = [message_update(200 + i, CHAT + 1 + i, f"o{i}") for i in range(4)]
    statuses = await asyncio.gather(*(post_update(client, u) for u in updates + others))
    assert statuses == [200] * 12
    assert await turns(session_factory) == 12
    texts = [c.params["text"] for c in fake_api.sent(CHAT)]
    assert sorted(texts) == sorted(f"You said: m{i}" for i in range(8))
    assert len(dialog.seen) == 12


async def test_old_handled_updates_are_pruned(session_factory: async_sessionmaker[AsyncSession]) -> None:
    from datetime import timedelta

    from bots.telegram.models import TelegramUpdate
    from bots.telegram.updates import prune_handled_updates
    from jobs_core.model.base import utcnow

    async with session_factory() as session, session.begin():
        session.add(TelegramUpdate(update_id=1, received_at=utcnow() - timedelta(days=8)))
        session.add(TelegramUpdate(update_id=2, received_at=utcnow()))
    assert await prune_handled_updates(session_factory) == 1
    assert await handled_updates(session_factory) == 1


async def test_malformed_updates_with_the_right_secret_are_400_and_write_nothing(
    client: Client, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession], dialog: StandInDialog
) -> None:
    headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}

    async def raw(body: str) -> int:
        response = await client.post(WEBHOOK_PATH, data=body.encode(), headers=headers)
        await response.read()
        return response.status

    assert await post_update(client, message_update(2**70, CHAT, "hi")) == 400
    assert await post_update(client, message_update(31, 2**70, "hi")) == 400
    assert await raw('{"update_id": 32, "message": ' + "[" * 1000 + "]" * 1000 + "}") == 400
    assert await raw('{"update_id": 33, "extra": ' + '{"a": ' * 100 + "1" + "}" * 100 + "}") == 400
    assert await raw('{"update_id": ' + "9" * 5000 + "}") == 400
    sender = {"id": CHAT, "is_bot": False, "first_name": "Sokha"}
    for update_id, result_id in enumerate(("abc", "job:", "job:x", "job:99999999999999999999", "job:424242"), 40):
        chosen = {"result_id": result_id, "from": sender, "query": ""}
        assert await post_update(client, {"update_id": update_id, "chosen_inline_result": chosen}) == 400, result_id
    long_id = callback_update(50, CHAT, "jobs")
    long_id["callback_query"]["id"] = "q" * 65
    assert await post_update(client, long_id) == 400
    assert await handled_updates(session_factory) == 0
    assert await count(session_factory, AuditEntry) == 0
    assert await count(session_factory, TelegramCallbackQuery) == 0
    assert dialog.seen == [] and fake_api.calls == []


async def test_a_callback_query_redelivered_100_times_is_answered_and_handled_once(
    client: Client, fake_api: FakeTelegramAPI, dialog: StandInDialog
) -> None:
    pressed = callback_update(60, CHAT, "voice")
    # Telegram's own redeliveries (same update_id) and the same button under new update_ids, all at once.
    copies = [pressed] * 50 + [{**pressed, "update_id": 1000 + i} for i in range(50)]
    statuses = await asyncio.gather(*(post_update(client, copy) for copy in copies))
    assert statuses == [200] * 100
    assert len(fake_api.calls_of("answerCallbackQuery")) == 1
    assert [i.action for i in dialog.seen] == ["voice"]
    assert len(fake_api.sent(CHAT)) == 1


async def test_a_callback_query_that_failed_is_handled_on_the_retry_but_answered_once(
    client: Client, fake_api: FakeTelegramAPI, dialog: StandInDialog
) -> None:
    dialog.fail_next = 1
    pressed = callback_update(61, CHAT, "voice")
    assert await post_update(client, pressed) == 500
    assert await post_update(client, pressed) == 200  # Telegram's retry
    assert len(fake_api.calls_of("answerCallbackQuery")) == 1
    assert [i.action for i in dialog.seen] == ["voice", "voice"]
    assert len(fake_api.sent(CHAT)) == 1
