"""The chat simulator in Debian's Chromium: what a visitor does on the page reaches the real bot as Telegram
updates through its webhook, and the bot's answers (sent by the real aiogram Bot to the in-process Bot API)
appear on the page. Screenshots are kept under ``var/test-artifacts/demo-chat/``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from sqlalchemy import select

from bots.web.demo.botapi import formatted
from jobs_core.model import Job, JobStatus
from tests.builders import Builder
from tests.e2e.demo.chat_fixtures import ARTIFACTS, WAIT, Demo, demo, open_chat, real_ogg
from tests.e2e.demo.support import needs_browser

__all__ = ["demo"]  # a fixture, imported for pytest

pytestmark = needs_browser


async def test_a_relative_starts_browses_hears_a_voice_note_while_another_chats_apart(demo: Demo, browser: Any) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    build = Builder(demo.sessions, now=None)  # type: ignore[arg-type]  # the real clock, as the app uses
    employer = await build.employer()
    await build.published(employer, title="Sewing machine operators")
    outside: list[str] = []
    dara = await open_chat(browser, f"{demo.base_url}/demo/chat?as=relative", "relative")
    dara.page.on("request", lambda r: None if r.url.startswith(demo.base_url) else outside.append(r.url))
    assert "n=" in dara.page.url  # a chat of one's own
    await dara.page.click("#commands")
    await dara.page.click("button[data-command='/start']")
    await dara.sees("/start")
    await dara.press("English")
    await dara.sees("What would you like to do?")
    await dara.shot("menu")
    await dara.press("Help a family member")
    await dara.press("Browse jobs")
    await dara.press("Any province")
    await dara.press("Any kind of work")
    card = await dara.sees("Sewing machine operators")
    audio = card.locator("audio")
    src = await audio.get_attribute("src")
    assert src
    async with ClientSession() as http, http.get(f"{demo.base_url}{src}") as response:
        assert response.status == 200 and response.content_type == "audio/ogg"
        assert (await response.read()).startswith(b"OggS")
    # The placeholder pack speaks English for the Khmer text: the page says so under the voice note.
    assert "English speech of the Khmer text" in await card.inner_text()
    played = await audio.evaluate(
        "async a => { await a.play(); await new Promise(r => setTimeout(r, 300)); return !a.paused || a.ended; }"
    )
    assert played
    await dara.shot("job-card")

    # Someone else, at the same time, in a chat of their own: none of Dara's messages.
    sokha = await open_chat(browser, f"{demo.base_url}/demo/chat?as=relative", "relative-2")
    assert sokha.page.url != dara.page.url
    await sokha.send("/start")
    await sokha.sees("Please choose your language")
    assert await sokha.page.locator("li.chat-message", has_text="Sewing machine operators").count() == 0
    assert await sokha.page.locator("li.chat-message", has_text="/start").count() == 1

    # A button on the job card: applying for a family member asks who.
    await card.locator("button.chat-button", has_text="Apply for a family member").click()
    await dara._acting()
    await dara.sees("")  # the bot asks on
    await dara.shot("applied")

    # The microphone (Chromium's fake one, a beep): press, speak, press again; the recording is sent as it is.
    await dara._acting()
    await dara.page.click("#record")
    await dara.page.wait_for_selector("#record.recording")
    await dara.page.wait_for_timeout(1200)
    await dara.page.click("#record")
    mine = dara.page.locator("li.chat-message.mine audio").last
    await mine.wait_for(timeout=WAIT)
    src = await mine.get_attribute("src")
    async with ClientSession() as http, http.get(f"{demo.base_url}{src}") as response:
        assert response.status == 200 and response.content_type in ("audio/webm", "audio/ogg")
    # The bot fetched the recording through getFile and answered it.
    await dara.page.wait_for_function(
        "() => document.querySelector('li.chat-message:last-child') && "
        "!document.querySelector('li.chat-message:last-child').classList.contains('mine')",
        timeout=WAIT,
    )
    assert demo.api.calls_of("getFile")
    await dara.shot("recorded")

    # Formatting as Telegram shows it (the bot sends plain text today; a message in HTML parse mode shows bold).
    chat_id = dara.page.url.split("n=")[1].split("&")[0]
    html = formatted("text", "<b>Bold</b> and <a href='https://example.org/'>a link</a>", {"parse_mode": "HTML"})
    demo.api._message(str(7_100_000 + int(chat_id)), None, **html)
    await dara.page.locator("li.chat-message b", has_text="Bold").wait_for(timeout=WAIT)
    assert await dara.page.locator("li.chat-message a[href='https://example.org/']").count() == 1
    assert outside == []


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    return real_ogg(tmp_path / "employer.ogg")


async def test_an_employer_posts_a_job_with_a_recording_and_a_moderator_approves_it_in_the_group(
    demo: Demo, browser: Any, recording: Path
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    boss = await open_chat(browser, f"{demo.base_url}/demo/chat?as=employer", "employer")
    await boss.send("/start")
    await boss.press("English")
    await boss.press("I am an employer")
    await boss.sees("name of your company")
    await boss.send("Golden Thread Apparel")
    # The "send my number" keyboard: the contact shared is the number typed beside it.
    share = boss.page.locator("#keyboard button", has_text="Send my number")
    await share.wait_for(timeout=WAIT)
    await boss.shot("contact-keyboard")
    await boss._acting()
    await share.click()
    await boss.sees("+85512345678")
    await boss.press("Phnom Penh")
    await boss.press("A company or employer")
    await boss.press("Post a job")
    await boss.sees("title")
    await boss.send("Security guards")
    await boss.press("Security")
    await boss.press("In Cambodia")
    await boss.press("Phnom Penh")
    await boss.press("Skip")  # district
    await boss.sees("Describe")
    await boss.send("Night shifts at a garment factory gate.")
    await boss.sees("pay")
    await boss.send("250")
    await boss.press("US dollars")
    await boss.press("month")
    await boss.sees("hours")
    await boss.send("7-16")
    await boss.press("Skip")  # days
    await boss.sees("How many")
    await boss.send("4")
    await boss.sees("Who can apply")
    await boss._acting()
    await boss.page.locator("li.chat-message").last.locator("button.chat-button").first.click()
    await boss.press("Skip")  # ages
    await boss.press("Done")  # benefits
    await boss.press("Skip")  # start date
    await boss.press("Skip")  # contact
    await boss.sees("voice message")
    await boss._acting()
    await boss.page.set_input_files("#upload", str(recording))
    await boss.sees("This is how your job will look")
    await boss.shot("preview")
    await boss.press("Submit for review")
    await boss.sees("sent to our moderators")
    async with demo.sessions() as session:
        job = await session.scalar(select(Job).where(Job.title == "Security guards"))
        assert job is not None and job.status is JobStatus.PENDING_REVIEW and job.voice_clip
        job_id = job.id

    moderator = await open_chat(browser, f"{demo.base_url}/demo/chat?as=moderator&in=group", "moderators")
    # The review card, in the moderators' language (Khmer by default), with the employer's recording after it.
    card = await moderator.sees("Security guards")
    assert "Night shifts at a garment factory gate." in await card.inner_text()
    await moderator.shot("review-card")
    # Chatting in the group: privacy mode keeps it from the bot, and the page says so.
    await moderator.send("Looks fine to me")
    await moderator.page.locator("#error.chat-info", has_text="Telegram does not give the bot").wait_for(timeout=WAIT)
    await moderator._acting()
    await card.locator("button.chat-button", has_text="អនុម័ត").click()  # Approve
    # The card is edited in place: who approved it, and no buttons left.
    await card.filter(has_text="Approved by Sreymom").wait_for(timeout=WAIT)
    assert await card.locator("button.chat-button").count() == 0
    assert "edited" in await card.locator(".chat-meta").inner_text()
    await moderator.shot("approved")

    async with demo.sessions() as session:
        published = await session.get(Job, job_id)
        assert published is not None and published.status is JobStatus.PUBLISHED
