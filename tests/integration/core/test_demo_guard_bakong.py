"""A demo database talks only to a loopback Bakong, like every other outside service."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bongpheak.commands import CommandError
from bongpheak.demo_guard import mark_as_demo, refuse_real_services_on_demo_data
from tests.integration.core.test_demo_guard import LOCAL_TELEGRAM, _run, _settings

PAYMENTS = {"payments": True, **LOCAL_TELEGRAM}


@pytest.mark.parametrize(
    ("values", "refused"),
    [
        (PAYMENTS, "Bakong at api-bakong.nbc.gov.kh"),
        ({**PAYMENTS, "bakong_api_base_url": "https://sit-api-bakong.nbc.gov.kh"}, "Bakong at sit-api-bakong"),
        ({**PAYMENTS, "bakong_api_base_url": "http://127.0.0.1:8090"}, None),
        (LOCAL_TELEGRAM, None),  # payments off: Bakong is not used at all
    ],
)
def test_a_demo_database_asks_only_a_loopback_bakong(
    session_factory: async_sessionmaker[AsyncSession], database_url: str, values: dict[str, Any], refused: str | None
) -> None:
    _run(database_url, mark_as_demo)
    check = refuse_real_services_on_demo_data(_settings(**values), database_url, telegram=True)
    if refused is None:
        asyncio.run(check)
        return
    with pytest.raises(CommandError, match=refused):
        asyncio.run(check)
