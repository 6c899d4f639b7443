"""The guided story of ``/demo``, played as a newcomer plays it, through the pages only, against `bongpheak demo`
started as its own process (the real command, on a fresh database it seeds): an employer posts a job in the
chat simulator, a moderator approves it in the moderators' group, a relative finds it and adds a family member,
the phone rings on the phone simulator, the worker agrees with 1, hears the pitch and applies with 1, the
employer sees the application in their chat, the relative hears the outcome in theirs, and the dashboard
counts it. Every link followed is the one the start page gives for that step. Debian's Chromium through
Playwright; screenshots of each step are kept under ``var/test-artifacts/story/``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from jobs_core.model import Application, Consent, Job, JobStatus, Nomination, Worker
from jobs_core.phones import normalize_phone
from tests.e2e.demo.chat_fixtures import PHONE, ChatPage
from tests.e2e.demo.support import Running, answer_the_ringing_phone, eventually, hear_a_prompt, needs_browser, plays

pytestmark = needs_browser

SHOTS = Path(__file__).resolve().parents[3] / "var" / "test-artifacts" / "story"
TITLE = "Night security guards"
FAMILY_MEMBER = "Sokha"
IN_SIGHT = """selector => {
  const box = document.querySelector(selector).getBoundingClientRect();
  return box.height > 0 && box.top >= 0 && box.bottom <= window.innerHeight;
}"""


class StartPage:
    """The /demo page, kept open in its own tab as the newcomer is told to: each step's link is taken from it."""

    def __init__(self, page: Any) -> None:
        self.page = page

    async def link(self, step: int, text: str) -> str:
        """The address of the link ``text`` in the story's step ``step`` (1-based)."""
        link = self.page.locator(f"ol.story > li:nth-child({step}) a", has_text=text)
        assert await link.count() == 1, f"step {step} of the story has no link {text!r}"
        return str(self.page.url.split("/demo")[0] + await link.get_attribute("href"))

    async def step(self, step: int) -> str:
        return str(await self.page.locator(f"ol.story > li:nth-child({step})").inner_text())


async def tab(browser: Any, url: str, name: str, **context: Any) -> ChatPage:
    """A tab of its own (a browser context each: the chats are different people), at ``url``."""
    # bypass_csp: the pages allow no eval, which Playwright needs to wait for a condition on them.
    opened = await browser.new_context(**({"viewport": PHONE, "device_scale_factor": 1, "bypass_csp": True} | context))
    page = await opened.new_page()
    await page.goto(url)
    return ChatPage(page, name, SHOTS)


async def figures(page: Any) -> dict[str, str]:
    """The dashboard's newest month, as the figures page shows it: column title → figure."""
    await page.reload()
    table = page.locator("#table-monthly")
    titles = [t.strip() for t in await table.locator("thead th").all_inner_texts()]
    cells = [c.strip() for c in await table.locator("tbody tr").last.locator("th, td").all_inner_texts()]
    return dict(zip(titles, cells, strict=True))


async def test_a_newcomer_follows_the_story_on_the_demo_page_from_a_posted_job_to_the_dashboard(
    running: Running, browser: Any
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("*.png"):
        old.unlink()
    start = await tab(browser, f"{running.demo.url}/demo", "0-start", viewport={"width": 1000, "height": 900})
    story = StartPage(start.page)
    await start.page.screenshot(path=str(SHOTS / "00-start.png"), full_page=True)

    # The dashboard before: signed in with the account the start page shows.
    name = await start.page.locator("#staff code").nth(0).inner_text()
    password = await start.page.locator("#staff code").nth(1).inner_text()
    dashboard = await tab(
        browser, await story.link(7, "dashboard"), "dashboard", viewport={"width": 1280, "height": 900}
    )
    await dashboard.page.get_by_label("Name").fill(name)
    await dashboard.page.get_by_label("Password").fill(password)
    await dashboard.page.get_by_role("button", name="Sign in").click()
    await dashboard.page.locator("#table-monthly").wait_for()
    before = await figures(dashboard.page)

    # 1. The employer posts a job.
    boss = await tab(browser, await story.link(1, "employer"), "01-employer")
    await boss.page.locator("#start").wait_for()  # a chat never used: Telegram's START button
    await boss.shot("new-chat")
    await boss.page.click("#start")
    await boss.press("English")
    await boss.press("I am an employer")
    await boss.sees("name of your company")
    await boss.send("Golden Thread Apparel")
    share = boss.page.locator("#keyboard button", has_text="Send my number")
    await share.wait_for()
    await boss._acting()
    await share.click()
    await boss.press("Phnom Penh")
    await boss.press("A company or employer")
    await boss.press("Post a job")
    await boss.sees("title")
    await boss.send(TITLE)
    await boss.press("Security")
    await boss.press("In Cambodia")
    await boss.press("Phnom Penh")
    await boss.press("Skip")  # district
    await boss.sees("Describe")
    await boss.send("Night shifts at a garment factory gate. Uniform and dinner provided.")
    await boss.sees("pay")
    await boss.send("250")
    await boss.press("US dollars")
    await boss.press("month")
    await boss.sees("hours")
    await boss.send("18-6")
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
    await boss.press("Skip")  # the voice description
    await boss.sees("This is how your job will look")
    await boss.page.locator("button.chat-button", has_text="Submit for review").last.wait_for()
    await boss.shot("preview")
    await boss.press("Submit for review")
    await boss.sees("sent to our moderators")
    await boss.shot("submitted")

    # 2. A moderator approves it in the moderators' group.
    moderator = await tab(browser, await story.link(2, "moderators' group"), "02-moderators")
    card = await moderator.sees(TITLE)
    await moderator.shot("review-card")
    await moderator._acting()
    assert "អនុម័ត" in await story.step(2)  # the group speaks Khmer: the story names the button as it shows
    await card.locator("button.chat-button", has_text="អនុម័ត").click()
    await card.filter(has_text="Sreymom").wait_for()
    await moderator.shot("approved")
    await boss.sees(TITLE)  # the employer is told it is on line
    await boss.shot("published")

    # 3. A relative finds it and adds a family member.
    relative = await tab(browser, await story.link(3, "relative"), "03-relative")
    await relative.page.click("#start")
    await relative.press("English")
    await relative.press("Help a family member")
    await relative.press("Browse jobs")
    await relative.press("Any province")
    await relative.press("Any kind of work")
    found = await relative.sees(TITLE)  # the newest listing comes first
    assert await found.locator("audio").count() == 1
    await relative.shot("found")
    await relative._acting()
    await found.locator("button.chat-button", has_text="Call my family member").click()
    await relative.press("Add a family member")
    await relative.sees("name")
    await relative.send(FAMILY_MEMBER)
    number = await start.page.locator("ol.story > li:nth-child(3) code").inner_text()  # the number it suggests
    await relative.sees("phone number")
    await relative.send(number)
    await relative.press("Brother or sister")
    await relative.press("Woman")
    await relative.sees("born")
    await relative.send("1998")
    await relative.press("Phnom Penh")
    await relative.sees("What kind of work")
    await relative.press("Done")
    await relative.press("Skip")  # a greeting
    await relative.press("Yes, they agreed")
    await relative.sees(f"We added {FAMILY_MEMBER}")
    await relative.shot("nominated")

    # 4. The phone rings: consent.
    phone = await tab(
        browser, await story.link(4, "phone simulator"), "04-phone", viewport={"width": 900, "height": 1000}
    )
    called = normalize_phone(number)
    # The number given rings, maybe with the demo's workers called about the new job: as the story says, a
    # press on the number takes the call when another one has the handset.
    line = phone.page.locator("button.phone-line", has_text=called)
    await line.locator(".badge", has_text="ringing").wait_for(timeout=90_000)
    if await phone.page.locator("#call-to").inner_text() != called:
        await line.click()
    # The ringing phone is brought into sight: Answer is on the screen without scrolling.
    await phone.page.locator("#answer").wait_for()
    await phone.page.wait_for_function(IN_SIGHT, arg="#answer")
    await phone.shot("ringing")
    await answer_the_ringing_phone(phone.page, called)
    await phone.shot("consent-question")
    await phone.page.click("#keypad [data-key='1']")  # yes, call me with job offers

    # 5. The pitch, on a call of its own: apply with 1, then say whether they did this work before.
    await answer_the_ringing_phone(phone.page, called)
    await phone.shot("pitch")
    heard = await plays(phone.page)
    await phone.page.click("#keypad [data-key='1']")  # apply
    await hear_a_prompt(phone.page, after=heard)  # "have you done this work before?"
    await phone.page.click("#keypad [data-key='2']")

    async def applied() -> bool:
        async with running.sessions() as session:
            job_id = await session.scalar(select(Job.id).where(Job.title == TITLE))
            found = select(Application.id).join(Worker).where(Application.job_id == job_id, Worker.phone == called)
            return await session.scalar(found) is not None

    await eventually(applied)
    await phone.shot("applied")
    await phone.page.click("#hangup")
    await phone.page.wait_for_function("document.getElementById('call-status').textContent === 'Call ended'")

    # 6. The employer sees the application; the relative hears the outcome.
    await boss.sees(FAMILY_MEMBER)
    await boss.shot("application")
    await relative.sees(f"{FAMILY_MEMBER} applied by phone")
    await relative.shot("outcome")

    # 7. The dashboard counts it.
    after = await figures(dashboard.page)
    await dashboard.page.locator("#table-monthly tbody tr").last.scroll_into_view_if_needed()
    await dashboard.shot("figures")
    assert int(after["applications: ivr"]) == int(before["applications: ivr"]) + 1
    assert int(after["calls answered"]) >= int(before["calls answered"]) + 2
    assert int(after["nominations"]) == int(before["nominations"]) + 1

    async with running.sessions() as session:
        job = await session.scalar(select(Job).where(Job.title == TITLE))
        assert job is not None and job.status is JobStatus.PUBLISHED
        worker = await session.scalar(select(Worker).where(Worker.phone == called))
        assert worker is not None and worker.consent is Consent.CONSENTED
        nomination = await session.scalar(select(Nomination).where(Nomination.worker_id == worker.id))
        assert nomination is not None and nomination.name == FAMILY_MEMBER
        application = await session.scalar(
            select(Application).where(Application.job_id == job.id, Application.worker_id == worker.id)
        )
        assert application is not None
