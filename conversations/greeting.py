"""A relative's greeting to the family member they nominate: a voice note of at most five seconds, played on
the phone after the recommender clip, so the worker hears whom the call is from.

The recording is normalised like an employer's voice description (``media.employer_clip``), before the
update's transaction opens (``conversations.dialog.prepare``); a greeting longer than five seconds is refused
with a message asking for a shorter one rather than cut, since a cut greeting may stop mid-word.
"""

from __future__ import annotations

import logging
from pathlib import Path

from conversations.i18n import N_
from conversations.pickers import back_and_cancel
from conversations.replies import AskVoice
from conversations.turn import BadInput, DialogDeps, Turn

log = logging.getLogger(__name__)

GREETING_STEP = "nominate.greeting"  # where a recording is the expected answer (conversations.dialog.prepare)
PROBLEMS = {
    "corrupt": N_("I could not play that recording. Please record it again."),
    "too_long": N_("The greeting is too long. Please keep it under 5 seconds."),
    "too_short": N_("The recording is too short. Please say a little more."),
    "silent": N_("I could not hear anything. Please record again, closer to the phone."),
    "too_large": N_("That file is too big. Please send a short voice message."),
}


def ask(t: Turn) -> str:
    """Record a short greeting (or skip)?"""
    t.add(
        AskVoice(
            t._(
                "When we call {name}, they will hear that the call is from you. You can record a short greeting "
                "for them (up to 5 seconds), for example: “Hello Dara, it is your sister Sokha.” Or press Skip."
            ).format(name=t.data["name"]),
            ((t.step_button(t._("Skip"), "skip"),), back_and_cancel(t)),
        )
    )
    return GREETING_STEP


async def take(t: Turn) -> None:
    """A voice note (normalised) kept in the draft, or skip: the draft has no greeting."""
    if t.choice == "skip":
        t.data.pop("greeting", None)
        return
    upload = t.incoming.voice
    if upload is None:
        raise BadInput(t._("Please send a voice message, or press Skip."))
    if t.incoming.voice_problem is not None:
        raise BadInput(t._(PROBLEMS.get(t.incoming.voice_problem, PROBLEMS["corrupt"])))
    clip = t.incoming.voice_clip
    if clip is None:
        # An adapter that did not prepare the input: normalised here, inside the turn (ffmpeg, a second or so).
        normalised = await normalise(t.deps, upload)
        if isinstance(normalised, str):
            raise BadInput(t._(PROBLEMS[normalised]))
        clip = normalised
    t.data["greeting"] = str(clip)


async def normalise(deps: DialogDeps, upload: Path) -> Path | str:
    """A greeting normalised (five seconds at most), or the PROBLEMS key saying why it cannot be used."""
    normaliser = deps.greeting_normaliser or deps.clip_normaliser
    if normaliser is None:
        return upload
    try:
        return await normaliser(upload)
    except Exception as exc:
        reason = getattr(exc, "reason", None)
        if reason in PROBLEMS:
            return str(reason)
        log.exception("normalising a relative's greeting failed")
        return "corrupt"
