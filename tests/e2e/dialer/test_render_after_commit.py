"""The IVR renders a prompt's audio after the call's change is committed: a status callback of the same call
never waits for ffmpeg."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from dialer.simulator.carrier import Script
from jobs_core.model import Call, CallStatus, Event, Worker
from media.composer import Utterance
from tests.e2e.dialer.conftest import VoiceStack
from tests.integration.dialer.support import add_employer, add_job, add_worker, phone


async def test_the_call_and_worker_rows_are_free_while_a_prompt_is_rendered(
    stack: VoiceStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    free_while_rendering: list[bool] = []
    render = stack.audio.url_path

    async def url_path(utterance: Utterance) -> str:
        free_while_rendering.append(await _rows_free(stack))
        return await render(utterance)

    monkeypatch.setattr(stack.audio, "url_path", url_path)
    employer = await add_employer(stack.sessions)
    job = await add_job(stack.sessions, employer)
    await add_worker(stack.sessions, phone(80))
    stack.scripts[phone(80)] = Script(keys=["0"])
    async with stack.sessions() as session, session.begin():
        session.add(Event(kind="job.published", payload={"job_id": job}, created_at=stack.clock.now()))
    await stack.dial()
    async with stack.sessions() as session:
        call = await session.scalar(select(Call))
    assert call is not None and call.status is CallStatus.COMPLETED
    [played] = stack.simulator.placed
    assert played.plays and not played.says  # every prompt was rendered audio, none fell back to text
    assert free_while_rendering and all(free_while_rendering)


async def _rows_free(stack: VoiceStack) -> bool:
    """Whether another transaction can lock every call and worker row (a few tries: a status callback of the
    same call may hold it for a moment)."""
    for _ in range(20):
        try:
            async with stack.sessions() as session, session.begin():
                await session.execute(select(Call.id).with_for_update(nowait=True))
                await session.execute(select(Worker.id).with_for_update(nowait=True))
            return True
        except DBAPIError:
            await asyncio.sleep(0.01)
    return False
