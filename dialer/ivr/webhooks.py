"""The provider's webhooks under /voice/ and the prompt audio it plays, on the one aiohttp app.

Every webhook's X-Twilio-Signature is checked against PUBLIC_BASE_URL + path (so it holds behind a proxy);
a missing signature gets 403 and a body over ``MAX_BODY`` 413 before a byte of the body is read, a bad
signature 403, and nothing is written. Anything that goes wrong after that still answers 200 with valid TwiML,
so a caller never hears the provider's "application error" — except a status callback that could not be
stored (the database is down): that one answers 503 and is stored later (see ``StatusBacklog``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import parse_qsl

from aiohttp import web
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import lazyload
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse

from dialer.calls.hours import CallingHours
from dialer.calls.lifecycle import MACHINE_ANSWERS, apply_status
from dialer.calls.scheduling import OPEN_STATUSES, schedule_callback, schedule_consent_call
from dialer.clock import Clock, RealClock
from dialer.ivr.flows import CallFlows, pending_pitch_jobs, say_then_hang_up
from dialer.ivr.prompt_audio import MEDIA_PREFIX, VoiceAudio, content_type
from dialer.ivr.selfcheck import MARKER, PROOF_HEADER, SignatureMismatches, proof
from dialer.models import DialerIncomingCall
from dialer.providers.base import VoiceProvider
from dialer.settings import DialerSettings
from jobs_core.errors import InvalidField
from jobs_core.model import Call, CallPurpose, CallStatus, Consent, Worker
from jobs_core.phones import normalize_phone
from media import composer

log = logging.getLogger(__name__)

TWIML = "text/xml"
SORRY = "Sorry, we cannot continue this call now. We will call you again. Goodbye."
CALLBACK_DELAY = timedelta(minutes=2)
SIGNATURE_HEADER = "X-Twilio-Signature"
# The provider's webhook posts are a few KB of form fields; anything much bigger is not from it.
MAX_BODY = 64 * 1024
# A replayed missed-call webhook is recognised by its CallSid for this long.
INCOMING_MEMORY = timedelta(days=90)


@dataclass
class VoiceDeps:
    """What the voice webhooks and the dialer loop need, built once by the composition root."""

    settings: DialerSettings
    sessions: async_sessionmaker[AsyncSession]
    audio: VoiceAudio
    provider: VoiceProvider | None = None
    clock: Clock = field(default_factory=RealClock)


StoreStatus = Callable[[int, int, dict[str, str], bool, datetime], Awaitable[None]]


class StatusBacklog:
    """Status callbacks that could not be stored because the database was down, stored once it answers.

    The provider is answered 503, but Twilio retries a voice status callback only when its URL asks for it
    and Somleng not at all; unstored, the call would hold a concurrency slot until the stale sweep asks the
    provider (20 minutes). Kept in this process only, bounded: a process that dies meanwhile leaves its calls
    to that sweep. Storing twice is harmless (a duplicate status changes nothing).
    """

    def __init__(self, store: StoreStatus, retry_every: float = 2.0, limit: int = 10_000) -> None:
        self.store = store
        self.retry_every = retry_every
        self.limit = limit
        self.waiting: dict[tuple[int, int, bool], list[tuple[dict[str, str], datetime]]] = {}
        self._task: asyncio.Task[None] | None = None

    def keep(self, call_id: int, attempt: int, params: dict[str, str], amd: bool, received_at: datetime) -> None:
        key = (call_id, attempt, amd)
        if len(self.waiting.get(key, ())) >= 8 or (key not in self.waiting and len(self.waiting) >= self.limit):
            log.error("status callback of call %s dropped: too many waiting (the stale sweep settles it)", call_id)
            return
        self.waiting.setdefault(key, []).append((params, received_at))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name="voice-status-backlog")

    async def _drain(self) -> None:
        while self.waiting:
            await asyncio.sleep(self.retry_every)
            for key in list(self.waiting):
                if not await self._store(key):
                    break  # the database is still down: everything waits for the next round

    async def _store(self, key: tuple[int, int, bool]) -> bool:
        """Store one call's waiting callbacks in order; False while the database is unavailable."""
        call_id, attempt, amd = key
        waiting = self.waiting[key]
        while waiting:
            params, received_at = waiting[0]
            try:
                await self.store(call_id, attempt, params, amd, received_at)
            except Exception as exc:
                if database_unavailable(exc):
                    return False
                log.exception("status callback of call %s could not be stored; dropped", call_id)
            waiting.pop(0)
        del self.waiting[key]
        log.info("status callback of call %s attempt %s stored after the database came back", call_id, attempt)
        return True

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class VoiceWebhooks:
    def __init__(self, deps: VoiceDeps) -> None:
        self.deps = deps
        self.settings = deps.settings
        self.validator = RequestValidator(deps.settings.auth_token)
        self.mismatches = SignatureMismatches(self.validator)
        self.backlog = StatusBacklog(self._status)
        hang_up = deps.provider.hang_up if deps.provider is not None else None
        self.flows = CallFlows(deps.sessions, deps.settings, deps.audio, deps.clock.now, hang_up)

    async def _signed_params(self, request: web.Request) -> dict[str, str] | None:
        """The form fields of a signed post, or None (bad signature). Unsigned or large posts are refused
        (403, 413) before their body is read: anyone can send one, so they must cost us nothing."""
        signature = request.headers.get(SIGNATURE_HEADER, "")
        if not signature:
            log.warning("voice webhook %s refused: no signature", request.path)
            raise _forbidden()
        if request.content_length is not None and request.content_length > MAX_BODY:
            log.warning("voice webhook %s refused: %s bytes", request.path, request.content_length)
            raise _too_large(request.content_length)
        body = await _read_at_most(request, MAX_BODY)
        if body is None:
            log.warning("voice webhook %s refused: body over %s bytes", request.path, MAX_BODY)
            raise _too_large(MAX_BODY + 1)
        try:
            params = dict(parse_qsl(body.decode(request.charset or "utf-8"), keep_blank_values=True))
        except (UnicodeDecodeError, LookupError):
            params = None
        url = self.settings.public_base + request.path_qs
        if params is None or not self.validator.validate(url, params, signature):
            log.warning("voice webhook %s refused: bad signature", request.path)
            if params is None:
                return None
            why = self.mismatches.explain(request, url, params, signature)
            if MARKER in request.query:
                raise web.HTTPForbidden(text=f"forbidden: {why}")  # tells `bongpheak dialer --check` the step
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
        if MARKER in request.query:
            # The self-check (dialer/ivr/selfcheck.py): validly signed, answered before any call is looked at.
            response = _twiml(_goodbye())
            response.headers[PROOF_HEADER] = proof(self.settings.auth_token, request.query[MARKER])
            return response
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
        amd = request.query.get("amd") == "1"
        received_at = self.deps.clock.now()
        try:
            await self._status(ids[0], ids[1], params, amd, received_at)
        except Exception as exc:
            if not database_unavailable(exc):
                log.exception("status callback failed for %s", request.query_string)
                return _twiml(VoiceResponse())
            # Unstored, the call would hold a concurrency slot until the stale sweep (20 min): a provider that
            # retries sends it again on a 5xx, and this process stores it itself once the database answers.
            log.error("status callback for call %s not stored (database unavailable); kept to store later", ids[0])
            self.backlog.keep(ids[0], ids[1], params, amd, received_at)
            return web.Response(status=503, text="retry later")
        return _twiml(VoiceResponse())

    async def _status(self, call_id: int, attempt: int, params: dict[str, str], amd: bool, now: datetime) -> None:
        """Apply one status callback (or answering-machine result) of the call's current attempt."""
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
                if answered_by in MACHINE_ANSWERS and call.keys:
                    # Twilio's verdict can come after the person pressed keys: a machine presses none.
                    log.info("call %s attempt %s: %s ignored, keys were pressed", call_id, attempt, answered_by)
                elif answered_by in MACHINE_ANSWERS and call.status in (CallStatus.QUEUED, CallStatus.IN_PROGRESS):
                    log.info("call %s attempt %s: answering machine (%s); hanging up", call_id, attempt, answered_by)
                    call.flow_state = {**(call.flow_state or {}), "machine": True, "answered_by": answered_by}
                    if call.provider_sid is None and sid:
                        call.provider_sid = sid
                    hang_up_sid = sid
            else:
                await apply_status(session, call, params, now, self.settings)
        if hang_up_sid and self.deps.provider is not None:
            await self.deps.provider.hang_up(hang_up_sid)

    async def incoming(self, request: web.Request) -> web.Response:
        """A missed call from a worker: rejected (free for them) and a callback scheduled. A caller nobody has
        added hears, instead of a busy tone, how a relative can sign them up (a short clip), then we hang up."""
        params = await self._signed_params(request)
        if params is None:
            return web.Response(status=403, text="forbidden")
        response = VoiceResponse()
        response.reject(reason="busy")
        try:
            unknown = await self._missed_call(params.get("CallSid", ""), params.get("From", ""))
        except Exception:
            log.exception("incoming call from a worker could not be scheduled")
            unknown = False
        if unknown:
            # Rendered (or taken from the audio cache) after the transaction above is over.
            return _twiml(
                await self.flows.render(say_then_hang_up(composer.unknown_caller(self.settings.language)), 0, 0, 0)
            )
        return _twiml(response)

    async def _missed_call(self, call_sid: str, caller: str) -> bool:
        """Schedule what a known caller's missed call asks for; True when no worker has the caller's number."""
        try:
            phone = normalize_phone(caller)
        except InvalidField:
            return False
        if not call_sid or len(call_sid) > 64:
            return False
        now = self.deps.clock.now()
        hours = CallingHours.of(self.settings)
        async with self.deps.sessions() as session, session.begin():
            if not await _first_time(session, call_sid, now):
                log.info("incoming call %s already handled: nothing scheduled", call_sid)
                known = await session.scalar(select(Worker.id).where(Worker.phone == phone))
                return known is None
            worker = await session.scalar(select(Worker).where(Worker.phone == phone).with_for_update())
            if worker is None:
                return True
            if worker.consent is Consent.OPTED_OUT:
                return False
            if worker.consent is not Consent.CONSENTED:
                await schedule_consent_call(session, worker.id, None, now + CALLBACK_DELAY, hours)
                return False
            already = await session.scalar(
                select(Call.id).where(
                    Call.worker_id == worker.id, Call.purpose == CallPurpose.CALLBACK, Call.status.in_(OPEN_STATUSES)
                )
            )
            if already is not None:
                return False
            jobs = list(await pending_pitch_jobs(session, worker, now))
            if not jobs:
                return False
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
            return False

    async def media(self, request: web.Request) -> web.StreamResponse:
        path = self.deps.audio.file(request.match_info["name"])
        if path is None:
            raise web.HTTPNotFound()
        headers = {"Content-Type": content_type(path), "Cache-Control": "max-age=86400"}
        return web.FileResponse(path, headers=headers)


async def _first_time(session: AsyncSession, call_sid: str, now: datetime) -> bool:
    """Remember an incoming CallSid; False when it was seen before (a replayed or redelivered webhook)."""
    await session.execute(delete(DialerIncomingCall).where(DialerIncomingCall.received_at < now - INCOMING_MEMORY))
    inserted = await session.scalar(
        insert(DialerIncomingCall)
        .values(call_sid=call_sid, received_at=now)
        .on_conflict_do_nothing(index_elements=["call_sid"])
        .returning(DialerIncomingCall.call_sid)
    )
    return inserted is not None


def _forbidden() -> web.HTTPException:
    return _closing(web.HTTPForbidden(text="forbidden"))


def _too_large(size: int) -> web.HTTPException:
    return _closing(web.HTTPRequestEntityTooLarge(max_size=MAX_BODY, actual_size=size, text="too large"))


def _closing(refusal: web.HTTPException) -> web.HTTPException:
    """The connection closes after a refusal: the unread rest of the body is not worth waiting for."""
    refusal.force_close()
    return refusal


async def _read_at_most(request: web.Request, limit: int) -> bytes | None:
    """The body, or None as soon as it turns out longer than ``limit`` (a chunked post says no length)."""
    body = bytearray()
    while len(body) <= limit:
        chunk = await request.content.read(limit + 1 - len(body))
        if not chunk:
            return bytes(body)
        body += chunk
    return None


def database_unavailable(exc: BaseException) -> bool:
    """The database could not be reached or dropped the connection (worth trying again), not a bug."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, (OperationalError, InterfaceError, OSError, TimeoutError))


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

    async def close_backlog(app: web.Application) -> None:
        await hooks.backlog.close()

    app.on_cleanup.append(close_backlog)
    app.router.add_post("/voice/answer", hooks.answer)
    app.router.add_post("/voice/gather", hooks.gather)
    app.router.add_post("/voice/status", hooks.status)
    app.router.add_post("/voice/incoming", hooks.incoming)
    app.router.add_get(MEDIA_PREFIX + "{name}", hooks.media)
