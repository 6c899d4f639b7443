"""The domain changes a phone call makes (jobs_core.services.calls), in the call's own transaction."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.calls.scheduling import new_call
from jobs_core.model import Call, CallPurpose, CallStatus, Consent, Event, Report, Worker
from jobs_core.services.calls import opt_out_on_call, raise_checkin_alarm
from jobs_core.uow import SavepointUnitOfWork
from tests.integration.dialer.support import NOW, add_employer, add_job, add_worker, phone


async def _calls(sessions: async_sessionmaker[AsyncSession], worker_id: int) -> dict[int, CallStatus]:
    async with sessions() as session:
        rows = await session.execute(select(Call.id, Call.status).where(Call.worker_id == worker_id))
        return {call_id: status for call_id, status in rows.all()}


async def _add_calls(sessions: async_sessionmaker[AsyncSession], worker_id: int, job_id: int) -> list[int]:
    async with sessions() as session, session.begin():
        calls = [new_call(worker_id, CallPurpose.JOB_PITCH, NOW, NOW, job_ids=[job_id]) for _ in range(4)]
        calls[0].status = CallStatus.IN_PROGRESS  # the call the worker is on
        calls[2].status = CallStatus.RETRY_WAIT
        calls[3].status = CallStatus.COMPLETED
        session.add_all(calls)
        await session.flush()
        return [call.id for call in calls]


async def test_nine_opts_out_and_cancels_the_calls_not_yet_placed(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    worker, _ = await add_worker(session_factory, phone(1))
    job = await add_job(session_factory, await add_employer(session_factory))
    on_line, pending, waiting, done = await _add_calls(session_factory, worker, job)
    async with session_factory() as session, session.begin():
        canceled = await opt_out_on_call(SavepointUnitOfWork(session, now=NOW), worker, on_line)
    assert canceled == 2
    assert await _calls(session_factory, worker) == {
        on_line: CallStatus.IN_PROGRESS,
        pending: CallStatus.CANCELED,
        waiting: CallStatus.CANCELED,
        done: CallStatus.COMPLETED,
    }
    async with session_factory() as session:
        assert (await session.get_one(Worker, worker)).consent is Consent.OPTED_OUT
        kinds = (await session.scalars(select(Event.kind))).all()
    assert "worker.opted_out" in kinds


async def test_nothing_is_written_when_the_webhooks_transaction_fails(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    worker, _ = await add_worker(session_factory, phone(2))
    job = await add_job(session_factory, await add_employer(session_factory))
    on_line, pending, *_ = await _add_calls(session_factory, worker, job)
    try:
        async with session_factory() as session, session.begin():
            await opt_out_on_call(SavepointUnitOfWork(session, now=NOW), worker, on_line)
            await raise_checkin_alarm(
                SavepointUnitOfWork(session, now=NOW), call_id=on_line, worker_id=worker, job_id=job
            )
            raise RuntimeError("the webhook failed after the keys were handled")
    except RuntimeError:
        pass
    assert (await _calls(session_factory, worker))[pending] is CallStatus.PENDING
    async with session_factory() as session:
        assert (await session.get_one(Worker, worker)).consent is Consent.CONSENTED
        assert (await session.scalars(select(Report.id))).all() == []
        assert "checkin.alarm" not in (await session.scalars(select(Event.kind))).all()


async def test_a_checkin_alarm_is_an_urgent_report_and_an_event(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    worker, _ = await add_worker(session_factory, phone(3))
    job = await add_job(session_factory, await add_employer(session_factory))
    [call, *_] = await _add_calls(session_factory, worker, job)
    async with session_factory() as session, session.begin():
        report_id = await raise_checkin_alarm(
            SavepointUnitOfWork(session, now=NOW), call_id=call, worker_id=worker, job_id=job
        )
    async with session_factory() as session:
        report = await session.get_one(Report, report_id)
        alarm = await session.scalar(select(Event).where(Event.kind == "checkin.alarm"))
    assert (report.job_id, report.reporter_worker_id, report.priority.value) == (job, worker, "high")
    assert alarm is not None and alarm.payload == {"worker_id": worker, "report_id": report_id, "call_id": call}
