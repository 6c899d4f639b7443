"""The dialog engine: one function turns what a person did into replies, with state kept in PostgreSQL.

    replies = await handle(incoming, deps)

``incoming`` is a :class:`conversations.replies.Incoming` (text, a pressed button's action, a shared contact,
a voice recording, or "other media"); ``deps`` a :class:`DialogDeps`. The result is a list of replies
(Text, Voice, JobCard, AskPhone, AskVoice) for ``incoming.chat_id``.

A turn is one transaction: the person's ``conversation_state`` row (keyed by channel, chat and user) is
locked with ``SELECT … FOR UPDATE`` first, so two updates for one chat, in one process or several, run one
after the other; the flow's domain changes (through jobs_core services) and the new state commit together.
A step that refuses the input (``BadInput`` or a jobs_core ``DomainError``) is rolled back to a savepoint:
the person gets a short message in their language and the same question again; the state is unchanged.
Anything unexpected is logged and answered with an apology, and nothing is stored.

No turn waits for ffmpeg inside its transaction: job cards and review cards take voice notes from the audio
cache only (``DialogDeps.cached_audio``, see ``conversations.voice_notes``), and an employer's recording is
normalised by ``prepare(incoming, deps)``, which an adapter calls before it opens the update's transaction
(a turn given an unprepared recording still normalises it itself).

Buttons: global actions are ``verb:args`` (``job:12:apply``, ``jobs:12:construction:3``, ``lang:en``) and
check ownership themselves; buttons answering the current question are ``@<version>:<value>`` and are
refused as stale once the state has moved on.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import replace
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Table, and_, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from conversations import greeting, invoices, linking
from conversations.errors import error_message
from conversations.flows import (
    alerts,
    apply,
    browse,
    family,
    job_questions,
    listings,
    moderate,
    nominate,
    post_job,
    register,
    report,
    start,
    walks,
)
from conversations.i18n import gettext_for, language_or_default
from conversations.pickers import BACK, CANCEL, TOGGLE, back_button, edit_in_place
from conversations.replies import Button, Incoming, Reply, Text
from conversations.state import IDLE, ConversationState
from conversations.turn import ASK_AGAIN, Action, BadInput, DialogDeps, KeepState, Step, Turn
from jobs_core.errors import DomainError
from jobs_core.uow import SavepointUnitOfWork

__all__ = ["ACTIONS", "COMMANDS", "STEPS", "DialogDeps", "handle", "prepare"]

log = logging.getLogger(__name__)

STEPS: dict[str, Step] = {
    **start.STEPS,
    **browse.STEPS,
    **apply.STEPS,
    **report.STEPS,
    **nominate.STEPS,
    **alerts.STEPS,
    **register.STEPS,
    **post_job.STEPS,
    **moderate.STEPS,
}
ACTIONS: dict[str, Action] = {
    **start.ACTIONS,
    **browse.ACTIONS,
    **apply.ACTIONS,
    **nominate.ACTIONS,
    **family.ACTIONS,
    **alerts.ACTIONS,
    **register.ACTIONS,
    **post_job.ACTIONS,
    **listings.ACTIONS,
    **moderate.ACTIONS,
    **invoices.ACTIONS,
    **linking.ACTIONS,
}
COMMANDS: dict[str, str] = {
    **start.COMMANDS,
    **browse.COMMANDS,
    **nominate.COMMANDS,
    **family.COMMANDS,
    **alerts.COMMANDS,
    **register.COMMANDS,
    **post_job.COMMANDS,
    **listings.COMMANDS,
    **moderate.COMMANDS,
    **linking.COMMANDS,
}
# A question → the one before it, for the Back button of multi-step flows.
PREVIOUS: dict[str, str] = {**browse.PREVIOUS, **report.PREVIOUS, **nominate.PREVIOUS, **alerts.PREVIOUS}
# What works before /start: choosing a language, reading the help, and the moderators' tools.
BEFORE_START = {"start", "lang", "language", "help"}
MAX_TEXT = 4000  # longer texts are cut: nothing a step asks for is that long


async def handle(incoming: Incoming, deps: DialogDeps) -> list[Reply]:
    """Answer one thing a person did; never raises (an unexpected failure becomes an apology)."""
    try:
        return await _handle(incoming, deps)
    except Exception:
        log.exception("dialog failed for %s:%s", incoming.channel, incoming.chat_id)
        _ = gettext_for(language_or_default(incoming.language_hint))
        return [Text(_("Sorry, something went wrong. Please try again."))]


async def prepare(incoming: Incoming, deps: DialogDeps) -> Incoming:
    """The slow part of an input, done before the update's transaction opens, so no turn holds its lock while
    ffmpeg runs: an employer's recording sent at the voice-description question (or a relative's greeting at
    the greeting question) is normalised here, and the
    turn only attaches the clip (or says why it cannot be used). Optional: a turn given an unprepared
    recording normalises it itself. Reads the person's step in a short transaction of its own."""
    if incoming.voice is None or deps.clip_normaliser is None or incoming.voice_clip or incoming.voice_problem:
        return incoming
    key = {"channel": incoming.channel, "chat_id": incoming.chat_id[:64], "user_id": incoming.user_id[:64]}
    async with deps.session_factory() as session, session.begin():
        step = await session.scalar(select(ConversationState.step).filter_by(**key))
    if step == greeting.GREETING_STEP:  # a relative's greeting: the same, at most five seconds
        clip = await greeting.normalise(deps, incoming.voice)
    elif step != job_questions.VOICE_STEP:  # anyone else's recording is left to the flow, unprocessed
        return incoming
    else:
        clip = await post_job.normalise_clip(deps, incoming.voice)
    if isinstance(clip, str):
        return replace(incoming, voice_problem=clip)
    return replace(incoming, voice_clip=clip)


class _Stored(NamedTuple):
    """The person's state as the turn found it (what a refused input goes back to)."""

    step: str
    data: dict[str, Any]
    language: str | None
    started: bool
    version: int


# The state is read and written as plain rows, not ORM objects: two statements built once (their compiled form
# is cached) instead of an identity map, change tracking and a flush on every turn.
_STATE: Table = ConversationState.__table__  # type: ignore[assignment]
_KEY = and_(
    _STATE.c.channel == bindparam("k_channel"),
    _STATE.c.chat_id == bindparam("k_chat_id"),
    _STATE.c.user_id == bindparam("k_user_id"),
)
_LOCK = (
    select(_STATE.c.step, _STATE.c.data, _STATE.c.language, _STATE.c.started, _STATE.c.version)
    .where(_KEY)
    .with_for_update()
)
_CREATE = (
    insert(_STATE)
    .values(
        channel=bindparam("k_channel"),
        chat_id=bindparam("k_chat_id"),
        user_id=bindparam("k_user_id"),
        flow="start",
        step=IDLE,
        data={},
        started=False,
        version=0,
        updated_at=bindparam("now"),
    )
    .on_conflict_do_nothing(index_elements=["channel", "chat_id", "user_id"])
)
_SAVE = (
    update(_STATE)
    .where(_KEY)
    .values(
        flow=bindparam("flow"),
        step=bindparam("step"),
        data=bindparam("data", type_=_STATE.c.data.type),
        language=bindparam("language", type_=_STATE.c.language.type),
        started=bindparam("started"),
        version=_STATE.c.version + 1,
        updated_at=bindparam("now"),
    )
)


def _state_key(incoming: Incoming) -> dict[str, str]:
    return {"k_channel": incoming.channel, "k_chat_id": incoming.chat_id[:64], "k_user_id": incoming.user_id[:64]}


async def _lock_state(session: AsyncSession, key: dict[str, str], now: datetime) -> _Stored:
    # Nearly every turn is of someone known: one round trip; the row is created only at a first contact.
    row = (await session.execute(_LOCK, key)).first()
    if row is None:
        await session.execute(_CREATE, {**key, "now": now})
        row = (await session.execute(_LOCK, key)).first()
        assert row is not None
    return _Stored(*row)


async def _handle(incoming: Incoming, deps: DialogDeps) -> list[Reply]:
    if incoming.text is not None and len(incoming.text) > MAX_TEXT:
        incoming = Incoming(**{**incoming.__dict__, "text": incoming.text[:MAX_TEXT]})
    now = deps.clock()
    async with deps.session_factory() as session, session.begin():
        key = _state_key(incoming)
        state = await _lock_state(session, key, now)
        language = state.language or language_or_default(incoming.language_hint)
        turn = Turn(
            incoming=incoming,
            deps=deps,
            uow=SavepointUnitOfWork(session, deps.session_factory, now),
            step=state.step,
            data=copy.deepcopy(state.data or {}),  # a refused input goes back to the data as it was
            language=language,
            version=state.version,
            started=state.started,
            language_known=state.language is not None,
        )
        savepoint = await session.begin_nested()
        try:
            next_step = await _route(turn)
            if next_step == ASK_AGAIN:
                next_step = await _ask_again(turn)
            await savepoint.commit()
        except KeepState:
            await savepoint.commit()
            return turn.replies
        except (BadInput, DomainError) as exc:
            await savepoint.rollback()
            return await _refuse(turn, state, exc)
        except Exception:
            await savepoint.rollback()
            log.exception("step %s failed for %s:%s", state.step, incoming.channel, incoming.chat_id)
            return await _refuse(turn, state, BadInput(turn._("Sorry, something went wrong. Please try again.")))
        if next_step not in STEPS and next_step != IDLE:
            raise RuntimeError(f"flow went to an unknown step {next_step!r}")
        await session.execute(
            _SAVE,
            {
                **key,
                "step": next_step,
                "flow": next_step.split(".")[0] if next_step != IDLE else "start",
                "data": turn.data if next_step != IDLE else {},
                "language": turn.chosen_language or state.language,
                "started": turn.started,
                "now": now,
            },
        )
        return turn.replies


async def _refuse(turn: Turn, state: _Stored, exc: Exception) -> list[Reply]:
    """The input did not fit: say why and ask the same question again; the state stays as it was."""
    turn.replies.clear()
    turn.forget_loaded()
    turn.data = copy.deepcopy(state.data or {})
    turn.step, turn.choice, turn.button_version = state.step, None, state.version
    turn.set_language(state.language or turn.language)
    message = exc.message if isinstance(exc, BadInput) else error_message(exc, turn._)  # type: ignore[arg-type]
    turn.say(message)
    step = STEPS.get(state.step)
    if step is not None:
        try:
            savepoint = await turn.session.begin_nested()
        except Exception:
            log.exception("cannot ask %s again", state.step)
            return turn.replies
        try:
            await step.ask(turn)
            await savepoint.commit()
        except Exception:
            await savepoint.rollback()
            log.exception("asking %s again failed", state.step)
    return turn.replies


def _command(text: str | None) -> str | None:
    """``/start@SomeBot arg`` → ``start``; None when the text is not a command."""
    if not text or not text.startswith("/"):
        return None
    return text[1:].split(maxsplit=1)[0].split("@")[0].lower() if len(text) > 1 else ""


async def _route(t: Turn) -> str:
    _ = t._
    action = t.incoming.action
    command = _command(t.text)
    if action is None and command is not None:
        if command not in COMMANDS:
            raise BadInput(_("I do not know that command. Send /help to see what I can do."))
        action = COMMANDS[command]
    if action is not None:
        verb = action.split(":", 1)[0]
        # Moderators' buttons need no /start: they check who pressed them, and refuse everyone else.
        if not t.started and verb not in BEFORE_START and verb not in moderate.ACTIONS:
            return await _not_started(t)
        if action.startswith("@"):
            return await _answer_button(t, action)
        handler = ACTIONS.get(verb)
        if handler is None:
            raise BadInput(_("This button is no longer valid."))
        return await handler(t, action.split(":")[1:])
    if t.incoming.in_group and t.step not in STEPS:
        # Ordinary talk in a group (the moderators' chat) is not for the bot: it stays silent.
        raise KeepState
    if not t.started and not (t.is_moderator and t.step in moderate.STEPS):
        return await _not_started(t)
    step = STEPS.get(t.step)
    if step is None:
        t.say(_("Sorry, I did not understand. Please choose from the menu."))
        return await start.show_menu(t)
    return await step.take(t)


async def _ask_again(t: Turn) -> str:
    """The open question once more (in a newly chosen language); the menu when none is open."""
    step = STEPS.get(t.step)
    return await step.ask(t) if step is not None else await start.show_menu(t)


async def _answer_button(t: Turn, action: str) -> str:
    version, _sep, value = action[1:].partition(":")
    step = STEPS.get(t.step)
    if step is None or version != str(t.version):
        raise BadInput(t._("That button belongs to an earlier question. Please use the latest message."))
    if value in (BACK, CANCEL) and t.step.startswith(walks.NAVIGATED):
        return await post_job.navigate(t, value)
    if value == CANCEL:
        t.say(t._("Cancelled. Nothing was saved."), ((back_button(t),),))
        return IDLE
    if value == BACK and t.step in PREVIOUS:
        return await STEPS[PREVIOUS[t.step]].ask(t)
    t.choice = value
    since = len(t.replies)
    next_step = await step.take(t)
    if value.startswith(TOGGLE) and next_step == t.step:
        edit_in_place(t, since)  # a tick set or cleared: the pressed message changes, no new message comes
    return next_step


async def _not_started(t: Turn) -> str:
    t.say(
        t._("Welcome to Bong Pheak! Please press Start to begin."),
        ((Button(t._("▶️ Start"), "start"),),),
    )
    raise KeepState
