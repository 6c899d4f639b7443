"""The chat simulator: a Telegram-like page per person, against the real bot through the in-process Bot API.

    GET  /demo/chat?as=relative|employer|moderator[&n=N][&in=group][&lang=km|en]   the page
    GET  /demo/chat/updates?…&v=V     the chat as JSON (polled every second; unchanged since version V: short)
    POST /demo/chat/send              what the visitor did, as a form (CSRF token): text, a pressed button, a
                                      shared contact, a recording; answered with JSON
    GET  /demo/chat/file/{file_id}    a voice note's bytes from the Bot API's store, for the page's <audio>

Nothing here talks to the conversations: what the visitor does becomes the Update JSON a Telegram app would
cause, which :class:`~bots.web.demo.botapi.DemoBotAPI` delivers to the bot's webhook with the secret token,
so the real Telegram adapter and the real conversations handle it; the bot's replies come back through the
real aiogram Bot, sent by the outbox sender, into the Bot API's chat logs, which the page shows.

Wiring, done by the demo runner on the app ``bongpheak.app.build_app`` made::

    api = DemoBotAPI()
    api.mount(app, prefix="/demo/botapi")      # TELEGRAM_API_BASE_URL = PUBLIC_BASE_URL + "/demo/botapi"
    setup_chat(app, api, moderators_chat_id=…, moderator_ids=[…], placeholder_voice=True)

and the webhook registered once the app listens (``telegram_deps(…, register_webhook=False)``, then
``connect_telegram``, as ``bongpheak serve`` does): the Bot API answering setWebhook is the same app.

Who is who: ``as=relative`` and ``as=employer`` are private chats of made-up people, one per ``n`` (opening the
page without ``n`` picks the next unused one, so two visitors never share a chat); ``as=moderator`` is
``moderator_ids[n-1]`` (wrapping round: moderators are the configured ones), in a private chat with the bot
or, with ``in=group``, in the moderators' group, which every moderator's page shares. The page's own words are
in English or, with ``lang=km``, Khmer; the bot speaks the language chosen in the chat.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from bots.web import csrf
from bots.web.demo.botapi import DemoBotAPI, command_entities, group_chat, private_chat, user
from bots.web.i18n import Gettext, web_gettext
from bots.web.pages import KEYS, SECURITY_HEADERS
from jobs_core.clock import local

ROLES = ("relative", "employer", "moderator")
# Made-up Telegram user ids, one range per role: a relative's n-th chat is 7_100_000 + n.
FIRST_USER_ID = {"relative": 7_100_000, "employer": 7_200_000}
NAMES = {"relative": "Dara", "employer": "Vanna", "moderator": "Sreymom"}
MAX_PEOPLE = 9999
MAX_TEXT = 4096  # what a Telegram app lets one type into one message
MAX_RECORDING_BYTES = 20 * 1024 * 1024  # a bot cannot download a bigger file from Telegram
DEFAULT_PHONE = "+855 12 345 678"  # a valid Cambodian mobile number; +855 20 0xx xxx demo numbers are refused
SEND_PATH = "/demo/chat/send"
# The command menu of a Telegram app (what setMyCommands would list), per role.
COMMANDS = {
    "relative": (("/start", "begin, or start again"), ("/jobs", "browse jobs"), ("/family", "your family members")),
    "employer": (("/start", "begin, or start again"), ("/post", "post a job"), ("/listings", "your listings")),
    "moderator": (("/mod", "the moderators' menu"), ("/start", "begin, or start again")),
}
SHARED_COMMANDS = (("/menu", "the main menu"), ("/help", "help and hotlines"), ("/cancel", "stop what you are doing"))
NOT_DELIVERED = (
    "Telegram does not give the bot this message: in a group it gets only commands (/mod) and replies to its own "
    "messages."
)
ROLE_NAMES = {"relative": "a relative", "employer": "an employer", "moderator": "a moderator"}
# The page's own words its script needs, translated on the page (the script has no catalog).
PAGE_WORDS = {
    "edited": "edited",
    "share": "Sharing opens Telegram's list of your chats, which this simulator does not imitate.",
    "unreachable": "The demo is not reachable: is it still running?",
    "no_recorder": "This browser cannot record here: send an audio file instead.",
    "recording": "Recording… press the microphone again to send.",
    "no_microphone": "The microphone is not available (permission refused?): send an audio file instead.",
}
PLACEHOLDER_NOTE = "Placeholder voice: English speech of the Khmer text, not Khmer."


class BadRequest(Exception):
    """Something the page cannot do (a button no longer there, an empty message): told to the visitor in their
    language (``message`` is the catalog's msgid, ``values`` fill its placeholders)."""

    def __init__(self, message: str, **values: object) -> None:
        super().__init__(message.format(**values))
        self.message = message
        self.values = values

    def told(self, _: Gettext) -> str:
        return _(self.message).format(**self.values)


@dataclass
class ChatDemo:
    api: DemoBotAPI
    moderators_chat_id: int
    moderator_ids: list[int]
    placeholder_voice: bool = False
    # The next unused person number of each role (a visitor opening the page without one gets it).
    numbers: dict[str, itertools.count[int]] = field(
        default_factory=lambda: {role: itertools.count(1) for role in ROLES}
    )


CHAT = web.AppKey("demo_chat", ChatDemo)


@dataclass(frozen=True)
class Seat:
    """One person in one chat: the page's ``as``/``n``/``in`` resolved to a Telegram user and chat."""

    role: str
    number: int
    user: dict[str, Any]
    chat: dict[str, Any]

    @property
    def chat_id(self) -> int:
        return int(self.chat["id"])

    @property
    def in_group(self) -> bool:
        return str(self.chat["type"]) != "private"

    def query(self) -> dict[str, str]:
        found = {"as": self.role, "n": str(self.number)}
        if self.in_group:
            found["in"] = "group"
        return found


def seat(demo: ChatDemo, values: Any) -> Seat:
    """The seat named by ``as``, ``n`` and ``in`` (query or form values); BadRequest when there is none."""
    role = str(values.get("as") or "")
    if role not in ROLES:
        raise BadRequest("Choose who you are: as=relative, as=employer or as=moderator.")
    number_text = str(values.get("n") or "1")
    if not number_text.isdigit() or not 1 <= int(number_text) <= MAX_PEOPLE:
        raise BadRequest("n must be a number from 1 to {most}.", most=MAX_PEOPLE)
    number = int(number_text)
    name = NAMES[role] if number == 1 else f"{NAMES[role]} {number}"
    if role == "moderator":
        if not demo.moderator_ids:
            raise BadRequest("This demo has no moderators.")
        person = user(demo.moderator_ids[(number - 1) % len(demo.moderator_ids)], name, "en")
        if values.get("in") == "group":
            return Seat(role, number, person, group_chat(demo.moderators_chat_id))
    else:
        person = user(FIRST_USER_ID[role] + number, name, "en")
    return Seat(role, number, person, private_chat(person["id"], name))


# ---------------------------------------------------------------------- updates a Telegram app would send


def _message(api: DemoBotAPI, where: Seat, **content: Any) -> dict[str, Any]:
    """A new message of ``where``'s person, numbered in the chat's sequence; a reply to the bot's force-reply
    prompt when one is open (the Telegram app opens the reply for the person)."""
    message: dict[str, Any] = {
        "message_id": api.next_message_id(),
        "date": int(time.time()),
        "chat": where.chat,
        "from": where.user,
        **content,
    }
    prompt = api.chats[str(where.chat_id)].force_reply_to if str(where.chat_id) in api.chats else None
    if prompt is not None and "reply_to_message" not in message:
        replied = api.messages.get((str(where.chat_id), prompt))
        if replied is not None:
            message["reply_to_message"] = replied
    return message


def text_update(api: DemoBotAPI, where: Seat, text: str) -> dict[str, Any]:
    """The person typed ``text`` (a ``/command`` carries its bot_command entity)."""
    text = text.strip()
    if not text:
        raise BadRequest("Type a message first.")
    if len(text) > MAX_TEXT:
        raise BadRequest("A message can be {most} characters at most.", most=MAX_TEXT)
    content: dict[str, Any] = {"text": text}
    entities = command_entities(text)
    if entities:
        content["entities"] = entities
    return {"update_id": api.next_update_id(), "message": _message(api, where, **content)}


def contact_update(api: DemoBotAPI, where: Seat, phone: str) -> dict[str, Any]:
    """The person shared their own phone number (the contact button of a reply keyboard)."""
    phone = " ".join(phone.split())
    if not phone or len(phone) > 32:
        raise BadRequest("Type the phone number to share, for example +855 12 345 678.")
    contact = {
        "phone_number": phone.replace(" ", ""),
        "first_name": where.user["first_name"],
        "user_id": where.user["id"],
    }
    return {"update_id": api.next_update_id(), "message": _message(api, where, contact=contact)}


def voice_update(api: DemoBotAPI, where: Seat, content: bytes, filename: str = "") -> dict[str, Any]:
    """A recording: a voice message when it is Ogg/Opus (what the Telegram apps record), else an audio file."""
    if not content:
        raise BadRequest("The recording is empty: record again or choose another file.")
    if len(content) > MAX_RECORDING_BYTES:
        raise BadRequest("The recording is too large: 20 MB at most.")
    mime = audio_type(content)
    if mime is None:
        raise BadRequest("That file is not a recording: choose an audio file (OGG, MP3, M4A, WAV or WebM).")
    file_id, unique = api.add_file(content, "oga" if mime == "audio/ogg" else mime.split("/")[1])
    media = {"file_id": file_id, "file_unique_id": unique, "duration": 1, "mime_type": mime, "file_size": len(content)}
    if mime == "audio/ogg":
        return {"update_id": api.next_update_id(), "message": _message(api, where, voice=media)}
    media["file_name"] = (filename or f"recording.{mime.split('/')[1]}")[:64]
    return {"update_id": api.next_update_id(), "message": _message(api, where, audio=media)}


def button_update(api: DemoBotAPI, where: Seat, message_id: int, data: str) -> dict[str, Any]:
    """The person pressed the inline button ``data`` under the bot's message ``message_id`` (as it is now: a
    button an edit removed cannot be pressed)."""
    message = api.messages.get((str(where.chat_id), message_id))
    if message is None:
        raise BadRequest("That message is no longer in this chat.")
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    if not any(button.get("callback_data") == data for row in rows for button in row):
        raise BadRequest("That button is no longer there.")
    update_id = api.next_update_id()
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"demo{update_id}",
            "from": where.user,
            "chat_instance": f"demo{where.chat_id}",
            "data": data,
            "message": message,
        },
    }


def audio_type(content: bytes) -> str | None:
    """The audio format from the first bytes (the browser's own label is not to be trusted)."""
    if content.startswith(b"OggS"):
        return "audio/ogg"
    if content.startswith(b"\x1a\x45\xdf\xa3"):
        return "audio/webm"  # what Chromium's MediaRecorder records
    if content.startswith(b"ID3") or content[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio/mpeg"
    if content.startswith(b"RIFF") and content[8:12] == b"WAVE":
        return "audio/wav"
    if content[4:8] == b"ftyp":
        return "audio/mp4"
    return None


# ---------------------------------------------------------------------- the chat as the page shows it


def chat_view(demo: ChatDemo, where: Seat) -> dict[str, Any]:
    """The chat as JSON for the page: messages in order, the reply keyboard, an open force-reply prompt."""
    api = demo.api
    log = api.chats.get(str(where.chat_id))
    if log is None:
        return {"version": 0, "messages": [], "keyboard": None, "force_reply": None}
    bot_id = api.bot_user()["id"]
    messages = [_message_view(demo, m, m.get("from", {}).get("id") == bot_id, where) for m in log.entries]
    keyboard = None
    if log.keyboard is not None:
        keyboard = [
            [{"text": str(b.get("text", "")), "contact": bool(b.get("request_contact"))} for b in row]
            for row in log.keyboard.get("keyboard", [])
        ]
    return {"version": log.version, "messages": messages, "keyboard": keyboard, "force_reply": log.force_reply_to}


def _message_view(demo: ChatDemo, message: dict[str, Any], from_bot: bool, where: Seat) -> dict[str, Any]:
    sender = message.get("from", {})
    view: dict[str, Any] = {
        "id": message["message_id"],
        "from_bot": from_bot,
        "mine": sender.get("id") == where.user["id"],
        "sender": str(sender.get("first_name") or ""),
        "time": local(datetime.fromtimestamp(int(message.get("date", 0)), UTC)).strftime("%H:%M"),
        "text": message.get("text") or message.get("caption") or "",
        # Bold, links…: UTF-16 offsets, which are JavaScript's string indices.
        "entities": message.get("entities") or message.get("caption_entities") or [],
        "edited": "edit_date" in message,
    }
    replied = message.get("reply_to_message")
    if replied is not None:
        view["reply_to"] = str(replied.get("text") or replied.get("caption") or "")[:80]
    for kind in ("voice", "audio"):
        media = message.get(kind)
        if media is not None:
            view["audio"] = f"/demo/chat/file/{media['file_id']}"
            view["placeholder"] = from_bot and demo.placeholder_voice
    photo = message.get("photo")
    if photo:  # an invoice's KHQR code: the largest size Telegram lists
        view["photo"] = f"/demo/chat/file/{photo[-1]['file_id']}"
    if message.get("contact") is not None:
        view["contact"] = str(message["contact"].get("phone_number", ""))
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    view["buttons"] = [[_button_view(b) for b in row] for row in rows]
    return view


def _button_view(button: dict[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {"text": str(button.get("text", ""))}
    if "callback_data" in button:
        shown["data"] = str(button["callback_data"])
    elif "url" in button:
        shown["url"] = str(button["url"])
    else:
        # switch_inline_query: Telegram opens its chat picker, which this page does not imitate.
        shown["share"] = True
    return shown


# ---------------------------------------------------------------------- routes


def language(values: Any) -> str:
    """The page's own words are in Khmer or English (``lang``); the bot speaks what the person chose in the chat."""
    return "km" if values.get("lang") == "km" else "en"


async def chat_page(request: web.Request) -> web.StreamResponse:
    demo = request.app[CHAT]
    query = request.query
    lang = language(query)
    _ = web_gettext(lang)
    if query.get("as") in FIRST_USER_ID and "n" not in query:
        # A chat of one's own: two visitors opening the same link do not see each other's messages.
        role = str(query["as"])
        number = next(demo.numbers[role])
        while str(FIRST_USER_ID[role] + number) in demo.api.chats:  # someone chose that one by hand
            number = next(demo.numbers[role])
        raise web.HTTPFound(f"/demo/chat?{urlencode({'as': role, 'n': number, 'lang': lang})}")
    try:
        where = seat(demo, query)
    except BadRequest as error:
        return _page(request, "chat_refused.html", {"reason": error.told(_), "lang": lang, "_": _}, status=400)
    key = await request.app[KEYS].csrf()
    here = {**where.query(), "lang": lang}
    others: list[tuple[str, str, bool]] = []
    if where.role == "moderator":
        private = {"as": "moderator", "n": str(where.number), "lang": lang}
        others = [
            (_("Private chat with the bot"), f"/demo/chat?{urlencode(private)}", not where.in_group),
            (_("Moderators' group"), f"/demo/chat?{urlencode({**private, 'in': 'group'})}", where.in_group),
        ]
    other_language = "en" if lang == "km" else "km"
    context = {
        "lang": lang,
        "_": _,
        "seat": where,
        "role": _(ROLE_NAMES[where.role]),
        "title": _("Moderators") if where.in_group else "Bong Pheak",
        "fields": here,
        "csrf_field": csrf.FIELD,
        "csrf": csrf.make_token(key, SEND_PATH),
        "send_path": SEND_PATH,
        "updates_path": f"/demo/chat/updates?{urlencode(where.query())}",
        "default_phone": DEFAULT_PHONE,
        "others": others,
        "commands": [(command, _(what)) for command, what in COMMANDS[where.role] + SHARED_COMMANDS],
        "placeholder_note": _(PLACEHOLDER_NOTE) if demo.placeholder_voice else "",
        "switch_language": (
            "English" if other_language == "en" else "ខ្មែរ",
            f"/demo/chat?{urlencode({**where.query(), 'lang': other_language})}",
        ),
        "words": {key: _(text) for key, text in PAGE_WORDS.items()},
    }
    return _page(request, "chat.html", context)


def _page(request: web.Request, template: str, context: dict[str, Any], *, status: int = 200) -> web.Response:
    response = aiohttp_jinja2.render_template(template, request, context, status=status)
    response.headers.update(SECURITY_HEADERS)
    response.headers["Content-Language"] = str(context.get("lang") or "en")
    return response


async def chat_updates(request: web.Request) -> web.Response:
    demo = request.app[CHAT]
    try:
        where = seat(demo, request.query)
    except BadRequest as error:
        return web.json_response({"error": error.told(web_gettext(language(request.query)))}, status=400)
    known = request.query.get("v", "")
    log = demo.api.chats.get(str(where.chat_id))
    if known == str(log.version if log is not None else 0):
        return web.json_response({"version": int(known), "unchanged": True}, headers={"Cache-Control": "no-store"})
    return web.json_response(chat_view(demo, where), headers={"Cache-Control": "no-store"})


async def chat_send(request: web.Request) -> web.Response:
    """One thing the visitor did, delivered to the bot as Telegram would; the page learns the bot's answer by
    polling (it comes from the outbox sender, after the webhook's 200)."""
    demo = request.app[CHAT]
    key = await request.app[KEYS].csrf()
    form = await request.post()
    _ = web_gettext(language(form))
    try:
        await csrf.require(request, key)
    except csrf.Refused:
        return web.json_response({"error": _("This page is too old: reload it and try again.")}, status=403)
    try:
        where = seat(demo, form)
        update = _update_from(demo.api, where, form)
    except BadRequest as error:
        return web.json_response({"error": error.told(_)}, status=400)
    if "message" in update:
        demo.api.record(update["message"])  # the sender sees their own message at once, as in the app
    if not demo.api.delivers(update):
        # What privacy mode does in a group: the message is there for the people, the bot never gets it.
        return web.json_response({"ok": True, "note": _(NOT_DELIVERED)})
    status = await demo.api.deliver(update)
    if status != 200:
        refused = _("The bot did not take it (its webhook answered {status}); try again.")
        return web.json_response({"error": refused.format(status=status or "—")}, status=502)
    return web.json_response({"ok": True})


def _update_from(api: DemoBotAPI, where: Seat, form: Any) -> dict[str, Any]:
    kind = form.get("kind")
    if kind == "text":
        return text_update(api, where, str(form.get("text") or ""))
    if kind == "button":
        message_id = str(form.get("message_id") or "")
        if not message_id.isdigit():
            raise BadRequest("That message is no longer in this chat.")
        return button_update(api, where, int(message_id), str(form.get("data") or ""))
    if kind == "contact":
        return contact_update(api, where, str(form.get("phone") or ""))
    if kind == "voice":
        upload = form.get("recording")
        if not isinstance(upload, web.FileField):
            raise BadRequest("Record something or choose an audio file first.")
        content = upload.file.read(MAX_RECORDING_BYTES + 1)
        return voice_update(api, where, content, upload.filename or "")
    raise BadRequest("The page sent something this demo does not know; reload it.")


async def chat_file(request: web.Request) -> web.Response:
    stored = request.app[CHAT].api.file(request.match_info["file_id"])
    if stored is None:
        raise web.HTTPNotFound(text="This recording is no longer kept by the demo.")
    return web.Response(
        body=stored.content,
        content_type=audio_type(stored.content) or _image_type(stored.content) or "application/octet-stream",
        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


def _image_type(content: bytes) -> str | None:
    return "image/png" if content.startswith(b"\x89PNG\r\n\x1a\n") else None


def setup_chat(
    app: web.Application,
    api: DemoBotAPI,
    *,
    moderators_chat_id: int,
    moderator_ids: list[int],
    placeholder_voice: bool = False,
) -> None:
    """Mount the chat simulator's routes on ``app`` (which ``setup_web`` has set up: templates, CSRF keys).

    ``placeholder_voice``: the voice pack is a placeholder (English speech standing in for Khmer); every voice
    note the bot sends says so on the page."""
    app[CHAT] = ChatDemo(api, moderators_chat_id, list(moderator_ids), placeholder_voice)
    app.router.add_get("/demo/chat", chat_page)
    app.router.add_get("/demo/chat/updates", chat_updates)
    app.router.add_post(SEND_PATH, chat_send)
    app.router.add_get("/demo/chat/file/{file_id}", chat_file)
