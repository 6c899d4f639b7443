"""An application outcome the relative cannot be told on Messenger (outside the 24-hour window, no Telegram)
reaches the worker by a short call: the real notifier, the Messenger webhook and sender against the fake Graph
API, and the dialer against the carrier simulator, on one controlled clock."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select, update

from bots.messenger.sender import BY_CALL, WINDOW_HELD
from conversations.i18n import gettext_for
from conversations.notifier import PROGRESS_TEXTS, notify_once
from conversations.outbox import OutboxMessage
from conversations.turn import DialogDeps
from dialer.simulator.carrier import Script
from jobs_core.model import (
    Application,
    ApplicationStatus,
    Call,
    CallPurpose,
    CallStatus,
    Channel,
    Consent,
    Event,
    Nomination,
    Relative,
    Worker,
)
from jobs_core.services.applications import OUTCOME_CALL_REQUESTED, SetApplicationStatus, set_application_status
from jobs_core.uow import UnitOfWork
from media.composer import Utterance
from tests.e2e.dialer.conftest import VoiceStack, audio, provider_mode, spoken, stack
from tests.e2e.messenger.conftest import MessengerPage, message_event, page_body
from tests.integration.dialer.support import FakeClock, add_employer, add_job, add_worker, phone

__all__ = ["audio", "provider_mode", "spoken", "stack"]  # the voice stack's fixtures, used by this module too


def _told(kind: str) -> str:
    """The relative's message for an application event, in Khmer (the relative never chose a language)."""
    return gettext_for("km")(PROGRESS_TEXTS[kind]).format(name="Sokha", title="Sewing operator")


NOT_CHOSEN, HIRED = _told("application.not_hired"), _told("application.hired")


class SharedClock:
    """The Messenger adapter's clock, read from the voice stack's: one time for chat, notifier and dialer."""

    def __init__(self, clock: FakeClock) -> None:
        self.shared = clock

    def __call__(self) -> datetime:
        return self.shared.now()

    def advance(self, **delta: float) -> None:
        self.shared.advance(**delta)


@pytest.fixture
def clock(stack: VoiceStack) -> SharedClock:
    return SharedClock(stack.clock)


class Story:
    """A Messenger relative who applied for their brother Sokha; Sokha confirmed on the phone."""

    def __init__(self, page: MessengerPage, stack: VoiceStack, clock: SharedClock, psid: str, number: str) -> None:
        self.page, self.stack, self.clock, self.psid, self.number = page, stack, clock, psid, number
        self.sessions = stack.sessions
        self.application_id = 0
        self.worker_id = 0

    async def writes(self, text: str) -> None:
        """The relative writes to the page now (by the shared clock): their 24-hour window opens."""
        event = message_event(self.psid, text, at=int(self.clock().timestamp() * 1000))
        assert await self.page.post(page_body(event)) == 200

    async def applied(self, consent: Consent = Consent.CONSENTED) -> None:
        self.stack.scripts[self.number] = Script()  # Sokha answers and listens, pressing nothing
        await self.writes("hi")  # the relative exists once they wrote
        employer = await add_employer(self.sessions)
        job = await add_job(self.sessions, employer)
        async with self.sessions() as session:
            relative_id = await session.scalar(
                select(Relative.id).where(Relative.channel == Channel.MESSENGER, Relative.external_id == self.psid)
            )
        assert relative_id is not None
        self.worker_id, nomination = await add_worker(self.sessions, self.number, relative_id=relative_id)
        async with self.sessions() as session, session.begin():
            await session.execute(update(Nomination).where(Nomination.id == nomination).values(name="Sokha"))
            await session.execute(update(Worker).where(Worker.id == self.worker_id).values(consent=consent))
            application = Application(
                job_id=job,
                worker_id=self.worker_id,
                relative_id=relative_id,
                channel=Channel.MESSENGER,
                status=ApplicationStatus.CONTACTED,
                confirmed_at=self.clock(),
            )
            session.add(application)
            await session.flush()
            self.application_id = application.id

    async def employer_decides(self, status: ApplicationStatus) -> None:
        """The employer marks the application, the notifier queues the relative's message, the sender runs."""
        await set_application_status(
            SetApplicationStatus(self.application_id, None, status, "employer:test"), UnitOfWork(self.sessions)
        )
        deps = DialogDeps(session_factory=self.sessions, clock=self.clock)
        while await notify_once(deps):
            pass
        await self.page.settle()

    def texts(self) -> list[str]:
        return self.page.api.texts(self.psid)

    async def row(self) -> OutboxMessage:
        async with self.sessions() as session:
            found = await session.scalar(
                select(OutboxMessage).where(
                    OutboxMessage.chat_id == self.psid, OutboxMessage.dedupe_key.startswith("ev:")
                )
            )
        assert found is not None
        return found

    async def calls(self) -> list[Call]:
        async with self.sessions() as session:
            rows = await session.scalars(select(Call).where(Call.worker_id == self.worker_id).order_by(Call.id))
            return list(rows.all())


@pytest.fixture
def story(page: MessengerPage, stack: VoiceStack, clock: SharedClock) -> Story:
    return Story(page, stack, clock, "801", phone(81))


async def test_outside_the_window_the_worker_hears_the_outcome_by_one_call_and_messenger_sends_nothing(
    story: Story, stack: VoiceStack, spoken: list[Utterance]
) -> None:
    await story.applied()
    story.clock.advance(hours=25)  # 11:00 the next day in Phnom Penh: within calling hours
    await story.employer_decides(ApplicationStatus.NOT_HIRED)
    assert NOT_CHOSEN not in story.texts()
    row = await story.row()
    assert row.failed and row.error == BY_CALL

    placed = await stack.dial()
    assert len(placed) == 1
    [call] = await story.calls()
    assert call.purpose is CallPurpose.OUTCOME and call.status is CallStatus.COMPLETED
    keys = [k for utterance in spoken for k in utterance.keys]
    # Who is calling, which job (its sector), the outcome, 9 for no more calls; then goodbye.
    assert keys == [
        "ivr.intro",
        "ivr.outcome.intro",
        "sector.manufacturing",
        "ivr.outcome.not_hired",
        "ivr.menu.stop",
        "ivr.goodbye",
    ]

    # The relative comes back: the outcome is not sent to them as well, and nobody is called again.
    await story.writes("hello again")
    assert NOT_CHOSEN not in story.texts() and "You said: hello again" in story.texts()
    stack.clock.advance(days=1)
    assert await stack.dial() == []


async def test_nine_on_the_outcome_call_stops_every_call(story: Story, stack: VoiceStack) -> None:
    await story.applied()
    story.clock.advance(hours=25)
    await story.employer_decides(ApplicationStatus.NOT_HIRED)
    stack.scripts[story.number] = Script(keys=["9"])
    assert len(await stack.dial()) == 1
    async with stack.sessions() as session:
        worker = await session.get(Worker, story.worker_id)
    assert worker is not None and worker.consent is Consent.OPTED_OUT


async def test_inside_the_window_the_message_goes_and_nobody_is_called(story: Story, stack: VoiceStack) -> None:
    await story.applied()
    story.clock.advance(hours=23)
    await story.employer_decides(ApplicationStatus.NOT_HIRED)
    assert NOT_CHOSEN in story.texts()
    assert await stack.dial() == [] and await story.calls() == []


async def test_an_outcome_not_worth_a_call_waits_for_the_relative(story: Story, stack: VoiceStack) -> None:
    await story.applied()
    story.clock.advance(hours=25)
    await story.employer_decides(ApplicationStatus.HIRED)  # the employer told Sokha; the relative hears later
    assert HIRED not in story.texts() and (await story.row()).error == WINDOW_HELD
    await stack.dial()  # the hire's check-in calls are days away
    assert [c.purpose for c in await story.calls()] == [CallPurpose.CHECKIN, CallPurpose.CHECKIN]
    assert all(c.status is CallStatus.PENDING for c in await story.calls())
    await story.writes("hi again")
    assert HIRED in story.texts()


@pytest.mark.parametrize("consent", [Consent.OPTED_OUT, Consent.DECLINED])
async def test_a_worker_who_did_not_agree_to_calls_is_not_called_and_the_relative_is_told_later(
    story: Story, stack: VoiceStack, consent: Consent
) -> None:
    await story.applied(consent)
    story.clock.advance(hours=25)
    await story.employer_decides(ApplicationStatus.NOT_HIRED)
    row = await story.row()
    assert NOT_CHOSEN not in story.texts() and row.error == WINDOW_HELD and not row.failed
    assert await stack.dial() == [] and await story.calls() == []
    await story.writes("hi again")
    assert NOT_CHOSEN in story.texts()


async def test_a_relative_who_applied_for_themselves_has_no_phone_and_waits(
    page: MessengerPage, stack: VoiceStack, clock: SharedClock
) -> None:
    story = Story(page, stack, clock, "802", phone(82))
    await story.writes("hi")
    employer = await add_employer(stack.sessions)
    job = await add_job(stack.sessions, employer)
    async with stack.sessions() as session, session.begin():
        relative = await session.scalar(select(Relative).where(Relative.external_id == "802"))
        assert relative is not None
        relative.name = "Sokha"
        application = Application(
            job_id=job,
            relative_id=relative.id,
            channel=Channel.MESSENGER,
            status=ApplicationStatus.CONTACTED,
            confirmed_at=clock(),
        )
        session.add(application)
        await session.flush()
        story.application_id = application.id
    clock.advance(hours=25)
    await story.employer_decides(ApplicationStatus.NOT_HIRED)
    assert (await story.row()).error == WINDOW_HELD
    assert await stack.dial() == []
    await story.writes("hi again")
    assert NOT_CHOSEN in story.texts()


async def test_one_call_however_often_the_sender_asks(story: Story, stack: VoiceStack) -> None:
    await story.applied()
    story.clock.advance(hours=25)
    await story.employer_decides(ApplicationStatus.NOT_HIRED)
    await story.page.settle()  # the sender runs again: the row is closed, nothing more is asked
    # A sender that died after asking for the call and before closing the row: the next one asks again.
    async with stack.sessions() as session, session.begin():
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.chat_id == story.psid, OutboxMessage.error == BY_CALL)
            .values(failed=False, error=None)
        )
    await story.page.settle()
    assert (await story.row()).error == BY_CALL
    async with stack.sessions() as session:
        asked = await session.scalar(
            select(func.count()).select_from(Event).where(Event.kind == OUTCOME_CALL_REQUESTED)
        )
    assert asked == 2
    assert len(await stack.dial()) == 1
    stack.clock.advance(days=1)
    assert await stack.dial() == []
    assert [c.purpose for c in await story.calls()] == [CallPurpose.OUTCOME]


async def test_an_outcome_in_the_evening_is_called_in_the_morning(story: Story, stack: VoiceStack) -> None:
    await story.applied()
    story.clock.advance(hours=35)  # 21:00 the next day in Phnom Penh: calling hours are over
    await story.employer_decides(ApplicationStatus.NOT_HIRED)
    assert (await story.row()).error == BY_CALL
    assert await stack.dial() == []
    story.clock.advance(hours=11)  # 08:00: the calling hours open
    assert len(await stack.dial()) == 1


async def test_a_worker_who_pressed_9_before_the_call_is_not_called(story: Story, stack: VoiceStack) -> None:
    await story.applied()
    story.clock.advance(hours=35)
    await story.employer_decides(ApplicationStatus.NOT_HIRED)
    assert await stack.dial() == []  # the outcome call is scheduled for the morning
    async with stack.sessions() as session, session.begin():  # 9 on another call, that night
        await session.execute(update(Worker).where(Worker.id == story.worker_id).values(consent=Consent.OPTED_OUT))
    story.clock.advance(hours=11)
    assert await stack.dial() == []
    assert [c.status for c in await story.calls()] == [CallStatus.CANCELED]
