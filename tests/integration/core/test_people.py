"""Relatives nominating workers: one phone is one worker, consent rules, daily caps, subscriptions."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from jobs_core.errors import IllegalTransition, InvalidField, LimitReached, NotAllowed
from jobs_core.model import Consent, Event, Nomination, Relationship, Subscription, Worker
from jobs_core.services.people import (
    NominateWorker,
    RecordConsent,
    Subscribe,
    family_members,
    nominate_worker,
    record_consent,
    subscribe,
    unsubscribe,
)
from tests.builders import Builder


def nomination(relative_id: int, phone: str = "012 345 678", **changes: object) -> NominateWorker:
    values: dict[str, object] = {
        "relative_id": relative_id,
        "name": "Sophea",
        "phone": phone,
        "relation": "sibling",
        "gender": "female",
        "birth_year": "២០០០",
        "province": "Kampong Cham",
        "sectors": ("manufacturing", "retail"),
        "agreed_to_calls": True,
    }
    values.update(changes)
    return NominateWorker(**values)  # type: ignore[arg-type]


async def workers_and_links(build: Builder) -> tuple[int, int]:
    async with build.uow() as uow:
        workers = await uow.session.scalar(select(func.count()).select_from(Worker))
        links = await uow.session.scalar(select(func.count()).select_from(Nomination))
    return int(workers or 0), int(links or 0)


async def test_nomination_creates_a_pending_worker_and_an_event(build: Builder) -> None:
    relative = await build.relative()
    result = await nominate_worker(nomination(relative, phone="០១២ ៣៤៥ ៦៧៨"), build.uow())
    async with build.uow() as uow:
        worker = await uow.session.get(Worker, result.worker_id)
        assert worker is not None and worker.phone == "+85512345678" and worker.birth_year == 2000
        assert worker.consent is Consent.PENDING
        events = (await uow.session.scalars(select(Event.kind))).all()
    assert "worker.nominated" in events


async def test_two_relatives_nominating_one_phone_at_once_make_one_worker_two_links(build: Builder) -> None:
    first, second = await build.relative("a"), await build.relative("b")
    results = await asyncio.gather(
        nominate_worker(nomination(first, relation="sibling"), build.uow()),
        nominate_worker(nomination(second, phone="+855 12 345 678", relation="friend"), build.uow()),
    )
    assert results[0].worker_id == results[1].worker_id
    assert await workers_and_links(build) == (1, 2)
    relations = {n.relation for n in await family_members(build.uow(), first)} | {
        n.relation for n in await family_members(build.uow(), second)
    }
    assert relations == {Relationship.SIBLING, Relationship.FRIEND}


async def test_the_same_relative_cannot_nominate_twice(build: Builder) -> None:
    relative = await build.relative()
    await nominate_worker(nomination(relative), build.uow())
    with pytest.raises(NotAllowed):
        await nominate_worker(nomination(relative), build.uow())
    assert await workers_and_links(build) == (1, 1)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"phone": "123"}, "phone"),
        ({"phone": "+66 81 234 5678"}, "phone"),
        ({"relation": "boss"}, "relation"),
        ({"gender": "x"}, "gender"),
        ({"birth_year": "1800"}, "birth_year"),
        ({"birth_year": "2020"}, "birth_year"),
        ({"birth_year": "two thousand"}, "birth_year"),
        ({"province": "Bangkok"}, "province"),
        ({"sectors": ("mining",)}, "sectors"),
        ({"name": ""}, "name"),
        ({"agreed_to_calls": False}, "agreed_to_calls"),
    ],
)
async def test_bad_nominations_name_the_field_and_write_nothing(
    build: Builder, changes: dict[str, object], field: str
) -> None:
    relative = await build.relative()
    with pytest.raises(InvalidField) as error:
        await nominate_worker(nomination(relative, **changes), build.uow())
    assert error.value.field == field
    assert await workers_and_links(build) == (0, 0)


async def test_daily_nomination_cap_resets_the_next_day(build: Builder, now: datetime) -> None:
    relative = await build.relative()
    for n in range(5):
        await nominate_worker(nomination(relative, phone=f"012 34{n} 678"), build.uow())
    with pytest.raises(LimitReached):
        await nominate_worker(nomination(relative, phone="012 399 678"), build.uow())
    assert await workers_and_links(build) == (5, 5)
    tomorrow = build.uow(now + timedelta(days=1))
    await nominate_worker(nomination(relative, phone="012 399 678"), tomorrow)


async def test_opted_out_is_final_whoever_nominates_later(build: Builder) -> None:
    first, second = await build.relative("a"), await build.relative("b")
    result = await nominate_worker(nomination(first), build.uow())
    await record_consent(RecordConsent(result.worker_id, Consent.OPTED_OUT, "ivr:1"), build.uow())
    again = await nominate_worker(nomination(second), build.uow())
    assert again.worker_id == result.worker_id
    with pytest.raises(IllegalTransition):
        await record_consent(RecordConsent(result.worker_id, Consent.CONSENTED, "ivr:2"), build.uow())
    async with build.uow() as uow:
        nominated = (await uow.session.scalars(select(Event).where(Event.kind == "worker.nominated"))).all()
    # No new consent call is asked for a worker who said never.
    assert len(nominated) == 1


async def test_consent_recorded_twice_is_one_change(build: Builder) -> None:
    worker = await build.worker(consent=None)
    await record_consent(RecordConsent(worker, Consent.CONSENTED, "ivr:1"), build.uow())
    await record_consent(RecordConsent(worker, Consent.CONSENTED, "ivr:1"), build.uow())
    async with build.uow() as uow:
        kinds = (await uow.session.scalars(select(Event.kind).where(Event.kind == "worker.consented"))).all()
    assert len(kinds) == 1


async def test_subscriptions_are_kept_once_and_removed(build: Builder) -> None:
    relative = await build.relative()
    first = await subscribe(Subscribe(relative, "Siem Reap", "hospitality"), build.uow())
    again = await subscribe(Subscribe(relative, "17", "hospitality"), build.uow())
    anywhere = await subscribe(Subscribe(relative, None, None), build.uow())
    assert first == again != anywhere
    with pytest.raises(InvalidField):
        await subscribe(Subscribe(relative, "Nowhere", None), build.uow())
    assert await unsubscribe(build.uow(), relative, first) == 1
    async with build.uow() as uow:
        left = (await uow.session.scalars(select(Subscription.id))).all()
    assert left == [anywhere]
