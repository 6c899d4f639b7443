"""Employers: register, post a job with every field, voice description, preview, submit; listings, applications."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations.replies import AskPhone, AskVoice, JobCard
from conversations.turn import DialogDeps
from jobs_core.model import Application, ApplicationStatus, Consent, Employer, EmployerKind, Job, JobStatus, Worker
from jobs_core.services.applications import Apply, apply
from jobs_core.services.employers import DecideEmployer, decide_employer
from jobs_core.services.people import RecordConsent, record_consent
from tests.builders import Builder
from tests.integration.conversations.conftest import Chat


async def register(chat: Chat, name: str = "Golden Thread Apparel") -> None:
    await chat.act("emp")
    await chat.send(name)
    await chat.send("023 880 112")
    await chat.press("Phnom Penh")
    await chat.press("A company or employer")


async def test_register_a_company(chat: Chat, session_factory: async_sessionmaker[AsyncSession]) -> None:
    await chat.start()
    await chat.act("emp")
    assert "Register your company first" in chat.text
    await chat.send("Golden Thread Apparel")
    assert isinstance(chat.last[0], AskPhone)
    await chat.send("123")
    assert "not a valid Cambodian phone number" in chat.text
    await chat.send("023 880 112")
    await chat.press("Phnom Penh")
    await chat.press("A company or employer")
    assert "Golden Thread Apparel is registered" in chat.text
    await chat.act("emp")
    assert "waiting for verification" in chat.text
    async with session_factory() as session:
        employer = await session.scalar(select(Employer))
        assert employer is not None and employer.contact_phone == "+85523880112" and employer.province_code == "12"


async def test_an_agency_gives_its_licence(chat: Chat, session_factory: async_sessionmaker[AsyncSession]) -> None:
    await chat.start()
    await chat.act("emp")
    await chat.send("Mekong Manpower")
    await chat.send("012 999 888")
    await chat.send("Battambang")
    await chat.press("recruitment agency")
    assert "licence number" in chat.text
    await chat.send("MOL-123/2024")
    async with session_factory() as session:
        employer = await session.scalar(select(Employer))
        assert employer is not None and employer.kind is EmployerKind.AGENCY and employer.licence_no == "MOL-123/2024"


async def test_post_a_job_with_every_field_then_submit(
    chat: Chat, session_factory: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await chat.start()
    await register(chat)
    await chat.act("post")
    await chat.send("Sewing machine operators")
    await chat.press("Garment")
    await chat.press("In Cambodia")
    await chat.press("Kandal")
    await chat.press("Ta Khmau")
    await chat.send("Sewing T-shirts in a clean factory. Training given.")
    await chat.send("two hundred")
    assert "Please type the pay like $250" in chat.text  # the question's own examples
    await chat.send("២៥០")
    await chat.press("US dollars")
    await chat.press("per month")
    await chat.send("morning")
    assert "Please type the hours like 7am-4pm" in chat.text
    await chat.send("07:00-16:00")
    await chat.send("9")
    assert "too large" in chat.text
    await chat.send("៦")
    await chat.send("20")
    await chat.press("Women only")
    await chat.send("18-45")
    await chat.press("Meals")
    await chat.press("NSSF")
    await chat.press("Transport")
    await chat.press("Transport")
    await chat.press("Done")
    await chat.send("2026-04-01")
    await chat.send("Call Ms Dany 012 555 444")
    assert isinstance(chat.last[0], AskVoice)
    await chat.send(other_media=True)  # a document where a voice note is expected
    assert "voice message" in chat.text and isinstance(chat.last[-1], AskVoice)
    await chat.send(voice=tmp_path / "long.bad")
    assert "too long" in chat.text
    await chat.send(voice=tmp_path / "clip.ogg")
    assert "This is how your job will look" in chat.text
    card = next(r for r in chat.last if isinstance(r, JobCard))
    for expected in (
        "Sewing machine operators",
        "Ta Khmau, Kandal",
        "$250 per month",
        "07:00–16:00",
        "6 days a week",
        "20 workers: Women only · age 18–45",
        "Meals, NSSF social security",
        "Starts 2026-04-01",
        "1297",
    ):
        assert expected in card.text, expected
    assert card.voice is not None
    await chat.press("Submit for review")
    assert "sent to our moderators" in chat.text
    async with session_factory() as session:
        job = await session.scalar(select(Job))
        assert job is not None
        assert job.status is JobStatus.PENDING_REVIEW and job.risk is not None
        assert (job.province_code, job.district_code, job.country) == ("08", "0811", None)
        assert (job.salary_amount, job.salary_currency.value, job.salary_period.value) == (  # type: ignore[union-attr]
            Decimal("250.00"),
            "USD",
            "month",
        )
        assert (job.hours_start, job.hours_end, job.days_per_week, job.positions) == (time(7), time(16), 6, 20)
        assert (job.gender.value, job.min_age, job.max_age) == ("female", 18, 45)
        assert job.benefits == ["meals", "nssf"] and job.start_date == date(2026, 4, 1)
        assert job.contact == "Call Ms Dany 012 555 444" and job.voice_clip == str(tmp_path / "clip.wav")
        assert job.description.startswith("Sewing T-shirts")


async def test_post_abroad_skipping_what_is_optional(
    chat: Chat, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await chat.start()
    await register(chat)
    await chat.act("post")
    await chat.send("Farm workers")
    await chat.press("Agriculture")
    await chat.press("Abroad")
    await chat.send("Thailand")
    await chat.press("Skip")  # description
    assert "Skip" not in chat.labels()  # the pay is required
    await chat.send("300$")  # the currency question is skipped
    assert "The pay is" in chat.text
    await chat.press("per month")
    await chat.send("6-14")
    await chat.press("Skip")  # days
    await chat.send("5")
    await chat.press("Men and women")
    await chat.press("Skip")  # ages
    await chat.press("Done")
    await chat.press("Skip")  # start
    await chat.press("Skip")  # contact
    await chat.press("Skip")  # voice
    assert "Still needed before sending: a description (written or recorded)" in chat.text
    await chat.press("Submit for review")
    assert "Please add a description (written or recorded) before sending" in chat.text
    await chat.press("Discard")
    assert "discarded" in chat.text
    async with session_factory() as session:
        job = await session.scalar(select(Job))
        assert job is not None and job.country == "Thailand" and job.status is JobStatus.WITHDRAWN
        assert job.province_code is None and job.salary_amount == Decimal(300) and job.submitted_at is None


async def test_listings_applications_and_the_phone_shown_only_to_that_employer(
    chat: Chat, build: Builder, deps: DialogDeps, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await chat.start()
    await register(chat)
    async with session_factory() as session:
        employer_id = await session.scalar(select(Employer.id))
    assert employer_id is not None
    job_id = await build.published(employer_id)
    await chat.act("listings")
    assert "Status: published" in chat.text and "Applications: 0" in chat.text
    assert f"lst:{job_id}:apps" not in [a for _, a in zip(chat.labels(), [], strict=False)]
    relative = Chat(deps, "7001")
    relative.user_id = relative.chat_id = "7100"
    await relative.start()
    await relative.act("nom")
    for answer in ("Sophea", "012 345 678"):
        await relative.send(answer)
    await relative.press("Friend")
    await relative.press("Woman")
    await relative.send("1999")
    await relative.press("Kandal")
    await relative.press("Done")
    await relative.press("Skip")  # no greeting
    await relative.press("Yes")
    await relative.act(f"job:{job_id}:apply")
    await relative.press("Sophea")
    # The relative's application waits for the worker: the employer sees nothing of it yet.
    await chat.act("listings")
    assert "Applications: 0" in chat.text and "012 345 678" not in chat.text
    async with session_factory() as session:
        worker_id = await session.scalar(select(Worker.id))
    assert worker_id is not None
    await record_consent(RecordConsent(worker_id, Consent.CONSENTED, "ivr:1"), build.uow())
    await apply(Apply(job_id, "ivr", worker_id=worker_id), build.uow())  # the worker's 1 on the phone
    await chat.act("listings")
    assert "Applications: 1" in chat.text
    await chat.press("Applications")
    # Not verified yet: the name, never the phone.
    assert "Sophea" in chat.text and "012 345 678" not in chat.text and "verified your company" in chat.text
    await decide_employer(DecideEmployer(employer_id, "moderator:1", verify=True), build.uow())
    await chat.act(f"lst:{job_id}:apps")
    assert "Sophea" in chat.text and "012 345 678" in chat.text
    # Another employer pressing the same button sees nothing.
    other = Chat(deps, "5999")
    await other.start()
    await register(other, "Other Co")
    for action in (f"lst:{job_id}:apps", f"lst:{job_id}:fill", f"lst:{job_id}:wd"):
        await other.act(action)
        assert "012 345 678" not in other.text and "no longer available" in other.text
    async with session_factory() as session:
        application_id = await session.scalar(select(Application.id))
    await other.act(f"appst:{application_id}:contacted")
    assert "no longer available" in other.text
    await chat.press("Contacted")
    assert "Status: contacted" in chat.text
    await chat.press("Hired")
    assert "Status: hired" in chat.text
    async with session_factory() as session:
        application = await session.get(Application, application_id)
        assert application is not None and application.status is ApplicationStatus.HIRED
    await chat.act(f"lst:{job_id}:fill")
    assert "Marked as filled" in chat.text and "Status: filled" in chat.text
    await chat.act(f"lst:{job_id}:fill")
    assert "already done" in chat.text


async def test_withdraw_a_listing(
    chat: Chat, build: Builder, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await chat.start()
    await register(chat)
    async with session_factory() as session:
        employer_id = await session.scalar(select(Employer.id))
    assert employer_id is not None
    job_id = await build.published(employer_id)
    await chat.act("listings")
    await chat.press("Withdraw")
    assert "withdrawn" in chat.text
    async with session_factory() as session:
        job = await session.get(Job, job_id)
        assert job is not None and job.status is JobStatus.WITHDRAWN


async def test_edit_and_resubmit_after_the_moderators_ask_for_changes(
    chat: Chat, build: Builder, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    from jobs_core.model import Decision
    from jobs_core.services.jobs import ModerateJob, SubmitJob, moderate_job, submit_job

    await chat.start()
    await register(chat)
    async with session_factory() as session:
        employer_id = await session.scalar(select(Employer.id))
    assert employer_id is not None
    job_id = await build.draft(employer_id)
    await submit_job(SubmitJob(job_id, employer_id, "employer"), build.uow())
    await moderate_job(
        ModerateJob(job_id, "moderator:1", Decision.REQUEST_CHANGES, "Please give the real pay"), build.uow()
    )
    await chat.act("listings")
    assert "Moderator's note: Please give the real pay" in chat.text
    await chat.press("Edit and send again")
    # The summary first: every answer, each with its button; nothing is missing.
    assert "• Pay: $210 per month" in chat.text and "Still needed" not in chat.text
    await chat.press("Go through every question")
    assert "Keep: Sewing machine operators" in chat.labels()[0]
    await chat.send("Sewing operators")
    await chat.press("Keep")  # sector
    await chat.press("Keep")  # place
    await chat.press("Keep")  # description
    assert "Keep: $210" in " ".join(chat.labels())  # the pay as it is, to keep or to change
    await chat.send("230")
    await chat.press("US dollars")
    await chat.press("per month")
    assert "Keep: 07:00–16:00" in chat.labels()[0]
    for _ in range(2):  # hours, days
        await chat.press("Keep")
    await chat.send("10")
    for _ in range(6):  # gender, ages, benefits, start, contact, voice (none recorded: skipped)
        await chat.press("Keep" if any("Keep" in label for label in chat.labels()) else "Skip")
    assert "• Pay: $230 per month" in chat.text and "• Workers: 10" in chat.text
    await chat.press("Submit for review")
    async with session_factory() as session:
        jobs = (await session.scalars(select(Job))).all()
        assert len(jobs) == 1
        job = jobs[0]
        assert job.status is JobStatus.PENDING_REVIEW and job.title == "Sewing operators"
        assert job.salary_amount == Decimal("230.00") and job.positions == 10


async def test_pay_typed_with_its_period_but_no_currency_asks_only_the_currency(chat: Chat) -> None:
    await chat.start()
    await register(chat)
    await chat.act("post")
    await chat.send("Sewing machine operators")
    await chat.press("Garment")
    await chat.press("In Cambodia")
    await chat.press("Kandal")
    await chat.press("Ta Khmau")
    await chat.send("Sewing T-shirts.")
    await chat.send("250/month")
    assert "In which currency?" in chat.text
    await chat.press("US dollars")
    assert "The pay is" not in chat.text and "hours" in chat.text.lower()  # the period came with the amount
    state = await chat.state()
    assert state is not None and (state.data["salary"], state.data["currency"], state.data["period"]) == (
        "250.00",
        "USD",
        "month",
    )
