"""Start: language, role (helping a family member | employer), help with the hotlines, /stop and /start."""

from __future__ import annotations

import re

from conversations.cards import safety_line
from conversations.errors import error_message
from conversations.flows import apply, register
from conversations.i18n import LANGUAGES
from conversations.replies import Button
from conversations.state import IDLE
from conversations.turn import ASK_AGAIN, BadInput, KeepState, Step, Turn
from jobs_core.errors import DomainError
from jobs_core.model import Language

LANGUAGE_NAMES = {"km": "ភាសាខ្មែរ", "en": "English"}
# The payload of a shared card's link (t.me/<bot>?start=job_64): that job is shown after the welcome.
SHARED_JOB = re.compile(r"^job_(\d{1,9})$")
# The website's "register your company" link (t.me/<bot>?start=employer): straight into the employer menu,
# which starts the registration for someone not registered yet.
EMPLOYER_LINK = "employer"
# The website's registration form ends with t.me/<bot>?start=reg_<token>: that company is shown to confirm.
WEB_REGISTRATION = re.compile(r"^reg_([A-Za-z0-9_-]{16,60})$")


def language_buttons(payload: str = "") -> tuple[tuple[Button, ...], ...]:
    """The language choice; a deep link's payload rides along, so the job opens once a language is chosen."""
    tail = f":{payload}" if payload else ""
    return (tuple(Button(LANGUAGE_NAMES[code], f"lang:{code}{tail}") for code in LANGUAGES),)


def _payload(t: Turn) -> str:
    """``/start job_64`` → ``job_64`` (only payloads we make; anything else is ignored)."""
    parts = (t.text or "").split(maxsplit=1)
    payload = parts[1].strip() if len(parts) > 1 and parts[0].split("@")[0] == "/start" else ""
    known = SHARED_JOB.match(payload) or WEB_REGISTRATION.match(payload) or payload == EMPLOYER_LINK
    return payload if known else ""


def welcome(t: Turn, first_time: bool) -> None:
    """What the service is, that it is free and never asks for money: said before anything else at a first
    contact; a returning person gets a short hello."""
    if first_time:
        t.say(
            t._(
                "Welcome to Bong Pheak! We help people in Cambodia find safe jobs that our team has checked. "
                "Browse jobs here, or add a family member without a smartphone: we call them about jobs that fit. "
                "Bong Pheak is free. We never ask you or your family for money."
            )
        )
    else:
        t.say(t._("Welcome to Bong Pheak! We help your family members find safe jobs in Cambodia."))


async def _after_welcome(t: Turn, payload: str) -> str:
    """The shared job the link pointed at, the employer menu, a company typed on the website to confirm, or the
    menu (also when that job is no longer open)."""
    if payload == EMPLOYER_LINK:
        return await register.employer_menu(t, [])
    registration = WEB_REGISTRATION.match(payload)
    if registration is not None:
        return await register.web_registration(t, registration.group(1))
    found = SHARED_JOB.match(payload)
    if found is None:
        return await show_menu(t)
    try:
        return await apply.job_action(t, [found.group(1)])
    except DomainError as exc:  # a closed or unknown job: say so, and offer the menu instead
        t.say(error_message(exc, t._))
        return await show_menu(t)


async def show_menu(t: Turn) -> str:
    """The main menu: who are you here for?"""
    _ = t._
    keyboard: list[tuple[Button, ...]] = [
        (Button(_("👪 Help a family member find work"), "rel"),),
        (Button(_("🏢 I am an employer"), "emp"),),
        (Button(_("❓ How it works"), "help"), Button(_("🌐 Language"), "language")),
    ]
    if t.is_moderator:
        keyboard.append((Button(_("🛡 Moderation"), "mod"),))
    t.say(_("What would you like to do?"), tuple(keyboard))
    return IDLE


async def start(t: Turn, args: list[str]) -> str:
    """/start: welcome back (unstopping a stopped relative) and show the language choice or the menu."""
    first_time = not t.started
    t.started = True
    payload = _payload(t)
    known = await t.existing_relative()
    if known is not None and known.stopped:
        known.stopped = False
        t.uow.audit(t.actor, "relative.restarted", "relative", known.id)
    if not t.language_known and t.chosen_language is None:
        t.say("សូមជ្រើសរើសភាសា · Please choose your language", language_buttons(payload))
        if first_time:
            # Not started until a language is chosen: the welcome then comes in that language.
            t.started = False
        return IDLE
    welcome(t, first_time)
    return await _after_welcome(t, payload)


async def choose_language(t: Turn, args: list[str]) -> str:
    """lang:<code>[:job_<id>]: switch language any time (the open question again; first contact: the welcome)."""
    if not args or args[0] not in LANGUAGES:
        raise BadInput(t._("This button is no longer valid."))
    t.set_language(args[0])
    t.chosen_language = args[0]
    known = await t.existing_relative()
    if known is not None:
        known.language = Language(args[0])
    t.say(t._("Language: English") if args[0] == "en" else "ភាសា៖ ខ្មែរ")
    payload = args[1] if len(args) > 1 else ""
    if not t.started:
        t.started = True
        welcome(t, first_time=True)
        return await _after_welcome(t, payload)
    if payload and t.step == IDLE:
        return await _after_welcome(t, payload)
    if t.step != IDLE:
        return ASK_AGAIN
    return await show_menu(t)


async def ask_language(t: Turn, args: list[str]) -> str:
    """/language: offer the languages (the current question stays open)."""
    t.say("សូមជ្រើសរើសភាសា · Please choose your language", language_buttons())
    raise KeepState


async def help_page(t: Turn, args: list[str]) -> str:
    """/help: how it works, the hotlines and the safety line."""
    _ = t._
    t.say(
        "\n\n".join(
            [
                _("How Bong Pheak works"),
                _("1. Browse jobs that our team has checked, and listen to them as voice messages."),
                _("2. Add a family member who has no smartphone. We call them first to ask if they want job calls."),
                _("3. When a job fits, we call them, describe the job and they can apply by pressing 1."),
                _("Employers post jobs here; our moderators check every job before it is published."),
                _("Send /stop to stop all messages, /start to come back, /language to change language."),
                safety_line(_),
            ]
        ),
        ((Button(_("⬅️ Menu"), "menu"),),),
    )
    raise KeepState


async def menu(t: Turn, args: list[str]) -> str:
    """/menu or /cancel: leave any open question and show the menu."""
    t.started = True
    return await show_menu(t)


async def stop(t: Turn, args: list[str]) -> str:
    """/stop: no more messages from us; the relative is marked stopped until they /start again."""
    relative = await t.existing_relative()
    if relative is not None and not relative.stopped:
        relative.stopped = True
        t.uow.audit(t.actor, "relative.stopped", "relative", relative.id)
    t.say(t._("You will not get any more messages from us. Send /start if you want to come back."))
    return IDLE


STEPS: dict[str, Step] = {}
ACTIONS = {
    "start": start,
    "lang": choose_language,
    "language": ask_language,
    "help": help_page,
    "menu": menu,
    "cancel": menu,
    "stop": stop,
}
COMMANDS = {
    "start": "start",
    "help": "help",
    "language": "language",
    "menu": "menu",
    "cancel": "cancel",
    "stop": "stop",
}
