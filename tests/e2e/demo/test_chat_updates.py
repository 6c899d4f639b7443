"""What the chat page's actions become (the Update JSON a Telegram app would cause), and the in-process Bot API
delivering updates to a webhook the way Telegram does, in bounded memory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram.types import Update
from aiohttp import web
from aiohttp.test_utils import TestServer

from bots.telegram.deps import make_bot
from bots.web.demo.botapi import SECRET_HEADER, ApiError, DemoBotAPI, formatted
from bots.web.demo.chat import (
    BadRequest,
    ChatDemo,
    audio_type,
    button_update,
    chat_view,
    contact_update,
    seat,
    text_update,
    voice_update,
)

TOKEN = "700000123:AAdemo-made-up-token-for-the-chat-tests"
GROUP = -1002000001
MODERATOR = 7_300_001


@pytest.fixture
def api() -> DemoBotAPI:
    return DemoBotAPI()


@pytest.fixture
def chats(api: DemoBotAPI) -> ChatDemo:
    return ChatDemo(api, GROUP, [MODERATOR], placeholder_voice=True)


def valid(update: dict[str, Any]) -> Update:
    """aiogram reads it as the webhook will: a well-formed Telegram update."""
    return Update.model_validate(update)


def bot_says(api: DemoBotAPI, chat_id: int, markup: dict[str, Any] | None = None, **content: Any) -> dict[str, Any]:
    """A message of the bot in the chat, as a sendMessage would leave it."""
    return api._message(str(chat_id), markup, **content)


def test_each_role_and_number_is_a_person_of_their_own(chats: ChatDemo) -> None:
    dara = seat(chats, {"as": "relative"})
    dara2 = seat(chats, {"as": "relative", "n": "2"})
    boss = seat(chats, {"as": "employer", "n": "2"})
    assert len({dara.user["id"], dara2.user["id"], boss.user["id"]}) == 3
    assert dara.chat == {"id": dara.user["id"], "type": "private", "first_name": "Dara"}
    private = seat(chats, {"as": "moderator"})
    group = seat(chats, {"as": "moderator", "in": "group"})
    assert private.user["id"] == group.user["id"] == MODERATOR
    assert private.chat_id == MODERATOR and group.chat_id == GROUP and group.chat["type"] == "supergroup"
    assert group.query() == {"as": "moderator", "n": "1", "in": "group"}
    for bad in ({"as": "worker"}, {"as": "relative", "n": "0"}, {"as": "relative", "n": "x"}, {}):
        with pytest.raises(BadRequest):
            seat(chats, bad)


def test_typed_text_and_commands(api: DemoBotAPI, chats: ChatDemo) -> None:
    dara = seat(chats, {"as": "relative"})
    command = text_update(api, dara, "  /start job_12 ")
    message = command["message"]
    assert message["text"] == "/start job_12"
    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert message["from"]["id"] == dara.user["id"] and message["chat"]["id"] == dara.chat_id
    plain = text_update(api, dara, "ជួយផង 👋")
    assert "entities" not in plain["message"]
    # Numbered in order: update ids and message ids grow.
    assert plain["update_id"] > command["update_id"] and plain["message"]["message_id"] > message["message_id"]
    assert valid(plain).message is not None
    for empty in ("", "   "):
        with pytest.raises(BadRequest):
            text_update(api, dara, empty)
    with pytest.raises(BadRequest):
        text_update(api, dara, "x" * 4097)


def test_a_typed_answer_replies_to_the_open_force_reply_prompt(api: DemoBotAPI, chats: ChatDemo) -> None:
    group = seat(chats, {"as": "moderator", "in": "group"})
    prompt = bot_says(api, GROUP, {"force_reply": True}, text="Sreymom: why is job #3 rejected?")
    assert api.chat(GROUP).force_reply_to == prompt["message_id"]
    answer = text_update(api, group, "Charges workers a fee")
    assert answer["message"]["reply_to_message"]["message_id"] == prompt["message_id"]
    # Telegram delivers it to the bot despite privacy mode: it replies to the bot's message.
    assert api.delivers(answer)
    api.record(answer["message"])
    assert api.chat(GROUP).force_reply_to is None
    chatter = text_update(api, group, "lunch?")
    assert "reply_to_message" not in chatter["message"] and not api.delivers(chatter)
    assert api.delivers(text_update(api, group, "/mod"))


def test_a_shared_contact_is_the_persons_own(api: DemoBotAPI, chats: ChatDemo) -> None:
    boss = seat(chats, {"as": "employer"})
    update = contact_update(api, boss, " +855 12 345 678 ")
    contact = update["message"]["contact"]
    assert contact == {"phone_number": "+85512345678", "first_name": "Vanna", "user_id": boss.user["id"]}
    assert valid(update).message.contact is not None  # type: ignore[union-attr]
    with pytest.raises(BadRequest):
        contact_update(api, boss, "  ")


def test_a_recording_is_a_voice_message_when_ogg_else_an_audio_file(api: DemoBotAPI, chats: ChatDemo) -> None:
    boss = seat(chats, {"as": "employer"})
    voice = voice_update(api, boss, b"OggS\x00\x02opus...")
    file_id = voice["message"]["voice"]["file_id"]
    stored = api.file(file_id)
    assert stored is not None and stored.content.startswith(b"OggS")
    webm = voice_update(api, boss, b"\x1a\x45\xdf\xa3webm...", "voice.webm")
    assert "voice" not in webm["message"] and webm["message"]["audio"]["mime_type"] == "audio/webm"
    assert valid(webm).message.audio is not None  # type: ignore[union-attr]
    with pytest.raises(BadRequest, match="not a recording"):
        voice_update(api, boss, b"<html>", "page.html")
    with pytest.raises(BadRequest, match="empty"):
        voice_update(api, boss, b"")
    assert audio_type(b"ID3\x03") == "audio/mpeg" and audio_type(b"RIFF\x00\x00\x00\x00WAVEfmt ") == "audio/wav"


def test_only_a_button_on_the_message_as_it_is_now_can_be_pressed(api: DemoBotAPI, chats: ChatDemo) -> None:
    dara = seat(chats, {"as": "relative"})
    keyboard = {"inline_keyboard": [[{"text": "🔎 Jobs", "callback_data": "browse"}]]}
    menu = bot_says(api, dara.chat_id, keyboard, text="What would you like to do?")
    update = button_update(api, dara, menu["message_id"], "browse")
    query = update["callback_query"]
    assert query["data"] == "browse" and query["from"] == dara.user and query["message"] is menu
    assert valid(update).callback_query is not None
    with pytest.raises(BadRequest, match="no longer there"):
        button_update(api, dara, menu["message_id"], "job:1:apply")
    with pytest.raises(BadRequest, match="no longer in this chat"):
        button_update(api, dara, 999_999, "browse")
    other = seat(chats, {"as": "relative", "n": "2"})
    with pytest.raises(BadRequest):
        button_update(api, other, menu["message_id"], "browse")  # someone else's chat


def test_the_chat_view_shows_keyboards_voice_notes_and_edits(api: DemoBotAPI, chats: ChatDemo) -> None:
    boss = seat(chats, {"as": "employer"})
    contact_keyboard = {
        "keyboard": [[{"text": "📱 Send my number", "request_contact": True}]],
        "one_time_keyboard": True,
    }
    bot_says(api, boss.chat_id, contact_keyboard, text="Your phone number?")
    file_id, unique = api.add_file(b"OggS voice")
    bot_says(api, boss.chat_id, None, voice={"file_id": file_id, "file_unique_id": unique, "duration": 3})
    view = chat_view(chats, boss)
    assert view["keyboard"] == [[{"text": "📱 Send my number", "contact": True}]]
    question, note = view["messages"]
    assert question["from_bot"] and not question["mine"] and question["text"] == "Your phone number?"
    assert note["audio"] == f"/demo/chat/file/{file_id}" and note["placeholder"] is True
    api.record(contact_update(api, boss, "012 345 678")["message"])
    view = chat_view(chats, boss)
    assert view["keyboard"] is None  # a one-time keyboard goes once used
    assert view["messages"][-1]["mine"] and view["messages"][-1]["contact"] == "012345678"
    assert "placeholder" not in view["messages"][-1]
    before = view["version"]
    api._edit("editMessageText", {"chat_id": str(boss.chat_id), "message_id": question["id"], "text": "Thanks"})
    view = chat_view(chats, boss)
    assert view["version"] != before and view["messages"][0]["text"] == "Thanks" and view["messages"][0]["edited"]


def test_html_parse_mode_becomes_entities_as_telegram_keeps_them(api: DemoBotAPI, chats: ChatDemo) -> None:
    html = {"parse_mode": "HTML"}
    shown = formatted("text", "<b>Job 👷 <i>#3</i></b> &amp; <a href='https://example.org/j'>more</a>", html)
    assert shown["text"] == "Job 👷 #3 & more"
    # Offsets and lengths count UTF-16 units: the emoji is two.
    assert shown["entities"] == [
        {"type": "bold", "offset": 0, "length": 9},
        {"type": "italic", "offset": 7, "length": 2},
        {"type": "text_link", "offset": 12, "length": 4, "url": "https://example.org/j"},
    ]
    assert formatted("caption", "<b>x</b>", html) == {
        "caption": "x",
        "caption_entities": [{"type": "bold", "offset": 0, "length": 1}],
    }
    assert formatted("text", "<b>plain</b>", {}) == {"text": "<b>plain</b>"}
    for bad in ("<blink>x</blink>", "<b>x</i>", "<b>x"):
        with pytest.raises(ApiError, match="can't parse entities"):
            formatted("text", bad, html)
    boss = seat(chats, {"as": "employer"})
    message = bot_says(api, boss.chat_id, None, **shown)
    [view] = chat_view(chats, boss)["messages"]
    assert view["entities"] == shown["entities"]
    # An edit without formatting leaves none behind.
    api._edit("editMessageText", {"chat_id": str(boss.chat_id), "message_id": message["message_id"], "text": "x"})
    assert "entities" not in api.message(boss.chat_id, message["message_id"])


def test_what_the_bot_api_keeps_is_bounded() -> None:
    api = DemoBotAPI(max_chats=2, max_messages_per_chat=3, max_file_bytes=10, max_pending_updates=2)
    for n in range(5):
        bot_says(api, 1, None, text=f"m{n}")
    assert [m["text"] for m in api.chat(1).entries] == ["m2", "m3", "m4"]
    assert len([key for key in api.messages if key[0] == "1"]) == 3
    bot_says(api, 2, None, text="other")
    bot_says(api, 3, None, text="third")  # chat 1 is the least recently used: forgotten
    assert list(api.chats) == ["2", "3"] and not any(key[0] == "1" for key in api.messages)
    first, _ = api.add_file(b"123456")
    second, _ = api.add_file(b"abcdef")
    assert api.file(first) is None and api.file(second) is not None
    for n in range(4):
        api.queue_update({"n": n})
    assert api.pending_updates == 2


class Webhook:
    """A bot's webhook: what it got, and what it answers."""

    def __init__(self) -> None:
        self.got: list[tuple[str | None, dict[str, Any]]] = []
        self.answers: list[int] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.got.append((request.headers.get(SECRET_HEADER), await request.json()))
        return web.Response(status=self.answers.pop(0) if self.answers else 200)


@pytest.fixture
async def webhook() -> AsyncIterator[tuple[Webhook, str]]:
    hook = Webhook()
    app = web.Application()
    app.router.add_post("/telegram/webhook", hook.handle)
    async with TestServer(app) as server:
        yield hook, str(server.make_url("/telegram/webhook"))


async def test_updates_reach_the_webhook_the_bot_set_with_its_secret(
    webhook: tuple[Webhook, str], chats: ChatDemo
) -> None:
    hook, url = webhook
    app = web.Application()
    api = DemoBotAPI()
    prefix = api.mount(app, prefix="demo/botapi/")
    assert prefix == "/demo/botapi"
    async with TestServer(app) as server:
        bot = make_bot(TOKEN, str(server.make_url(prefix)))
        try:
            dara = seat(ChatDemo(api, GROUP, [MODERATOR]), {"as": "relative"})
            # No webhook yet: queued for getUpdates, as Telegram keeps them.
            assert await api.deliver(text_update(api, dara, "/start")) == 200
            assert api.pending_updates == 1 and hook.got == []
            assert await bot.set_webhook(url, secret_token="s3cret")
            assert (await bot.get_webhook_info()).url == url
            hook.answers = [500]  # the bot failed once: Telegram delivers the same update again
            update = text_update(api, dara, "hello")
            assert await api.deliver(update) == 200
            assert hook.got == [("s3cret", update), ("s3cret", update)]
            # With a webhook set, getUpdates is refused as Telegram refuses it.
            with pytest.raises(Exception, match="webhook is active"):
                await bot.get_updates()
            assert await bot.delete_webhook()
            assert await api.deliver(text_update(api, dara, "again")) == 200
            assert len(hook.got) == 2 and api.pending_updates == 2
        finally:
            await bot.session.close()
