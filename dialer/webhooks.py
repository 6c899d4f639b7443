"""The provider's webhooks under /voice/ and the prompt audio it plays, on the one aiohttp app.

Every webhook's X-Twilio-Signature is checked against PUBLIC_BASE_URL + path (so it holds behind a proxy);
a bad or missing signature gets 403 and nothing is written. Anything that goes wrong after that still
answers 200 with valid TwiML, so a caller never hears the provider's "application error".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import lazyload
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse

from dialer.audio import MEDIA_PREFIX, VoiceAudio
from dialer.clock import Clock, RealClock
from dialer.flows import CallFlows, pending_pitch_jobs
from dialer.hours import CallingHours
from dialer.lifecycle import MACHINE_ANSWERS, apply_status
from dialer.provider import VoiceProvider
from dialer.scheduling import OPEN_STATUSES, schedule_callback, schedule_consent_call
from dialer.settings import DialerSettings
from jobs_core.errors import InvalidField
from jobs_core.model import Call, CallPurpose, CallStatus, Consent, Worker
from jobs_core.phones import normalize_phone

log = logging.getLogger(__name__)

TWIML = "text/xml"
SORRY = "Sorry, we cannot continue this call now. We will call you again. Goodbye."
CALLBACK_DELAY = timedelta(minutes=2)


@dataclass
class VoiceDeps:
    """What the voice webhooks and the dialer loop need, built once by the composition root."""

    settings: DialerSettings
    sessions: async_sessionmaker[AsyncSession]
    audio: VoiceAudio
    provider: VoiceProvider | None = None
    clock: Clock = field(default_factory=RealClock)


class VoiceWebhooks:
    def __init__(self, deps: VoiceDeps) -> None:
        self.deps = deps
        self.settings = deps.settings
        self.validator = RequestValidator(deps.settings.auth_token)
        hang_up = deps.provider.hang_up if deps.provider is not None else None
        self.flows = CallFlows(deps.sessions, deps.settings, deps.audio, deps.clock.now, hang_up)

    async def _signed_params(self, request: web.Request) -> dict[str, str] | None:
        params = {k: str(v) for k, v in (await request.post()).items()}
        signature = request.headers.get("X-Twilio-Signature", "")
        url = self.settings.public_base + request.path_qs
        if not signature or not self.validator.validate(url, params, signature):
            log.warning("voice webhook %s refused: bad or missing signature", request.path)
            return None
        return params

    @staticmethod
    def _ids(request: web.Request) -> tuple[int, int] | None:
        try:
            return int(request.query["call"]), int(request.query["attempt"])
        except (KeyError, ValueError):
            return None

    async def answer(self, request: web.Request) -> web.Response:
        params = await self._signed_params(request)
        if params is None:
            return web.Response(status=403, text="forbidden")
        ids = self._ids(request)
        try:
            if ids is None:
                return _twiml(_goodbye())
            return _twiml(await self.flows.answer(ids[0], ids[1], params))
        except Exception:
            log.exception("answer webhook failed for %s", request.query_string)
            return _twiml(_sorry())

    async def gather(self, request: web.Request) -> web.Response:
        params = await self._signed_params(request)
        if params is None:
            return web.Response(status=403, text="forbidden")
        ids = self._ids(request)
        try:
            if ids is None:
                return _twiml(_goodbye())
            step = request.query.get("step", "")
            seq = int(request.query.get("seq", "0"))
            return _twiml(await self.flows.gather(ids[0], ids[1], step, seq, params))
        except Exception:
            log.exception("gather webhook failed for %s", request.query_string)
            return _twiml(_sorry())

    async def status(self, request: web.Request) -> web.Response:
        params = await self._signed_params(request)
        if params is None:
            return web.Response(status=403, text="forbidden")
        ids = self._ids(request)
        if ids is None:
            return _twiml(VoiceResponse())
        try:
            await self._status(ids[0], ids[1], params, amd=request.query.get("amd") == "1")
        except Exception:
            log.exception("status callback failed for %s", request.query_string)
        return _twiml(VoiceResponse())

    async def _status(self, call_id: int, attempt: int, params: dict[str, str], amd: bool) -> None:
        now = self.deps.clock.now()
        hang_up_sid = None
        async with self.deps.sessions() as session, session.begin():
            call = await session.get(Call, call_id, with_for_update=True, options=[lazyload(Call.worker)])
            if call is None or call.attempts != attempt:
                log.info("status for unknown or earlier attempt (call %s, attempt %s) ignored", call_id, attempt)
                return
            sid = params.get("CallSid")
            if call.provider_sid is not None and sid and sid != call.provider_sid:
                log.warning("status for call %s from a different SID %s ignored", call_id, sid)
                return
            if amd:
                answered_by = params.get("AnsweredBy", "")
                if answered_by in MACHINE_ANSWERS and call.status in (CallStatus.QUEUED, CallStatus.IN_PROGRESS):
                    call.flow_state = {**(call.flow_state or {}), "machine": True, "answered_by": answered_by}
                    if call.provider_sid is None and sid:
                        call.provider_sid = sid
                    hang_up_sid = sid
            else:
                await apply_status(session, call, params, now, self.settings)
        if hang_up_sid and self.deps.provider is not None:
            await self.deps.provider.hang_up(hang_up_sid)

    async def incoming(self, request: web.Request) -> web.Response:
        """A missed call from a worker: rejected (free for them) and a callback scheduled."""
        params = await self._signed_params(request)
        if params is None:
            return web.Response(status=403, text="forbidden")
        response = VoiceResponse()
        response.reject(reason="busy")
        try:
            await self._missed_call(params.get("From", ""))
        except Exception:
            log.exception("incoming call from a worker could not be scheduled")
        return _twiml(response)

    async def _missed_call(self, caller: str) -> None:
        try:
            phone = normalize_phone(caller)
        except InvalidField:
            return
        now = self.deps.clock.now()
        hours = CallingHours.of(self.settings)
        async with self.deps.sessions() as session, session.begin():
            worker = await session.scalar(select(Worker).where(Worker.phone == phone).with_for_update())
            if worker is None or worker.consent is Consent.OPTED_OUT:
                return
            if worker.consent is not Consent.CONSENTED:
                await schedule_consent_call(session, worker.id, None, now + CALLBACK_DELAY, hours)
                return
            already = await session.scalar(
                select(Call.id).where(
                    Call.worker_id == worker.id, Call.purpose == CallPurpose.CALLBACK, Call.status.in_(OPEN_STATUSES)
                )
            )
            if already is not None:
                return
            jobs = list(await pending_pitch_jobs(session, worker, now))
            if not jobs:
                return
            # Their waiting pitch calls fold into the callback.
            for call in (
                await session.scalars(
                    select(Call)
                    .options(lazyload(Call.worker))
                    .where(
                        Call.worker_id == worker.id,
                        Call.purpose.in_((CallPurpose.JOB_PITCH, CallPurpose.CALLBACK)),
                        Call.status.in_((CallStatus.PENDING, CallStatus.RETRY_WAIT)),
                    )
                )
            ).all():
                call.move_to(CallStatus.CANCELED)
                call.flow_state = {**(call.flow_state or {}), "canceled": "folded_into_callback"}
            await schedule_callback(
                session, worker.id, jobs[: self.settings.jobs_per_call], now + CALLBACK_DELAY, now, hours
            )

    async def media(self, request: web.Request) -> web.StreamResponse:
        path = self.deps.audio.file(request.match_info["name"])
        if path is None:
            raise web.HTTPNotFound()
        return web.FileResponse(path, headers={"Content-Type": "audio/mpeg", "Cache-Control": "max-age=86400"})


def _twiml(response: VoiceResponse | str) -> web.Response:
    return web.Response(text=str(response), content_type=TWIML)


def _goodbye() -> VoiceResponse:
    response = VoiceResponse()
    response.hangup()
    return response


def _sorry() -> VoiceResponse:
    response = VoiceResponse()
    response.say(SORRY, language="en-US")
    response.hangup()
    return response


def setup_voice(app: web.Application, deps: VoiceDeps) -> None:
    """Mount POST /voice/answer, /voice/gather, /voice/status, /voice/incoming and GET /voice/media/{name}."""
    hooks = VoiceWebhooks(deps)
    app.router.add_post("/voice/answer", hooks.answer)
    app.router.add_post("/voice/gather", hooks.gather)
    app.router.add_post("/voice/status", hooks.status)
    app.router.add_post("/voice/incoming", hooks.incoming)
    app.router.add_get(MEDIA_PREFIX + "{name}", hooks.media)
