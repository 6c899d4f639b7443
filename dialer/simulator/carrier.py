"""A carrier simulator speaking Twilio's REST API and webhooks, with scripted workers on the other end.

It accepts ``POST /2010-04-01/Accounts/{sid}/Calls.json`` like Twilio (basic auth, form fields, the JSON call
resource back), dials at most ``cps`` calls a second (extra calls queue, as Twilio's do), and plays each
call's script: busy, no answer, an answering machine, or an answer that fetches our TwiML and <Play> media,
presses keys in <Gather> and may hang up mid-prompt. Webhooks and status callbacks are form-encoded and
signed with X-Twilio-Signature exactly as Twilio signs them. Its clock may run faster (the benchmark).

``mode="somleng"`` behaves as Somleng does (dialer/providers/profiles.py): Timeout, StatusCallbackEvent and
answering-machine detection are dropped, so only the final status callback is sent; listing calls ignores the
``To`` filter; the final status comes from the SIP code (486 busy, 408/480 no-answer, 487 canceled, any other
failure failed, with ``SipResponseCode``); an account out of balance gets 422; calls beyond ``channels``
wait in its queue (status ``queued``) until a channel is free, however long that takes.

Interactive mode (the demo's phone page): a Script with a :class:`Person` lets someone decide in real time.
The call rings until they answer or reject it (Twilio reports a rejected call as ``busy``) or until the
call's ``Timeout`` passes (``no-answer``); each <Gather> waits for their key; they may hang up at any moment.
Every webhook and its answer is kept in the call's ``exchanges``, for a channel log.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import socket
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import aiohttp
from aiohttp import web
from twilio.request_validator import RequestValidator

from dialer.clock import Clock, RealClock

log = logging.getLogger(__name__)

API = "/2010-04-01/Accounts/{account}/Calls"


@dataclass
class Script:
    """What the worker at a number does. keys: one entry per <Gather> reached (None = says nothing)."""

    # answer | busy | no-answer | machine | failed | canceled | dropped (Somleng: no trunk took it, and it
    # cancels the call without any callback)
    outcome: str = "answer"
    sip: int | None = None  # the SIP code of a failed call (Somleng derives the status from it)
    keys: list[str | None] = field(default_factory=list)
    hang_up_after: int | None = None  # hang up at this <Gather> (0 = the first one) before pressing anything
    ring_seconds: float = 1.0
    # Twilio's async AMD verdict arriving only after the first key press (it can be "machine" even then).
    late_amd: str | None = None
    # Someone deciding in real time instead of ``outcome``/``keys`` (interactive mode).
    person: Person | None = None


# What a person can do with a ringing or connected call; any other action is a key (0-9, * or #).
ANSWER, REJECT, HANG_UP = "answer", "reject", "hangup"
KEYS = frozenset("0123456789*#")


@dataclass
class Person:
    """The worker at an interactive number: answers or rejects the ringing call, presses keys, hangs up.

    ``patience``: how long a <Gather> waits for their key. Longer than Twilio's few seconds, because the
    prompts play in the browser while this simulator has already fetched them.
    """

    patience: float = 180.0
    actions: asyncio.Queue[str] = field(default_factory=asyncio.Queue)

    def act(self, action: str) -> None:
        if action not in (ANSWER, REJECT, HANG_UP) and action not in KEYS:
            raise ValueError(f"not an action: {action!r}")
        self.actions.put_nowait(action)

    async def pick_up(self, ring_seconds: float) -> str:
        """ANSWER, REJECT (hanging up a ringing phone rejects it) or "no-answer" once it rang out."""
        try:
            async with asyncio.timeout(ring_seconds):
                while True:
                    action = await self.actions.get()
                    if action == ANSWER:
                        return ANSWER
                    if action in (REJECT, HANG_UP):
                        return REJECT
        except TimeoutError:
            return "no-answer"

    async def key(self) -> str | None:
        """The key pressed at a <Gather>, HANG_UP, or None if nothing came within ``patience``."""
        try:
            async with asyncio.timeout(self.patience):
                while True:
                    action = await self.actions.get()
                    if action == HANG_UP or action in KEYS:
                        return action
        except TimeoutError:
            return None


@dataclass
class Exchange:
    """One webhook request the carrier made and what our server answered (a line of the channel log)."""

    url: str
    params: dict[str, str]
    status: int
    answer: str
    at: datetime


@dataclass
class SimCall:
    sid: str
    to: str
    from_: str
    params: dict[str, str]
    status_events: list[str]
    created_at: datetime
    status: str = "queued"
    dialed_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    plays: list[str] = field(default_factory=list)
    says: list[str] = field(default_factory=list)
    pressed: list[str] = field(default_factory=list)
    twiml: list[str] = field(default_factory=list)
    callbacks: list[str] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)
    person: Person | None = None
    hangup_requested: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return self.params.get("Url", "")

    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.url).query))

    def resource(self, account: str) -> dict[str, Any]:
        return {
            "sid": self.sid,
            "account_sid": account,
            "to": self.to,
            "from": self.from_,
            "status": self.status,
            "direction": "outbound-api",
            "date_created": format_datetime(self.created_at, usegmt=True),
            "date_updated": format_datetime(self.created_at, usegmt=True),
            "start_time": format_datetime(self.answered_at, usegmt=True) if self.answered_at else None,
            "end_time": format_datetime(self.ended_at, usegmt=True) if self.ended_at else None,
            "api_version": "2010-04-01",
            "uri": f"/2010-04-01/Accounts/{account}/Calls/{self.sid}.json",
        }


class CarrierSimulator:
    """A local Twilio-compatible carrier; ``app`` serves the REST API, ``placed`` records every call."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        cps: float = 1.0,
        script: Callable[[str], Script | None] | None = None,
        clock: Clock | None = None,
        drive: bool = True,
        mode: str = "twilio",
        channels: int | None = None,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.cps = cps
        self.script = script or (lambda to: Script())
        self.clock = clock or RealClock()
        self.drive = drive
        self.mode = mode
        self.somleng = mode == "somleng"
        # Somleng's trunk: at most this many calls at once, the rest wait queued inside the provider.
        self.channels = channels
        self.out_of_balance = False  # the account cannot pay: Somleng 422, Twilio 20005
        self.validator = RequestValidator(auth_token)
        # Caller IDs the account may use (None: any); numbers it cannot call (a per-call refusal).
        self.caller_ids: set[str] | None = None
        self.invalid_numbers: set[str] = set()
        self.refused = 0  # create requests answered with an error
        self.calls: dict[str, SimCall] = {}
        self.placed: list[SimCall] = []
        self._queue: asyncio.Queue[SimCall] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        self._dialer: asyncio.Task[None] | None = None
        self.http: aiohttp.ClientSession | None = None
        self.app = web.Application()
        base = API.format(account="{account}")
        self.app.router.add_post(base + ".json", self._create)
        self.app.router.add_get(base + ".json", self._list)
        self.app.router.add_post(base + "/{sid}.json", self._update)
        self.app.router.add_get(base + "/{sid}.json", self._fetch)
        self.app.on_startup.append(self._start)
        self.app.on_cleanup.append(self._stop)

    # --- lifecycle ------------------------------------------------------------------------------------------

    async def _start(self, app: web.Application) -> None:
        self.http = aiohttp.ClientSession()
        self._dialer = asyncio.create_task(self._dial_loop())

    async def _stop(self, app: web.Application) -> None:
        if self._dialer:
            self._dialer.cancel()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.http:
            await self.http.close()

    async def settle(self, within: float = 30.0) -> None:
        """Wait until every placed call has finished its script."""
        async with asyncio.timeout(within):
            for call in list(self.placed):
                await call.done.wait()

    # --- REST API -------------------------------------------------------------------------------------------

    def _authorised(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return user == self.account_sid and password == self.auth_token

    def _error(self, status: int, code: int | str, message: str) -> web.Response:
        return web.json_response({"code": code, "message": message, "status": status}, status=status)

    async def _create(self, request: web.Request) -> web.Response:
        refusal = await self._refusal(request)
        if refusal is not None:
            self.refused += 1
            return refusal
        form = await request.post()
        params = {k: str(v) for k, v in form.items()}
        events = [str(v) for v in form.getall("StatusCallbackEvent", [])]
        if self.somleng:
            # Somleng's call-create schema has no such parameters: they are dropped without an error.
            for dropped in ("Timeout", "StatusCallbackEvent", "MachineDetection", "AsyncAmd", "AsyncAmdStatusCallback"):
                params.pop(dropped, None)
            events = []
        call = SimCall(
            sid="CA" + uuid.uuid4().hex,
            to=params["To"],
            from_=params["From"],
            params=params,
            status_events=events,
            created_at=self.clock.now(),
        )
        self.calls[call.sid] = call
        self.placed.append(call)
        self._queue.put_nowait(call)
        return web.json_response(call.resource(self.account_sid), status=201)

    async def _refusal(self, request: web.Request) -> web.Response | None:
        """Twilio's answer to a call it will not place (its REST error codes and messages), or None."""
        if not self._authorised(request) or request.match_info["account"] != self.account_sid:
            return self._error(401, 20003, "Authenticate")
        form = await request.post()
        to, from_ = str(form.get("To", "")), str(form.get("From", ""))
        if not to or not from_ or not form.get("Url"):
            return self._error(400, 21201, "To, From and Url are required")
        if self.out_of_balance:
            if self.somleng:
                return self._error(422, "S1005", "Insufficient balance")  # Somleng's own code and words
            return self._error(401, 20005, "Account not active")
        if self.caller_ids is not None and from_ not in self.caller_ids:
            message = f"The 'From' number {from_} is not a valid phone number, shortcode, or alphanumeric sender ID."
            return self._error(400, 21212, message)
        if to in self.invalid_numbers:
            return self._error(400, 21217, f"The 'To' number {to} is not a valid phone number.")
        return None

    async def _list(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._error(401, 20003, "Authenticate")
        # Somleng lists every call of the account whatever the To filter says.
        to = None if self.somleng else request.query.get("To")
        found = sorted((c for c in self.placed if to is None or c.to == to), key=lambda c: c.created_at, reverse=True)
        size = int(request.query.get("PageSize", "50"))
        page = int(request.query.get("Page", "0"))
        shown = found[page * size : (page + 1) * size]
        more = (page + 1) * size < len(found)
        query = {k: v for k, v in request.query.items() if k not in ("Page", "PageToken")}
        next_uri = f"{request.path}?{urlencode({**query, 'Page': page + 1})}" if more else None
        return web.json_response(
            {
                "calls": [c.resource(self.account_sid) for c in shown],
                "first_page_uri": request.path_qs,
                "next_page_uri": next_uri,
                "previous_page_uri": None,
                "page": page,
                "page_size": size,
                "start": page * size,
                "end": page * size + len(shown),
                "uri": request.path_qs,
            }
        )

    async def _fetch(self, request: web.Request) -> web.Response:
        call = self.calls.get(request.match_info["sid"])
        if call is None or not self._authorised(request):
            return self._error(404, 20404, "not found")
        return web.json_response(call.resource(self.account_sid))

    async def _update(self, request: web.Request) -> web.Response:
        call = self.calls.get(request.match_info["sid"])
        if call is None or not self._authorised(request):
            return self._error(404, 20404, "not found")
        form = await request.post()
        if form.get("Status") == "canceled" and call.status == "queued":
            # Not dialled yet: it never will be. Its one final callback says so.
            call.hangup_requested = True
            await self._end(call, "canceled")
            call.done.set()
        elif form.get("Status") in ("completed", "canceled"):
            call.hangup_requested = True
            if call.person is not None:
                call.person.act(HANG_UP)  # wakes a ringing phone or a <Gather> waiting for a key
        return web.json_response(call.resource(self.account_sid))

    # --- a person at the handset (interactive mode) ---------------------------------------------------------

    def act(self, sid: str, action: str) -> bool:
        """What the person did with call ``sid`` (answer, reject, hangup or a key); False when the call is not
        theirs to act on (unknown, not interactive, or over)."""
        call = self.calls.get(sid)
        if call is None or call.person is None or call.done.is_set():
            return False
        if action == HANG_UP and call.status == "in-progress":
            call.hangup_requested = True  # stops the prompts as well as a <Gather>
        call.person.act(action)
        return True

    # --- dialing --------------------------------------------------------------------------------------------

    async def _dial_loop(self) -> None:
        """Take queued calls off the queue at most ``cps`` a second, as Twilio does."""
        interval = 1.0 / self.cps
        while True:
            call = await self._queue.get()
            await self._free_channel()
            if call.status != "queued":
                continue  # canceled while it waited
            call.dialed_at = self.clock.now()
            if self.drive:
                task = asyncio.create_task(self._run(call))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            else:
                call.done.set()
            await self.clock.sleep(interval)

    async def _free_channel(self) -> None:
        """Wait for a trunk channel (Somleng tries a held call again every 10 s, for ever; polled here too)."""
        while self.channels is not None:
            if self.busy_channels() < self.channels:
                return
            await asyncio.sleep(0.02)

    def busy_channels(self) -> int:
        return sum(1 for c in self.placed if c.dialed_at is not None and not c.done.is_set())

    def held(self) -> list[SimCall]:
        """Calls waiting in the provider's queue for a channel."""
        return [c for c in self.placed if c.status == "queued" and c.dialed_at is None]

    async def _run(self, call: SimCall) -> None:
        try:
            await self._play_script(call)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("simulated call %s broke", call.sid)
        finally:
            call.done.set()

    async def _play_script(self, call: SimCall) -> None:
        script = self.script(call.to) or Script(outcome="no-answer")
        if script.outcome == "dropped":
            call.status, call.ended_at = "canceled", self.clock.now()
            return
        call.status = "initiated"
        await self._status(call, "initiated")
        if script.outcome == "failed":
            return await self._end(call, self._failure(script.sip), script.sip)
        call.status = "ringing"
        call.person = script.person
        await self._status(call, "ringing")
        if script.person is not None:
            # The person decides, for as long as the caller lets it ring (Twilio's Timeout, 60 s by default).
            picked = await script.person.pick_up(float(call.params.get("Timeout") or 60))
            if call.hangup_requested:
                return await self._end(call, "canceled", 487)
            if picked != ANSWER:
                outcome = "busy" if picked == REJECT else "no-answer"
                sip = 486 if picked == REJECT else 480
                return await self._end(call, outcome if not self.somleng else self._failure(sip), sip)
        else:
            await self.clock.sleep(script.ring_seconds)
        if script.outcome in ("busy", "no-answer", "canceled") and script.person is None:
            sip = {"busy": 486, "no-answer": 480, "canceled": 487}[script.outcome]
            return await self._end(call, script.outcome if not self.somleng else self._failure(sip), sip)
        call.status = "in-progress"
        call.answered_at = self.clock.now()
        await self._status(call, "answered", CallStatus="in-progress")
        machine = script.outcome == "machine"
        amd = call.params.get("MachineDetection") in ("Enable", "DetectMessageEnd")
        async_amd = call.params.get("AsyncAmd") == "true"
        extra: dict[str, str] = {}
        if amd and not async_amd:
            extra["AnsweredBy"] = "machine_start" if machine else "human"
        if amd and async_amd and call.params.get("AsyncAmdStatusCallback") and not script.late_amd:
            if machine:
                # A greeting is recognised within the first seconds, before anything is pressed.
                await self._amd_result(call, "machine_start")
            else:
                self._spawn(self._amd_result(call, "human"))
        await self._converse(call, script, extra)
        await self._end(call, "completed")

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _amd_result(self, call: SimCall, answered_by: str) -> None:
        await self.clock.sleep(0.3)
        await self._post(call, call.params["AsyncAmdStatusCallback"], self._base(call, AnsweredBy=answered_by))

    async def _converse(self, call: SimCall, script: Script, extra: dict[str, str]) -> None:
        keys = list(script.keys)
        gathers = 0
        url: str | None = call.url
        body: dict[str, str] = {**self._base(call), **extra}
        while url and not call.hangup_requested:
            text = await self._post(call, url, body)
            call.twiml.append(text)
            late = script.late_amd and "Digits" in body and len(call.pressed) == 1
            if late and script.late_amd and call.params.get("AsyncAmdStatusCallback"):
                await self._amd_result(call, script.late_amd)  # the key press is recorded by then
            url, body = None, self._base(call)
            for verb in ET.fromstring(text):
                if call.hangup_requested:
                    return
                if verb.tag in ("Hangup", "Reject"):
                    return
                if verb.tag in ("Play", "Say"):
                    await self._speak(call, verb)
                elif verb.tag == "Gather":
                    if script.hang_up_after is not None and gathers >= script.hang_up_after:
                        for inner in list(verb)[:1]:
                            await self._speak(call, inner)
                        return
                    gathers += 1
                    for inner in verb:
                        await self._speak(call, inner)
                    if script.person is not None:
                        key = await script.person.key()
                        if key == HANG_UP or call.hangup_requested:
                            return
                    else:
                        key = keys.pop(0) if keys else None
                    if key:
                        call.pressed.append(key)
                        url = verb.get("action") or call.url
                        body = {**self._base(call), "Digits": key, "FinishedOnKey": ""}
                        break
                elif verb.tag == "Redirect":
                    url = (verb.text or "").strip()
                    break
            else:
                return

    async def _speak(self, call: SimCall, verb: ET.Element) -> None:
        if verb.tag == "Play":
            media = (verb.text or "").strip()
            call.plays.append(media)
            assert self.http is not None
            async with self.http.get(media) as response:
                if response.status != 200:
                    raise RuntimeError(f"media {media} answered {response.status}")
                await response.read()
        elif verb.tag == "Say":
            call.says.append((verb.text or "").strip())

    def _failure(self, sip: int | None) -> str:
        """The CallStatus of a call that did not connect, as the provider derives it from the SIP code."""
        if not self.somleng:
            return "failed"
        if sip in (486, 600):
            return "busy"
        if sip in (408, 480):
            return "no-answer"
        if sip == 487:
            return "canceled"
        return "failed"

    async def _end(self, call: SimCall, status: str, sip: int | None = None) -> None:
        call.status = status
        call.ended_at = self.clock.now()
        duration = int((call.ended_at - call.answered_at).total_seconds()) if call.answered_at else 0
        extra = {"SipResponseCode": str(sip)} if sip is not None and status != "completed" else {}
        await self._status(call, "completed", CallStatus=status, CallDuration=str(duration), **extra)

    async def _status(self, call: SimCall, event: str, **extra: str) -> None:
        if event not in call.status_events and not (event == "completed" and not call.status_events):
            return
        target = call.params.get("StatusCallback")
        if not target:
            return
        status = extra.pop("CallStatus", call.status)
        params = {**self._base(call), "CallStatus": status, "CallbackSource": "call-progress-events", **extra}
        params["SequenceNumber"] = str(len(call.callbacks))
        call.callbacks.append(status)
        await self._post(call, target, params)

    def _base(self, call: SimCall, **extra: str) -> dict[str, str]:
        return {
            "AccountSid": self.account_sid,
            "CallSid": call.sid,
            "From": call.from_,
            "To": call.to,
            "CallStatus": call.status,
            "Direction": "outbound-api",
            "ApiVersion": "2010-04-01",
            **extra,
        }

    def sign(self, url: str, params: dict[str, str]) -> str:
        return str(self.validator.compute_signature(url, params))

    async def _post(self, call: SimCall | None, url: str, params: dict[str, str]) -> str:
        assert self.http is not None
        headers = {"X-Twilio-Signature": self.sign(url, params)}
        async with self.http.post(url, data=params, headers=headers) as response:
            text = await response.text()
            if call is not None:
                call.exchanges.append(Exchange(url, params, response.status, text, self.clock.now()))
            if response.status != 200:
                raise RuntimeError(f"webhook {url} answered {response.status}: {text[:200]}")
            return text

    async def incoming_call(self, url: str, caller: str, to: str) -> str:
        """A worker rings our number: the provider asks our incoming webhook what to do."""
        params = {
            "AccountSid": self.account_sid,
            "CallSid": "CA" + uuid.uuid4().hex,
            "From": caller,
            "To": to,
            "CallStatus": "ringing",
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
        }
        return await self._post(None, url, params)


def bind_local(host: str = "127.0.0.1") -> tuple[socket.socket, str]:
    """A listening-ready socket on a free local port, and its base URL (known before the app is built)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((host, 0))
    return sock, f"http://{host}:{sock.getsockname()[1]}"


async def serve(app: web.Application, sock: socket.socket | None = None) -> tuple[web.AppRunner, str]:
    """Serve an aiohttp app on ``sock`` (default: a free local port); returns the runner and its base URL."""
    if sock is None:
        sock, _ = bind_local()
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    host, port = sock.getsockname()[:2]
    return runner, f"http://{host}:{port}"


def encode(params: dict[str, str]) -> str:
    return urlencode(params)
