"""A company registered on the website's form, confirmed in Telegram: the website and the webhook on one app
(as ``bongpheak serve`` mounts them), the real conversations, the fake Bot API, PostgreSQL.

The link's token is single use and expires; whoever confirms becomes the company's account through the chat
registration's own service, so the moderators get the same card as for a company registered in the chat.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.telegram import TelegramDeps, setup_telegram
from bots.telegram.dialog import conversation_dialog, conversation_preparer
from bots.web import setup_web
from bots.web.deps import WebDeps
from conversations.notifier import notify_once
from conversations.turn import DialogDeps
from jobs_core.model import Employer, EmployerIdentity, Verification, WebRegistration
from jobs_core.model.base import utcnow
from tests.builders import Builder
from tests.e2e.telegram.conftest import all_sent, quick_pacer
from tests.e2e.telegram.test_flows import MODERATOR, MODERATORS_GROUP, TelegramUser
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.integration.web.support import parse

Client = TestClient[web.Request, web.Application]
COMPANY = {"name": "Mekong Build Co.", "phone": "023 880 112", "province": "12", "kind": "employer", "licence_no": ""}
LINK = re.compile(r"https://t\.me/BongPheakTestBot\?start=(reg_[A-Za-z0-9_-]{32})")


class Clock:
    """The app's clock: the real time unless a test sets ``at`` (a moment in the past: the outbox sender
    sends by the real time, so the chat's replies must not be dated in the future)."""

    def __init__(self) -> None:
        self.at: datetime | None = None

    def __call__(self) -> datetime:
        return self.at or utcnow()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def dialog_deps(session_factory: async_sessionmaker[AsyncSession], clock: Clock) -> DialogDeps:
    return DialogDeps(
        session_factory=session_factory,
        clock=clock,
        moderators_chat_id=str(MODERATORS_GROUP),
        moderator_ids=frozenset({str(MODERATOR)}),
        moderators_language="en",
    )


@pytest.fixture
async def app_client(deps: TelegramDeps, dialog_deps: DialogDeps) -> AsyncIterator[Client]:
    app = web.Application()
    dialog = conversation_dialog(dialog_deps)
    setup_telegram(app, replace(deps, dialog=dialog, prepare=conversation_preparer(dialog_deps), pacer=quick_pacer()))
    setup_web(app, WebDeps(dialog_deps, telegram_bot="BongPheakTestBot"))
    async with TestClient(TestServer(app)) as client:
        yield client


async def register_on_the_website(client: Client, **changes: str) -> str:
    """Fill in the form as a browser would; returns the bot's start payload from the page's Telegram link."""
    page = parse(await (await client.get("/en/employers/register")).text())
    form = page.find("form", id="register")
    hidden = {i.attrs["name"]: i.attrs["value"] for i in form.find_all("input", type="hidden")}
    response = await client.post(form.attrs["action"], data={**hidden, **COMPANY, **changes})
    assert response.status == 200, await response.text()
    found = LINK.fullmatch(parse(await response.text()).find("a", id="open-telegram").attrs["href"])
    assert found is not None
    return found.group(1)


async def open_link(person: TelegramUser, payload: str, language: str = "English") -> None:
    """``t.me/<bot>?start=<payload>`` opened by someone new: Telegram sends ``/start <payload>``; the language
    choice comes first and carries the payload."""
    await person.send(f"/start {payload}")
    assert "Please choose your language" in person.text
    await person.press(language)


async def employers(sessions: async_sessionmaker[AsyncSession]) -> list[Employer]:
    async with sessions() as session:
        return list((await session.scalars(select(Employer).order_by(Employer.id))).all())


async def registration(sessions: async_sessionmaker[AsyncSession]) -> WebRegistration:
    async with sessions() as session:
        found = await session.scalar(select(WebRegistration).order_by(WebRegistration.id.desc()))
    assert found is not None
    return found


def card_of(api: FakeTelegramAPI, employer: Employer) -> tuple[str, list[list[dict[str, str]]]]:
    """The moderators' card of ``employer`` in their group (text, with its id and name taken out; buttons)."""
    [card] = [c for c in api.sent(MODERATORS_GROUP) if f"Company #{employer.id}:" in str(c.params.get("text"))]
    text = str(card.params["text"]).replace(f"#{employer.id}: {employer.name}", "#<id>: <name>")
    buttons = [
        [{**b, "callback_data": b["callback_data"].replace(f":{employer.id}:", ":<id>:")} for b in row]
        for row in card.params["reply_markup"]["inline_keyboard"]
    ]
    return text, buttons


async def test_a_company_from_the_website_is_confirmed_in_telegram_and_goes_to_the_moderators_like_any_other(
    app_client: Client,
    fake_api: FakeTelegramAPI,
    dialog_deps: DialogDeps,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    payload = await register_on_the_website(app_client)
    assert await employers(session_factory) == []  # nothing registered before someone confirms in Telegram
    boss = TelegramUser(app_client, fake_api, 8101)
    await open_link(boss, payload)
    assert "Your company from the website:" in boss.text
    assert "Mekong Build Co." in boss.text and "023 880 112" in boss.text and "Phnom Penh" in boss.text
    assert boss.labels() == ["✅ Confirm", "✖️ Cancel"]
    await boss.send("yes please")  # typed instead of pressed: asked again, nothing registered
    assert "Please press Confirm, or Cancel." in boss.text and "Mekong Build Co." in boss.text
    assert await employers(session_factory) == []
    await boss.press("Confirm")
    assert "Mekong Build Co. is registered. Our moderators will check it. You can post a job now." in boss.text
    [employer] = await employers(session_factory)
    assert (employer.name, employer.contact_phone, employer.verification) == (
        "Mekong Build Co.",
        "+85523880112",
        Verification.UNVERIFIED,
    )
    async with session_factory() as session:
        identity = await session.scalar(select(EmployerIdentity))
    assert identity is not None and (identity.employer_id, identity.external_id) == (employer.id, "8101")
    used = await registration(session_factory)
    assert used.used_at is not None and used.employer_id == employer.id

    # The same company registered in the chat, for comparison: both cards read the same.
    other = TelegramUser(app_client, fake_api, 8102)
    await other.start()
    await other.press("I am an employer")
    await other.send("Tonle Sap Builders")
    await other.send("023 880 112")
    await other.press("Phnom Penh")
    await other.press("A company or employer")
    assert "Tonle Sap Builders is registered" in other.text
    assert await notify_once(dialog_deps) >= 2
    await all_sent(session_factory)
    from_the_web, from_the_chat = await employers(session_factory)
    assert card_of(fake_api, from_the_web) == card_of(fake_api, from_the_chat)
    text, buttons = card_of(fake_api, from_the_web)
    assert text.startswith("Company #<id>: <name>") and [b["text"] for b in buttons[0]] == ["✅ Verify", "❌ Reject"]

    # The bot offers to post a job, and the website's sign-in now sends a code to this chat.
    await boss.press("Post a job")
    assert "What is the job?" in boss.text
    page = parse(await (await app_client.get("/en/employers/")).text())
    fields = page.find("form", id="sign-in").find_all("input", type="hidden")
    hidden = {i.attrs["name"]: i.attrs["value"] for i in fields}
    response = await app_client.post("/en/employers/sign-in", data={**hidden, "phone": "023 880 112"})
    assert response.status == 200
    await all_sent(session_factory)
    codes = [c for c in fake_api.sent(8101) if "Your sign-in code" in str(c.params.get("text"))]
    assert len(codes) == 1


async def test_a_link_is_used_once(
    app_client: Client, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    payload = await register_on_the_website(app_client)
    first = TelegramUser(app_client, fake_api, 8111)
    await open_link(first, payload)
    await first.press("Confirm")
    second = TelegramUser(app_client, fake_api, 8112)
    await open_link(second, payload)
    assert "This registration link was already used. Each link works once." in second.text
    assert "What is the name of your company?" in second.text  # the employer menu: registering in the chat
    assert [e.name for e in await employers(session_factory)] == ["Mekong Build Co."]


async def test_a_link_shown_twice_then_confirmed_twice_registers_once(
    app_client: Client, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    payload = await register_on_the_website(app_client)
    first, second = TelegramUser(app_client, fake_api, 8121), TelegramUser(app_client, fake_api, 8122)
    await open_link(first, payload)
    await open_link(second, payload)
    await first.press("Confirm")
    await second.press("Confirm")
    assert "This registration link was already used." in second.text
    [employer] = await employers(session_factory)
    async with session_factory() as session:
        owners = (await session.scalars(select(EmployerIdentity.external_id))).all()
    assert employer.name == "Mekong Build Co." and owners == ["8121"]


async def test_an_expired_link_is_refused_in_the_persons_language(
    app_client: Client, fake_api: FakeTelegramAPI, clock: Clock, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    clock.at = utcnow() - timedelta(hours=24, minutes=1)  # the form was sent a day and a minute ago
    payload = await register_on_the_website(app_client)
    clock.at = None
    late = TelegramUser(app_client, fake_api, 8131)
    await open_link(late, payload, language="ភាសាខ្មែរ")
    assert "តំណចុះឈ្មោះនេះផុតកំណត់ហើយ" in late.text
    assert "ឈ្មោះក្រុមហ៊ុន" in late.text  # the employer menu: the chat's registration, in Khmer
    assert await employers(session_factory) == []
    assert (await registration(session_factory)).used_at is None


async def test_a_link_confirmed_just_before_it_expires_still_works(
    app_client: Client, fake_api: FakeTelegramAPI, clock: Clock, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    clock.at = utcnow() - timedelta(hours=23, minutes=55)
    payload = await register_on_the_website(app_client)
    clock.at = None
    person = TelegramUser(app_client, fake_api, 8132)
    await open_link(person, payload)
    await person.press("Confirm")
    assert [e.name for e in await employers(session_factory)] == ["Mekong Build Co."]


async def test_an_unknown_or_mangled_link_is_refused(
    app_client: Client, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    payload = await register_on_the_website(app_client)
    person = TelegramUser(app_client, fake_api, 8141)
    await open_link(person, payload[:-3] + "xyz")
    assert "This registration link is not valid. Please check it, or register here." in person.text
    assert "What is the name of your company?" in person.text
    assert await employers(session_factory) == []


async def test_someone_who_already_acts_for_a_company_is_told_so_and_nothing_is_overwritten(
    app_client: Client, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await Builder(session_factory, utcnow()).employer("Golden Thread Apparel", external_id="8151")
    payload = await register_on_the_website(app_client, name="Another Name Ltd")
    owner = TelegramUser(app_client, fake_api, 8151)
    await open_link(owner, payload)
    assert "already registered for Golden Thread Apparel. Nothing was changed." in owner.text
    assert "Golden Thread Apparel · waiting for verification" in owner.text  # the employer menu
    assert [e.name for e in await employers(session_factory)] == ["Golden Thread Apparel"]
    assert (await registration(session_factory)).used_at is None


async def test_cancel_keeps_the_link_for_later(
    app_client: Client, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    payload = await register_on_the_website(app_client)
    person = TelegramUser(app_client, fake_api, 8161)
    await open_link(person, payload)
    await person.press("Cancel")
    assert "Cancelled. Nothing was saved." in person.text
    assert await employers(session_factory) == []
    await person.send(f"/start {payload}")  # a known person: no language choice this time
    await person.press("Confirm")
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Employer)) == 1
