"""The conversations engine end to end through Messenger: signed webhook events in, recorded Send API calls
out, in English and Khmer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.messenger import MessengerDeps, setup_messenger
from bots.telegram.dialog import conversation_dialog, conversation_preparer
from conversations.i18n import gettext_for
from conversations.replies import Voice
from conversations.turn import DialogDeps
from jobs_core import geo
from jobs_core.model import Channel, Employer, Job, JobStatus, Nomination, Relative, Sector, Worker
from jobs_core.model.base import utcnow
from jobs_core.stats import monthly_stats
from media.composer import PitchJob
from tests.builders import Builder
from tests.e2e.messenger.conftest import MessengerPage, message_event, page_body, postback_event
from tests.fakes.messenger_api import FakeGraphAPI, Send


@pytest.fixture
def dialog_deps(session_factory: async_sessionmaker[AsyncSession], tmp_path: Path) -> DialogDeps:
    async def audio(job: PitchJob, language: str) -> Voice:
        """A voice note per (sector, province, language), in both formats."""
        audio_id = f"{language}-{job.sector}-{job.province_code}"
        ogg, mp3 = tmp_path / f"{audio_id}.ogg", tmp_path / f"{audio_id}.mp3"
        ogg.write_bytes(b"OggS" + audio_id.encode() * 20)
        mp3.write_bytes(b"ID3\x03" + audio_id.encode() * 20)
        return Voice(audio_id=audio_id, ogg=ogg, mp3=mp3)

    async def normalise(upload: Path) -> Path:
        return upload

    return DialogDeps(session_factory=session_factory, audio=audio, clip_normaliser=normalise)


@pytest.fixture
async def flows(deps: MessengerDeps, dialog_deps: DialogDeps, graph_api: FakeGraphAPI) -> AsyncIterator[MessengerPage]:
    app = web.Application()
    wired = replace(deps, dialog=conversation_dialog(dialog_deps), prepare=conversation_preparer(dialog_deps))
    setup_messenger(app, wired, background=False)
    async with TestClient(TestServer(app)) as client:
        yield MessengerPage(client, wired, graph_api)


class MessengerUser:
    """A person writing to the page: types, presses quick replies and postback buttons of the last messages."""

    def __init__(self, page: MessengerPage, psid: str) -> None:
        self.page, self.psid = page, psid
        self.last: list[Send] = []

    async def _post(self, event: dict[str, object]) -> list[Send]:
        before = len(self.page.api.sends)
        assert await self.page.post(page_body(event)) == 200
        self.last = [s for s in self.page.api.sends[before:] if s.psid == self.psid]
        return self.last

    async def send(self, text: str) -> list[Send]:
        return await self._post(message_event(self.psid, text))

    async def press(self, label: str) -> list[Send]:
        for sent in reversed(self.last):
            for title, payload in sent.choices:
                if label[:12] in title or title.rstrip("…") in label:
                    if sent.kind == "quick_replies":
                        return await self._post(message_event(self.psid, title, quick_reply={"payload": payload}))
                    return await self._post(postback_event(self.psid, payload, title))
        raise AssertionError(f"no button {label!r} in {self.labels()}")

    def labels(self) -> list[str]:
        return [title for sent in self.last for title, _payload in sent.choices]

    @property
    def text(self) -> str:
        return "\n".join(s.text for s in self.last)


async def test_relative_starts_in_english_browses_jobs_and_hears_them_as_audio(
    flows: MessengerPage, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    builder = Builder(session_factory, utcnow())
    employer = await builder.employer()
    job_id = await builder.published(employer, title="Sewing machine operators")
    dara = MessengerUser(flows, "701")
    await dara._post(postback_event("701", "start", "Get Started"))
    assert "Please choose your language" in dara.text
    await dara.press("English")
    assert "What would you like to do?" in dara.text
    assert all(len(title) <= 20 for title in dara.labels())
    await dara.press("Help a family member")
    await dara.press("Browse jobs")
    assert "Where should the job be?" in dara.text
    await dara.press("Any province")
    await dara.press("Any kind of work")
    kinds = [s.kind for s in dara.last]
    assert "audio" in kinds and "generic" in kinds
    [carousel] = [s for s in dara.last if s.kind == "generic"]
    assert "Sewing machine operators" in carousel.text or any(
        "Sewing machine operators" in e["title"] + e.get("subtitle", "")
        for e in carousel.message["attachment"]["payload"]["elements"]
    )
    links = [payload for _title, payload in carousel.choices if payload.startswith("https://m.me/")]
    assert links == [f"https://m.me/{flows.deps.page_id}?ref=job_{job_id}"]
    assert len(flows.api.uploads) == 1
    async with session_factory() as session:
        relative = await session.scalar(select(Relative).where(Relative.external_id == "701"))
    assert relative is not None and relative.channel == Channel.MESSENGER
    async with session_factory() as session:
        [month] = await monthly_stats(session)
    assert month.active_relatives == {"messenger": 1}


async def test_relative_in_khmer_nominates_a_family_member(
    flows: MessengerPage, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    sokha = MessengerUser(flows, "702")
    await sokha._post(postback_event("702", "start", "Get Started"))
    await sokha.press("ខ្មែរ")
    assert "តើអ្នកចង់ធ្វើអ្វី?" in sokha.text  # "What would you like to do?", in Khmer
    await sokha._post(postback_event("702", "nom", "បន្ថែមសមាជិកគ្រួសារ"))
    await sokha.send("សុភា")
    await sokha.send("០១២ ៣៤៥ ៦៧៩")  # Khmer digits
    async with session_factory() as session:
        states = await session.scalar(select(Worker).where(Worker.phone == "+85512345679"))
    # The phone is asked and kept in the flow's state until the nomination is confirmed; the flow goes on.
    assert states is None and sokha.last, sokha.text
    assert all(len(title) <= 20 for title in sokha.labels())


async def test_a_shared_link_opens_the_job_for_someone_new(
    flows: MessengerPage, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    builder = Builder(session_factory, utcnow())
    employer = await builder.employer()
    job_id = await builder.published(employer, title="Rice mill workers")
    friend = MessengerUser(flows, "703")
    referral = {"ref": f"job_{job_id}", "source": "SHORTLINK", "type": "OPEN_THREAD"}
    await friend._post(postback_event("703", "start", "Get Started", referral=referral))
    await friend.press("English")
    shown = " ".join(
        s.text
        + " ".join(e["title"] for e in (s.message.get("attachment") or {}).get("payload", {}).get("elements", []))
        for s in friend.last
    )
    assert "Rice mill workers" in shown
    # Counted like Telegram's inline shares, by the sharer's channel.
    async with session_factory() as session:
        [month] = await monthly_stats(session)
    assert month.shares == {"messenger": 1}


@pytest.mark.parametrize("language", ["en", "km"])
async def test_employer_registers_sharing_their_number_with_the_quick_reply(
    flows: MessengerPage, session_factory: async_sessionmaker[AsyncSession], language: str
) -> None:
    _ = gettext_for(language)
    async with session_factory() as session:
        security = await session.scalar(select(Sector).where(Sector.code == "security"))
    assert security is not None
    phnom_penh = geo.province("12").name(language)
    boss = MessengerUser(flows, "801")
    await boss._post(postback_event("801", "start", "Get Started"))
    await boss.press("English" if language == "en" else "ភាសាខ្មែរ")
    await boss.press(_("🏢 I am an employer"))
    assert _("What is the name of your company?") in boss.text
    await boss.send("Golden Thread Apparel")
    ask = boss.last[-1]
    assert {"content_type": "user_phone_number"} in ask.message.get("quick_replies", []) or any(
        q.get("content_type") == "user_phone_number" for s in boss.last for q in s.message.get("quick_replies", [])
    )
    await boss._post(message_event("801", "+85523880112", quick_reply={"payload": "+85523880112"}))
    await boss.press(phnom_penh)
    await boss.press(_("A company or employer"))
    async with session_factory() as session:
        employer = await session.scalar(select(Employer).where(Employer.name == "Golden Thread Apparel"))
    assert employer is not None and employer.contact_phone == "+85523880112"
    assert await _nothing_else(session_factory)
    # Posting a job, its description recorded as a Messenger audio attachment.
    await boss.press(_("📝 Post a job"))
    await boss.send("Security guards")
    await boss.press(security.name_en if language == "en" else security.name_km)
    await boss.press(_("🇰🇭 In Cambodia"))
    await boss.press(phnom_penh)
    await boss.press(_("Skip"))  # district
    await boss.send("Night shifts at a garment factory gate.")
    await boss.send("250")
    await boss.press(_("US dollars ($)"))
    await boss.press(_("per month"))
    await boss.send("7-16")  # hours
    await boss.press(_("Skip"))  # days
    await boss.send("4")
    await boss.press(boss.labels()[0])  # who can apply: the first choice
    await boss.press(_("Skip"))  # ages
    await boss.press(_("Done ✔️"))  # benefits
    await boss.press(_("Skip"))  # start date
    await boss.press(_("Skip"))  # contact
    assert _(
        "You can record a short voice message (up to 30 seconds) describing the job, in Khmer. Or press Skip."
    ) in (boss.text)
    url = flows.api.media_url("boss.mp4", b"\x00\x00\x00\x18ftypM4A employer clip")
    await boss._post(message_event("801", None, attachments=[{"type": "audio", "payload": {"url": url}}]))
    assert _("This is how your job will look:") in boss.text
    await boss.press(_("✅ Submit for review"))
    assert _("Thank you! Your job was sent to our moderators. We will tell you when it is published.") in boss.text
    async with session_factory() as session:
        job = await session.scalar(select(Job).where(Job.title == "Security guards"))
    assert job is not None and job.status is JobStatus.PENDING_REVIEW and job.voice_clip
    # Labels cut to Messenger's 20 characters never made two choices of one message look alike.
    for sent in flows.api.sends:
        titles = [title for title, _payload in sent.choices]
        assert len(set(titles)) == len(titles), titles


async def _nothing_else(session_factory: async_sessionmaker[AsyncSession]) -> bool:
    async with session_factory() as session:
        return await session.scalar(select(Nomination).limit(1)) is None
