"""A relative's application for a family member waits for the worker: the call pitches the job with "press 1
to confirm, 0 if you do not want it"; only the 1 makes it an application. Check-ins only with consent."""

from __future__ import annotations

from sqlalchemy import select

from dialer.ivr.prompt_audio import MediaAudio
from dialer.simulator.carrier import Script
from jobs_core.model import Application, ApplicationStatus, Call, CallPurpose, Consent, Event, Nomination
from jobs_core.services.applications import ApplyForFamily, apply_for_family
from jobs_core.uow import UnitOfWork
from media import composer
from tests.e2e.dialer.conftest import VoiceStack
from tests.integration.dialer.support import add_employer, add_job, add_worker, phone


async def _apply_for(stack: VoiceStack, n: int, consent: Consent = Consent.CONSENTED) -> tuple[int, int, int]:
    """A worker, their relative's application to a live job (awaiting them); returns (worker, job, application)."""
    employer = await add_employer(stack.sessions)
    job = await add_job(stack.sessions, employer)
    worker, nomination = await add_worker(stack.sessions, phone(n), consent=consent)
    async with stack.sessions() as session:
        found = await session.get(Nomination, nomination)
        assert found is not None
        relative_id = found.relative_id
    asked = await apply_for_family(
        ApplyForFamily(job, worker, relative_id, "telegram"), UnitOfWork(stack.sessions, now=stack.clock.now())
    )
    assert asked.application_id is not None
    return worker, job, asked.application_id


async def _application(stack: VoiceStack, application_id: int) -> Application:
    async with stack.sessions() as session:
        application = await session.get(Application, application_id)
        assert application is not None
        return application


async def _kinds(stack: VoiceStack) -> list[str]:
    async with stack.sessions() as session:
        return list((await session.scalars(select(Event.kind).order_by(Event.id))).all())


async def _played(stack: VoiceStack, audio: MediaAudio, utterance: composer.Utterance) -> str:
    return stack.settings.public_base + await audio.url_path(utterance)


async def test_the_worker_confirms_with_1_and_only_then_it_is_an_application(
    stack: VoiceStack, audio: MediaAudio
) -> None:
    _worker, _job, application_id = await _apply_for(stack, 60)
    assert "application.created" not in await _kinds(stack)
    stack.scripts[phone(60)] = Script(keys=["1", "1"])
    await stack.dial()
    [call] = stack.simulator.placed
    # The pitch ends with the confirm menu, not the ordinary one.
    lang = stack.settings.language
    assert await _played(stack, audio, composer.confirm_menu(lang)) in call.plays
    assert await _played(stack, audio, composer.job_menu(lang)) not in call.plays
    application = await _application(stack, application_id)
    assert application.status is ApplicationStatus.NEW and application.confirmed_at is not None
    assert application.experience.value == "yes"
    assert (await _kinds(stack)).count("application.created") == 1
    # The relative is told by the notifier (application.created), not as a worker's own phone application.
    assert "call.applied" not in await _kinds(stack)


async def test_zero_declines_and_the_employer_never_hears_of_it(stack: VoiceStack) -> None:
    _worker, _job, application_id = await _apply_for(stack, 61)
    stack.scripts[phone(61)] = Script(keys=["0"])
    await stack.dial()
    application = await _application(stack, application_id)
    assert application.status is ApplicationStatus.WITHDRAWN and application.confirmed_at is None
    kinds = await _kinds(stack)
    assert "application.withdrawn" in kinds and "application.created" not in kinds


async def test_nine_withdraws_it_and_stops_all_calls(stack: VoiceStack) -> None:
    _worker, _job, application_id = await _apply_for(stack, 62)
    stack.scripts[phone(62)] = Script(keys=["9"])
    await stack.dial()
    application = await _application(stack, application_id)
    assert application.status is ApplicationStatus.WITHDRAWN and application.confirmed_at is None
    kinds = await _kinds(stack)
    assert "worker.opted_out" in kinds and "application.created" not in kinds


async def test_a_worker_not_yet_asked_hears_the_consent_call_first_then_confirms(stack: VoiceStack) -> None:
    worker, _job, application_id = await _apply_for(stack, 63, consent=Consent.PENDING)
    stack.scripts[phone(63)] = Script(keys=["1"])
    await stack.dial()
    async with stack.sessions() as session:
        [first] = (await session.scalars(select(Call).where(Call.worker_id == worker))).all()
    assert first.purpose is CallPurpose.CONSENT
    assert (await _application(stack, application_id)).status is ApplicationStatus.AWAITING_WORKER
    stack.scripts[phone(63)] = Script(keys=["1", "2"])
    stack.clock.advance(seconds=1)
    await stack.dial()
    application = await _application(stack, application_id)
    assert application.status is ApplicationStatus.NEW and application.experience.value == "no"


async def test_an_opted_out_worker_is_never_called_for_a_relatives_application(stack: VoiceStack) -> None:
    _worker, _job, application_id = await _apply_for(stack, 64, consent=Consent.OPTED_OUT)
    await stack.dial()
    stack.clock.advance(hours=2)
    await stack.dial()
    assert [c for c in stack.simulator.placed if c.to == phone(64)] == []
    assert (await _application(stack, application_id)).status is ApplicationStatus.AWAITING_WORKER


async def test_no_checkin_call_for_a_worker_without_consent(stack: VoiceStack) -> None:
    employer = await add_employer(stack.sessions)
    job = await add_job(stack.sessions, employer)
    for n, consent in ((65, Consent.PENDING), (66, Consent.OPTED_OUT), (67, Consent.CONSENTED)):
        worker, _ = await add_worker(stack.sessions, phone(n), consent=consent)
        async with stack.sessions() as session, session.begin():
            application = Application(
                job_id=job,
                worker_id=worker,
                channel="ivr",
                status=ApplicationStatus.HIRED,
                confirmed_at=stack.clock.now(),
            )
            session.add(application)
            await session.flush()
            session.add(
                Event(
                    kind="application.hired", payload={"application_id": application.id}, created_at=stack.clock.now()
                )
            )
    await stack.dial()
    async with stack.sessions() as session:
        checkins = (await session.scalars(select(Call).where(Call.purpose == CallPurpose.CHECKIN))).all()
    assert {c.worker.phone for c in checkins} == {phone(67)}
