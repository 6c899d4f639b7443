"""Which services a demo database may talk to, seeding only empty databases, and marking old demo databases."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

import pytest
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bongpheak.bootstrap import connect
from bongpheak.commands import CommandError
from bongpheak.commands.seed import seed
from bongpheak.demo_guard import TELEGRAM_API, holds_demo_data, mark_as_demo, refuse_real_services_on_demo_data
from bongpheak.migrate import alembic_config
from bongpheak.settings import Settings
from jobs_core.model import DemoData, Relative
from tests.database import fresh_database

VOICE = {"voice_account_sid": "AC" + "4" * 32, "voice_auth_token": "secret"}
LOCAL_TELEGRAM = {"telegram_api_base_url": "http://127.0.0.1:8081"}


def _run(url: str, action: Any) -> Any:
    """Run ``action(sessions)`` on an engine of its own (the fixtures' engine lives on another event loop)."""

    async def go() -> Any:
        async with connect(url, pool_size=1) as db:
            return await action(db.sessions)

    return asyncio.run(go())


def _settings(**values: Any) -> Settings:
    return Settings(_env_file=None, telegram_bot_token="1:x", **values)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("values", "telegram", "refused"),
    [
        ({}, True, "Telegram at api.telegram.org"),
        ({"telegram_api_base_url": "https://bot-api.example.org"}, True, "Telegram at bot-api.example.org"),
        (LOCAL_TELEGRAM, True, None),
        ({"telegram_api_base_url": "http://localhost:8081"}, True, None),
        ({"telegram_api_base_url": "http://[::1]:8081"}, True, None),
        ({**LOCAL_TELEGRAM, **VOICE}, True, "the voice provider at api.twilio.com"),
        (VOICE, False, "the voice provider at api.twilio.com"),
        ({**VOICE, "voice_api_base_url": "https://api.somleng.org"}, False, "the voice provider at api.somleng.org"),
        ({**VOICE, "voice_api_base_url": "http://127.0.0.1:9000"}, False, None),
        ({**LOCAL_TELEGRAM, **VOICE, "voice_api_base_url": "http://127.0.0.1:9000"}, True, None),
        ({**LOCAL_TELEGRAM, "demo_provider_hosts": ""}, True, "Telegram at 127.0.0.1"),
        ({**LOCAL_TELEGRAM, "demo_provider_hosts": "localhost"}, True, "Telegram at 127.0.0.1"),
    ],
)
def test_a_demo_database_talks_only_to_demo_hosts(
    session_factory: async_sessionmaker[AsyncSession],
    database_url: str,
    values: dict[str, Any],
    telegram: bool,
    refused: str | None,
) -> None:
    _run(database_url, mark_as_demo)
    if refused is None:
        asyncio.run(refuse_real_services_on_demo_data(_settings(**values), database_url, telegram=telegram))
        return
    with pytest.raises(CommandError) as error:
        asyncio.run(refuse_real_services_on_demo_data(_settings(**values), database_url, telegram=telegram))
    message = str(error.value)
    assert refused in message and "demo data" in message and "\n" not in message
    assert "DATABASE_URL" in message and "DATA_DIR" in message


def test_a_database_without_demo_data_may_use_the_real_services(
    session_factory: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    asyncio.run(refuse_real_services_on_demo_data(_settings(**VOICE), database_url, telegram=True))


def test_demo_hosts_cannot_be_widened_beyond_loopback(
    session_factory: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    with pytest.raises(CommandError, match="only loopback hosts"):
        asyncio.run(
            refuse_real_services_on_demo_data(
                _settings(demo_provider_hosts="localhost,api.telegram.org"), database_url, telegram=True
            )
        )


def test_the_demo_is_never_seeded_into_a_database_with_people(
    session_factory: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    async def add_relative(sessions: async_sessionmaker[AsyncSession]) -> None:
        async with sessions() as session, session.begin():
            session.add(Relative(channel="telegram", external_id="4242", name="Sokha"))

    _run(database_url, add_relative)
    with pytest.raises(CommandError, match="fresh database"):
        asyncio.run(seed(database_url))
    assert not _run(database_url, holds_demo_data)


def test_a_database_seeded_before_the_mark_existed_is_marked_by_the_migration() -> None:
    def audited(actor: str) -> Any:
        async def write(sessions: async_sessionmaker[AsyncSession]) -> None:
            async with sessions() as session, session.begin():
                await session.execute(
                    text(
                        "INSERT INTO audit_log (actor, action, subject_type, subject_id, detail, at) "
                        "VALUES (:actor, 'job.approve', 'job', 1, '{}', now())"
                    ),
                    {"actor": actor},
                )

        return write

    async def marked(sessions: async_sessionmaker[AsyncSession]) -> bool:
        async with sessions() as session:
            return await session.scalar(select(DemoData.id)) is not None

    with fresh_database() as url:
        command.downgrade(alembic_config(url), "0005")
        _run(url, audited("moderator:demo"))  # what `seed --demo` wrote
        command.upgrade(alembic_config(url), "head")
        assert _run(url, marked)
    with fresh_database() as url:  # a live database's history is not mistaken for a demo
        command.downgrade(alembic_config(url), "0005")
        _run(url, audited("telegram:5001"))
        command.upgrade(alembic_config(url), "head")
        assert not _run(url, marked)


def test_the_written_out_telegram_address_is_aiograms_default() -> None:
    from aiogram.client.telegram import PRODUCTION

    assert urlsplit(PRODUCTION.base).hostname == urlsplit(TELEGRAM_API).hostname == "api.telegram.org"
