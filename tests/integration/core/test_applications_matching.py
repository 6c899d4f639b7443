"""Applications, reports, matching and monthly stats on real PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from jobs_core.errors import IllegalTransition, NotAllowed, NotFound
from jobs_core.matching import eligible_workers, matching_subscribers
from jobs_core.model import (
    ApplicationStatus,
    Call,
    CallAttempt,
    CallPurpose,
    CallStatus,
    Consent,
    Event,
    Job,
    JobPitch,
    ReportPriority,
)
from jobs_core.services.applications import (
    Apply,
    ApplyForFamily,
    SetApplicationStatus,
    applications_for_job,
    apply,
    apply_for_family,
    set_application_status,
)
from jobs_core.services.people import Subscribe, subscribe
from jobs_core.services.reports import ReportProblem, close_report, open_reports, report_problem
from jobs_core.stats import monthly_stats
from tests.builders import Builder


async def test_applying_twice_for_one_worker_keeps_one_application(build: Builder) -> None:
    job = await build.published()
    relative = await build.relative("r1")
    worker = await build.worker(relative)
    asked = await apply_for_family(ApplyForFamily(job, worker, relative, "telegram"), build.uow())
    assert not asked.already_yours and asked.application_id is not None
    # The worker's 1 on the phone turns the relative's application into one; a second 1 changes nothing.
    first, created = await apply(Apply(job, "ivr", worker_id=worker, experience="yes"), build.uow())
    again, created_again = await apply(Apply(job, "ivr", worker_id=worker, experience="yes"), build.uow())
    assert created and not created_again and first == again == asked.application_id
    mine_again = await apply_for_family(ApplyForFamily(job, worker, relative, "telegram"), build.uow())
    assert mine_again.already_yours


async def test_a_relative_applies_only_for_their_own_family(build: Builder) -> None:
    job = await build.published()
    worker = await build.worker(await build.relative("mine"))
    stranger = await build.relative("stranger")
    with pytest.raises(NotAllowed):
        await apply_for_family(ApplyForFamily(job, worker, stranger, "telegram"), build.uow())


async def test_a_worker_who_never_agreed_to_calls_cannot_be_applied_or_hired(build: Builder) -> None:
    employer = await build.employer()
    job = await build.published(employer)
    relative = await build.relative("r1")
    worker = await build.worker(relative, consent=None)
    asked = await apply_for_family(ApplyForFamily(job, worker, relative, "telegram"), build.uow())
    assert asked.application_id is not None
    with pytest.raises(NotAllowed):
        await apply(Apply(job, "ivr", worker_id=worker), build.uow())
    # Awaiting the worker: the employer can neither see it nor move it (not contacted, not hired).
    assert await applications_for_job(build.uow(), job, employer) == []
    for step in (ApplicationStatus.CONTACTED, ApplicationStatus.HIRED):
        with pytest.raises(NotFound):
            await set_application_status(SetApplicationStatus(asked.application_id, employer, step, "e"), build.uow())


async def test_closed_jobs_take_no_applications(build: Builder, now: datetime) -> None:
    job = await build.published()
    worker = await build.worker()
    with pytest.raises(NotAllowed):
        await apply(Apply(job, "ivr", worker_id=worker), build.uow(now + timedelta(days=40)))


async def test_employer_follows_an_application_to_a_hire(build: Builder) -> None:
    employer = await build.employer()
    job = await build.published(employer)
    application, _ = await apply(Apply(job, "ivr", worker_id=await build.worker()), build.uow())
    other = await build.employer("Other", external_id="x")
    with pytest.raises(NotFound):
        await applications_for_job(build.uow(), job, other)
    [seen] = await applications_for_job(build.uow(), job, employer)
    assert seen.status is ApplicationStatus.SEEN
    with pytest.raises(IllegalTransition):
        await set_application_status(
            SetApplicationStatus(application, employer, ApplicationStatus.HIRED, "e"), build.uow()
        )
    for step in (ApplicationStatus.CONTACTED, ApplicationStatus.HIRED):
        await set_application_status(SetApplicationStatus(application, employer, step, "e"), build.uow())
    async with build.uow() as uow:
        hired = (await uow.session.scalars(select(Event).where(Event.kind == "application.hired"))).all()
    assert [e.payload["application_id"] for e in hired] == [application]


async def test_reports_queue_high_priority_first(build: Builder) -> None:
    job = await build.published()
    normal = await report_problem(ReportProblem("fake_job", job_id=job, details="no such factory"), build.uow())
    alarm = await report_problem(ReportProblem("unpaid", job_id=job, priority=ReportPriority.HIGH), build.uow())
    assert [r.id for r in await open_reports(build.uow())] == [alarm, normal]
    await close_report(build.uow(), alarm, "moderator:1", dismiss=False, resolution="called the employer")
    assert [r.id for r in await open_reports(build.uow())] == [normal]


async def test_matching_follows_every_rule(build: Builder, now: datetime) -> None:
    job = await build.published(province="Kandal", sector="construction", gender="male", min_age=18, max_age=40)
    fits = await build.worker(province="Kandal", sectors=("construction",), gender="male", birth_year=2000)
    any_sector = await build.worker(province="Kandal", sectors=(), gender="male", birth_year=1995)
    await build.worker(province="Takeo", sectors=("construction",), gender="male", birth_year=2000)
    await build.worker(province="Kandal", sectors=("retail",), gender="male", birth_year=2000)
    await build.worker(province="Kandal", sectors=("construction",), gender="female", birth_year=2000)
    await build.worker(province="Kandal", sectors=("construction",), gender="male", birth_year=1970)
    await build.worker(province="Kandal", sectors=("construction",), gender="male", consent=Consent.PENDING)
    await build.worker(province="Kandal", sectors=("construction",), gender="male", consent=Consent.OPTED_OUT)
    pitched = await build.worker(province="Kandal", sectors=("construction",), gender="male", birth_year=2001)
    capped = await build.worker(province="Kandal", sectors=("construction",), gender="male", birth_year=2002)
    async with build.uow() as uow:
        uow.session.add(JobPitch(job_id=job, worker_id=pitched))
        call = Call(worker_id=capped, purpose=CallPurpose.JOB_PITCH, status=CallStatus.RETRY_WAIT)
        uow.session.add(call)
        await uow.session.flush()
        # Two tries of one call today: each try counts towards the cap of two calls a day per number.
        for attempt, minutes in ((1, 20), (2, 10)):
            placed = now - timedelta(minutes=minutes)
            uow.session.add(CallAttempt(call_id=call.id, attempt=attempt, worker_id=capped, placed_at=placed))
        await uow.commit()
        assert await eligible_workers(uow.session, job, now) == sorted([fits, any_sector])
        # Tomorrow the cap is fresh again; the pitched worker stays excluded for ever.
        tomorrow = await eligible_workers(uow.session, job, now + timedelta(days=1))
        assert tomorrow == sorted([fits, any_sector, capped])
        assert await eligible_workers(uow.session, job, now, limit=1) == [min(fits, any_sector)]
        assert await eligible_workers(uow.session, job, now, after_id=min(fits, any_sector)) == [max(fits, any_sector)]


async def test_subscribers_match_by_province_and_sector(build: Builder) -> None:
    job_id = await build.published(province="Siem Reap", sector="hospitality")
    exact, province_only, anything, elsewhere = [await build.relative(str(n)) for n in range(4)]
    await subscribe(Subscribe(exact, "Siem Reap", "hospitality"), build.uow())
    await subscribe(Subscribe(province_only, "Siem Reap", None), build.uow())
    await subscribe(Subscribe(anything, None, None), build.uow())
    await subscribe(Subscribe(elsewhere, "Kampot", "hospitality"), build.uow())
    async with build.uow() as uow:
        job = await uow.session.get(Job, job_id)
        assert job is not None
        matched = [r.id for r in await matching_subscribers(uow.session, job)]
    assert matched == sorted([exact, province_only, anything])


async def test_monthly_stats_count_what_happened_in_each_month(build: Builder, now: datetime) -> None:
    job = await build.published()
    worker = await build.worker()
    await apply(Apply(job, "ivr", worker_id=worker), build.uow())
    next_month = now + timedelta(days=31)
    await build.relative("later", channel="messenger")
    async with build.uow(next_month) as uow:
        answered = Call(worker_id=worker, purpose=CallPurpose.CONSENT, placed_at=next_month, answered_at=next_month)
        missed = Call(worker_id=worker, purpose=CallPurpose.JOB_PITCH, placed_at=next_month)
        uow.session.add_all([answered, missed])
        await uow.session.flush()
        for call in (answered, missed):
            uow.session.add(CallAttempt(call_id=call.id, attempt=1, worker_id=worker, placed_at=next_month))
        await uow.commit()
    async with build.uow() as uow:
        months = await monthly_stats(uow.session)
    assert [m.month.month for m in months] == [3, 4]
    march, april = months
    assert march.jobs_published == 1 and march.applications == {"ivr": 1}
    assert march.active_relatives["telegram"] >= 1
    assert (april.calls_placed, april.calls_answered) == (2, 1)


async def test_monthly_stats_count_an_application_once_the_worker_confirmed_it(build: Builder, now: datetime) -> None:
    job = await build.published()
    relative = await build.relative("r1")
    worker = await build.worker(relative)
    await apply_for_family(ApplyForFamily(job, worker, relative, "telegram"), build.uow())
    async with build.uow() as uow:
        [waiting] = await monthly_stats(uow.session)
    assert waiting.applications == {}
    # Confirmed the next month: counted then, under the relative's channel.
    await apply(Apply(job, "ivr", worker_id=worker), build.uow(now + timedelta(days=25)))
    async with build.uow() as uow:
        months = {m.month.month: m.applications for m in await monthly_stats(uow.session)}
    assert months[3] == {} and months[4] == {"telegram": 1}
