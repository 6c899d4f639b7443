"""An employer's listing through the Telegram webhook, in Khmer and in English: answers typed the way people
type them, the facts a listing cannot go without, the summary with a button per answer, and editing (after the
moderators ask for changes, and of a published listing, which stays public until its edit is approved)."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.telegram import TelegramDeps
from conversations.notifier import notify_once
from conversations.replies import Voice
from conversations.state import ConversationState
from conversations.turn import DialogDeps
from jobs_core.clock import local_date
from jobs_core.model import Currency, Decision, Employer, Job, JobStatus
from jobs_core.model.base import utcnow
from jobs_core.services.jobs import ModerateJob, SubmitJob, moderate_job, submit_job
from media.composer import PitchJob
from tests.builders import Builder
from tests.e2e.telegram import test_flows
from tests.e2e.telegram.conftest import all_sent
from tests.e2e.telegram.test_flows import TelegramUser
from tests.fakes.telegram_api import FakeTelegramAPI

Client = TestClient[web.Request, web.Application]
MODERATORS_GROUP = -1005678
MODERATOR = 901


@pytest.fixture
def rendered() -> list[tuple[PitchJob, str]]:
    """Every voice note asked of the audio provider: the job's facts and the language."""
    return []


@pytest.fixture
def dialog_deps(
    session_factory: async_sessionmaker[AsyncSession], tmp_path: Path, rendered: list[tuple[PitchJob, str]]
) -> DialogDeps:
    async def audio(job: PitchJob, language: str) -> Voice:
        rendered.append((job, language))
        audio_id = f"{language}-{job.sector}-{job.salary_amount}"
        path = tmp_path / f"{audio_id}.ogg"
        path.write_bytes(b"OggS" + audio_id.encode() * 20)
        return Voice(audio_id=audio_id, ogg=path, mp3=None)

    async def normalise(upload: Path) -> Path:
        return upload

    return DialogDeps(
        session_factory=session_factory,
        moderators_chat_id=str(MODERATORS_GROUP),
        moderator_ids=frozenset({str(MODERATOR)}),
        moderators_language="en",
        audio=audio,
        clip_normaliser=normalise,
    )


# The webhook app with the real dialog behind it, as test_flows builds it (with this module's dialog_deps).
client = test_flows.flow_client


@pytest.fixture
def today_build(session_factory: async_sessionmaker[AsyncSession]) -> Builder:
    """Listings made now (the chat's clock), so a published one is still live."""
    return Builder(session_factory, utcnow())


async def employer(client: Client, api: FakeTelegramAPI, build: Builder, user_id: int, khmer: bool) -> TelegramUser:
    await build.employer(name=f"Company {user_id}", external_id=str(user_id))
    boss = TelegramUser(client, api, user_id)
    await boss.send("/start")
    await boss.press("ភាសាខ្មែរ" if khmer else "English")
    return boss


async def only_job(sessions: async_sessionmaker[AsyncSession], *where: Any) -> Job:
    async with sessions() as session:
        found = (await session.scalars(select(Job).where(*where).order_by(Job.id))).all()
    assert len(found) == 1, found
    return found[0]


async def test_khmer_typed_pay_hours_and_date_are_understood(
    client: Client, fake_api: FakeTelegramAPI, today_build: Builder, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    boss = await employer(client, fake_api, today_build, 8101, khmer=True)
    await boss.send("/post")
    await boss.send("អ្នកដេរ\u200bសម្លៀកបំពាក់ 🧵")
    await boss.press(boss.labels()[0])  # the first kind of work
    await boss.press("🇰🇭")
    await boss.press("ភ្នំពេញ")
    await boss.press("រំលង")  # district
    await boss.send("ដេរអាវយឺត  នៅរោងចក្រស្អាត។")
    assert "៥០ម៉ឺនរៀល" in boss.text  # the pay question's example
    await boss.send("ម្ភៃ")
    assert "សូមវាយប្រាក់ឈ្នួលដូចជា" in boss.text  # the error gives the question's examples again
    await boss.send("៥០ ម៉ឺន\u200bរៀល")
    assert "ប្រាក់ឈ្នួលគិត" in boss.text and "ជារូបិយប័ណ្ណអ្វី" not in boss.text  # the currency was said
    await boss.press("ក្នុងមួយខែ")
    assert "៧ព្រឹក ដល់ ៤ល្ងាច" in boss.text
    await boss.send("៧ ដល់ ៤")  # no morning or evening: read as 07:00-16:00, and asked
    assert "07:00" in boss.text and "16:00" in boss.text and "ត្រឹមត្រូវទេ" in boss.text
    await boss.press("បាទ/ចាស")
    await boss.send("៦")  # days
    await boss.send("១០")  # workers
    await boss.press(boss.labels()[0])  # who can apply
    await boss.press("រំលង")  # ages
    await boss.press("រួចរាល់")  # benefits
    assert "១៥ ធ្នូ" in boss.text
    await boss.send("៣១ កុម្ភៈ")
    assert "សូមវាយកាលបរិច្ឆេទដូចជា" in boss.text
    await boss.send("១៥ ធ្នូ")
    await boss.press("រំលង")  # contact
    await boss.press("រំលង")  # voice
    # The summary: every answer, in Khmer.
    assert "ចម្លើយរបស់អ្នក" in boss.text
    assert "៥០០,០០០ រៀល ក្នុងមួយខែ" in boss.text and "07:00–16:00" in boss.text and "១៥ ធ្នូ" in boss.text
    # Without a description (and no recording) it cannot be sent; the summary says what is missing.
    await boss.press("✏️ ការពិពណ៌នា")
    await boss.press("រំលង")
    assert "នៅខ្វះមុនពេលផ្ញើ៖ ការពិពណ៌នា (សរសេរ ឬថតសំឡេង)" in boss.text
    await boss.press("ផ្ញើដើម្បីពិនិត្យ")
    assert "សូមបន្ថែម ការពិពណ៌នា (សរសេរ ឬថតសំឡេង) មុនពេលផ្ញើ" in boss.text
    await boss.press("✏️ ការពិពណ៌នា")
    await boss.send("ដេរអាវយឺត  នៅរោងចក្រស្អាត។")
    assert "នៅខ្វះ" not in boss.text
    await boss.press("ផ្ញើដើម្បីពិនិត្យ")
    job = await only_job(session_factory)
    today = local_date(utcnow())
    december = date(today.year, 12, 15) if today <= date(today.year, 12, 15) else date(today.year + 1, 12, 15)
    assert job.status is JobStatus.PENDING_REVIEW
    assert (job.salary_amount, job.salary_currency) == (Decimal(500_000), Currency.KHR)
    assert (job.hours_start, job.hours_end, job.start_date) == (time(7), time(16), december)
    assert job.title.startswith("អ្នកដេរ") and job.description.startswith("ដេរអាវយឺត")


async def test_english_long_shift_is_questioned_and_the_required_facts_are_asked_for(
    client: Client, fake_api: FakeTelegramAPI, today_build: Builder, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    boss = await employer(client, fake_api, today_build, 8102, khmer=False)
    await boss.send("/post")
    await boss.send("Security guard")
    await boss.press("Security")
    await boss.press("In Cambodia")
    await boss.press("Phnom Penh")
    await boss.press("Skip")  # district
    await boss.press("Skip")  # description: allowed here, but the listing will need one
    assert "Skip" not in boss.labels() and "$250" in boss.text  # the pay is required
    await boss.send("💵 $250 / month")
    assert "What are the working hours" in boss.text  # currency and period were both typed
    await boss.send("6am-10pm")
    assert "shift of 16 hours" in boss.text
    await boss.press("No, type again")
    assert "with am or pm" in boss.text
    await boss.send("7am - 4pm")
    assert "How many days" in boss.text
    await boss.send("seven")
    assert "Please type a number from 1 to 7, for example 6." in boss.text
    await boss.send(" ៦ 🙂")  # days
    await boss.send("2")
    await boss.press("Men and women")
    await boss.send("eighteen")
    assert "Please type the ages like 18-45" in boss.text
    await boss.send("18 - 45")
    await boss.press("Done")
    start = local_date(utcnow()) + timedelta(days=40)
    await boss.send("31/02/2027")
    assert "Please type the date like 15/12/2026 or 15 ធ្នូ" in boss.text
    await boss.send(f"{start:%d-%m-%y}")
    await boss.press("Skip")  # contact
    await boss.press("Skip")  # voice
    assert "• Pay: $250 per month" in boss.text and "• Hours: 07:00–16:00" in boss.text
    assert "Still needed before sending: a description (written or recorded)" in boss.text
    await boss.press("Submit for review")
    assert "Please add a description (written or recorded) before sending" in boss.text
    async with session_factory() as session:
        assert (await session.scalars(select(Job.status))).all() == [JobStatus.DRAFT]
    # One answer changed from the summary: its question, then the summary again.
    await boss.press("✏️ Description")
    await boss.send("Night shifts at a factory gate. Uniform given.")
    assert "Your answers" in boss.text and "• Description: Night shifts at a factory gate" in boss.text
    await boss.press("✏️ Pay")
    assert any("Keep: $250 per month" in label for label in boss.labels())
    await boss.press("Keep")
    assert "Your answers" in boss.text
    await boss.press("Submit for review")
    assert "sent to our moderators" in boss.text
    job = await only_job(session_factory)
    assert job.status is JobStatus.PENDING_REVIEW and job.start_date == start
    assert (job.days_per_week, job.min_age, job.max_age) == (6, 18, 45)
    assert (job.salary_amount, job.salary_currency, job.hours_start) == (Decimal(250), Currency.USD, time(7))


async def test_khmer_edit_and_send_again_after_the_moderators_ask_for_changes(
    client: Client, fake_api: FakeTelegramAPI, today_build: Builder, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    boss = await employer(client, fake_api, today_build, 8103, khmer=True)
    async with session_factory() as session:
        employer_id = await session.scalar(select(Employer.id))
    assert employer_id is not None
    job_id = await today_build.draft(employer_id)
    await submit_job(SubmitJob(job_id, employer_id, "employer"), today_build.uow())
    await moderate_job(ModerateJob(job_id, "moderator:1", Decision.REQUEST_CHANGES, "Say the hours"), today_build.uow())
    await boss.send("/listings")
    await boss.press("កែប្រែ ហើយផ្ញើម្ដងទៀត")
    assert "Say the hours" in boss.text and "ចម្លើយរបស់អ្នក" in boss.text
    await boss.press("ឆ្លើយសំណួរទាំងអស់ម្តងទៀត")
    assert any("ទុកដដែល" in label for label in boss.labels())  # keep the title
    await boss.press("ទុកដដែល")  # title
    await boss.press("ទុកដដែល")  # kind of work
    await boss.press("ទុកដដែល")  # place
    await boss.press("ទុកដដែល")  # description
    await boss.press("ទុកដដែល")  # pay
    assert any("ទុកដដែល៖ 07:00–16:00" in label for label in boss.labels())
    await boss.send("៦ព្រឹក ដល់ ៣រសៀល")
    for _ in range(4):  # days, workers, who, ages
        await boss.press("ទុកដដែល")
    await boss.press("ទុកដដែល")  # benefits
    await boss.press("រំលង")  # start (none yet)
    await boss.press("រំលង")  # contact (none yet)
    await boss.press("រំលង")  # voice
    assert "06:00–15:00" in boss.text
    await boss.press("ផ្ញើដើម្បីពិនិត្យ")
    edited = await only_job(session_factory)
    assert edited.id == job_id and edited.status is JobStatus.PENDING_REVIEW
    assert (edited.hours_start, edited.hours_end) == (time(6), time(15))


async def test_english_edit_and_send_again_jumps_to_one_answer_from_the_summary(
    client: Client, fake_api: FakeTelegramAPI, today_build: Builder, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    boss = await employer(client, fake_api, today_build, 8105, khmer=False)
    async with session_factory() as session:
        employer_id = await session.scalar(select(Employer.id))
    assert employer_id is not None
    job_id = await today_build.draft(employer_id)
    await submit_job(SubmitJob(job_id, employer_id, "employer"), today_build.uow())
    await moderate_job(ModerateJob(job_id, "moderator:1", Decision.REQUEST_CHANGES, "Shorter hours"), today_build.uow())
    await boss.send("/listings")
    assert "Moderator's note: Shorter hours" in boss.text
    await boss.press("Edit and send again")
    assert "• Hours: 07:00–16:00" in boss.text and "• Pay: $210 per month" in boss.text
    await boss.press("✏️ Hours")
    assert any("Keep: 07:00–16:00" in label for label in boss.labels())
    await boss.send("7am-3pm")
    assert "Your answers" in boss.text and "• Hours: 07:00–15:00" in boss.text
    await boss.press("Submit for review")
    assert "sent to our moderators" in boss.text
    edited = await only_job(session_factory)
    assert edited.status is JobStatus.PENDING_REVIEW and (edited.hours_start, edited.hours_end) == (time(7), time(15))


@pytest.mark.parametrize("khmer", [False, True])
async def test_editing_a_published_listing_keeps_it_public_until_the_edit_is_approved(
    client: Client,
    fake_api: FakeTelegramAPI,
    deps: TelegramDeps,
    dialog_deps: DialogDeps,
    today_build: Builder,
    session_factory: async_sessionmaker[AsyncSession],
    rendered: list[tuple[PitchJob, str]],
    khmer: bool,
) -> None:
    boss = await employer(client, fake_api, today_build, 8104, khmer=khmer)
    async with session_factory() as session:
        employer_id = await session.scalar(select(Employer.id))
    assert employer_id is not None
    job_id = await today_build.published(employer_id, salary_amount="210")
    await boss.send("/listings")
    await boss.press("កែប្រែ" if khmer else "Edit")
    await boss.press("ប្រាក់ឈ្នួល" if khmer else "✏️ Pay")
    keep = "ទុកដដែល៖ ២១០ ដុល្លារ" if khmer else "Keep: $210 per month"
    assert any(keep in label for label in boss.labels()), boss.labels()
    await boss.send("250 ដុល្លារ ក្នុងមួយខែ" if khmer else "$250 a month")
    assert ("ចម្លើយរបស់អ្នក" if khmer else "Your answers") in boss.text
    await boss.press("ផ្ញើដើម្បីពិនិត្យ" if khmer else "Submit for review")
    assert ("ការផ្សាយនៅដដែល" if khmer else "The listing stays as it was") in boss.text
    # The public version is unchanged while the edit waits.
    async with session_factory() as session:
        public = await session.get(Job, job_id)
        assert public is not None and public.status is JobStatus.PUBLISHED and public.salary_amount == Decimal(210)
    revision = await only_job(session_factory, Job.revision_of == job_id)
    assert revision.status is JobStatus.PENDING_REVIEW and revision.salary_amount == Decimal(250)
    await boss.send("/listings")
    assert ("ការកែប្រែរបស់អ្នក" if khmer else "Your changes: waiting for review") in boss.text
    assert not any(label.endswith(("Edit", "កែប្រែ")) for label in boss.labels())

    # The moderators see it as an edit of the published job, and approve it in their group.
    assert await notify_once(dialog_deps) > 0
    await all_sent(deps.session_factory)
    review = [c for c in fake_api.sent(MODERATORS_GROUP) if f"Changes to published job #{job_id}" in str(c.params)]
    assert review
    moderator = TelegramUser(client, fake_api, MODERATOR, chat_id=MODERATORS_GROUP)
    moderator.last = review
    rendered.clear()
    await moderator.press("Approve")
    async with session_factory() as session:
        public = await session.get(Job, job_id)
        assert public is not None and public.status is JobStatus.PUBLISHED and public.salary_amount == Decimal(250)
    # The employer hears of it, and the listing's voice notes are made anew, in both languages, with the new pay.
    assert await notify_once(dialog_deps) > 0
    await all_sent(deps.session_factory)
    told = "\n".join(str(c.params.get("text")) for c in fake_api.sent(8104))
    assert ("ការកែប្រែ" if khmer else "Your changes to") in told
    assert {(facts.salary_amount, language) for facts, language in rendered} >= {
        (Decimal(250), "km"),
        (Decimal(250), "en"),
    }


@pytest.mark.parametrize(
    ("khmer", "typed_wrong", "typed_right"),
    [(False, "98 🙂", " born in 1998 "), (True, "៩៨", "ឆ្នាំ\u200b១៩៩៨")],
)
async def test_a_birth_year_is_asked_and_refused_with_a_year_example(
    client: Client,
    fake_api: FakeTelegramAPI,
    session_factory: async_sessionmaker[AsyncSession],
    khmer: bool,
    typed_wrong: str,
    typed_right: str,
) -> None:
    dara = TelegramUser(client, fake_api, 7104)
    await dara.send("/start")
    await dara.press("ភាសាខ្មែរ" if khmer else "English")
    await dara.send("/nominate")
    await dara.send("Sophea")
    await dara.send("012 345 678")
    await dara.press("មិត្តភក្តិ" if khmer else "Friend")
    await dara.press("ស្រី" if khmer else "Woman")
    example = "ឧទាហរណ៍ ១៩៩៨" if khmer else "For example 1998"
    assert example in dara.text
    await dara.send(typed_wrong)
    assert ("សូមវាយឆ្នាំ ឧទាហរណ៍ ១៩៩៨" if khmer else "Please type the year, for example 1998") in dara.text
    await dara.send(typed_right)
    assert ("ខេត្ត" if khmer else "In which province") in dara.text  # the next question
    async with session_factory() as session:
        step = await session.scalar(select(ConversationState.data).where(ConversationState.user_id == "7104"))
    assert step is not None and step["birth_year"] == 1998
