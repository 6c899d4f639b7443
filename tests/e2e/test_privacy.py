"""Privacy by relationship through the real entry points: the app `bongpheak serve` builds, the Telegram
webhook with the fake Bot API, the carrier simulator for the calls, PostgreSQL.

Two families who know one phone never learn of each other; an opted-out number is answered like any other and
never called; a relative's application reaches the employer, with the phone and only a verified employer's,
after the worker pressed 1 on the phone.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from dialer.simulator.carrier import CarrierSimulator, Script
from jobs_core.model import Application, ApplicationStatus, Consent, Gender, Nomination, Worker
from jobs_core.services.employers import DecideEmployer, decide_employer
from tests.builders import Builder
from tests.e2e.telegram.conftest import SECRET
from tests.e2e.telegram.test_flows import TelegramUser
from tests.e2e.test_whole_system import eventually, running_system, texts_to
from tests.fakes.telegram_api import FakeTelegramAPI, callback_update

EMPLOYER = 5101
_update_ids = itertools.count(900_000)


@dataclass
class Stack:
    http: Any
    telegram: FakeTelegramAPI
    carrier: CarrierSimulator
    sessions: async_sessionmaker[AsyncSession]
    scripts: dict[str, Script]

    def person(self, user_id: int) -> TelegramUser:
        return TelegramUser(self.http, self.telegram, user_id)

    def calls_to(self, phone: str) -> int:
        return len([c for c in self.carrier.placed if c.to == phone])


class _Webhook:
    """What TelegramUser needs of a test client: ``post(path, json=, headers=)`` against the running app, and
    its database (``sessions``), to wait for the replies the app sends after its answer."""

    def __init__(self, http: ClientSession, base_url: str, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.http, self.base_url, self.sessions = http, base_url, sessions

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.http.post(self.base_url + path, **kwargs)


@pytest.fixture
async def stack(
    engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession], tmp_path: Path
) -> AsyncIterator[Stack]:
    scripts: dict[str, Script] = {}
    async with (
        running_system(engine, session_factory, tmp_path, lambda to: scripts.get(to), SECRET) as system,
        ClientSession() as http,
    ):
        yield Stack(
            _Webhook(http, system.base_url, session_factory), system.telegram, system.carrier, session_factory, scripts
        )


async def nominate(
    who: TelegramUser,
    name: str,
    phone: str,
    relation: str = "Brother or sister",
    gender: str = "Woman",
    year: str = "2000",
    province: str = "Kampong Cham",
) -> str:
    """The whole nomination through the webhook; returns what the bot answered to "Yes, they agreed"."""
    await who.send("/nominate")
    await who.send(name)
    await who.send(phone)
    await who.press(relation)
    await who.press(gender)
    await who.send(year)
    await who.press(province)
    await who.press("Done")
    await who.press("Skip")  # no greeting
    await who.press("Yes, they agreed")
    return who.text


def _texts(who: TelegramUser) -> list[str]:
    """The messages the person got in answer to their last update, one text each."""
    return [str(c.params.get("text") or c.params.get("caption") or "") for c in who.last]


async def press_data(who: TelegramUser, data: str) -> None:
    await who._post(callback_update(next(_update_ids), who.chat_id, data, from_id=who.user_id))


async def worker_consent(stack: Stack, phone: str) -> Consent | None:
    async with stack.sessions() as session:
        worker = await session.scalar(select(Worker).where(Worker.phone == phone))
        return worker.consent if worker else None


async def application_status(stack: Stack, phone: str) -> ApplicationStatus | None:
    async with stack.sessions() as session:
        return await session.scalar(
            select(Application.status).join(Worker, Worker.id == Application.worker_id).where(Worker.phone == phone)
        )


def same_apart_from_names(a: str, name_a: str, b: str, name_b: str) -> bool:
    return a.replace(name_a, "<name>") == b.replace(name_b, "<name>")


async def test_two_families_who_know_one_phone_never_learn_of_each_other(stack: Stack) -> None:
    build = Builder(stack.sessions, now=None)  # type: ignore[arg-type]  # the real clock, as the app uses
    employer = await build.employer(external_id=str(EMPLOYER))
    await decide_employer(DecideEmployer(employer, "moderator:1", verify=True), build.uow())
    # Another province: no profile match, so the only pitch is the one the relative asks for.
    job = await build.published(employer, province="Siem Reap", sector="hospitality", title="Hotel cleaners")
    boss = stack.person(EMPLOYER)
    await boss.start()
    stack.scripts["+85512777888"] = Script(keys=["1"])  # yes to the consent call
    dara = stack.person(7301)
    await dara.start()
    await nominate(dara, "Sophea", "012 777 888")
    await nominate(dara, "Vuthy", "012 444 555", relation="Brother or sister", gender="Man")
    await eventually(lambda: worker_consent(stack, "+85512777888"), "Sophea agreed on the phone")
    await eventually(lambda: any("agreed to receive job calls" in t for t in texts_to(stack.telegram, 7301)), "told")

    vanna = stack.person(7302)
    await vanna.start()
    known = await nominate(vanna, "Sophy Chan", "+855 12 777 888", relation="Friend", gender="Man", year="1990")
    fresh = await nominate(vanna, "Mony", "097 555 4444", relation="Friend")
    # The same answer as for a number nobody knew: nothing says Sophea already agreed to calls.
    assert same_apart_from_names(known, "Sophy Chan", fresh, "Mony"), (known, fresh)
    await vanna.send("/family")
    view = vanna.text
    assert "Sophy Chan · 012 777 888" in view and "Mony" in view
    assert "Sophea" not in view and "agreed" not in view and "Vuthy" not in view
    # The known number's own entry says nothing of its calls (Mony's, a fresh number, may say its consent call
    # is planned, once the dialer has scheduled it).
    known_entry = view.split("👤 Sophy Chan", 1)[1].split("👤", 1)[0]
    assert "reach" not in known_entry and "planned" not in known_entry and "answered" not in known_entry
    async with stack.sessions() as session:
        worker = await session.scalar(select(Worker).where(Worker.phone == "+85512777888"))
        mine = await session.scalar(select(Nomination).where(Nomination.name == "Sophy Chan"))
    assert worker is not None and mine is not None and mine.worker_id == worker.id
    # The worker keeps the first family's entry; Vanna's own entry is kept beside it.
    assert (worker.name, worker.gender, worker.birth_year) == ("Sophea", Gender.FEMALE, 2000)
    assert (mine.gender, mine.birth_year, mine.province_code) == (Gender.MALE, 1990, "03")

    # Applying: Vanna's list holds only Vanna's own links, and a forged choice of Dara's Vuthy is refused.
    await press_data(vanna, f"job:{job}:apply")
    assert "Sophy Chan" in vanna.labels() and "Sophea" not in vanna.text + " ".join(vanna.labels())
    own = vanna.button("Sophy Chan")
    async with stack.sessions() as session:
        vuthy = await session.scalar(select(Worker.id).where(Worker.phone == "+85512444555"))
    assert own is not None and vuthy is not None
    await press_data(vanna, own.rsplit(":", 1)[0] + f":{vuthy}")
    assert "no longer available" in vanna.text
    await press_data(vanna, f"job:{job}:apply")
    stack.scripts["+85512777888"] = Script(keys=["1", "1"])  # confirms on the call, has experience
    await vanna.press("Sophy Chan")
    assert "We will call Sophy Chan to confirm" in vanna.text

    await eventually(lambda: any("012 777 888" in t for t in texts_to(stack.telegram, EMPLOYER)), "employer told")
    await eventually(
        lambda: any("Sophy Chan said yes" in t for t in texts_to(stack.telegram, 7302)), "Vanna told of the yes"
    )
    assert await application_status(stack, "+85512777888") is ApplicationStatus.NEW
    # Dara hears nothing of Vanna's application, and Vanna nothing of Dara's family.
    assert not any("Hotel cleaners" in t or "Sophy" in t for t in texts_to(stack.telegram, 7301))
    assert not any("Sophea" in t or "Vuthy" in t for t in texts_to(stack.telegram, 7302))


async def test_an_opted_out_number_gets_the_same_answer_and_is_never_called(stack: Stack) -> None:
    build = Builder(stack.sessions, now=None)  # type: ignore[arg-type]
    employer = await build.employer(external_id=str(EMPLOYER))
    job = await build.published(employer, province="Siem Reap", sector="hospitality", title="Hotel cleaners")
    stack.scripts["+85512666999"] = Script(keys=["9"])  # never call me
    dara = stack.person(7401)
    await dara.start()
    await nominate(dara, "Kanha", "012 666 999")
    await eventually(
        lambda: _is(worker_consent(stack, "+85512666999"), Consent.OPTED_OUT), "Kanha asked never to be called"
    )
    calls_before = stack.calls_to("+85512666999")
    assert calls_before == 1

    vanna = stack.person(7402)
    await vanna.start()
    stack.scripts["+85512555111"] = Script(keys=["1"])
    await nominate(vanna, "Kanha Sok", "012 666 999", relation="Friend")
    opted_out = _texts(vanna)
    await nominate(vanna, "Mony", "012 555 111", relation="Friend")
    fresh = _texts(vanna)
    # The answer is the same; Mony's "yes" on the phone may already follow it (replies go out before news).
    answer, news = fresh[: len(opted_out)], fresh[len(opted_out) :]
    assert same_apart_from_names("\n".join(opted_out), "Kanha Sok", "\n".join(answer), "Mony"), (opted_out, fresh)
    assert all("Mony agreed to receive job calls" in text for text in news), news
    await eventually(lambda: _is(worker_consent(stack, "+85512555111"), Consent.CONSENTED), "Mony agreed")
    # Applying for the opted-out one: the same reply as for anyone, and still no call.
    await press_data(vanna, f"job:{job}:apply")
    assert "Kanha Sok" in vanna.labels()
    await vanna.press("Kanha Sok")
    applied_opted_out = vanna.text
    stack.scripts["+85512555111"] = Script(keys=["0"])  # Mony does not want this one
    await press_data(vanna, f"job:{job}:apply")
    await vanna.press("Mony")
    assert same_apart_from_names(applied_opted_out, "Kanha Sok", vanna.text, "Mony")
    # Mony's confirm call came and went (declined): the dialer has handled everything Vanna asked for.
    await eventually(
        lambda: _is(application_status(stack, "+85512555111"), ApplicationStatus.WITHDRAWN), "Mony declined"
    )
    assert stack.calls_to("+85512666999") == calls_before
    await vanna.send("/family")
    assert "asked never to be called" not in vanna.text and "Kanha Sok" in vanna.text


async def test_no_phone_reaches_an_unverified_employer_or_any_employer_before_the_worker_said_yes(
    stack: Stack,
) -> None:
    build = Builder(stack.sessions, now=None)  # type: ignore[arg-type]
    employer = await build.employer(external_id=str(EMPLOYER))  # never verified
    job = await build.published(employer, province="Siem Reap", sector="hospitality", title="Hotel cleaners")
    boss = stack.person(EMPLOYER)
    await boss.start()
    phones = {"Sophea": "+85512777001", "Chenda": "+85512777002", "Vuthy": "+85512777003"}
    for phone in phones.values():
        stack.scripts[phone] = Script(keys=["1"])
    dara = stack.person(7501)
    await dara.start()
    for name, phone in phones.items():
        await nominate(dara, name, phone)
    for phone in phones.values():
        await eventually(lambda p=phone: _is(worker_consent(stack, p), Consent.CONSENTED), f"{phone} agreed")
    stack.scripts[phones["Sophea"]] = Script(keys=["1", "1"])  # confirms
    stack.scripts[phones["Chenda"]] = Script(keys=["9"])  # never call me again
    stack.scripts[phones["Vuthy"]] = Script(outcome="no-answer")  # not reached: stays awaiting
    for name in phones:
        await press_data(dara, f"job:{job}:apply")
        await dara.press(name)
        assert f"only after {name} says yes" in dara.text

    await eventually(lambda: _is(application_status(stack, phones["Sophea"]), ApplicationStatus.NEW), "confirmed")
    await eventually(lambda: _is(application_status(stack, phones["Chenda"]), ApplicationStatus.WITHDRAWN), "9")
    await eventually(lambda: any("Chenda did not confirm" in t for t in texts_to(stack.telegram, 7501)), "told")
    await eventually(lambda: any("Sophea" in t for t in texts_to(stack.telegram, EMPLOYER)), "employer told")
    assert await application_status(stack, phones["Vuthy"]) is ApplicationStatus.AWAITING_WORKER
    # The employer may not hire, nor even see, the application still awaiting Vuthy.
    async with stack.sessions() as session:
        awaiting = await session.scalar(
            select(Application.id).where(Application.status == ApplicationStatus.AWAITING_WORKER)
        )
    for step in ("contacted", "hired"):
        await press_data(boss, f"appst:{awaiting}:{step}")
        assert "no longer available" in boss.text
    await press_data(boss, f"lst:{job}:apps")
    listed = boss.text
    assert "Sophea" in listed and "Chenda" not in listed and "Vuthy" not in listed
    assert await application_status(stack, phones["Vuthy"]) is ApplicationStatus.AWAITING_WORKER
    employer_texts = texts_to(stack.telegram, EMPLOYER)
    assert any("verified your company" in t for t in employer_texts)
    for phone in ("012 777 001", "012 777 002", "012 777 003", "777001", "777002", "777003"):
        assert not any(phone in t for t in employer_texts), phone


async def _is(value: Any, expected: object) -> bool:
    return bool(await value == expected)
