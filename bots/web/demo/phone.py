"""The phone simulator page: the demo workers' phones, the call ringing on one, a keypad, and a channel log.

The page polls ``state.json``; a person's answer, rejection, key or hang-up goes to the carrier simulator
(dialer/simulator/carrier.py, interactive mode), which posts the same signed webhooks Twilio would. Each <Play> of our
TwiML is played by the browser in order, from the same address Twilio would fetch (made relative, so the
page's own origin serves it whatever name the browser used for this machine).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.web import csrf
from bots.web.pages import KEYS, SECURITY_HEADERS, render
from dialer.simulator.carrier import ANSWER, HANG_UP, REJECT, CarrierSimulator, SimCall
from dialer.simulator.carrier import KEYS as DIGITS
from jobs_core.model import Worker

PHONES_SHOWN = 8  # demo workers listed besides every number the dialer called
ACT_PATH = "/demo/phone/act"


@dataclass
class PhoneDeps:
    simulator: CarrierSimulator
    sessions: async_sessionmaker[AsyncSession]
    placeholder_voice: bool


PHONE = web.AppKey("demo_phone", PhoneDeps)


def setup(app: web.Application, deps: PhoneDeps) -> None:
    app[PHONE] = deps
    app.router.add_get("/demo/phone", page)
    app.router.add_get("/en/demo/phone", page)  # the site's language switch links here
    app.router.add_get("/demo/phone/state.json", state)
    app.router.add_post(ACT_PATH, act)


async def page(request: web.Request) -> web.Response:
    deps = request.app[PHONE]
    return await render(
        request,
        "phone.html",
        {"lang": "en", "act_path": ACT_PATH, "placeholder_voice": deps.placeholder_voice},
    )


async def state(request: web.Request) -> web.Response:
    deps = request.app[PHONE]
    async with deps.sessions() as session:
        workers = (
            await session.execute(select(Worker.phone, Worker.name).order_by(Worker.id).limit(PHONES_SHOWN))
        ).all()
    calls = deps.simulator.placed
    phones: dict[str, str] = {}
    for call in reversed(calls):  # the numbers the dialer called first, the newest on top
        phones.setdefault(call.to, "")
    names = {number: name for number, name in workers}
    for number, name in workers:
        phones.setdefault(number, name)
    shown = [{"number": number, "name": names.get(number, "")} for number in phones]
    body = {"phones": shown, "calls": [describe(call) for call in calls[-20:]]}
    response = web.json_response(body)
    response.headers.update(SECURITY_HEADERS)
    response.headers["Cache-Control"] = "no-store"
    return response


def describe(call: SimCall) -> dict[str, Any]:
    """A call as the page shows it: who, its state, the prompts to play in order, and the channel log."""
    return {
        "sid": call.sid,
        "to": call.to,
        "status": call.status,
        "over": call.done.is_set(),
        "plays": [relative(url) for url in call.plays],
        "pressed": call.pressed,
        "log": [
            {
                "at": exchange.at.strftime("%H:%M:%S"),
                "request": f"POST {relative(exchange.url)}",
                "params": exchange.params,
                "status": exchange.status,
                "answer": exchange.answer,
            }
            for exchange in call.exchanges
        ],
    }


def relative(url: str) -> str:
    """The path and query of a URL: our media and webhooks, whatever host name the browser uses."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def act(request: web.Request) -> web.Response:
    """The person at the phone did something; 409 with a message when the call cannot take it any more."""
    form = await csrf.require(request, await request.app[KEYS].csrf())
    sid, action = form.get("sid", ""), form.get("action", "")
    if action not in (ANSWER, REJECT, HANG_UP) and action not in DIGITS:
        return web.json_response({"error": "unknown action"}, status=400)
    simulator = request.app[PHONE].simulator
    call = simulator.calls.get(sid)
    # Where the prompts of the current <Gather> end: a key stops them, and the next ones start from here.
    played = len(call.plays) if call is not None else 0
    if not simulator.act(sid, action):
        return web.json_response({"error": "this call is over"}, status=409)
    return web.json_response({"ok": True, "skip_to": played})
