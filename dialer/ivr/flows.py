"""The IVR call flows as a state table: each step answers a webhook with TwiML and says what comes next.

Steps: consent (1 yes, 9 never) · menu (1 apply, 2 back in an hour, 3 back tomorrow, 4 again, 9 stop, 0 bye)
· experience (1 yes, 2 no) · checkin (1 all well, 9 or 2 help) · outcome (9 never; anything else goodbye).
A call carries up to ``jobs_per_call`` jobs; after an application, or after the menu went unanswered twice, the
next job follows. See docs/ivr.md.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import lazyload
from twilio.twiml.voice_response import VoiceResponse

from dialer.calls.hours import CallingHours
from dialer.calls.lifecycle import MACHINE_ANSWERS
from dialer.calls.scheduling import schedule_callback
from dialer.ivr.prompt_audio import VoiceAudio, playable_part
from dialer.settings import DialerSettings
from jobs_core.errors import DomainError
from jobs_core.model import (
    Application,
    ApplicationStatus,
    Call,
    CallPurpose,
    CallStatus,
    Consent,
    Job,
    Nomination,
    Worker,
)
from jobs_core.services.applications import Apply, decline_application
from jobs_core.services.calls import apply_on_call, opt_out_on_call, raise_checkin_alarm
from jobs_core.services.people import RecordConsent, record_consent
from jobs_core.uow import SavepointUnitOfWork, UnitOfWork
from media import composer
from media.catalog import SECTORS
from media.composer import ClipDurations, PitchJob, Utterance
from media.listing_pitch import pitch_job

log = logging.getLogger(__name__)

LIVE = (CallStatus.QUEUED, CallStatus.IN_PROGRESS)
MAX_REPLAYS = 3
ALARM_KEYS = ("9",)  # "not paid, cannot leave, documents taken": the check-in question says so


@dataclass
class CallTurn:
    """What one webhook answers: prompts to play, whether to wait for a key (and at which step), or hang up."""

    speech: list[Utterance]
    gather_step: str | None = None


def say_then_hang_up(*speech: Utterance) -> CallTurn:
    return CallTurn(list(speech))


def ask_key(step: str, *speech: Utterance) -> CallTurn:
    return CallTurn(list(speech), step)


class CallFlows:
    """Answers the provider's webhooks for our outbound calls."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: DialerSettings,
        audio: VoiceAudio,
        now: Callable[[], datetime],
        hang_up_call: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.audio = audio
        self.now = now
        self.hang_up_call = hang_up_call
        self.lang = settings.language
        self.hours = CallingHours.of(settings)

    def uow(self, session: AsyncSession) -> UnitOfWork:
        """A service's unit of work inside the webhook's transaction (never a second one, which would wait for the
        call row this webhook holds): its change commits with the call's state."""
        return SavepointUnitOfWork(session, now=self.now())

    # --- webhooks -------------------------------------------------------------------------------------------

    async def answer(self, call_id: int, attempt: int, params: dict[str, str]) -> str:
        """The call was answered: the first prompt of its flow."""
        return await self._reply(call_id, attempt, await self._answered(call_id, attempt, params))

    async def gather(self, call_id: int, attempt: int, step: str, seq: int, params: dict[str, str]) -> str:
        """A key was pressed (or none, after a timeout) at ``step``."""
        return await self._reply(call_id, attempt, await self._pressed(call_id, attempt, step, seq, params))

    async def _reply(self, call_id: int, attempt: int, reply: tuple[CallTurn, int] | str) -> str:
        # Rendered once the call's change is committed and its row released: rendering audio may take
        # ffmpeg's time, and a status callback of the same call must not wait for it.
        if isinstance(reply, str):
            return reply
        turn, seq = reply
        return await self.render(turn, call_id, attempt, seq)

    async def _answered(self, call_id: int, attempt: int, params: dict[str, str]) -> tuple[CallTurn, int] | str:
        async with self.sessions() as session, session.begin():
            call = await self._live_call(session, call_id, attempt, params)
            if call is None:
                return say_then_hang_up(composer.goodbye(self.lang)), 0
            state = dict(call.flow_state or {})
            if call.status is CallStatus.QUEUED:
                call.move_to(CallStatus.IN_PROGRESS)
                call.answered_at = self.now()
                log.info("call %s attempt %s answered", call.id, attempt)
            if params.get("AnsweredBy") in MACHINE_ANSWERS:
                state.update(machine=True, answered_by=params["AnsweredBy"], step="done")
                call.flow_state = state
                return str(VoiceResponse().hangup())
            if state.get("step") not in (None, "start"):
                # A repeated answer webhook: say the current step again, change nothing.
                return await self._current(session, call, state), state["seq"]
            state["seq"] = int(state.get("seq", 0)) + 1
            turn = await self._opening(session, call, state)
            state["step"] = turn.gather_step or "done"
            call.flow_state = state
            return turn, state["seq"]

    async def _pressed(
        self, call_id: int, attempt: int, step: str, seq: int, params: dict[str, str]
    ) -> tuple[CallTurn, int] | str:
        digits = (params.get("Digits") or "").strip()[:1]
        async with self.sessions() as session, session.begin():
            call = await self._live_call(session, call_id, attempt, params)
            if call is None:
                return say_then_hang_up(composer.goodbye(self.lang)), 0
            state = dict(call.flow_state or {})
            if state.get("step") != step or int(state.get("seq", 0)) != seq:
                # A duplicate or a replay: answer with where the call is now, write nothing.
                log.info("call %s: stale gather (step %s seq %s) ignored", call.id, step, seq)
                return await self._current(session, call, state), state["seq"]
            if call.status is CallStatus.QUEUED:
                call.move_to(CallStatus.IN_PROGRESS)
                call.answered_at = self.now()
                log.info("call %s attempt %s answered", call.id, attempt)
            if digits:
                log.info("call %s attempt %s: key %s at %s", call.id, attempt, digits, step)
                call.keys = [
                    *(call.keys or []),
                    {"step": step, "digits": digits, "at": self.now().isoformat(), "attempt": attempt},
                ]
            handler = IVR_STEPS.get(step)
            turn = (
                await handler(self, session, call, state, digits) if handler else say_then_hang_up(composer.goodbye())
            )
            state["seq"] = seq + 1
            state["step"] = turn.gather_step or "done"
            call.flow_state = state
            return turn, state["seq"]

    async def _live_call(
        self, session: AsyncSession, call_id: int, attempt: int, params: dict[str, str]
    ) -> Call | None:
        # The lock order of docs/ivr.md: the worker before its call (a key press may change the worker).
        worker_id = await session.scalar(select(Call.worker_id).where(Call.id == call_id))
        if worker_id is not None:
            await session.execute(select(Worker.id).where(Worker.id == worker_id).with_for_update(key_share=True))
        call = await session.get(Call, call_id, with_for_update=True, options=[lazyload(Call.worker)])
        if call is None or call.attempts != attempt or call.status not in LIVE:
            log.info("webhook for call %s attempt %s that is not live: goodbye", call_id, attempt)
            return None
        sid = params.get("CallSid")
        if call.provider_sid is None and sid:
            call.provider_sid = sid
        elif sid and call.provider_sid != sid:
            log.warning("call %s: webhook from %s but the call is %s", call_id, sid, call.provider_sid)
            return None
        if (call.flow_state or {}).get("step") == "done":
            return None
        return call

    # --- TwiML ----------------------------------------------------------------------------------------------

    async def render(self, turn: CallTurn, call_id: int, attempt: int, seq: int) -> str:
        response = VoiceResponse()
        if turn.gather_step is None:
            for utterance in turn.speech:
                await self._speak(response, utterance)
            response.hangup()
            return str(response)
        query = urlencode({"call": call_id, "attempt": attempt, "step": turn.gather_step, "seq": seq})
        action = f"{self.settings.public_base}/voice/gather?{query}"
        gather = response.gather(
            num_digits=1, action=action, method="POST", timeout=self.settings.gather_timeout, finish_on_key=""
        )
        for utterance in turn.speech:
            await self._speak(gather, utterance)
        # No key before the timeout: the same action without Digits.
        response.redirect(action, method="POST")
        return str(response)

    async def _speak(self, verb: Any, utterance: Utterance) -> None:
        # Never an English <Say> in a Khmer call: what cannot be played is left out, and logged.
        try:
            path = await self.audio.url_path(utterance)
        except Exception as exc:
            try:
                playable = playable_part(utterance, self.audio.durations(utterance.lang))
                if playable is None:
                    raise exc
                path = await self.audio.url_path(playable)
            except Exception as final:
                log.error("audio for %s unavailable (%s): that part of the call is skipped", utterance.keys[:3], final)
                return
        verb.play(self.settings.public_base + path)

    # --- steps ----------------------------------------------------------------------------------------------

    async def _recommender(self, session: AsyncSession, call: Call) -> tuple[str, Path | None]:
        """How the nominating relative knows the worker, and their recorded greeting if its file is there."""
        row = None
        if call.nomination_id is not None:
            row = (
                await session.execute(
                    select(Nomination.relation, Nomination.greeting_clip).where(Nomination.id == call.nomination_id)
                )
            ).first()
        if row is None:
            return "relative", None
        relation, clip = row
        greeting = Path(clip) if clip else None
        if greeting is not None and not greeting.is_file():
            log.error("call %s: the relative's greeting %s is gone; the relation clip alone", call.id, greeting.name)
            greeting = None
        return relation.recommender.value, greeting

    async def _opening(self, session: AsyncSession, call: Call, state: dict[str, Any]) -> CallTurn:
        lang = self.lang
        if call.purpose is CallPurpose.CHECKIN:
            return ask_key("checkin", composer.checkin_question(lang))
        if call.purpose is CallPurpose.OUTCOME:
            return await self._outcome(session, call, state)
        relation, greeting = await self._recommender(session, call)
        # "Your sister gave us your number", then, if she recorded one, her own greeting: its own <Play>.
        opening = [composer.intro(lang) + composer.recommended_by(relation, lang)]
        if greeting is not None:
            opening.append(composer.greeting(greeting, lang))
        if call.purpose is CallPurpose.CONSENT:
            if greeting is None:
                return ask_key("consent", composer.consent_call(relation, lang))
            return ask_key("consent", *opening, composer.service_description(lang) + composer.consent_question(lang))
        state.update(job=0, tries=0, replays=0)
        return await self._pitch(session, call, state, *opening)

    async def _outcome(self, session: AsyncSession, call: Call, state: dict[str, Any]) -> CallTurn:
        """The outcome of the worker's application (no recommender: the worker applied and knows what for),
        listening only for 9; anything else ends the call."""
        application = await session.get(Application, call.application_id) if call.application_id else None
        if application is None or application.status is not ApplicationStatus.NOT_HIRED:
            state["decided"] = "nothing_to_tell"
            return say_then_hang_up(composer.goodbye(self.lang))
        state["outcome"] = application.status.value
        sector = application.job.sector_code if application.job.sector_code in SECTORS else "other"
        return ask_key("outcome", composer.not_hired(sector, self.lang))

    async def outcome_step(self, session: AsyncSession, call: Call, state: dict[str, Any], digits: str) -> CallTurn:
        if digits == "9":
            return await self._opt_out(session, call, state)
        state["decided"] = "heard"
        return say_then_hang_up(composer.goodbye(self.lang))

    async def _awaiting(self, session: AsyncSession, call: Call, state: dict[str, Any]) -> bool:
        """A relative applied to the current job for this worker: the menu asks them to confirm or decline."""
        jobs: list[int] = state.get("jobs", [])
        index = int(state.get("job", 0))
        if index >= len(jobs):
            return False
        found = await session.scalar(
            select(Application.id).where(
                Application.job_id == jobs[index],
                Application.worker_id == call.worker_id,
                Application.status == ApplicationStatus.AWAITING_WORKER,
            )
        )
        return found is not None

    async def _menu(self, session: AsyncSession, call: Call, state: dict[str, Any]) -> Utterance:
        if await self._awaiting(session, call, state):
            return composer.confirm_menu(self.lang)
        return composer.job_menu(self.lang)

    async def _pitch(
        self,
        session: AsyncSession,
        call: Call,
        state: dict[str, Any],
        *opening: Utterance,
        intro: Utterance | None = None,
    ) -> CallTurn:
        jobs: list[int] = state.get("jobs", [])
        index = int(state.get("job", 0))
        if index >= len(jobs):
            return say_then_hang_up(composer.goodbye(self.lang))
        job = await session.get(Job, jobs[index])
        speech = list(opening)
        speech.append(intro or composer.pitch_intro(self.lang))
        # compose_pitch ends with the safety line itself; the pack's clip lengths keep it within 45 s.
        speech.append(pitch_of(job, self.lang, self.audio.durations(self.lang)))
        speech.append(await self._menu(session, call, state))
        return ask_key("menu", *speech)

    async def _current(self, session: AsyncSession, call: Call, state: dict[str, Any]) -> CallTurn:
        step = state.get("step")
        if step == "consent":
            return ask_key("consent", composer.consent_question(self.lang))
        if step == "checkin":
            return ask_key("checkin", composer.checkin_question(self.lang))
        if step == "outcome":
            return ask_key("outcome", composer.stop_choice(self.lang))
        if step == "experience":
            return ask_key("experience", composer.experience_question(self.lang))
        if step == "menu":
            return ask_key("menu", await self._menu(session, call, state))
        return say_then_hang_up(composer.goodbye(self.lang))

    async def consent_step(self, session: AsyncSession, call: Call, state: dict[str, Any], digits: str) -> CallTurn:
        lang = self.lang
        if digits == "1":
            await record_consent(RecordConsent(call.worker_id, Consent.CONSENTED, f"ivr:{call.id}"), self.uow(session))
            state["decided"] = "consented"
            return say_then_hang_up(composer.consent_thanks(lang), composer.goodbye(lang))
        if digits == "9":
            return await self._opt_out(session, call, state)
        return self._again(state, "consent", composer.consent_question(lang), digits)

    def _again(self, state: dict[str, Any], step: str, prompt: Utterance, digits: str) -> CallTurn:
        """No key or a wrong one: the question once more, then goodbye."""
        state["tries"] = int(state.get("tries", 0)) + 1
        if state["tries"] > 1:
            return say_then_hang_up(composer.goodbye(self.lang))
        speech = [composer.invalid_key(self.lang)] if digits else []
        return ask_key(step, *speech, prompt)

    async def _opt_out(self, session: AsyncSession, call: Call, state: dict[str, Any]) -> CallTurn:
        await opt_out_on_call(self.uow(session), call.worker_id, call.id)
        state["decided"] = "opted_out"
        return say_then_hang_up(composer.opt_out_confirmation(self.lang))

    async def menu_step(self, session: AsyncSession, call: Call, state: dict[str, Any], digits: str) -> CallTurn:
        lang, now = self.lang, self.now()
        jobs: list[int] = state.get("jobs", [])
        index = int(state.get("job", 0))
        if digits == "1":
            state["tries"] = 0
            return ask_key("experience", composer.experience_question(lang))
        if digits in ("2", "3"):
            when = now + timedelta(hours=1) if digits == "2" else now + timedelta(days=1)
            callback = await schedule_callback(
                session, call.worker_id, jobs[index:], when, now, self.hours, call.nomination_id
            )
            state["decided"] = "callback"
            state["callback_call"] = callback
            return say_then_hang_up(composer.callback_confirmation("hour" if digits == "2" else "tomorrow", lang))
        if digits == "4":
            state["replays"] = int(state.get("replays", 0)) + 1
            if state["replays"] <= MAX_REPLAYS:
                return await self._pitch(session, call, state)
        if digits == "9":
            return await self._opt_out(session, call, state)
        if digits == "0" and await self._awaiting(session, call, state):
            # "I do not want this job": the relative's application is withdrawn; the employer never hears of it.
            await decline_application(self.uow(session), jobs[index], call.worker_id, f"ivr:{call.id}")
            state.setdefault("declined", []).append(jobs[index])
            state["decided"] = "declined"
            return await self._next_job(session, call, state)
        if digits == "0":
            state["decided"] = "goodbye"
            return say_then_hang_up(composer.goodbye(lang))
        state["tries"] = int(state.get("tries", 0)) + 1
        if state["tries"] <= 1:
            speech = [composer.invalid_key(lang)] if digits else []
            return ask_key("menu", *speech, await self._menu(session, call, state))
        return await self._next_job(session, call, state)

    async def _next_job(self, session: AsyncSession, call: Call, state: dict[str, Any], *before: Utterance) -> CallTurn:
        state["job"] = int(state.get("job", 0)) + 1
        state["tries"] = 0
        # Between two jobs in one call the worker hears "we have another job", not the first job's intro again.
        turn = await self._pitch(session, call, state, intro=composer.another_job(self.lang))
        turn.speech[:0] = list(before)
        if turn.gather_step is None:
            state.setdefault("decided", "heard")
        return turn

    async def experience_step(self, session: AsyncSession, call: Call, state: dict[str, Any], digits: str) -> CallTurn:
        if digits not in ("1", "2"):
            state["tries"] = int(state.get("tries", 0)) + 1
            if state["tries"] <= 1:
                speech = [composer.invalid_key(self.lang)] if digits else []
                return ask_key("experience", *speech, composer.experience_question(self.lang))
        experience = {"1": "yes", "2": "no"}.get(digits, "unknown")
        job_id = state["jobs"][int(state.get("job", 0))]
        thanks: list[Utterance] = []
        try:
            await apply_on_call(
                Apply(job_id=job_id, channel="ivr", worker_id=call.worker_id, experience=experience), self.uow(session)
            )
        except DomainError as exc:
            log.info("call %s: application to job %s refused: %s", call.id, job_id, exc)
        else:
            state.setdefault("applied", []).append(job_id)
            thanks.append(composer.company_will_contact(self.lang))
        state["decided"] = "applied"
        return await self._next_job(session, call, state, *thanks)

    async def checkin_step(self, session: AsyncSession, call: Call, state: dict[str, Any], digits: str) -> CallTurn:
        lang = self.lang
        if digits == "1":
            state["decided"] = "well"
            return say_then_hang_up(composer.checkin_ok(lang))
        if digits in ALARM_KEYS:
            job_id = call.job_ids[0] if call.job_ids else None
            await raise_checkin_alarm(self.uow(session), call_id=call.id, worker_id=call.worker_id, job_id=job_id)
            state["decided"] = "alarm"
            return say_then_hang_up(composer.checkin_help(lang))  # a person will call; the hotlines; goodbye last
        return self._again(state, "checkin", composer.checkin_question(lang), digits)


IVR_STEPS: dict[str, Callable[[CallFlows, AsyncSession, Call, dict[str, Any], str], Awaitable[CallTurn]]] = {
    "consent": CallFlows.consent_step,
    "menu": CallFlows.menu_step,
    "experience": CallFlows.experience_step,
    "checkin": CallFlows.checkin_step,
    "outcome": CallFlows.outcome_step,
}


def pitch_of(job: Job | None, lang: str, durations: ClipDurations | None = None) -> Utterance:
    """The spoken pitch of a job, ending with the safety line; with clip durations it fits the 45 s limit.

    A closed or odd listing still gets its sector said; clip lengths that cannot be read (a clip missing from
    the pack) mean the pitch is composed without the limit rather than not at all.
    """
    if job is None:
        return composer.pitch_intro(lang)
    try:
        facts = pitch_job(job, job.voice_clip_approved)
    except Exception as exc:
        log.error("job %s: pitch could not be composed (%s); sector only", job.id, exc)
        sector = job.sector_code if job.sector_code in SECTORS else "other"
        return composer.compose_pitch(PitchJob(sector=sector), lang, durations)
    if durations is not None:
        try:
            return composer.compose_pitch(facts, lang, durations)
        except Exception as exc:
            log.error("job %s: clip lengths unavailable (%s); pitch composed without the 45 s limit", job.id, exc)
    return composer.compose_pitch(facts, lang)


async def pending_pitch_jobs(session: AsyncSession, worker: Worker, now: datetime) -> Sequence[int]:
    """Live jobs of a worker's calls not yet heard (pending, waiting for a retry, or missed)."""
    rows = await session.scalars(
        select(Call)
        .options(lazyload(Call.worker))
        .where(
            Call.worker_id == worker.id,
            Call.purpose.in_((CallPurpose.JOB_PITCH, CallPurpose.CALLBACK)),
            Call.status.in_((CallStatus.PENDING, CallStatus.RETRY_WAIT, CallStatus.FAILED)),
        )
        .order_by(Call.id)
    )
    job_ids: list[int] = []
    for call in rows.all():
        job_ids.extend(j for j in call.job_ids if j not in job_ids)
    if not job_ids:
        return []
    jobs = (await session.scalars(select(Job).where(Job.id.in_(job_ids)))).all()
    live = {job.id for job in jobs if job.is_live(now)}
    return [j for j in job_ids if j in live]
