"""The demo's own pages, for trying the whole system in a browser (`bongpheak demo`; docs/demo.md).

    GET  /demo                 the start page: the roles, one click into each, and the guided story
    GET  /demo/phone           the phone simulator: the dialer's calls ring here (dialer/simulator/carrier.py)
    GET  /demo/phone/state.json  what the phone page shows, polled by its script
    POST /demo/phone/act       answer, reject, press a key or hang up (CSRF token in the form)
    /demo/chat …, /demo/botapi …  the chat simulator and the Bot API fake it drives (chat.py, botapi.py)

Mounted only by the demo runner (bongpheak/demo_run.py), never by `serve`: these pages drive local fakes.
The phone page is the carrier simulator's face, so it imports ``dialer.simulator.carrier`` (the fake carrier) and
nothing else of the dialer: the IVR itself is reached only through the webhooks the simulator posts.
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.web.demo import phone, start
from dialer.simulator.carrier import CarrierSimulator


def setup_demo(
    app: web.Application,
    *,
    simulator: CarrierSimulator,
    sessions: async_sessionmaker[AsyncSession],
    staff: tuple[str, str] | None,
    placeholder_voice: bool,
) -> None:
    """Mount /demo and /demo/phone on ``app`` (which ``setup_web`` has set up: templates, CSRF keys)."""
    start.setup(app, start.StartPage(staff=staff, placeholder_voice=placeholder_voice))
    phone.setup(app, phone.PhoneDeps(simulator=simulator, sessions=sessions, placeholder_voice=placeholder_voice))
