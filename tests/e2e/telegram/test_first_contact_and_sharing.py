"""Issue 12 through the webhook, in Khmer and English: nominating (relations, the phone step, ticks edited in
place, Back and Cancel), sharing that lands on the job, the first contact, long lists with counts, one
confirmation per application."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.telegram.models import TelegramFile
from conversations.i18n import gettext_for
from conversations.notifier import notify_once
from conversations.turn import DialogDeps
from jobs_core.model import Consent, Nomination, Relationship, Worker
from jobs_core.model.base import utcnow
from jobs_core.services.applications import Apply, apply
from jobs_core.services.people import RecordConsent, Subscribe, record_consent, subscribe
from jobs_core.uow import UnitOfWork
from tests.builders import Builder
from tests.e2e.telegram import test_flows
from tests.e2e.telegram.conftest import all_sent, post_update
from tests.e2e.telegram.test_flows import MODERATOR, MODERATORS_GROUP, Client, TelegramUser
from tests.fakes.telegram_api import (
    ApiCall,
    FakeTelegramAPI,
    callback_update,
    inline_query_update,
    message_update,
    user,
)

# The flows' fixtures, shared with test_flows: the real dialog behind the webhook.
dialog_deps = test_flows.dialog_deps
flow_client = test_flows.flow_client
normalisations = test_flows.normalisations

WELCOME = (
    "Welcome to Bong Pheak! We help people in Cambodia find safe jobs that our team has checked. "
    "Browse jobs here, or add a family member without a smartphone: we call them about jobs that fit. "
    "Bong Pheak is free. We never ask you or your family for money."
)
LANGUAGE_BUTTON = {"km": "ភាសាខ្មែរ", "en": "English"}
_people = itertools.count(7_300_000)
_updates = itertools.count(900_000)


class Person(TelegramUser):
    """A Telegram user who speaks ``language``: chooses it at the start and presses buttons by their words."""

    def __init__(self, client: Client, api: FakeTelegramAPI, language: str, user_id: int | None = None) -> None:
        super().__init__(client, api, user_id or next(_people))
        self.language = language
        self._ = gettext_for(language)

    async def press(self, label: str) -> list[ApiCall]:
        """Press the button as Telegram reports it: from the bot's message that carries it (so it can be edited)."""
        for call in reversed(self.last):
            for row in (call.params.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if label in button["text"] and "callback_data" in button and isinstance(call.result, dict):
                        message = self.api.message(self.chat_id, call.result["message_id"])
                        update = callback_update(
                            next(_updates), self.chat_id, button["callback_data"], self.user_id, message=message
                        )
                        return await self._post(update)
        raise AssertionError(f"no button {label!r} in {self.labels()}")

    async def begin(self) -> None:
        await self.send("/start")
        await self.press(LANGUAGE_BUTTON[self.language])

    async def tap(self, english: str) -> list[ApiCall]:
        """Press the button whose label is ``english`` in this person's language."""
        return await self.press(self._(english))

    def said(self, english: str, **values: Any) -> bool:
        return self._(english).format(**values) in self.text


async def _nominate_until_phone(person: Person, name: str) -> None:
    await person.tap("👪 Help a family member find work")
    await person.tap("➕ Add a family member for job calls")
    await person.send(name)


@pytest.mark.parametrize("language", ["km", "en"])
async def test_nominating_a_parent_with_back_cancel_ticks_in_place_and_a_repeated_phone(
    flow_client: Client, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession], language: str
) -> None:
    dara = Person(flow_client, fake_api, language)
    await dara.begin()
    await _nominate_until_phone(dara, "Sokha")
    ask_phone = dara.last[-1]
    assert dara.said("What is {name}'s phone number? For example 012 345 678.", name="Sokha")
    # No "send my number" keyboard: the relative's own number is not their family member's.
    assert "keyboard" not in ask_phone.params["reply_markup"]
    assert dara.labels() == [dara._("↩️ Back"), dara._("✖️ Cancel")]
    await dara.tap("↩️ Back")
    assert dara.said("What is your family member's name?")
    await dara.send("Sokha")
    await dara.send("០១២ ៣៤៥ ៦៧៨")
    assert dara.said("Who is {name} to you?", name="Sokha")
    relations = ["My father or mother", "My son or daughter", "My husband or wife", "Brother or sister"]
    relations += ["Other relative", "Friend", "Acquaintance"]
    assert [dara._(r) for r in relations] + [dara._("↩️ Back"), dara._("✖️ Cancel")] == dara.labels()
    await dara.tap("My father or mother")
    await dara.tap("↩️ Back")  # the relation question again; then forward once more
    assert dara.said("Who is {name} to you?", name="Sokha")
    await dara.tap("My father or mother")
    await dara.tap("Woman")
    await dara.send("១៩៧០")
    await dara.press("ភ្នំពេញ" if language == "km" else "Phnom Penh")
    sectors_question = dara.last[-1]
    # A tick edits the question's own message (its keyboard only); no new message arrives.
    construction = "សំណង់" if language == "km" else "Construction"
    await dara.press(construction)
    assert [c.method for c in dara.last] == ["editMessageReplyMarkup"]
    edited = fake_api.message(dara.chat_id, sectors_question.result["message_id"])
    ticked = [b["text"] for row in edited["reply_markup"]["inline_keyboard"] for b in row if b["text"][0] == "✅"]
    assert ticked == [f"✅ {construction}"]
    await dara.press(construction)  # and untick, and tick again: still the same message
    await dara.press(construction)
    assert [c.method for c in dara.last] == ["editMessageReplyMarkup"]
    await dara.press(dara._("Done ✔️"))
    # The optional greeting has Back and Cancel like every question of the walk.
    assert dara.labels() == [dara._("Skip"), dara._("↩️ Back"), dara._("✖️ Cancel")]
    await dara.tap("↩️ Back")
    assert dara.said("What kind of work does {name} want? Choose one or more, then press Done.", name="Sokha")
    await dara.press(dara._("Done ✔️"))
    await dara.tap("Skip")
    assert dara.said("Did {name} agree that we call them about jobs?", name="Sokha")
    await dara.tap("✅ Yes, they agreed")
    assert dara.said(
        "Thank you! We added {name}. Nobody gets job calls without saying yes on the phone first.", name="Sokha"
    )
    async with session_factory() as session:
        nomination = await session.scalar(
            select(Nomination).join(Worker).where(Worker.phone == "+85512345678", Nomination.name == "Sokha")
        )
        assert nomination is not None and nomination.relation is Relationship.PARENT
        assert nomination.sectors == ["construction"]
    # The same number again is caught at the phone step, not after six more questions.
    await dara.tap("⬅️ Menu")
    await dara.tap("➕ Add a family member for job calls")
    await dara.send("Mum")
    await dara.send("012 345 678")
    assert dara.said("You have already added this family member.")
    assert dara.said("What is {name}'s phone number? For example 012 345 678.", name="Mum")
    await dara.tap("✖️ Cancel")
    assert dara.said("Cancelled. Nothing was saved.")
    async with session_factory() as session:
        assert len((await session.scalars(select(Nomination))).all()) == 1


@pytest.mark.parametrize("language", ["km", "en"])
async def test_a_shared_link_opens_its_job_after_the_welcome_for_a_new_person(
    flow_client: Client, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession], language: str
) -> None:
    build = Builder(session_factory, utcnow())
    job_id = await build.published(title="Sewing machine operators")
    newcomer = Person(flow_client, fake_api, language)
    await newcomer.send(f"/start job_{job_id}")
    assert "Please choose your language" in newcomer.text
    await newcomer.press(LANGUAGE_BUTTON[language])
    texts = [str(c.params.get("text") or c.params.get("caption") or "") for c in newcomer.last]
    welcome = texts.index(newcomer._(WELCOME))
    card = next(i for i, t in enumerate(texts) if "Sewing machine operators" in t)
    assert welcome < card  # the welcome first: what the service is, that it is free, never asks for money
    assert "1297" in texts[card] and "117" in texts[card]
    assert newcomer._("🔎 Browse jobs") not in newcomer.labels()  # the job, not the menu
    # Someone who knows the bot already gets the job straight away.
    await newcomer.send(f"/start job_{job_id}")
    assert "Sewing machine operators" in newcomer.text
    # A link to a job that is gone says so and offers the menu.
    await newcomer.send("/start job_999999")
    assert newcomer.said("Sorry, this is no longer available.") and newcomer.said("What would you like to do?")


@pytest.mark.parametrize("language", ["km", "en"])
async def test_the_websites_register_link_opens_the_company_registration(
    flow_client: Client, fake_api: FakeTelegramAPI, language: str
) -> None:
    newcomer = Person(flow_client, fake_api, language)
    await newcomer.send("/start employer")
    await newcomer.press(LANGUAGE_BUTTON[language])
    assert newcomer.said("Welcome! Register your company first. Moderators check every company and every job.")
    assert newcomer._("What would you like to do?") not in newcomer.text  # the registration, not the menu


@pytest.mark.parametrize("language", ["km", "en"])
async def test_a_first_time_user_sees_the_welcome_before_the_menu(
    flow_client: Client, fake_api: FakeTelegramAPI, language: str
) -> None:
    person = Person(flow_client, fake_api, language)
    await person.begin()
    texts = [str(c.params.get("text") or "") for c in person.last]
    welcome = person._(WELCOME)
    assert texts.index(welcome) < texts.index(person._("What would you like to do?"))
    # A returning person is not told it all again.
    await person.send("/start")
    assert welcome not in person.text and person.said("What would you like to do?")


async def _sharer(client: Client, api: FakeTelegramAPI, language: str) -> Person:
    sharer = Person(client, api, language)
    await sharer.begin()
    return sharer


async def _inline(client: Client, api: FakeTelegramAPI, sharer: Person, query: str) -> list[dict[str, Any]]:
    before = len(api.calls_of("answerInlineQuery"))
    update = inline_query_update(next(_updates), sharer.user_id, query)
    update["inline_query"]["from"] = user(sharer.user_id, language_code="en")
    assert await post_update(client, update) == 200
    answers = api.calls_of("answerInlineQuery")
    assert len(answers) == before + 1
    return list(answers[-1].params.get("results", []))


async def test_inline_search_understands_provinces_and_kinds_of_work_in_khmer_and_english(
    flow_client: Client, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    build = Builder(session_factory, utcnow())
    employer = await build.employer()
    garment = await build.published(employer, title="Sewing machine operators", salary_amount="250")
    site = await build.published(
        employer, title="Site helpers", sector="construction", province="Siem Reap", salary_amount="12"
    )
    sharer = await _sharer(flow_client, fake_api, "en")
    for query in ("Phnom Penh", "ភ្នំពេញ", "garment", "កាត់ដេរ", "  phnom\u200b penh  ", "Garment Phnom Penh"):
        assert [r["id"] for r in await _inline(flow_client, fake_api, sharer, query)] == [f"job:{garment}"], query
    for query in ("Siem Reap", "សៀមរាប", "construction", "សំណង់"):
        assert [r["id"] for r in await _inline(flow_client, fake_api, sharer, query)] == [f"job:{site}"], query
    assert await _inline(flow_client, fake_api, sharer, "garment Siem Reap") == []
    assert [r["id"] for r in await _inline(flow_client, fake_api, sharer, "Sewing")] == [f"job:{garment}"]


@pytest.mark.parametrize(
    ("language", "pay", "province"), [("km", "២៥០ ដុល្លារ/ខែ", "ភ្នំពេញ"), ("en", "$250/month", "Phnom Penh")]
)
async def test_the_shared_card_speaks_the_sharers_language_with_the_safety_line(
    flow_client: Client,
    fake_api: FakeTelegramAPI,
    session_factory: async_sessionmaker[AsyncSession],
    language: str,
    pay: str,
    province: str,
) -> None:
    build = Builder(session_factory, utcnow())
    garment = await build.published(title="Sewing machine operators", salary_amount="250")
    sharer = await _sharer(flow_client, fake_api, language)  # their Telegram app is in English
    [article] = await _inline(flow_client, fake_api, sharer, f"#{garment}")
    card = article["input_message_content"]["message_text"]
    assert pay in card and "1297" in card and "117" in card
    assert card.count(province) == 1 and ("Phnom Penh" not in card if language == "km" else "ភ្នំពេញ" not in card)
    assert article["reply_markup"]["inline_keyboard"][0][0]["url"].endswith(f"?start=job_{garment}")
    # Shared as a voice note (once uploaded), the caption is the same card.
    async with session_factory() as session:
        session.add(TelegramFile(audio_id=f"a{garment}", file_id=f"VOICE{garment}", file_unique_id="u", job_id=garment))
        await session.commit()
    [voice] = await _inline(flow_client, fake_api, sharer, f"#{garment}")
    assert voice["caption"] == card


@pytest.mark.parametrize("language", ["km", "en"])
async def test_job_lists_family_members_and_the_moderation_queue_count_and_page(
    flow_client: Client, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession], language: str
) -> None:
    build = Builder(session_factory, utcnow())
    employer = await build.employer()
    for n in range(4):
        await build.published(employer, title=f"Packers {n}")
    dara = Person(flow_client, fake_api, language)
    await dara.begin()
    await dara.tap("👪 Help a family member find work")
    await dara.tap("🔎 Browse jobs")
    await dara.tap("Any province")
    await dara.tap("Any kind of work")
    assert dara.said("Jobs {first}–{last} of {total}", first=1, last=3, total=4)
    await dara.tap("More jobs ▶️")
    assert dara.said("Jobs {first}–{last} of {total}", first=4, last=4, total=4)
    # Six family members: five on a page, then the sixth.
    relative_id = await build.relative(external_id=str(dara.user_id))
    for n in range(6):
        await build.worker(relative_id, name=f"Member {n}")
    await dara.send("/family")
    assert dara.said("Your family members: {first}–{last} of {total}", first=1, last=5, total=6)
    assert "Member 5" in dara.text and "Member 0" not in dara.text  # newest first
    await dara.tap("More ▶️")
    assert dara.said("Your family members: {first}–{last} of {total}", first=6, last=6, total=6)
    assert "Member 0" in dara.text
    # The moderators' queue: six listings waiting, five cards and the count, then the sixth.
    for n in range(6):
        await build.draft(employer, title=f"Waiting {n}")
    from jobs_core.services.jobs import SubmitJob, submit_job

    async with session_factory() as session:
        from jobs_core.model import Job, JobStatus

        drafts = (await session.scalars(select(Job.id).where(Job.status == JobStatus.DRAFT))).all()
    for job_id in drafts:
        await submit_job(SubmitJob(job_id, employer, "employer"), build.uow())
    moderator = TelegramUser(flow_client, fake_api, MODERATOR, chat_id=MODERATORS_GROUP)
    await moderator.send("/mod")
    await moderator.press("Jobs waiting for review")
    counted = [gettext_for(lang)("Showing {first}–{last} of {total}.") for lang in ("km", "en")]
    assert any(c.format(first=1, last=5, total=6) in moderator.text for c in counted)
    await moderator.press("▶️")
    assert any(c.format(first=6, last=6, total=6) in moderator.text for c in counted)


@pytest.mark.parametrize("language", ["km", "en"])
async def test_an_alert_says_new_job_at_its_top(
    flow_client: Client,
    fake_api: FakeTelegramAPI,
    session_factory: async_sessionmaker[AsyncSession],
    dialog_deps: DialogDeps,
    now: datetime,
    language: str,
) -> None:
    dara = Person(flow_client, fake_api, language)
    await dara.begin()
    await dara.tap("👪 Help a family member find work")  # known as a relative, in their language
    build = Builder(session_factory, now)  # 10:00 in Phnom Penh: not held back for the night
    relative_id = await build.relative(external_id=str(dara.user_id))
    await subscribe(Subscribe(relative_id, None, None), build.uow())
    await dara.tap("🔔 Job alerts")
    assert dara.said("Job alerts: {count}", count=1)  # the list of alerts says how many
    await build.published(title="Sewing machine operators")
    assert await notify_once(replace(dialog_deps, clock=lambda: now)) > 0
    await all_sent(session_factory)
    [alert] = [c for c in fake_api.sent(dara.chat_id) if "Sewing machine operators" in str(c.params.get("caption"))]
    assert str(alert.params["caption"]).startswith(dara._("🆕 New job") + "\n")


@pytest.mark.parametrize("language", ["km", "en"])
async def test_applying_for_a_family_member_is_confirmed_in_one_message(
    flow_client: Client,
    fake_api: FakeTelegramAPI,
    session_factory: async_sessionmaker[AsyncSession],
    dialog_deps: DialogDeps,
    language: str,
) -> None:
    build = Builder(session_factory, utcnow())
    job_id = await build.published(title="Sewing machine operators")
    dara = Person(flow_client, fake_api, language)
    await dara.begin()
    await dara.tap("👪 Help a family member find work")  # known as a relative, in their language
    relative_id = await build.relative(external_id=str(dara.user_id))
    worker_id = await build.worker(relative_id, consent=None, name="Sophea")  # not asked yet
    await dara._post(
        message_update(next(_updates), dara.chat_id, f"/start job_{job_id}", from_user=user(dara.user_id, "Dara", "en"))
    )
    await dara.tap("✍️ Apply for a family member")
    await dara.press("Sophea")
    confirm = dara._(
        "Done! We will call {name} to confirm. The employer gets {name}'s number only after {name} says yes."
    ).format(name="Sophea")
    assert [str(c.params.get("text")) for c in dara.last] == [confirm]
    # The call asks Sophea first (1: yes to job calls), then tells her the job (1: confirm), as the dialer
    # records them: Dara hears of it once, not "agreed to job calls" and then "said yes" a moment later.
    await notify_once(dialog_deps)
    await all_sent(session_factory)
    before = len(fake_api.sent(dara.chat_id))
    await record_consent(RecordConsent(worker_id, Consent.CONSENTED, "ivr"), UnitOfWork(session_factory))
    await apply(Apply(job_id=job_id, channel="ivr", worker_id=worker_id, experience="yes"), UnitOfWork(session_factory))
    await notify_once(dialog_deps)
    await all_sent(session_factory)
    told = [str(c.params.get("text")) for c in fake_api.sent(dara.chat_id)[before:]]
    said_yes = dara._('{name} said yes on the phone: the application for "{title}" was sent to the employer.')
    assert told == [said_yes.format(name="Sophea", title="Sewing machine operators")]
