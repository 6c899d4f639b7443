"""The buttons the flows' questions share: province and sector pickers, multi-select toggles, Back, Cancel and
the menu.
"""

from __future__ import annotations

from conversations.replies import Button, Edit, Keyboard, Text
from conversations.turn import Turn, rows
from jobs_core import geo
from jobs_core.errors import InvalidField
from jobs_core.model import Sector

ANY = "-"  # a picker's "any province / any sector" value


def province_choices(language: str) -> list[tuple[str, str]]:
    return [(p.name(language), p.code) for p in geo.provinces()]


def sector_label(sector: Sector, language: str) -> str:
    return sector.name_km if language == "km" else sector.name_en


def pick_province(t: Turn, question: str, with_any: bool = False, nav: Keyboard = ()) -> None:
    options = province_choices(t.language)
    keyboard = t.choices(options, per_row=3)
    if with_any:
        keyboard = ((t.step_button(t._("Any province"), ANY),), *keyboard)
    t.say(question, (*keyboard, *nav))


async def pick_sector(t: Turn, question: str, with_any: bool = False, nav: Keyboard = ()) -> None:
    options = [(sector_label(s, t.language), s.code) for s in await t.sectors()]
    keyboard = t.choices(options, per_row=2)
    if with_any:
        keyboard = ((t.step_button(t._("Any kind of work"), ANY),), *keyboard)
    t.say(question, (*keyboard, *nav))


def province_from(t: Turn, allow_any: bool = False) -> str | None:
    """The province of a pressed button or a typed name/code (raises when neither fits)."""
    value = t.choice if t.choice is not None else t.require_text(t._("Please choose a province from the list."))
    if allow_any and value == ANY:
        return None
    return geo.province(value).code


async def sector_from(t: Turn, allow_any: bool = False) -> str | None:
    codes = {s.code: s for s in await t.sectors()}
    value = t.choice if t.choice is not None else t.require_text(t._("Please choose a kind of work from the list."))
    if allow_any and value == ANY:
        return None
    if value in codes:
        return value
    for code, sector in codes.items():
        if value.casefold() in (sector.name_en.casefold(), sector.name_km):
            return code
    raise InvalidField("sectors", "unknown_sector", value)


def toggles(t: Turn, options: dict[str, str], chosen: list[str], done_label: str) -> Keyboard:
    """Multi-select buttons (✅ on chosen ones) for code → label (already in the person's words), and Done."""
    buttons = [
        t.step_button(("✅ " if code in chosen else "▫️ ") + label, f"{TOGGLE}{code}") for code, label in options.items()
    ]
    return (*rows(buttons, 2), (t.step_button(done_label, "done"),))


def toggle(chosen: list[str], code: str) -> list[str]:
    return [c for c in chosen if c != code] if code in chosen else [*chosen, code]


def back_button(t: Turn, action: str = "menu") -> Button:
    return Button(t._("⬅️ Menu"), action)


# Step-button values every multi-step question understands (``conversations.dialog`` answers them).
BACK, CANCEL = "back", "cancel"
TOGGLE = "t:"  # a multi-select button's value prefix (see ``toggles``)


def back_and_cancel(t: Turn, back: bool = True) -> tuple[Button, ...]:
    """The row under a question of a multi-step flow: the previous question again, or leave saving nothing."""
    cancel = t.step_button(t._("✖️ Cancel"), CANCEL)
    return (t.step_button(t._("↩️ Back"), BACK), cancel) if back else (cancel,)


def edit_in_place(t: Turn, since: int) -> None:
    """The question said again since reply ``since`` (a toggle pressed) replaces the message whose button was
    pressed, instead of arriving as a new one: only its buttons change when the words are the same."""
    message_id = t.incoming.extra.get("message_id") if t.incoming.action else None
    said = t.replies[since:]
    if not message_id or len(said) != 1 or not isinstance(said[0], Text):
        return
    t.replies[since:] = [Edit(message_id, said[0].text, said[0].buttons, buttons_only=True)]
