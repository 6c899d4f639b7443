"""Adding a family member for job calls, question by question; nobody is called before saying yes on the phone."""

from __future__ import annotations

from sqlalchemy import func, select

from conversations import greeting
from conversations.errors import error_message
from conversations.flows.apply import _for_job
from conversations.labels import GENDERS, RELATIONSHIPS
from conversations.pickers import (
    back_and_cancel,
    back_button,
    pick_province,
    province_from,
    sector_label,
    toggle,
    toggles,
)
from conversations.replies import Button
from conversations.state import IDLE
from conversations.turn import BadInput, Step, Turn
from jobs_core import geo
from jobs_core.clock import local_date, start_of_local_day
from jobs_core.errors import DomainError, InvalidField, LimitReached, NotAllowed
from jobs_core.model import Nomination, Worker
from jobs_core.numbers import parse_int
from jobs_core.phones import display_phone, normalize_phone
from jobs_core.services import people
from jobs_core.text import clean_text
from jobs_core.typed import parse_year


async def nominate(t: Turn, args: list[str]) -> str:
    """Start adding a family member (refused early when today's limit is reached)."""
    t.started = True
    relative = await t.relative()
    made_today = await t.session.scalar(
        select(func.count())
        .select_from(Nomination)
        .where(Nomination.relative_id == relative.id, Nomination.created_at >= start_of_local_day(t.now))
    )
    if (made_today or 0) >= t.deps.nominations_per_day:
        raise LimitReached("nominations per day", t.deps.nominations_per_day)
    t.data = {}
    if len(args) == 2 and args[1] in ("apply", "call"):  # nom:<job>:<purpose>, from a job's "for whom?"
        t.data.update(job_id=parse_int("job", args[0], minimum=1, maximum=2**31 - 1), purpose=args[1])
    t.say(t._("We will call your family member to tell them about jobs. We never call anyone who did not agree."))
    return await ask_name(t)


async def ask_name(t: Turn) -> str:
    """What is their name?"""
    t.say(t._("What is your family member's name?"), (back_and_cancel(t, back=False),))
    return "nominate.name"


async def take_name(t: Turn) -> str:
    """The name → their phone number."""
    t.data["name"] = clean_text("name", t.require_text(), max_length=120, required=True)
    return await ask_phone(t)


async def ask_phone(t: Turn) -> str:
    """What is their phone number? (typed: no "send my number" button, the relative's own is not theirs)"""
    t.say(
        t._("What is {name}'s phone number? For example 012 345 678.").format(name=t.data["name"]),
        (back_and_cancel(t),),
    )
    return "nominate.phone"


async def take_phone(t: Turn) -> str:
    """A valid Cambodian number (Khmer digits accepted), not one this relative added before → the relation."""
    if t.incoming.contact_phone and t.incoming.extra.get("contact_is_own") == "1":
        raise BadInput(
            t._("That is your own number. Please type your family member's number, for example 012 345 678.")
        )
    raw = t.incoming.contact_phone or t.require_text(t._("Please type the phone number, for example 012 345 678."))
    phone = normalize_phone(raw)
    relative = await t.relative()
    # Only this relative's own nominations: whether anyone else added the number must not show.
    already = await t.session.scalar(
        select(Nomination.id)
        .join(Worker, Worker.id == Nomination.worker_id)
        .where(Nomination.relative_id == relative.id, Worker.phone == phone)
    )
    if already is not None:
        raise NotAllowed("you have already nominated this person")
    t.data["phone"] = phone
    return await ask_relation(t)


async def ask_relation(t: Turn) -> str:
    """How are you related?"""
    options = [(t._(label), code) for code, label in RELATIONSHIPS.items()]
    t.say(t._("Who is {name} to you?").format(name=t.data["name"]), (*t.choices(options), back_and_cancel(t)))
    return "nominate.relation"


async def take_relation(t: Turn) -> str:
    """The relationship → their gender."""
    if t.choice not in RELATIONSHIPS:
        raise BadInput(t._("Please choose one of the buttons."))
    t.data["relation"] = t.choice
    return await ask_gender(t)


async def ask_gender(t: Turn) -> str:
    """Man or woman?"""
    options = [(t._(label), code) for code, label in GENDERS.items()]
    t.say(t._("Is {name} a man or a woman?").format(name=t.data["name"]), (*t.choices(options), back_and_cancel(t)))
    return "nominate.gender"


async def take_gender(t: Turn) -> str:
    """The gender → their birth year."""
    if t.choice not in GENDERS:
        raise BadInput(t._("Please choose one of the buttons."))
    t.data["gender"] = t.choice
    return await ask_birth_year(t)


async def ask_birth_year(t: Turn) -> str:
    """Which year were they born?"""
    t.say(t._("In which year was {name} born? For example 1998.").format(name=t.data["name"]), (back_and_cancel(t),))
    return "nominate.birth_year"


async def take_birth_year(t: Turn) -> str:
    """A plausible birth year (Latin or Khmer digits; at least 15 years old) → their province."""
    this_year = local_date(t.now).year
    typed = t.require_text(t._("Please type the year, for example 1998."))
    try:  # "១៩៩៨", "ឆ្នាំ 1998", with emoji or zero-width spaces
        year = parse_year(typed, minimum=this_year - 80, maximum=this_year)
    except InvalidField as exc:
        if exc.code != "not_a_year":
            raise
        raise BadInput(t._("Please type the year, for example 1998.")) from exc
    if this_year - year < people.MIN_WORKER_AGE:
        raise InvalidField("birth_year", "too_young", "too young")
    t.data["birth_year"] = year
    return await ask_province(t)


async def ask_province(t: Turn) -> str:
    """Where do they live?"""
    pick_province(t, t._("In which province does {name} live?").format(name=t.data["name"]), nav=(back_and_cancel(t),))
    return "nominate.province"


async def take_province(t: Turn) -> str:
    """The province → the kinds of work they want."""
    t.data["province"] = province_from(t)
    t.data["sectors"] = []
    return await ask_sectors(t)


async def _sector_options(t: Turn) -> dict[str, str]:
    # Sector names come from the database in both languages, not from the catalog.
    return {s.code: sector_label(s, t.language) for s in await t.sectors()}


async def ask_sectors(t: Turn) -> str:
    """Which kinds of work? (several; none means any)"""
    options = await _sector_options(t)
    chosen = list(t.data.get("sectors", []))
    keyboard = toggles(t, options, chosen, t._("Done ✔️"))
    t.say(
        t._("What kind of work does {name} want? Choose one or more, then press Done.").format(name=t.data["name"]),
        (*keyboard, back_and_cancel(t)),
    )
    return "nominate.sectors"


async def take_sectors(t: Turn) -> str:
    """Toggle a sector, or Done → the confirmation."""
    choice = t.choice or ""
    if choice.startswith("t:"):
        code = choice[2:]
        if code not in await _sector_options(t):
            raise BadInput(t._("Please choose one of the buttons."))
        t.data["sectors"] = toggle(list(t.data.get("sectors", [])), code)
        return await ask_sectors(t)  # the engine edits the pressed message rather than sending a new one
    if choice != "done":
        raise BadInput(t._("Please choose one or more kinds of work, then press Done."))
    return await ask_greeting(t)


async def ask_greeting(t: Turn) -> str:
    """A short recorded greeting, so the worker hears whom the call is from (or skip)?"""
    return greeting.ask(t)


async def take_greeting(t: Turn) -> str:
    """The greeting (normalised, at most five seconds) or skip → the confirmation."""
    await greeting.take(t)
    return await ask_confirm(t)


async def ask_confirm(t: Turn) -> str:
    """Did they agree to be called?"""
    _ = t._
    d = t.data
    sectors = await _sector_options(t)
    summary = "\n".join(
        [
            f"👤 {d['name']}",
            f"📞 {display_phone(d['phone'])}",
            f"🤝 {_(RELATIONSHIPS[d['relation']])} · {_(GENDERS[d['gender']])} · {d['birth_year']}",
            f"📍 {geo.province(d['province']).name(t.language)}",
            "💼 " + (", ".join(sectors.get(s, s) for s in d.get("sectors", [])) or _("Any kind of work")),
            *(["🎙 " + _("Your greeting is recorded")] if d.get("greeting") else []),
        ]
    )
    t.say(
        summary + "\n\n" + _("Did {name} agree that we call them about jobs?").format(name=d["name"]),
        (
            (t.step_button(_("✅ Yes, they agreed"), "yes"),),
            (t.step_button(_("↩️ Back"), "back"), t.step_button(_("❌ Cancel"), "no")),
        ),
    )
    return "nominate.confirm"


async def take_confirm(t: Turn) -> str:
    """Yes → the nomination (daily limit checked); No → nothing is saved."""
    _ = t._
    if t.choice == "no":
        t.say(_("Cancelled. Nothing was saved."), ((back_button(t, "rel"),),))
        return IDLE
    if t.choice != "yes":
        raise BadInput(_("Please press one of the buttons."))
    relative = await t.relative()
    d = t.data
    added = await people.nominate_worker(
        people.NominateWorker(
            relative_id=relative.id,
            name=d["name"],
            phone=d["phone"],
            relation=d["relation"],
            gender=d["gender"],
            birth_year=d["birth_year"],
            province=d["province"],
            sectors=tuple(d.get("sectors", [])),
            agreed_to_calls=True,
            greeting_clip=d.get("greeting"),
        ),
        t.uow,
        per_day=t.deps.nominations_per_day,
    )
    # One answer whatever the phone's past: a known number, an agreed or an opted-out one must not show.
    t.say(
        _("Thank you! We added {name}. Nobody gets job calls without saying yes on the phone first.").format(
            name=d["name"]
        )
    )
    if d.get("job_id"):
        nomination = await t.session.get(Nomination, added.nomination_id)
        assert nomination is not None
        try:
            return await _for_job(t, nomination, int(d["job_id"]), str(d.get("purpose")))
        except DomainError as exc:  # the job closed meanwhile: the family member stays added
            t.say(error_message(exc, t._))
    t.say(_("Anything else?"), ((Button(_("👪 My family members"), "family"),), (back_button(t, "rel"),)))
    return IDLE


STEPS: dict[str, Step] = {
    "nominate.name": Step(ask_name, take_name),
    "nominate.phone": Step(ask_phone, take_phone),
    "nominate.relation": Step(ask_relation, take_relation),
    "nominate.gender": Step(ask_gender, take_gender),
    "nominate.birth_year": Step(ask_birth_year, take_birth_year),
    "nominate.province": Step(ask_province, take_province),
    "nominate.sectors": Step(ask_sectors, take_sectors),
    "nominate.confirm": Step(ask_confirm, take_confirm),
    greeting.GREETING_STEP: Step(ask_greeting, take_greeting),
}
# Each question's Back button asks the one before it again (what was answered stays until answered anew).
PREVIOUS = {
    "nominate.phone": "nominate.name",
    "nominate.relation": "nominate.phone",
    "nominate.gender": "nominate.relation",
    "nominate.birth_year": "nominate.gender",
    "nominate.province": "nominate.birth_year",
    "nominate.sectors": "nominate.province",
    "nominate.greeting": "nominate.sectors",
    "nominate.confirm": "nominate.greeting",
}
ACTIONS = {"nom": nominate}
COMMANDS = {"nominate": "nom"}
