"""Start: language, role (helping a family member | employer), help with the hotlines, /stop and /start."""

from __future__ import annotations

from conversations.common import safety_line
from conversations.i18n import LANGUAGES
from conversations.replies import Button
from conversations.state import IDLE
from conversations.turn import ASK_AGAIN, BadInput, KeepState, Step, Turn
from jobs_core.model import Language

LANGUAGE_NAMES = {"km": "ភាសាខ្មែរ", "en": "English"}


def language_buttons() -> tuple[tuple[Button, ...], ...]:
    return (tuple(Button(LANGUAGE_NAMES[code], f"lang:{code}") for code in LANGUAGES),)


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
    _ = t._
    t.started = True
    relative = await t.existing_relative()
    if relative is not None and relative.stopped:
        relative.stopped = False
        t.uow.audit(t.actor, "relative.restarted", "relative", relative.id)
    if not t.language_known and t.chosen_language is None:
        t.say("សូមជ្រើសរើសភាសា · Please choose your language", language_buttons())
        return IDLE
    t.say(_("Welcome to Bong Pheak! We help your family members find safe jobs in Cambodia."))
    return await show_menu(t)


async def choose_language(t: Turn, args: list[str]) -> str:
    """lang:<code>: switch language at any time; an open question is asked again in the new language."""
    if not args or args[0] not in LANGUAGES:
        raise BadInput(t._("This button is no longer valid."))
    t.set_language(args[0])
    t.chosen_language = args[0]
    relative = await t.existing_relative()
    if relative is not None:
        relative.language = Language(args[0])
    t.say(t._("Language: English") if args[0] == "en" else "ភាសា៖ ខ្មែរ")
    if not t.started:
        t.started = True
        t.say(t._("Welcome to Bong Pheak! We help your family members find safe jobs in Cambodia."))
        return await show_menu(t)
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
