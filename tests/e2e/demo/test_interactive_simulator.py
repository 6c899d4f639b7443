"""The carrier simulator's interactive mode (what the demo's phone page drives): a person answers, rejects or lets
the call ring out, presses keys at each <Gather> and hangs up; webhooks stay signed as Twilio signs them, and
each one is in the call's log."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from twilio.request_validator import RequestValidator

from dialer.providers.base import OutboundCall
from dialer.providers.twilio import TwilioProvider
from dialer.settings import DialerSettings
from dialer.simulator.carrier import (
    ANSWER,
    HANG_UP,
    REJECT,
    CarrierSimulator,
    Person,
    Script,
    SimCall,
    bind_local,
    serve,
)

ACCOUNT = "AC" + "7" * 32
TOKEN = "interactive-simulator-secret"

GATHER = (
    '<?xml version="1.0" encoding="UTF-8"?><Response>'
    '<Gather action="{base}/gather" numDigits="1" timeout="6"><Play>{base}/media/question.wav</Play></Gather>'
    "<Hangup/></Response>"
)
THANKS = '<?xml version="1.0" encoding="UTF-8"?><Response><Play>{base}/media/thanks.wav</Play><Hangup/></Response>'


@dataclass
class Server:
    """Our side: answers TwiML with one question, thanks after a key; records what arrived, signature checked."""

    base: str = ""
    validator: RequestValidator = field(default_factory=lambda: RequestValidator(TOKEN))
    statuses: list[str] = field(default_factory=list)
    digits: list[str] = field(default_factory=list)
    bad_signatures: int = 0

    async def check(self, request: web.Request) -> dict[str, str]:
        form = {k: str(v) for k, v in (await request.post()).items()}
        url = f"{self.base}{request.path_qs}"
        if not self.validator.validate(url, form, request.headers.get("X-Twilio-Signature", "")):
            self.bad_signatures += 1
        return form

    async def answer(self, request: web.Request) -> web.Response:
        await self.check(request)
        return web.Response(text=GATHER.format(base=self.base), content_type="application/xml")

    async def gather(self, request: web.Request) -> web.Response:
        form = await self.check(request)
        self.digits.append(form["Digits"])
        return web.Response(text=THANKS.format(base=self.base), content_type="application/xml")

    async def status(self, request: web.Request) -> web.Response:
        form = await self.check(request)
        self.statuses.append(form["CallStatus"])
        return web.Response(text="<Response/>", content_type="application/xml")

    async def media(self, request: web.Request) -> web.Response:
        return web.Response(body=b"RIFF....WAVE", content_type="audio/wav")


@dataclass
class Line:
    simulator: CarrierSimulator
    server: Server
    provider: TwilioProvider

    async def dial(self, ring_for: int = 30) -> SimCall:
        """The call our dialer places (its own Twilio client); the simulator's call once it rings."""
        request = OutboundCall(
            to="+85520000011",
            from_="+85523900900",
            url=f"{self.server.base}/answer",
            status_callback=f"{self.server.base}/status",
            machine_detection=False,
            timeout=ring_for,
        )
        call = self.simulator.calls[await self.provider.create_call(request)]
        await until(lambda: call.status == "ringing")
        return call


async def until(condition: Callable[[], object], within: float = 10.0) -> None:
    async with asyncio.timeout(within):
        while True:
            if condition():
                return
            await asyncio.sleep(0.01)


@pytest.fixture
async def line() -> AsyncIterator[Line]:
    server = Server()
    app = web.Application()
    app.router.add_post("/answer", server.answer)
    app.router.add_post("/gather", server.gather)
    app.router.add_post("/status", server.status)
    app.router.add_get("/media/{name}", server.media)
    sock, server.base = bind_local()
    ours, _ = await serve(app, sock)
    simulator = CarrierSimulator(ACCOUNT, TOKEN, cps=50, script=lambda to: Script(person=Person(patience=5)))
    carrier, carrier_url = await serve(simulator.app)
    settings = DialerSettings(
        account_sid=ACCOUNT, auth_token=TOKEN, api_base_url=carrier_url, public_base_url=server.base
    )
    provider = TwilioProvider(settings)
    yield Line(simulator, server, provider)
    await provider.close()
    await carrier.cleanup()
    await ours.cleanup()


async def test_a_call_rings_until_the_person_answers_then_each_key_answers_the_current_gather(line: Line) -> None:
    call = await line.dial()
    await asyncio.sleep(0.2)
    assert call.status == "ringing" and not call.twiml  # nobody picked up yet: nothing asked of our server

    assert line.simulator.act(call.sid, ANSWER)
    await until(lambda: call.plays)
    assert call.plays == [f"{line.server.base}/media/question.wav"]  # what the page plays
    assert line.simulator.act(call.sid, "1")
    await call.done.wait()

    assert line.server.digits == ["1"]
    assert call.plays[-1] == f"{line.server.base}/media/thanks.wav"
    assert line.server.statuses == ["initiated", "ringing", "in-progress", "completed"]
    assert line.server.bad_signatures == 0
    logged = [exchange.url.removeprefix(line.server.base) for exchange in call.exchanges]
    assert logged == ["/status", "/status", "/status", "/answer", "/gather", "/status"]
    assert "<Gather" in call.exchanges[3].answer and call.exchanges[4].params["Digits"] == "1"
    assert not line.simulator.act(call.sid, "2")  # over: nothing more to press


async def test_rejecting_is_busy_and_ringing_out_is_no_answer(line: Line) -> None:
    rejected = await line.dial()
    line.simulator.act(rejected.sid, REJECT)
    await rejected.done.wait()
    assert rejected.status == "busy" and not rejected.twiml

    unanswered = await line.dial(ring_for=1)
    await unanswered.done.wait()
    assert unanswered.status == "no-answer" and not unanswered.twiml
    assert line.server.statuses == ["initiated", "ringing", "busy", "initiated", "ringing", "no-answer"]


async def test_hanging_up_at_a_question_ends_the_call_without_a_key(line: Line) -> None:
    call = await line.dial()
    line.simulator.act(call.sid, ANSWER)
    await until(lambda: call.plays)
    line.simulator.act(call.sid, HANG_UP)
    await call.done.wait()
    assert call.status == "completed"
    assert line.server.digits == [] and call.pressed == []
    assert line.server.statuses[-1] == "completed"


async def test_nobody_pressing_anything_moves_past_the_question_after_the_persons_patience(line: Line) -> None:
    line.simulator.script = lambda to: Script(person=Person(patience=0.3))
    call = await line.dial()
    line.simulator.act(call.sid, ANSWER)
    await call.done.wait()  # the TwiML after the <Gather> hangs up
    assert call.status == "completed" and line.server.digits == []


async def test_a_call_that_is_not_interactive_takes_no_action(line: Line) -> None:
    line.simulator.script = lambda to: Script(keys=["1"])
    call = await line.dial()
    assert not line.simulator.act(call.sid, ANSWER)
    await call.done.wait()
    assert line.server.digits == ["1"]
