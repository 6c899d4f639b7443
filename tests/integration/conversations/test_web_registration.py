"""A website registration link typed into Messenger: the company is confirmed in Telegram only, where the
website's sign-in codes go. (Telegram itself: tests/e2e/telegram/test_web_registration.py.)"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from conversations.dialog import handle
from conversations.replies import Incoming
from conversations.turn import DialogDeps
from jobs_core.company import read_company
from jobs_core.model import Employer, WebRegistration
from tests.builders import Builder
from tests.integration.conversations.conftest import reply_text


async def test_a_registration_link_sent_in_messenger_registers_nothing_and_says_where_to_open_it(
    deps: DialogDeps, build: Builder
) -> None:
    from jobs_core.services.employers import hold_registration

    company = read_company({"name": "Web Co", "phone": "023 880 113", "province": "Kandal", "kind": "employer"})
    token = await hold_registration(company, build.uow())

    async def send(**fields: Any) -> str:
        incoming = Incoming(channel="messenger", chat_id="psid-1", user_id="psid-1", user_name="Dara", **fields)
        return "\n".join(reply_text(r) for r in await handle(incoming, deps))

    assert "Please choose your language" in await send(text=f"/start reg_{token}")
    said = await send(action=f"lang:en:reg_{token}")
    assert "Please open this link in Telegram: the company is confirmed there." in said
    assert "Web Co" not in said
    async with deps.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Employer)) == 0
        held = await session.scalar(select(WebRegistration))
    assert held is not None and held.used_at is None
