"""A demo database never reaches a real person: from it, `serve` and `dialer` talk only to local fakes.

The rule, checked when either command starts: if the database holds demo data (the ``demo_data`` row that
``seed --demo`` writes first), every outside service the process would talk to must be on a *demo host*.
Demo hosts are loopback names only — by default ``localhost``, ``127.0.0.1`` and ``::1``, where the carrier
simulator and the test fakes listen. So Telegram counts as real when TELEGRAM_API_BASE_URL is unset
(api.telegram.org) or names any other host, and the voice provider likewise with VOICE_API_BASE_URL (unset:
api.twilio.com; Somleng, SignalWire: their own hosts), and Bakong when payments are on (BAKONG_API_BASE_URL;
unset: api-bakong.nbc.gov.kh). DEMO_PROVIDER_HOSTS can narrow the demo hosts (the
tests empty it, so their loopback fakes stand for the real services) but never name a non-loopback host.

A database without the row is not checked here. Demo phone numbers are refused by the dialer on any
database (``jobs_core.phones.is_demo_phone``), so even demo rows copied elsewhere cannot ring anyone.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bongpheak.bootstrap import connect
from bongpheak.commands import CommandError
from bongpheak.settings import Settings
from dialer.settings import TWILIO_API_BASE_URL
from jobs_core.model import DemoData
from jobs_core.model.base import utcnow
from jobs_core.model.demo import DEMO_ROW

# Where aiogram sends when TELEGRAM_API_BASE_URL is unset. Written out, not imported: importing aiogram takes
# seconds, and every command (and /healthz at start-up) would wait for it.
TELEGRAM_API = "https://api.telegram.org"
GRAPH_API = "https://graph.facebook.com"  # where Messenger sends when MESSENGER_API_BASE_URL is unset
BAKONG_API = "https://api-bakong.nbc.gov.kh"  # where payments are checked when BAKONG_API_BASE_URL is unset
HOW_TO_GO_LIVE = "for real use, set DATABASE_URL to a fresh database or DATA_DIR to another folder"
DEMO_NOTICE = (
    "This is demo data: made-up people whose phone numbers (+855 20 0xx xxx) cannot ring anyone.\n"
    "From now on this database talks only to local fakes (docs/demo.md); for real use, set DATABASE_URL\n"
    "to a fresh database or DATA_DIR to another folder."
)


async def holds_demo_data(sessions: async_sessionmaker[AsyncSession]) -> bool:
    async with sessions() as session:
        return await session.scalar(select(DemoData.id).limit(1)) is not None


async def mark_as_demo(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Remember, in its own committed transaction, that this database holds demo data."""
    async with sessions() as session, session.begin():
        if await session.get(DemoData, DEMO_ROW) is None:
            session.add(DemoData(id=DEMO_ROW, seeded_at=utcnow()))


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def demo_hosts(settings: Settings) -> frozenset[str]:
    """The hosts a demo database may talk to (DEMO_PROVIDER_HOSTS), or CommandError if one is not loopback."""
    hosts = frozenset(h.strip().strip("[]").lower() for h in settings.demo_provider_hosts.split(",") if h.strip())
    outside = sorted(h for h in hosts if not _is_loopback(h))
    if outside:
        raise CommandError(
            f"DEMO_PROVIDER_HOSTS may name only loopback hosts (localhost, 127.0.0.1, ::1), not {outside[0]}"
        )
    return hosts


def _host(base_url: str | None, default: str) -> str:
    """The host a base URL points at; an unreadable URL gives "" (never a demo host)."""
    try:
        return (urlsplit(base_url or default).hostname or "").lower()
    except ValueError:
        return ""


def services_in_use(settings: Settings, *, telegram: bool) -> list[tuple[str, str]]:
    """(service, host) for every outside service the process is configured to talk to."""
    used = []
    if telegram:
        used.append(("Telegram", _host(settings.telegram_api_base_url, TELEGRAM_API)))
    if telegram and settings.messenger_page_token:
        used.append(("Messenger", _host(settings.messenger_api_base_url, GRAPH_API)))
    if settings.voice_account_sid and settings.voice_auth_token:
        used.append(("the voice provider", _host(settings.voice_api_base_url, TWILIO_API_BASE_URL)))
    if settings.payments:
        used.append(("Bakong", _host(settings.bakong_api_base_url, BAKONG_API)))
    return used


async def _is_demo(url: str) -> bool:
    async with connect(url, pool_size=1) as db:
        return await holds_demo_data(db.sessions)


async def refuse_real_services_on_demo_data(settings: Settings, url: str, *, telegram: bool) -> None:
    """CommandError (one line) if this database holds demo data and a service in use is not on a demo host."""
    allowed = demo_hosts(settings)
    real = [
        f"{service} at {host or 'an unreadable address'}"
        for service, host in services_in_use(settings, telegram=telegram)
        if host not in allowed
    ]
    if not real:
        return
    if await _is_demo(url):
        raise CommandError(
            f"this database holds demo data, which must never reach real people, so it will not talk to "
            f"{' or '.join(real)} (only to local fakes); {HOW_TO_GO_LIVE}"
        )
