"""The moderators' group through the webhook, with Telegram's privacy-mode delivery rules.

With privacy mode on (BotFather's default) a group delivers to the bot only commands, replies to the bot's
own messages and mentions; ``FakeTelegramAPI.delivers`` applies those rules, and a message it would not
deliver is never posted to the webhook, as on the real Telegram.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.telegram import TelegramDeps, setup_telegram
from bots.telegram.dialog import conversation_dialog
from conversations.notifier import notify_once
from conversations.outbox import URGENT, OutboxMessage
from conversations.replies import Voice
from conversations.turn import DialogDeps
from jobs_core.model import Job, JobStatus, Report, ReportPriority, ReportStatus
from jobs_core.model.base import utcnow
from jobs_core.services.jobs import AttachVoiceClip, SubmitJob, attach_voice_clip, submit_job
from media.composer import PitchJob
from tests.builders import Builder
from tests.e2e.telegram.conftest import all_sent, post_update
from tests.fakes.telegram_api import ApiCall, FakeTelegramAPI, callback_update, message_update, user

Client = TestClient[web.Request, web.Application]
GROUP = -1005001
MODERATOR = 950
MEMBER = 951  # in the group, not a moderator
_update_ids = itertools.count(50_000)

HIGH_RISK = "Pay a deposit of $200 before starting. We keep your passport."


@pytest.fixture
def dialog_deps(session_factory: async_sessionmaker[AsyncSession], tmp_path: Path) -> DialogDeps:
    async def audio(job: PitchJob, language: str) -> Voice:
        """The pitch as a small file that says whether the employer's own recording is in it."""
        clip = job.employer_clip.read_bytes() if job.employer_clip else b"no clip"
        audio_id = f"{language}-{job.sector}-{job.province_code}-{len(clip)}"
        path = tmp_path / f"{audio_id}.ogg"
        path.write_bytes(b"OggS pitch + " + clip)
        return Voice(audio_id=audio_id, ogg=path, mp3=None)

    return DialogDeps(
        session_factory=session_factory,
        moderators_chat_id=str(GROUP),
        moderator_ids=frozenset({str(MODERATOR)}),
        moderators_language="en",
        audio=audio,
    )


Connect = Callable[[DialogDeps], AbstractAsyncContextManager[Client]]


@pytest.fixture
def connect(deps: TelegramDeps) -> Connect:
    @asynccontextmanager
    async def connected(dialog_deps: DialogDeps) -> AsyncIterator[Client]:
        app = web.Application()
        setup_telegram(app, replace(deps, dialog=conversation_dialog(dialog_deps)))
        async with TestClient(TestServer(app)) as client:
            yield client

    return connected


@pytest.fixture
async def client(connect: Connect, dialog_deps: DialogDeps) -> AsyncIterator[Client]:
    async with connect(dialog_deps) as connected:
        yield connected


class Member:
    """A person in the moderators' group; what they send reaches the bot only if Telegram would deliver it."""

    def __init__(self, client: Client, api: FakeTelegramAPI, user_id: int, name: str, chat_id: int = GROUP) -> None:
        self.client, self.api, self.user_id, self.name, self.chat_id = client, api, user_id, name, chat_id
        self.last: list[ApiCall] = []

    async def _post(self, update: dict[str, Any]) -> list[ApiCall]:
        before = len(self.api.calls)
        if self.api.delivers(update):
            assert await post_update(self.client, update) == 200
        self.last = [c for c in self.api.calls[before:] if c.chat_id == str(self.chat_id) and c.ok]
        return self.last

    def _user(self) -> dict[str, Any]:
        return user(self.user_id, first_name=self.name, language_code="en")

    async def say(self, text: str, reply_to: dict[str, Any] | None = None) -> list[ApiCall]:
        content: dict[str, Any] = {"reply_to_message": reply_to} if reply_to is not None else {}
        update = message_update(next(_update_ids), self.chat_id, text, from_user=self._user(), **content)
        return await self._post(update)

    async def press(self, message: dict[str, Any], label: str) -> list[ApiCall]:
        """Press the button labelled ``label`` on one of the bot's messages (as Telegram holds it now)."""
        data = button(message, label)
        assert data is not None, f"no button {label!r} on {message.get('text')!r}"
        update = callback_update(next(_update_ids), self.chat_id, data, message=message, from_user=self._user())
        return await self._post(update)

    @property
    def text(self) -> str:
        return "\n".join(str(c.params.get("text") or c.params.get("caption") or "") for c in self.last)


def button(message: dict[str, Any], label: str) -> str | None:
    for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
        for found in row:
            if label in found["text"] and "callback_data" in found:
                return str(found["callback_data"])
    return None


async def pending_job(build: Builder, clip: Path | None = None, **changes: Any) -> int:
    build._phones += 1
    employer_id = await build.employer(external_id=f"g{build._phones}")
    job_id = await build.draft(employer_id, **changes)
    if clip is not None:
        await attach_voice_clip(AttachVoiceClip(job_id, employer_id, str(clip), "employer"), build.uow())
    await submit_job(SubmitJob(job_id, employer_id, "employer"), build.uow())
    return job_id


async def deliver_notices(dialog_deps: DialogDeps, deps: TelegramDeps) -> None:
    """The notifier queues what events call for; the outbox sender sends it."""
    while await notify_once(dialog_deps):
        pass
    await all_sent(deps.session_factory)


def sent_message(api: FakeTelegramAPI, chat_id: int, containing: str) -> dict[str, Any]:
    """The bot's message (as Telegram holds it now) whose text contains ``containing``."""
    found = [
        api.message(chat_id, c.result["message_id"])
        for c in api.sent(chat_id)
        if c.method == "sendMessage" and containing in str(c.params.get("text"))
    ]
    assert found, f"no message with {containing!r}"
    return found[-1]


async def job_of(sessions: async_sessionmaker[AsyncSession], job_id: int) -> Job:
    async with sessions() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        return job


@pytest.fixture
def build(session_factory: async_sessionmaker[AsyncSession]) -> Builder:
    return Builder(session_factory, utcnow())


# ---------------------------------------------------------------------------------------------- the card


async def test_a_moderator_who_never_started_rejects_by_replying_to_the_prompt(
    client: Client,
    fake_api: FakeTelegramAPI,
    deps: TelegramDeps,
    dialog_deps: DialogDeps,
    build: Builder,
    session_factory: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    clip = tmp_path / "employer-clip.wav"
    clip.write_bytes(b"RIFF the employer speaking")
    job_id = await pending_job(build, clip=clip)
    await deliver_notices(dialog_deps, deps)
    card = sent_message(fake_api, GROUP, f"Job #{job_id} for review")
    assert "Employer: Golden Thread Apparel (not verified yet)" in card["text"]  # a state in words
    # Right after the card: what callers will hear, the employer's own recording in it.
    [pitch] = [c for c in fake_api.sent(GROUP) if c.method == "sendVoice"]
    assert "what callers will hear, with the employer's own recording" in pitch.params["caption"]
    assert b"the employer speaking" in pitch.files["voice"]

    sokha = Member(client, fake_api, MODERATOR, "Sokha")  # never sent /start anywhere
    await sokha.press(card, "Reject")
    [prompt_call] = sokha.last
    assert "Sokha: why is job" in prompt_call.params["text"]
    assert prompt_call.params["reply_markup"]["force_reply"] is True
    prompt = fake_api.message(GROUP, prompt_call.result["message_id"])

    # Typed as an ordinary group message, privacy mode keeps it from the bot: nothing is decided.
    await sokha.say("Charges workers a fee")
    assert sokha.last == []
    assert (await job_of(session_factory, job_id)).status is JobStatus.PENDING_REVIEW

    # As a reply to the prompt it is delivered, and it is the answer.
    await sokha.say("Charges workers a fee", reply_to=prompt)
    job = await job_of(session_factory, job_id)
    assert job.status is JobStatus.REJECTED and job.rejection_reason == "Charges workers a fee"
    # The card is edited in place: who decided, when, why; no buttons left to press.
    edited = fake_api.message(GROUP, card["message_id"])
    assert "reply_markup" not in edited and "edit_date" in edited
    assert f"Job #{job_id} for review" in edited["text"]
    assert "❌ Rejected by Sokha, " in edited["text"] and edited["text"].endswith(": Charges workers a fee")
    assert [c.method for c in sokha.last] == ["editMessageText"]


async def test_ordinary_group_chat_gets_no_reply(
    client: Client, fake_api: FakeTelegramAPI, build: Builder, deps: TelegramDeps, dialog_deps: DialogDeps
) -> None:
    await pending_job(build)
    await deliver_notices(dialog_deps, deps)
    card = sent_message(fake_api, GROUP, "for review")
    sokha, dara = Member(client, fake_api, MODERATOR, "Sokha"), Member(client, fake_api, MEMBER, "Dara")
    # An admin bot gets every group message whatever the privacy mode: it must still stay out of the talk.
    fake_api.bot_is_admin = True
    for person in (sokha, dara):
        assert await person.say("Good morning everyone, who takes the new listings today?") == []
        assert await person.say("I can look at them after lunch", reply_to=card) == []  # not an answer to a prompt
        assert await person.say("/start@SomeOtherBot") == []
    # A command for the bot still answers.
    await sokha.say("/mod")
    assert "Moderation" in sokha.text


async def test_a_members_tap_on_approve_is_refused_unless_every_member_may_decide(
    client: Client,
    connect: Connect,
    fake_api: FakeTelegramAPI,
    build: Builder,
    deps: TelegramDeps,
    dialog_deps: DialogDeps,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    job_id = await pending_job(build)
    await deliver_notices(dialog_deps, deps)
    card = sent_message(fake_api, GROUP, f"Job #{job_id} for review")
    dara = Member(client, fake_api, MEMBER, "Dara")
    await dara.press(card, "Approve")
    assert "not allowed" in dara.text
    assert (await job_of(session_factory, job_id)).status is JobStatus.PENDING_REVIEW
    assert button(fake_api.message(GROUP, card["message_id"]), "Approve") is not None  # card untouched

    async with connect(replace(dialog_deps, moderators_all_members=True)) as widened:
        dara = Member(widened, fake_api, MEMBER, "Dara")
        await dara.press(card, "Approve")
    assert (await job_of(session_factory, job_id)).status is JobStatus.PUBLISHED
    assert "✅ Approved by Dara" in fake_api.message(GROUP, card["message_id"])["text"]


async def test_approving_a_high_risk_listing_asks_first_naming_the_reasons(
    client: Client,
    fake_api: FakeTelegramAPI,
    build: Builder,
    deps: TelegramDeps,
    dialog_deps: DialogDeps,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    job_id = await pending_job(build, description=HIGH_RISK, salary_amount="900")
    await deliver_notices(dialog_deps, deps)
    review = [c for c in fake_api.sent(GROUP) if f"Job #{job_id} for review" in str(c.params.get("text"))]
    assert review and "high risk" in review[0].params["text"]
    card = sent_message(fake_api, GROUP, f"Job #{job_id} for review")
    sokha = Member(client, fake_api, MODERATOR, "Sokha")
    await sokha.press(card, "Approve")
    assert f"Job #{job_id} is high risk" in sokha.text
    assert "asks workers to pay a fee or deposit" in sokha.text and "keeps workers' ID cards or passports" in sokha.text
    assert (await job_of(session_factory, job_id)).status is JobStatus.PENDING_REVIEW
    confirmation = fake_api.message(GROUP, sokha.last[-1].result["message_id"])
    await sokha.press(confirmation, "Yes, publish it")
    assert (await job_of(session_factory, job_id)).status is JobStatus.PUBLISHED
    edited = fake_api.message(GROUP, card["message_id"])
    assert "✅ Approved by Sokha, " in edited["text"] and "reply_markup" not in edited
    assert fake_api.message(GROUP, confirmation["message_id"])["text"] == f"Job #{job_id} approved and published."


async def test_the_review_queue_pages_beyond_five(
    client: Client, fake_api: FakeTelegramAPI, build: Builder, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    ids = [await pending_job(build, title=f"Listing {n}") for n in range(7)]
    sokha = Member(client, fake_api, MODERATOR, "Sokha")
    await sokha.say("/mod")
    menu = fake_api.message(GROUP, sokha.last[-1].result["message_id"])
    await sokha.press(menu, "Jobs waiting for review")
    assert [f"Job #{i} for review" in sokha.text for i in ids] == [True] * 5 + [False] * 2
    more = fake_api.message(GROUP, sokha.last[-1].result["message_id"])
    await sokha.press(more, "More")
    assert [f"Job #{i} for review" in sokha.text for i in ids] == [False] * 5 + [True] * 2
    assert button(fake_api.message(GROUP, sokha.last[-1].result["message_id"]), "More") is None


# ---------------------------------------------------------------------------------------------- reports


async def test_a_report_of_fees_hides_the_job_until_decided_and_the_reporter_hears_the_outcome(
    client: Client,
    fake_api: FakeTelegramAPI,
    build: Builder,
    deps: TelegramDeps,
    dialog_deps: DialogDeps,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    job_id = await build.published(title="Sewing machine operators")
    relative = Member(client, fake_api, 7301, "Dara", chat_id=7301)

    await relative.say("/start")
    await relative.press(sent_message(fake_api, 7301, "Please choose your language"), "English")
    await relative.press({**_stub(7301), "reply_markup": _keyboard(f"job:{job_id}:report")}, "x")
    reasons = fake_api.message(7301, relative.last[-1].result["message_id"])
    await relative.press(reasons, "fee")
    await relative.say("They asked my sister for $300")
    assert "We have hidden this job" in relative.text
    async with session_factory() as session:
        report = await session.scalar(select(Report))
        assert report is not None and report.priority is ReportPriority.HIGH

    # Hidden from browsing (and from a job card's own buttons) while the report waits.
    await relative.press({**_stub(7301), "reply_markup": _keyboard("jobs:-:-:0")}, "x")
    assert "Sewing machine operators" not in relative.text and "There are no jobs here" in relative.text
    await relative.press({**_stub(7301), "reply_markup": _keyboard(f"job:{job_id}:apply")}, "x")
    assert "no longer open" in relative.text

    # The report reaches the moderators first in line, and the moderator dismisses it.
    while await notify_once(dialog_deps):
        pass
    async with session_factory() as session:
        queued = (await session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == str(GROUP)))).all()
    [report_card] = [m for m in queued if "Asks for a fee" in str(m.payload.get("text"))]
    assert report_card.priority == URGENT
    await all_sent(deps.session_factory)
    card = sent_message(fake_api, GROUP, "Asks for a fee or deposit")
    assert "🚨" in card["text"] and "hidden from browsing, alerts and calls" in card["text"]
    sokha = Member(client, fake_api, MODERATOR, "Sokha")
    await sokha.press(card, "Dismiss")
    assert "↩️ Dismissed by Sokha" in fake_api.message(GROUP, card["message_id"])["text"]
    assert (await job_of(session_factory, job_id)).status is JobStatus.PUBLISHED
    await relative.press({**_stub(7301), "reply_markup": _keyboard("jobs:-:-:0")}, "x")
    assert "Sewing machine operators" in relative.text

    # The reporter is told, in their language.
    await deliver_notices(dialog_deps, deps)
    told = [c for c in fake_api.sent(7301) if "Thank you for your report" in str(c.params.get("text"))]
    assert told and "could not confirm the problem" in told[-1].params["text"]
    async with session_factory() as session:
        assert (await session.scalar(select(Report.status))) is ReportStatus.DISMISSED


async def test_a_forged_job_button_gets_the_same_answer_for_a_hidden_job_as_for_a_missing_one(
    client: Client, fake_api: FakeTelegramAPI, build: Builder, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    employer_id = await build.employer()
    draft = await build.draft(employer_id, title="Not published yet")
    pending = await pending_job(build)
    dara = Member(client, fake_api, 7302, "Dara", chat_id=7302)
    await dara.say("/start")
    await dara.press(sent_message(fake_api, 7302, "Please choose your language"), "English")
    for verb in ("report", "show", "call", "apply"):
        answers = []
        for job_id in (draft, pending, 999_999):
            await dara.press({**_stub(7302), "reply_markup": _keyboard(f"job:{job_id}:{verb}")}, "x")
            answers.append([(c.method, c.params.get("text"), c.params.get("reply_markup")) for c in dara.last])
        assert answers[0] == answers[1] == answers[2], verb
        assert "no longer available" in str(answers[0]), verb
    async with session_factory() as session:
        assert await session.scalar(select(Report)) is None


def _stub(chat_id: int) -> dict[str, Any]:
    """A bot message in a private chat carrying a button: an old card, or one a forger made up."""
    return {
        "message_id": 1,
        "date": int(datetime.now().timestamp()),
        "chat": {"id": chat_id, "type": "private", "first_name": "Dara"},
        "from": {"id": 123456789, "is_bot": True, "first_name": "Bong Pheak"},
        "text": "an earlier message",
    }


def _keyboard(data: str) -> dict[str, Any]:
    return {"inline_keyboard": [[{"text": "x", "callback_data": data}]]}
