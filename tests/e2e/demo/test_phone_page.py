"""The demo's phone simulator in Debian's Chromium (Playwright, headless, no browser download), against a running
`bongpheak demo`: the dialer's call rings on the page, the worker answers, hears the prompts, agrees with 1,
hears the pitch on the next call and applies with 1 (an application exists); another worker stops the calls
with 9. Screenshots of each step are kept in the test's temporary folder."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import ClientSession
from sqlalchemy import select

from jobs_core.model import Application, Consent, Event, Worker
from jobs_core.phones import demo_phone
from tests.e2e.demo.support import Running, answer_the_ringing_phone, eventually, hear_a_prompt, needs_browser, plays
from tests.integration.dialer.support import add_employer, add_job, add_worker

pytestmark = needs_browser


async def nominate(running: Running, n: int) -> int:
    """A worker at the n-th demo number, with a listing that fits them, nominated just now."""
    now = datetime.now(UTC)
    employer = await add_employer(running.sessions)
    await add_job(running.sessions, employer, now=now)
    worker, nomination = await add_worker(running.sessions, demo_phone(n), consent=Consent.PENDING)
    async with running.sessions() as session, session.begin():
        payload = {"worker_id": worker, "nomination_id": nomination}
        session.add(Event(kind="worker.nominated", payload=payload, created_at=now))
    return worker


async def test_the_worker_answers_agrees_hears_the_pitch_and_applies_and_another_stops_the_calls(
    running: Running, browser: Any, tmp_path: Path
) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    worker = await nominate(running, 99001)
    # bypass_csp: the page allows no eval, which Playwright needs to wait for a condition on it.
    context = await browser.new_context(viewport={"width": 900, "height": 1000}, bypass_csp=True)
    page = await context.new_page()
    await page.goto(f"{running.demo.url}/demo")
    await page.screenshot(path=str(shots / "0-start.png"), full_page=True)
    await page.click(".roles a[href='/demo/phone']")
    await page.wait_for_function("document.getElementById('call-status').textContent === 'Ringing…'", timeout=90_000)
    await page.screenshot(path=str(shots / "1-ringing.png"), full_page=True)

    await answer_the_ringing_phone(page, demo_phone(99001))
    await page.screenshot(path=str(shots / "2-consent-question.png"), full_page=True)
    await page.click("#keypad [data-key='1']")  # yes, call me with job offers

    # The pitch comes on a call of its own, once the consent is recorded.
    await answer_the_ringing_phone(page, demo_phone(99001))
    await page.screenshot(path=str(shots / "3-pitch.png"), full_page=True)
    heard = await plays(page)
    await page.click("#keypad [data-key='1']")  # apply
    await hear_a_prompt(page, after=heard)  # "have you done this work before?"
    await page.click("#keypad [data-key='1']")

    async def applied() -> bool:
        async with running.sessions() as session:
            return await session.scalar(select(Application.id).where(Application.worker_id == worker)) is not None

    await eventually(applied)
    await page.screenshot(path=str(shots / "4-applied.png"), full_page=True)
    assert await page.locator("#log .entry").count() >= 4  # status callbacks, the answer, the keys
    await page.click("#hangup")  # before the next listing of the call
    await page.wait_for_function("document.getElementById('call-status').textContent === 'Call ended'")

    stopper = await nominate(running, 99002)
    await answer_the_ringing_phone(page, demo_phone(99002))
    await page.click("#keypad [data-key='1']")
    await answer_the_ringing_phone(page, demo_phone(99002))
    await page.click("#keypad [data-key='9']")  # stop calling me

    async def opted_out() -> bool:
        async with running.sessions() as session:
            return (await session.get(Worker, stopper, populate_existing=True)).consent is Consent.OPTED_OUT  # type: ignore[union-attr]

    await eventually(opted_out)
    await page.wait_for_function("document.getElementById('call-status').textContent === 'Call ended'", timeout=30_000)
    await page.screenshot(path=str(shots / "5-stopped.png"), full_page=True)

    # A key for a call that is over, an unknown action, or a post without the page's token: nothing happens.
    token = await page.get_attribute("#phone", "data-csrf")
    sid = await page.evaluate("fetch('/demo/phone/state.json').then(r => r.json()).then(s => s.calls.pop().sid)")
    act = f"{running.demo.url}/demo/phone/act"
    async with ClientSession() as http:
        async with http.post(act, data={"csrf": token, "sid": sid, "action": "1"}) as response:
            assert response.status == 409 and (await response.json())["error"] == "this call is over"
        async with http.post(act, data={"csrf": token, "sid": sid, "action": "dance"}) as response:
            assert response.status == 400
        async with http.post(act, data={"sid": sid, "action": "1"}) as response:
            assert response.status == 403
    await context.close()
