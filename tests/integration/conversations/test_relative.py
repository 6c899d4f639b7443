"""Relatives: browsing with paging, nominating (with every bad input), family members, applying, alerts."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations.replies import AskPhone, JobCard
from conversations.turn import DialogDeps
from jobs_core.model import (
    Application,
    ApplicationStatus,
    Call,
    CallPurpose,
    CallReason,
    CallStatus,
    Consent,
    Event,
    Nomination,
    Report,
    Subscription,
    Worker,
)
from tests.builders import Builder
from tests.integration.conversations.conftest import Chat


async def test_browse_by_province_and_sector_newest_first_in_pages(chat: Chat, build: Builder, now: datetime) -> None:
    employer = await build.employer()
    ids = []
    for i in range(5):
        build.now = now - timedelta(hours=5 - i)  # later jobs are newer
        ids.append(await build.published(employer, title=f"Sewing operators {i}"))
    build.now = now
    await build.published(employer, title="Builders", sector="construction")
    await build.published(employer, title="Siem Reap cooks", province="Siem Reap", sector="manufacturing")
    await chat.start()
    await chat.act("rel")
    await chat.press("Browse jobs")
    assert "Any province" in chat.labels()
    await chat.press("Phnom Penh")
    await chat.press("Garment")
    cards = chat.cards()
    assert [c.job_id for c in cards] == [ids[4], ids[3], ids[2]]
    card = cards[0]
    assert "Sewing operators 4" in card.text and "1297" in card.text and "117" in card.text
    assert card.voice is not None and card.voice.audio_id == "en-manufacturing-12"
    kinds = [b.kind for row in card.buttons for b in row]
    actions = [b.action for row in card.buttons for b in row]
    assert kinds[0] == "share" and actions[1:] == [f"job:{card.job_id}:{v}" for v in ("call", "apply", "report")]
    assert "Jobs 1–3" in chat.text
    await chat.press("More jobs")
    assert [c.job_id for c in chat.cards()] == [ids[1], ids[0]]
    assert "More jobs ▶️" not in chat.labels()
    # An old "more" button still works (paging is in the button, not the state).
    await chat.act("jobs:-:construction:0")
    assert [c.text.splitlines()[0] for c in chat.cards()] == ["💼 Builders"]
    await chat.act("jobs:-:fishing:0")
    assert "no jobs here" in chat.text and "🔔 Tell me when a job is posted" in chat.labels()


async def test_browse_in_khmer_shows_khmer_names(chat: Chat, build: Builder) -> None:
    await build.published()
    await chat.start("km")
    await chat.act("browse")
    await chat.press("ភ្នំពេញ")
    await chat.press("ការងារគ្រប់ប្រភេទ")
    card = chat.cards()[0]
    assert "ភ្នំពេញ" in card.text and "ក្រសួងការងារ" in card.text and "ក្នុងមួយខែ" in card.text


async def nominate(chat: Chat, phone: str = "០១២ ៣៤៥ ៦៧៨", name: str = "Sophea") -> None:
    await chat.act("nom")
    await fill_in_nomination(chat, name=name, phone=phone)


async def fill_in_nomination(chat: Chat, name: str = "Sophea", phone: str = "០១២ ៣៤៥ ៦៧៨") -> None:
    """The questions of adding a family member, from their name to "yes, they agreed"."""
    await chat.send(name)
    await chat.send(phone)
    await chat.press("Brother or sister")
    await chat.press("Woman")
    await chat.send("១៩៩៨")
    await chat.press("Kampong Cham")
    await chat.press("Garment")
    await chat.press("Construction")
    await chat.press("Construction")  # toggled off again
    await chat.press("Done")
    await chat.press("Skip")  # no greeting
    await chat.press("Yes, they agreed")


async def test_nominate_a_family_member_with_khmer_digits(
    chat: Chat, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await chat.start()
    await chat.act("nom")
    assert "What is your family member's name?" in chat.text
    await chat.send("Sophea")
    # A family member's number is typed: no "send my number" button (the relative's own is not theirs).
    assert not any(isinstance(reply, AskPhone) for reply in chat.last) and "phone number" in chat.text
    await chat.send("០១២ ៣៤៥ ៦៧៨")
    assert "Who is Sophea to you?" in chat.text
    await chat.press("Brother or sister")
    await chat.press("Woman")
    await chat.send("១៩៩៨")
    await chat.press("Kampong Cham")
    await chat.press("Garment")
    assert "✅ Garment / manufacturing" in chat.labels()
    await chat.press("Done")
    await chat.press("Skip")  # no greeting
    assert "012 345 678" in chat.text and "Did Sophea agree" in chat.text
    await chat.press("Yes, they agreed")
    assert "We added Sophea" in chat.text
    async with session_factory() as session:
        worker = await session.scalar(select(Worker))
        assert worker is not None
        assert (worker.name, worker.phone, worker.birth_year, worker.province_code, worker.sectors) == (
            "Sophea",
            "+85512345678",
            1998,
            "03",
            ["manufacturing"],
        )
        nomination = await session.scalar(select(Nomination))
        assert nomination is not None and nomination.relation.value == "sibling"
        kinds = (await session.scalars(select(Event.kind))).all()
        assert "worker.nominated" in kinds
    state = await chat.state()
    assert state is not None and state.step == "idle" and state.data == {}


async def test_a_shared_contact_is_accepted_as_the_phone(chat: Chat) -> None:
    await chat.start()
    await chat.act("nom")
    await chat.send("Sophea")
    await chat.send(contact_phone="+855 12 345 678")
    assert "Who is Sophea to you?" in chat.text


async def test_the_relatives_own_number_is_not_taken_for_the_family_members(chat: Chat) -> None:
    await chat.start()
    await chat.act("nom")
    await chat.send("Sophea")
    await chat.send(contact_phone="+855 12 345 678", extra={"contact_is_own": "1"})
    assert "That is your own number" in chat.text and "What is Sophea's phone number?" in chat.text
    assert (await chat.state()).step == "nominate.phone"  # type: ignore[union-attr]


async def test_bad_answers_keep_the_question(chat: Chat) -> None:
    await chat.start()
    await chat.act("nom")
    await chat.send("Sophea")
    before = await chat.state()
    for bad in ("12345", "hello", "+66 81 234 5678", "៣៣៣"):
        await chat.send(bad)
        assert "phone" in chat.text.lower(), bad
        assert "What is Sophea's phone number?" in chat.text  # asked again
    await chat.send(other_media=True)
    assert "phone number" in chat.text
    after = await chat.state()
    assert before is not None and after is not None
    assert (after.step, after.data, after.version) == (before.step, before.data, before.version)
    await chat.send("012 345 678")
    await chat.press("Friend")
    await chat.send("Apple")  # text where a button is expected
    assert "buttons" in chat.text
    await chat.press("Man")
    for bad, words in (("abc", "for example 1998"), ("2020", "at least 15"), ("1800", "too small"), ("៩៨", "1998")):
        await chat.send(bad)
        assert words in chat.text, bad
        assert (await chat.state()).step == "nominate.birth_year"  # type: ignore[union-attr]
    await chat.send("1990")
    await chat.send("Atlantis")
    assert "province" in chat.text and (await chat.state()).step == "nominate.province"  # type: ignore[union-attr]
    await chat.send("Kampot")  # a typed province name is fine
    assert (await chat.state()).step == "nominate.sectors"  # type: ignore[union-attr]


async def test_a_stale_button_is_refused(chat: Chat) -> None:
    await chat.start()
    await chat.act("nom")
    await chat.send("Sophea")
    await chat.send("012 345 678")
    relation_buttons = list(chat.last)
    await chat.press("Friend")
    chat.last = relation_buttons
    await chat.press("Other relative")  # a button of the question already answered
    assert "earlier question" in chat.text
    state = await chat.state()
    assert state is not None and state.step == "nominate.gender" and state.data["relation"] == "friend"


async def test_cancel_saves_nothing(chat: Chat, session_factory: async_sessionmaker[AsyncSession]) -> None:
    await chat.start()
    await chat.act("nom")
    for answer in ("Sophea", "012 345 678"):
        await chat.send(answer)
    await chat.press("Friend")
    await chat.press("Man")
    await chat.send("1990")
    await chat.press("Kampot")
    await chat.press("Done")
    await chat.press("Skip")  # no greeting
    await chat.press("Cancel")
    assert "Nothing was saved" in chat.text
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Worker)) == 0


async def test_daily_nomination_limit(deps: DialogDeps) -> None:
    chat = Chat(replace(deps, nominations_per_day=2), "7002")
    await chat.start()
    await nominate(chat, "012 000 001", "A")
    await nominate(chat, "012 000 002", "B")
    await chat.act("nom")
    assert "today's limit of 2" in chat.text
    assert (await chat.state()).step == "idle"  # type: ignore[union-attr]


async def test_family_members_show_consent_and_a_missed_call(
    chat: Chat, session_factory: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    await chat.start()
    await chat.act("family")
    assert "not added any family members" in chat.text
    await nominate(chat, "012 345 678", "Sophea")
    await nominate(chat, "097 777 6655", "Dara")
    async with session_factory() as session:
        sophea = await session.scalar(select(Worker).where(Worker.name == "Sophea"))
        dara = await session.scalar(select(Nomination).where(Nomination.name == "Dara"))
        assert sophea is not None and dara is not None
        sophea.consent = Consent.CONSENTED
        sophea.consent_changed_at = now + timedelta(hours=1)
        session.add(
            Call(
                worker_id=dara.worker_id,
                nomination_id=dara.id,
                purpose=CallPurpose.CONSENT,
                status=CallStatus.FAILED,
                reason=CallReason.NO_ANSWER,
                created_at=now,
                placed_at=now,
                ended_at=now,
            )
        )
        await session.commit()
    await chat.act("family")
    text = chat.text
    assert "Sophea · 012 345 678" in text and "agreed to job calls" in text
    assert "Dara · 097 777 6655" in text and "could not reach them by phone" in text


async def test_apply_and_ask_for_a_call_for_a_family_member(
    chat: Chat, build: Builder, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    job_id = await build.published()
    await chat.start()
    await chat.act(f"job:{job_id}:apply")
    assert "First add a family member" in chat.text
    await nominate(chat)
    await chat.act(f"job:{job_id}:apply")
    assert "Which family member are you applying for?" in chat.text
    await chat.press("Sophea")
    assert "We will call Sophea to confirm" in chat.text and "only after Sophea says yes" in chat.text
    await chat.act(f"job:{job_id}:apply")
    await chat.press("Sophea")
    assert "You already applied for Sophea" in chat.text
    await chat.act(f"job:{job_id}:call")
    await chat.press("Sophea")
    assert "we ask them first" in chat.text
    async with session_factory() as session:
        [application] = (await session.scalars(select(Application))).all()
        assert application.status is ApplicationStatus.AWAITING_WORKER and application.confirmed_at is None
        event = await session.scalar(select(Event).where(Event.kind == "job.call_requested"))
        assert event is not None and event.payload["job_id"] == job_id
    await chat.act("job:99999:apply")
    assert "no longer available" in chat.text


async def test_a_family_member_added_from_a_job_is_applied_for_that_job(
    chat: Chat, build: Builder, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    job_id = await build.published()
    await chat.start()
    await chat.act(f"job:{job_id}:apply")
    assert "First add a family member" in chat.text
    await chat.press("Add a family member")
    await fill_in_nomination(chat)
    # Added, then applied for the job the relative started from: no second trip through the job card.
    assert "We added Sophea" in chat.text and "We will call Sophea to confirm" in chat.text
    # With family members already there, someone new can still be added for a job, and is called about it.
    await chat.act(f"job:{job_id}:call")
    assert "Sophea" in chat.labels()
    await chat.press("Add a family member")
    await fill_in_nomination(chat, name="Vanna", phone="012 555 777")
    assert "We added Vanna" in chat.text and "We will call Vanna about this job" in chat.text
    async with session_factory() as session:
        [application] = (await session.scalars(select(Application))).all()
        assert application.job_id == job_id and application.status is ApplicationStatus.AWAITING_WORKER
        workers = {w.name: w.id for w in (await session.scalars(select(Worker))).all()}
        requested = (await session.scalars(select(Event).where(Event.kind == "job.call_requested"))).all()
        # Sophea's confirmation call for the application, Vanna's call about the job.
        assert sorted((e.payload["job_id"], e.payload["worker_id"]) for e in requested) == sorted(
            (job_id, workers[name]) for name in ("Sophea", "Vanna")
        )
    state = await chat.state()
    assert state is not None and state.step == "idle" and state.data == {}


async def test_someone_elses_family_member_cannot_be_chosen(chat: Chat, build: Builder, deps: DialogDeps) -> None:
    job_id = await build.published()
    await chat.start()
    await nominate(chat)
    other = Chat(deps, "7003")
    await other.start()
    await nominate(other, "097 111 2222", "Vanna")
    await other.act(f"job:{job_id}:apply")
    vanna_button = other.last
    await chat.act(f"job:{job_id}:apply")
    # Pressing a worker id that belongs to the other relative (same version, forged value).
    version = (await chat.state()).version  # type: ignore[union-attr]
    vanna_action = next(a for label, a in [(b.label, b.action) for r in vanna_button for row in r.buttons for b in row])
    await chat.act(f"@{version}:{vanna_action.split(':')[1]}")
    assert "no longer available" in chat.text


async def test_report_a_job(chat: Chat, build: Builder, session_factory: async_sessionmaker[AsyncSession]) -> None:
    job_id = await build.published()
    await chat.start()
    await chat.act(f"job:{job_id}:report")
    await chat.press("fee")
    await chat.send("They asked my sister for $300 before starting")
    assert "We have hidden this job until our team has checked it" in chat.text
    async with session_factory() as session:
        report = await session.scalar(select(Report))
        assert report is not None and report.reason == "fees" and report.job_id == job_id
        assert "$300" in report.details


async def test_subscribe_and_unsubscribe(chat: Chat, session_factory: async_sessionmaker[AsyncSession]) -> None:
    await chat.start()
    await chat.act("alerts")
    assert "no job alerts" in chat.text
    await chat.press("New alert")
    await chat.press("Kandal")
    await chat.press("Construction")
    assert "We will send you new jobs" in chat.text
    await chat.act("sub:-:-")
    await chat.act("alerts")
    assert "Kandal · Construction" in chat.text and "Any province · Any kind of work" in chat.text
    async with session_factory() as session:
        ids = (await session.scalars(select(Subscription.id).order_by(Subscription.id))).all()
    assert len(ids) == 2
    other = Chat(chat.deps, "7009")
    await other.start()
    await other.act(f"unsub:{ids[0]}")  # not theirs
    assert "no longer available" in other.text
    await chat.act(f"unsub:{ids[0]}")
    assert "Alert removed." in chat.text and "Kandal" not in chat.text
    await chat.press("Stop all alerts")
    assert "All alerts removed." in chat.text
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Subscription)) == 0


async def test_a_job_card_of_a_closed_job(chat: Chat, build: Builder) -> None:
    job_id = await build.published()
    await chat.start()
    await chat.act(f"job:{job_id}")
    assert isinstance(chat.last[0], JobCard)
    build.now = build.now + timedelta(days=31)
    chat.deps = replace(chat.deps, clock=lambda: build.now)
    await chat.act(f"job:{job_id}:apply")
    assert "no longer open" in chat.text
