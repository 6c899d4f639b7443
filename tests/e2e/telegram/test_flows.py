"""The conversations engine end to end through Telegram: webhook in, recorded Bot API calls out."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.telegram import TelegramDeps, setup_telegram
from bots.telegram.dialog import conversation_dialog, conversation_preparer
from bots.telegram.models import TelegramFile
from conversations.notifier import notify_once
from conversations.replies import Voice
from conversations.state import ConversationState
from conversations.turn import DialogDeps
from jobs_core.model import Job, JobStatus, Nomination, Worker
from jobs_core.model.base import utcnow
from media.composer import PitchJob
from tests.builders import Builder
from tests.e2e.telegram.conftest import all_sent, post_update, quick_pacer
from tests.fakes.telegram_api import ApiCall, FakeTelegramAPI, callback_update, message_update, user

Client = TestClient[web.Request, web.Application]
MODERATORS_GROUP = -1001234
MODERATOR = 900
_update_ids = itertools.count(1)


@pytest.fixture
def normalisations() -> list[bool]:
    """For each recording normalised: whether some transaction held a conversation row meanwhile."""
    return []


@pytest.fixture
def dialog_deps(
    session_factory: async_sessionmaker[AsyncSession], tmp_path: Path, normalisations: list[bool]
) -> DialogDeps:
    async def audio(job: PitchJob, language: str) -> Voice:
        """A voice note per (sector, province, language), written as a small OGG file."""
        audio_id = f"{language}-{job.sector}-{job.province_code}"
        path = tmp_path / f"{audio_id}.ogg"
        path.write_bytes(b"OggS" + audio_id.encode() * 20)
        return Voice(audio_id=audio_id, ogg=path, mp3=None)

    async def normalise(upload: Path) -> Path:
        async with session_factory() as session, session.begin():
            try:
                await session.execute(select(ConversationState).with_for_update(nowait=True))
                normalisations.append(False)
            except DBAPIError:  # lock_not_available: an update's turn holds a person's row
                normalisations.append(True)
        return upload

    return DialogDeps(
        session_factory=session_factory,
        moderators_chat_id=str(MODERATORS_GROUP),
        moderator_ids=frozenset({str(MODERATOR)}),
        moderators_language="en",
        audio=audio,
        clip_normaliser=normalise,
    )


@pytest.fixture
async def flow_client(deps: TelegramDeps, dialog_deps: DialogDeps) -> AsyncIterator[Client]:
    app = web.Application()
    setup_telegram(
        app,
        replace(
            deps,
            dialog=conversation_dialog(dialog_deps),
            prepare=conversation_preparer(dialog_deps),
            pacer=quick_pacer(),
        ),
    )
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


class TelegramUser:
    """A person in one chat: sends messages and presses the buttons of the last messages the bot sent."""

    def __init__(self, client: Client, api: FakeTelegramAPI, user_id: int, chat_id: int | None = None) -> None:
        self.client, self.api, self.user_id = client, api, user_id
        self.chat_id = chat_id or user_id
        self.last: list[ApiCall] = []

    async def _post(self, update: dict[str, Any]) -> list[ApiCall]:
        before = len(self.api.calls)
        assert await post_update(self.client, update) == 200
        self.last = [c for c in self.api.calls[before:] if c.chat_id == str(self.chat_id) and c.ok]
        return self.last

    async def send(self, text: str | None = None, **content: Any) -> list[ApiCall]:
        sender = user(self.user_id, language_code="en")
        return await self._post(message_update(next(_update_ids), self.chat_id, text, from_user=sender, **content))

    async def press(self, label: str) -> list[ApiCall]:
        data = self.button(label)
        assert data is not None, f"no button {label!r} in {self.labels()}"
        return await self._post(callback_update(next(_update_ids), self.chat_id, data, from_id=self.user_id))

    def button(self, label: str) -> str | None:
        for call in reversed(self.last):
            for row in (call.params.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if label in button["text"] and "callback_data" in button:
                        return str(button["callback_data"])
        return None

    def labels(self) -> list[str]:
        markups = [c.params.get("reply_markup") or {} for c in self.last]
        return [b["text"] for m in markups for row in m.get("inline_keyboard", []) for b in row]

    @property
    def text(self) -> str:
        return "\n".join(str(c.params.get("text") or c.params.get("caption") or "") for c in self.last)

    async def start(self) -> None:
        await self.send("/start")
        assert "Please choose your language" in self.text
        await self.press("English")


async def test_relative_browses_jobs_and_hears_them_as_voice_notes(
    flow_client: Client, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    builder = Builder(session_factory, utcnow())
    employer = await builder.employer()
    job_id = await builder.published(employer, title="Sewing machine operators")
    dara = TelegramUser(flow_client, fake_api, 7001)
    await dara.start()
    assert "What would you like to do?" in dara.text
    await dara.press("Help a family member")
    await dara.press("Browse jobs")
    assert "Where should the job be?" in dara.text
    await dara.press("Any province")
    await dara.press("Any kind of work")
    [card] = [c for c in dara.last if c.method == "sendVoice"]
    assert "Sewing machine operators" in card.params["caption"]
    assert card.files["voice"].startswith(b"OggS")  # first time: uploaded
    buttons = card.params["reply_markup"]["inline_keyboard"]
    assert buttons[0][0]["switch_inline_query"] == f"#{job_id}"
    assert {"text": "✍️ Apply for a family member", "callback_data": f"job:{job_id}:apply"} in buttons[2]
    # Someone else browsing gets the same voice note by file_id, not uploaded again.
    sokha = TelegramUser(flow_client, fake_api, 7002)
    await sokha.start()
    await sokha.press("Help a family member")
    await sokha.press("Browse jobs")
    await sokha.press("Any province")
    await sokha.press("Any kind of work")
    [again] = [c for c in sokha.last if c.method == "sendVoice"]
    async with session_factory() as session:
        cached = await session.scalar(select(TelegramFile.file_id).where(TelegramFile.job_id == job_id))
    assert again.files == {} and again.params["voice"] == cached


async def test_a_stale_step_button_is_refused_through_telegram(flow_client: Client, fake_api: FakeTelegramAPI) -> None:
    dara = TelegramUser(flow_client, fake_api, 7003)
    await dara.start()
    await dara.press("Help a family member")
    await dara.press("Browse jobs")
    old = dara.button("Any province")
    await dara.press("Any province")
    assert old is not None
    await dara._post(callback_update(next(_update_ids), dara.chat_id, old, from_id=dara.user_id))
    assert "earlier question" in dara.text


async def test_relative_nominates_a_family_member_sharing_the_phone_by_typing(
    flow_client: Client, fake_api: FakeTelegramAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    dara = TelegramUser(flow_client, fake_api, 7004)
    await dara.start()
    await dara.press("Help a family member")
    await dara.press("Add a family member")
    await dara.send("Sophea")
    ask_phone = dara.last[-1]
    # A family member's number: no "send my number" keyboard (that would be the relative's own number).
    assert "keyboard" not in ask_phone.params["reply_markup"] and "Back" in dara.labels()[0]
    await dara.send("០១២ ៣៤៥ ៦៧៨")  # Khmer digits
    await dara.press("Brother or sister")
    await dara.press("Woman")
    await dara.send("1999")
    await dara.press("Phnom Penh")
    await dara.press("Construction")
    await dara.press("Done")
    await dara.press("Skip")  # no greeting
    assert "Did Sophea agree" in dara.text
    await dara.press("Yes, they agreed")
    assert "We added Sophea" in dara.text
    async with session_factory() as session:
        worker = await session.scalar(select(Worker).where(Worker.name == "Sophea"))
        assert worker is not None and worker.phone == "+85512345678"
        assert await session.scalar(select(Nomination).where(Nomination.worker_id == worker.id)) is not None


async def test_employer_posts_a_job_and_a_moderator_approves_it_in_the_group(
    flow_client: Client,
    fake_api: FakeTelegramAPI,
    deps: TelegramDeps,
    dialog_deps: DialogDeps,
    session_factory: async_sessionmaker[AsyncSession],
    normalisations: list[bool],
) -> None:
    boss = TelegramUser(flow_client, fake_api, 8001)
    await boss.start()
    await boss.press("I am an employer")
    assert "name of your company" in boss.text
    await boss.send("Golden Thread Apparel")
    contact = {"phone_number": "+85523880112", "first_name": "Boss", "user_id": 8001}
    await boss.send(contact=contact)
    await boss.press("Phnom Penh")
    await boss.press("A company or employer")
    await boss.press("Post a job")
    await boss.send("Security guards")
    await boss.press("Security")
    await boss.press("In Cambodia")
    await boss.press("Phnom Penh")
    await boss.press("Skip")  # district
    await boss.send("Night shifts at a garment factory gate.")
    await boss.send("250")
    await boss.press("US dollars")
    await boss.press("month")
    await boss.send("7-16")  # hours
    await boss.press("Skip")  # days
    await boss.send("4")
    await boss.press(boss.labels()[0])  # who can apply: the first choice
    await boss.press("Skip")  # ages
    await boss.press("Done")  # benefits
    await boss.press("Skip")  # start date
    await boss.press("Skip")  # contact
    assert "voice message" in boss.text
    recording, unique = fake_api.add_file(b"OggS employer clip")
    await boss.send(voice={"file_id": recording, "file_unique_id": unique, "duration": 5})
    assert "This is how your job will look" in boss.text
    # ffmpeg ran on the recording before the update's transaction opened: no row was locked meanwhile.
    assert normalisations == [False]
    assert any(c.method == "sendVoice" for c in boss.last)
    await boss.press("Submit for review")
    assert "sent to our moderators" in boss.text
    async with session_factory() as session:
        job = await session.scalar(select(Job).where(Job.title == "Security guards"))
        assert job is not None and job.status is JobStatus.PENDING_REVIEW and job.voice_clip
        job_id = job.id

    # The notifier queues the review card for the moderators' group; the outbox sender delivers it.
    assert await notify_once(dialog_deps) > 0
    await all_sent(deps.session_factory)
    review = [c for c in fake_api.sent(MODERATORS_GROUP) if f"Job #{job_id} for review" in str(c.params.get("text"))]
    assert review
    moderator = TelegramUser(flow_client, fake_api, MODERATOR, chat_id=MODERATORS_GROUP)
    # /mod opens the moderators' menu in the group (a moderator needs no /start for it or for the cards).
    await moderator.send("/mod")
    assert "Moderation" in moderator.text
    moderator.last = review
    await moderator.press("Approve")
    assert str(job_id) in moderator.text  # "Job #1 approved and published", in the moderator's language
    async with session_factory() as session:
        published = await session.get(Job, job_id)
        assert published is not None and published.status is JobStatus.PUBLISHED


async def test_any_khmer_or_emoji_text_gets_an_answer_from_the_real_flows(
    flow_client: Client, fake_api: FakeTelegramAPI
) -> None:
    dara = TelegramUser(flow_client, fake_api, 7005)
    for text in ("សួស្តី", "😀🇰🇭", "/nonsense", "ក" * 5000, "\u200b", "/start@BongPheakTestBot"):
        await dara.send(text)
        assert dara.last, text
    photo = [{"file_id": "p1", "file_unique_id": "up1", "width": 9, "height": 9}]
    await dara.send(photo=photo)
    assert dara.last


_chats = itertools.count(7_100_000)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.one_of(
        st.text(min_size=1, max_size=200),
        st.lists(st.sampled_from(["ការងារ", "ភ្នំពេញ", "១៩៩៨", "😀", "🇰🇭", "/start", "\u200b"]), min_size=1).map("".join),
    )
)
async def test_the_real_flows_answer_any_text_and_never_fail_the_webhook(
    flow_client: Client, fake_api: FakeTelegramAPI, text: str
) -> None:
    person = TelegramUser(flow_client, fake_api, next(_chats))
    await person.send(text)
    assert person.last and all(0 < len(str(c.params.get("text") or "x")) <= 4096 for c in person.last)
