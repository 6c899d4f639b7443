"""The whole system on a laptop, in one process: what `bongpheak demo` runs once the demo database is seeded.

`serve --dialer`'s start-up (bongpheak/commands/serve.py) runs with settings made up here: every outside service
is a local fake on a loopback address, so the demo guard (bongpheak/demo_guard.py) lets the demo database talk
to them and to nothing else. The fakes: the carrier simulator on a port of its own (dialer/simulator/carrier.py, every
number answered by a person on the phone page) and the Bot API at ``/demo/botapi`` on the app's own port.
The browser pages that drive them are under ``/demo`` (bots/web/demo).
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from sqlalchemy import select
from tqdm import tqdm

from bongpheak.bootstrap import connect
from bongpheak.settings import Settings
from bots.web.admin.accounts import save_account
from bots.web.admin.models import Role
from jobs_core.model import Job, JobStatus

log = logging.getLogger(__name__)

# Made-up credentials: they only ever reach the fakes in this process.
BOT_TOKEN = "7000001:demo-bot-token-known-only-to-the-local-fake"
WEBHOOK_SECRET = "demo-webhook-secret-for-the-local-fake"
MODERATOR_ID = 900001
MODERATORS_CHAT_ID = -1009000001
VOICE_ACCOUNT_SID = "AC" + "de" * 16
VOICE_AUTH_TOKEN = "demo-carrier-token-for-the-local-simulator"
CALLER_ID = "+85523900900"
# The dashboard account shown on /demo: on a local demo only, a printed password is what a newcomer needs.
STAFF_NAME = "demo"
STAFF_PASSWORD = "demo-dashboard-password"
HOST = "127.0.0.1"


@dataclass(frozen=True)
class DemoAddresses:
    """Where the parts of the demo listen: the app (pages, webhooks, Bot API fake) and the carrier simulator."""

    app: str
    carrier: str


def demo_settings(settings: Settings, database_url: str, where: DemoAddresses) -> Settings:
    """The operator's settings (database, data folder, voice packs, ffmpeg) with every outside service replaced
    by a local fake, and calls allowed at any hour (a newcomer tries the demo whenever they like)."""
    return settings.model_copy(
        update={
            "database_url": database_url,
            "telegram_bot_token": BOT_TOKEN,
            "telegram_webhook_secret": WEBHOOK_SECRET,
            "telegram_api_base_url": f"{where.app}/demo/botapi",
            # Messenger has no fake in the demo: off, whatever .env says.
            "messenger_page_token": None,
            "messenger_app_secret": None,
            "messenger_verify_token": None,
            "messenger_page_id": None,
            "moderator_ids": [MODERATOR_ID],
            "moderators_chat_id": MODERATORS_CHAT_ID,
            "public_base_url": where.app,
            "voice_api_base_url": where.carrier,
            "voice_provider": "twilio",
            "voice_account_sid": VOICE_ACCOUNT_SID,
            "voice_auth_token": VOICE_AUTH_TOKEN,
            "voice_from_number": CALLER_ID,
            "calling_hours_start": "00:00",
            "calling_hours_end": "23:59",
            "calling_holidays": [],
            # Trying the story several times rings the same phone more than the real cap of two a day.
            "daily_calls_per_number": 50,
        }
    )


async def ensure_staff_account(url: str) -> tuple[str, str]:
    """The demo's dashboard account, with the password /demo shows (set again at every start)."""
    async with connect(url, pool_size=1) as db:
        await save_account(db.sessions, STAFF_NAME, Role.OPERATOR, STAFF_PASSWORD)
    return STAFF_NAME, STAFF_PASSWORD


async def render_voice_notes(url: str, settings: Settings) -> int:
    """Render the voice note of every live listing, in every language, into the audio cache (a progress bar):
    what the chat pages play, so the first click plays at once. Already rendered notes are skipped quickly."""
    from conversations.voice_notes import VoiceNotes
    from media.listing_pitch import pitch_job
    from media.packs import load_packs
    from media.renderer import Renderer

    packs = load_packs(settings.audio_cache, settings.prompt_pack_dir, settings.ffmpeg_binary)
    notes = VoiceNotes(Renderer(packs, settings.audio_cache, settings.ffmpeg_binary))
    now = datetime.now(UTC)
    async with connect(url, pool_size=1) as db, db.sessions() as session:
        jobs = (await session.scalars(select(Job).where(Job.status == JobStatus.PUBLISHED).order_by(Job.id))).all()
        pitches = [pitch_job(job, job.voice_clip_approved) for job in jobs if job.is_live(now)]
    with tqdm(total=len(pitches) * len(packs), desc="rendering voice notes", unit="note") as bar:
        for pitch in pitches:
            for lang in packs:
                await notes.make(pitch, lang)
                bar.update(1)
    return len(pitches)


def _mount_chat(app: web.Application, *, moderators_chat_id: int, moderator_ids: list[int], placeholder: bool) -> None:
    """The chat simulator and the Bot API fake it drives, at /demo/botapi on this same app (the bot's
    TELEGRAM_API_BASE_URL points there; the webhook is registered once the app listens, as serve does)."""
    from bots.web.demo.botapi import DemoBotAPI
    from bots.web.demo.chat import setup_chat

    api = DemoBotAPI()
    api.mount(app, prefix="/demo/botapi")
    setup_chat(
        app, api, moderators_chat_id=moderators_chat_id, moderator_ids=moderator_ids, placeholder_voice=placeholder
    )


def bind(port: int) -> socket.socket:
    """The demo's loopback socket on ``port`` (0: any free one); CommandError in one line if it is taken."""
    from bongpheak.commands.serve import listen

    return listen(HOST, port)


async def run_demo(settings: Settings, database_url: str, sock: socket.socket, announce: Callable[[str], Any]) -> None:
    """Everything until SIGINT/SIGTERM: the carrier simulator, then `serve --dialer` with the demo pages."""
    from bongpheak.commands.serve import serve
    from bots.web.demo import setup_demo
    from dialer.simulator.carrier import CarrierSimulator, Person, Script, bind_local
    from dialer.simulator.carrier import serve as serve_simulator

    # The pages poll a few times a second: one access-log line each would bury the address printed.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    port = sock.getsockname()[1]
    carrier_sock, carrier_url = bind_local(HOST)
    where = DemoAddresses(app=f"http://{HOST}:{port}", carrier=carrier_url)
    demo = demo_settings(settings, database_url, where)
    # Every number the dialer calls rings on the phone page, where a person answers it.
    simulator = CarrierSimulator(
        VOICE_ACCOUNT_SID, VOICE_AUTH_TOKEN, cps=demo.calls_per_second, script=lambda to: Script(person=Person())
    )
    staff = await ensure_staff_account(database_url)
    carrier, _ = await serve_simulator(simulator.app, carrier_sock)

    def mount(app: web.Application, wiring: Any) -> None:
        placeholder = bool(wiring.renderer.pack("km").manifest.placeholder)
        _mount_chat(app, moderators_chat_id=MODERATORS_CHAT_ID, moderator_ids=[MODERATOR_ID], placeholder=placeholder)
        setup_demo(
            app,
            simulator=simulator,
            sessions=wiring.db.sessions,
            staff=staff,
            placeholder_voice=placeholder,
        )

    try:
        await serve(
            demo,
            sock,
            polling=False,
            with_dialer=True,
            mount=mount,
            ready=lambda: announce(f"{where.app}/demo"),
        )
    finally:
        await carrier.cleanup()
