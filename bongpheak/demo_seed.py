"""Realistic Cambodian demo data, written through the domain services so every rule applies to it.

Months are replayed with a fixed clock per step, so listings, nominations, calls and applications spread
over half a year and `bongpheak stats` has a history to show.

Nothing here may reach a real person: the database is marked as a demo (``bongpheak.demo_guard``), every
phone number is from the undiallable demo range (``jobs_core.phones``), and the seeded history leaves no
event behind for the notifier or the dialer to act on.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bongpheak.demo_guard import mark_as_demo
from jobs_core.errors import DomainError
from jobs_core.model import (
    ApplicationStatus,
    Call,
    CallAttempt,
    CallPurpose,
    CallStatus,
    Consent,
    Decision,
    Employer,
    Event,
    Job,
    JobPitch,
    Relative,
    Worker,
)
from jobs_core.model.base import utcnow
from jobs_core.phones import DEMO_PHONE_COUNT, demo_numbers_accepted, demo_phone
from jobs_core.services.applications import Apply, SetApplicationStatus, apply, set_application_status
from jobs_core.services.employers import DecideEmployer, RegisterEmployer, decide_employer, register_employer
from jobs_core.services.jobs import (
    CreateJob,
    JobFields,
    ModerateJob,
    SubmitJob,
    create_job,
    expire_jobs,
    moderate_job,
    submit_job,
)
from jobs_core.services.people import (
    NominateWorker,
    RecordConsent,
    Subscribe,
    nominate_worker,
    record_consent,
    relative_for,
    subscribe,
)
from jobs_core.uow import UnitOfWork

MONTHS = 6

# (name, province, sector, kind, licence)
EMPLOYERS: list[tuple[str, str, str, str, str | None]] = [
    ("Golden Thread Apparel Co., Ltd.", "Phnom Penh", "manufacturing", "employer", None),
    ("Mekong Garment Factory", "Kandal", "manufacturing", "employer", None),
    ("Kampong Speu Shoes Co.", "Kampong Speu", "manufacturing", "employer", None),
    ("Sihanoukville Bags Manufacturing", "Preah Sihanouk", "manufacturing", "employer", None),
    ("Angkor Build Co.", "Siem Reap", "construction", "employer", None),
    ("Phnom Penh Tower Construction", "Phnom Penh", "construction", "employer", None),
    ("Battambang Roads & Bridges", "Battambang", "construction", "employer", None),
    ("Lotus Garden Hotel", "Siem Reap", "hospitality", "employer", None),
    ("Riverside Noodle House", "Phnom Penh", "hospitality", "employer", None),
    ("Kep Seaside Resort", "Kep", "hospitality", "employer", None),
    ("Kampot Pepper Guesthouse", "Kampot", "hospitality", "employer", None),
    ("SafeHands Security Services", "Phnom Penh", "security", "employer", None),
    ("Guardian Security Cambodia", "Siem Reap", "security", "employer", None),
    ("Tbong Khmum Rubber Plantation", "Tboung Khmum", "agriculture", "employer", None),
    ("Battambang Rice Cooperative", "Battambang", "agriculture", "employer", None),
    ("Kampot Pepper Farm", "Kampot", "agriculture", "employer", None),
    ("Mondulkiri Cashew Growers", "Mondul Kiri", "agriculture", "employer", None),
    ("Koh Kong Fishing Cooperative", "Koh Kong", "fishing", "employer", None),
    ("Tonle Sap Fish Processing", "Kampong Chhnang", "fishing", "employer", None),
    ("Happy Home Domestic Services", "Phnom Penh", "domestic", "employer", None),
    ("Sokha Family Care", "Phnom Penh", "domestic", "employer", None),
    ("ហាងលក់ទំនិញ សុខា", "Kampot", "retail", "employer", None),
    ("Lucky Mart Supermarkets", "Phnom Penh", "retail", "employer", None),
    ("Prey Veng Mobile Shop", "Prey Veng", "retail", "employer", None),
    ("Capitol Bus Company", "Phnom Penh", "transport", "employer", None),
    ("Takeo Delivery Express", "Takeo", "transport", "employer", None),
    ("Pursat Marble Workshop", "Pursat", "other", "employer", None),
    ("Korea Link Recruitment", "Phnom Penh", "manufacturing", "agency", "MLVT-0473"),
    ("Svay Rieng Electronics SEZ Factory", "Svay Rieng", "manufacturing", "employer", None),
    ("Kratie Brick Kiln", "Kratie", "construction", "employer", None),
    ("Online Service Team", "Svay Rieng", "other", "employer", None),
    ("VIP Entertainment", "Banteay Meanchey", "hospitality", "employer", None),
    ("Asia Bright Manpower", "Phnom Penh", "agriculture", "agency", "AB-2231"),
    ("Mr. Sok Boat Jobs", "Koh Kong", "fishing", "employer", None),
]

# Per sector: (title, description, salary, currency, period, hours, benefits)
JOB_TEMPLATES: dict[str, list[tuple[str, str, int, str, str, tuple[str, str], tuple[str, ...]]]] = {
    "manufacturing": [
        (
            "Sewing machine operators",
            "Garment factory needs sewing operators. Overtime paid, NSSF.",
            210,
            "USD",
            "month",
            ("07:00", "16:00"),
            ("overtime", "nssf"),
        ),
        (
            "Packing workers",
            "Packing finished goods, training given.",
            205,
            "USD",
            "month",
            ("07:00", "16:00"),
            ("meals", "nssf"),
        ),
        (
            "ត្រូវការកម្មករកាត់ដេរ",
            "រោងចក្រកាត់ដេរ ត្រូវការកម្មករ មាន NSSF និងប្រាក់ថែមម៉ោង",
            215,
            "USD",
            "month",
            ("07:00", "16:00"),
            ("overtime", "nssf", "transport"),
        ),
    ],
    "construction": [
        (
            "Construction workers",
            "Building site needs helpers and masons. Accommodation on site.",
            40000,
            "KHR",
            "day",
            ("07:00", "17:00"),
            ("accommodation",),
        ),
        (
            "ត្រូវការកម្មករសំណង់",
            "ការដ្ឋានសំណង់ ត្រូវការកម្មករ មានកន្លែងស្នាក់នៅ",
            45000,
            "KHR",
            "day",
            ("07:00", "17:00"),
            ("accommodation", "meals"),
        ),
    ],
    "hospitality": [
        (
            "Housekeeping attendant",
            "Hotel rooms, meals on duty, service charge shared.",
            180,
            "USD",
            "month",
            ("07:00", "15:00"),
            ("meals",),
        ),
        (
            "Kitchen helper",
            "Restaurant kitchen, washing and preparing vegetables.",
            170,
            "USD",
            "month",
            ("10:00", "20:00"),
            ("meals",),
        ),
        (
            "Waiter / waitress",
            "Serving customers, basic English helpful.",
            190,
            "USD",
            "month",
            ("11:00", "21:00"),
            ("meals", "transport"),
        ),
    ],
    "security": [
        (
            "Security guard",
            "Day and night shifts at a shopping mall. Uniform provided.",
            230,
            "USD",
            "month",
            ("06:00", "18:00"),
            ("nssf",),
        ),
    ],
    "agriculture": [
        (
            "Rubber tappers",
            "Plantation work early morning, housing for families.",
            200,
            "USD",
            "month",
            ("04:00", "11:00"),
            ("accommodation",),
        ),
        ("Rice harvest workers", "Seasonal harvest, paid daily.", 30000, "KHR", "day", ("06:00", "15:00"), ("meals",)),
        ("Pepper pickers", "Picking and drying pepper.", 35000, "KHR", "day", ("06:00", "14:00"), ("meals",)),
    ],
    "fishing": [
        (
            "Fish processing workers",
            "Cleaning and packing fish at the processing plant.",
            190,
            "USD",
            "month",
            ("06:00", "15:00"),
            ("meals", "nssf"),
        ),
    ],
    "domestic": [
        (
            "Housekeeper",
            "Cleaning and cooking for a family, live-in room provided.",
            150,
            "USD",
            "month",
            ("07:00", "17:00"),
            ("meals", "accommodation"),
        ),
        (
            "Nanny",
            "Looking after two children, experience preferred.",
            170,
            "USD",
            "month",
            ("07:00", "18:00"),
            ("meals",),
        ),
    ],
    "retail": [
        (
            "Shop assistant",
            "Selling goods and keeping the shelves full.",
            160,
            "USD",
            "month",
            ("08:00", "18:00"),
            ("meals",),
        ),
        ("ត្រូវការអ្នកលក់", "ហាងលក់ទំនិញ ត្រូវការអ្នកលក់ មានអាហារថ្ងៃត្រង់", 160, "USD", "month", ("08:00", "17:00"), ("meals",)),
        ("Cashier", "Supermarket cashier, training given.", 185, "USD", "month", ("08:00", "17:00"), ("nssf",)),
    ],
    "transport": [
        (
            "Delivery rider",
            "Motorbike deliveries in town, own licence needed.",
            220,
            "USD",
            "month",
            ("08:00", "18:00"),
            ("transport",),
        ),
        (
            "Bus conductor",
            "Tickets and luggage on intercity buses.",
            210,
            "USD",
            "month",
            ("06:00", "16:00"),
            ("meals", "nssf"),
        ),
    ],
    "other": [
        (
            "Marble workshop helper",
            "Cutting and polishing stone, safety gear provided.",
            200,
            "USD",
            "month",
            ("07:00", "16:00"),
            ("nssf",),
        ),
    ],
}

# Listings the screener should flag: (employer name, fields).
RISKY_LISTINGS: list[tuple[str, dict[str, object]]] = [
    (
        "Mr. Sok Boat Jobs",
        {
            "title": "Work on fishing boats in Thailand",
            "sector": "fishing",
            "province": "Koh Kong",
            "country": "Thailand",
            "description": "Earn $700 a month on Thai fishing boats. No passport needed, we "
            "arrange the crossing. Processing fee $150 paid before departure.",
            "salary_amount": 700,
            "salary_currency": "USD",
            "salary_period": "month",
            "min_age": 16,
            "max_age": 40,
            "contact": "telegram @boatjobs_kk",
        },
    ),
    (
        "Online Service Team",
        {
            "title": "ត្រូវការបុគ្គលិកវាយអក្សរ",
            "sector": "other",
            "province": "Svay Rieng",
            "description": "ធ្វើការនៅក្រុងបាវិត ប្រាក់ខែ ១៥០០ ដុល្លារ មិនត្រូវការបទពិសោធន៍ ផ្តល់ជូនកន្លែងស្នាក់នៅ និងអាហារ ដោយឥតគិតថ្លៃ",
            "salary_amount": 1500,
            "salary_currency": "USD",
            "salary_period": "month",
            "min_age": 18,
            "max_age": 30,
            "contact": "telegram @bavet_hr88",
        },
    ),
    (
        "VIP Entertainment",
        {
            "title": "Casino customer service",
            "sector": "hospitality",
            "province": "Banteay Meanchey",
            "description": "Poipet. No experience needed, high pay, free room and food, start tomorrow.",
            "salary_amount": 1200,
            "salary_currency": "USD",
            "salary_period": "month",
            "min_age": 18,
            "max_age": 28,
            "contact": "telegram @vip_hr_poipet",
        },
    ),
    (
        "Asia Bright Manpower",
        {
            "title": "Plantation workers for Malaysia",
            "sector": "agriculture",
            "country": "Malaysia",
            "description": "Palm oil plantation. Deposit $200 for visa. The company keeps your passport safe during "
            "the contract.",
            "salary_amount": 450,
            "salary_currency": "USD",
            "salary_period": "month",
            "min_age": 18,
            "max_age": 40,
        },
    ),
    (
        "Kratie Brick Kiln",
        {
            "title": "Brick kiln workers",
            "sector": "construction",
            "province": "Kratie",
            "description": "Family work at the kiln. Age 15 and up welcome. Advance loan available, repay by work.",
            "salary_amount": 25000,
            "salary_currency": "KHR",
            "salary_period": "day",
            "min_age": 15,
            "max_age": 50,
        },
    ),
    (
        "Korea Link Recruitment",
        {
            "title": "Factory workers for Korea (EPS)",
            "sector": "manufacturing",
            "country": "South Korea",
            "description": "Licensed agency. Applicants must pass the EPS-TOPIK exam run by the Ministry of Labour. "
            "No fee beyond the official ones.",
            "salary_amount": 1600,
            "salary_currency": "USD",
            "salary_period": "month",
            "min_age": 18,
            "max_age": 39,
        },
    ),
]

FIRST_NAMES = [
    "Sok",
    "Dara",
    "Sophea",
    "Chanthy",
    "Vuthy",
    "Pisey",
    "Rithy",
    "Bopha",
    "Kosal",
    "Sreyneang",
    "Malis",
    "Piseth",
    "Veasna",
    "Channary",
    "Sothea",
    "Kunthea",
    "Ratha",
    "Sreymom",
    "Vibol",
    "Leakena",
]
FAMILY_NAMES = ["Chan", "Sok", "Keo", "Meas", "Heng", "Lim", "Prak", "Nhem", "Touch", "Ouk", "Chea", "Yim"]
PROVINCES = [
    "Phnom Penh",
    "Kandal",
    "Kampong Cham",
    "Prey Veng",
    "Takeo",
    "Siem Reap",
    "Battambang",
    "Kampot",
    "Svay Rieng",
    "Kampong Speu",
    "Banteay Meanchey",
    "Pursat",
    "Kampong Thom",
    "Tboung Khmum",
    "Kratie",
]


@dataclass
class SeedReport:
    employers: int = 0
    jobs: int = 0
    flagged: int = 0
    relatives: int = 0
    workers: int = 0
    applications: int = 0
    calls: int = 0


def _phones(rng: random.Random) -> Iterator[str]:
    """Distinct numbers of the demo range, which cannot ring anyone (see ``jobs_core.phones``), in random order."""
    for n in rng.sample(range(DEMO_PHONE_COUNT), 2_000):
        yield demo_phone(n)


def _months(now: datetime) -> Iterator[datetime]:
    """One mid-month moment (10:00 Phnom Penh) per month, oldest first, the last in the current month."""
    for back in range(MONTHS - 1, -1, -1):
        yield now - timedelta(days=30 * back + 1)


async def _attempt(uow: UnitOfWork, worker_id: int, placed: datetime) -> None:
    """The placed try of the call just added (stats and the daily cap count tries)."""
    call_id = await uow.session.scalar(select(func.max(Call.id)).where(Call.worker_id == worker_id))
    assert call_id is not None
    uow.session.add(CallAttempt(call_id=call_id, attempt=1, worker_id=worker_id, placed_at=placed, outcome="completed"))


async def holds_people(sessions: async_sessionmaker[AsyncSession]) -> bool:
    """Whether anyone (employer, relative, worker) is already in the database."""
    async with sessions() as session:
        for table in (Employer, Relative, Worker):
            if await session.scalar(select(select(table.id).exists())):
                return True
    return False


async def seed_demo(
    sessions: async_sessionmaker[AsyncSession],
    now: datetime | None = None,
    seed: int = 2016,
    progress: Callable[[int], object] = lambda n: None,
) -> SeedReport:
    """Mark the database as a demo, write the demo's history, and leave no work queued for that history.

    The mark comes first, so even a seed that stops half-way leaves a database that refuses real services.
    Every phone number is from the undiallable demo range. The services emit events as they would live; once
    the history is written they are deleted (events are the queue of work a change causes: alerts, moderation
    cards, calls to schedule; the record of what happened is in the rows and the audit log), so no consumer,
    today's or a future one, ever sends a message or places a call for something that "happened" months ago.
    """
    await mark_as_demo(sessions)
    async with sessions() as session:
        last_event_before = await session.scalar(select(func.coalesce(func.max(Event.id), 0)))
    with demo_numbers_accepted():
        report = await _seed_history(sessions, now or utcnow(), seed, progress)
    async with sessions() as session, session.begin():
        await session.execute(delete(Event).where(Event.id > last_event_before))
    return report


async def _seed_history(
    sessions: async_sessionmaker[AsyncSession], now: datetime, seed: int, progress: Callable[[int], object]
) -> SeedReport:
    """Write the demo's employers, listings, relatives, workers, calls and applications, month by month."""
    rng = random.Random(seed)
    phones = _phones(rng)
    report = SeedReport()
    months = list(_months(now))

    def at(moment: datetime) -> UnitOfWork:
        return UnitOfWork(sessions, now=moment)

    employer_ids: dict[str, int] = {}
    for name, province, _sector, kind, licence in EMPLOYERS:
        employer_ids[name] = await register_employer(
            RegisterEmployer(
                name,
                next(phones),
                province,
                kind=kind,
                licence_no=licence,
                channel="telegram",
                external_id=str(900_000 + len(employer_ids)),
            ),
            at(months[0]),
        )
        if name not in ("Mr. Sok Boat Jobs", "Online Service Team", "VIP Entertainment"):
            await decide_employer(DecideEmployer(employer_ids[name], "moderator:demo", verify=True), at(months[0]))
        report.employers += 1
    progress(report.employers)

    # Relatives with subscriptions, spread over channels and months.
    relatives: list[int] = []
    for n in range(70):
        channel = "telegram" if n % 3 else "messenger"
        joined = months[min(n * MONTHS // 70, MONTHS - 1)]
        async with at(joined) as uow:
            relative = await relative_for(
                uow,
                channel,
                str(700_000 + n),
                language="km" if n % 4 else "en",
                name=f"{rng.choice(FIRST_NAMES)} {rng.choice(FAMILY_NAMES)}",
            )
            relatives.append(relative.id)
            # Later months: some of them come back.
            await uow.commit()
        for later in months[months.index(joined) + 1 :]:
            if rng.random() < 0.5:
                async with at(later) as uow:
                    await relative_for(uow, channel, str(700_000 + n))
                    await uow.commit()
        if n % 4 == 0:
            await subscribe(Subscribe(relative.id, rng.choice(PROVINCES), None), at(joined))
        if n % 5 == 0:
            await subscribe(Subscribe(relative.id, None, rng.choice(list(JOB_TEMPLATES))), at(joined))
    report.relatives = len(relatives)
    progress(report.relatives)

    # Listings: every regular employer posts a few over the months; all go through screening and moderation.
    job_ids: list[int] = []
    regular = [e for e in EMPLOYERS if e[0] not in dict(RISKY_LISTINGS)]
    for i in range(84):
        name, province, sector, _kind, _licence = regular[i % len(regular)]
        title, description, salary, currency, period, hours, benefits = rng.choice(JOB_TEMPLATES[sector])
        posted = months[i * MONTHS // 84] + timedelta(hours=rng.randint(0, 200))
        # Approved two hours after posting: both in the past, or a seeded listing would stay "newer" than the
        # one a newcomer posts in the demo for up to an hour (and be listed and pitched before it).
        posted = min(posted, now - timedelta(hours=3))
        fields = JobFields(
            title=title,
            description=description,
            sector=sector,
            province=province,
            salary_amount=int(salary * rng.choice([1, 1, 1.05, 1.1])) if currency == "USD" else salary,
            salary_currency=currency,
            salary_period=period,
            hours_start=hours[0],
            hours_end=hours[1],
            days_per_week=6,
            positions=rng.choice([2, 5, 10, 20, 50]),
            gender=rng.choice(["any"] * 4 + ["female"]),
            min_age=18,
            max_age=rng.choice([35, 40, 45, 50]),
            benefits=benefits,
        )
        job_id = await create_job(CreateJob(employer_ids[name], fields, "employer:demo"), at(posted))
        risk, _ = await submit_job(SubmitJob(job_id, employer_ids[name], "employer:demo"), at(posted))
        if i % 17 != 16:  # a few stay in the moderators' queue
            await moderate_job(ModerateJob(job_id, "moderator:demo", Decision.APPROVE), at(posted + timedelta(hours=2)))
            job_ids.append(job_id)
        report.jobs += 1
        report.flagged += risk != "low"
    for name, raw in RISKY_LISTINGS:
        # Every listing must state its hours before it goes to moderation; these posts give a long day.
        fields = JobFields(**{"hours_start": "06:00", "hours_end": "18:00", **raw})  # type: ignore[arg-type]
        try:
            job_id = await create_job(CreateJob(employer_ids[name], fields, "employer:demo"), at(months[-1]))
        except DomainError:
            continue
        risk, _ = await submit_job(SubmitJob(job_id, employer_ids[name], "employer:demo"), at(months[-1]))
        report.jobs += 1
        report.flagged += risk != "low"
        if name == "Korea Link Recruitment":
            await moderate_job(ModerateJob(job_id, "moderator:demo", Decision.APPROVE), at(months[-1]))
            job_ids.append(job_id)
        elif name == "Kratie Brick Kiln":
            await moderate_job(
                ModerateJob(
                    job_id, "moderator:demo", Decision.REQUEST_CHANGES, "Minimum age must be 18; no advance loans."
                ),
                at(months[-1]),
            )
    progress(report.jobs)

    # Workers nominated by relatives; consent answered on the phone.
    workers: list[tuple[int, datetime]] = []
    for n in range(160):
        relative_id = relatives[n % len(relatives)]
        when = months[n * MONTHS // 160] + timedelta(hours=rng.randint(1, 100))
        when = min(when, now - timedelta(hours=1))
        try:
            result = await nominate_worker(
                NominateWorker(
                    relative_id=relative_id,
                    name=f"{rng.choice(FIRST_NAMES)} {rng.choice(FAMILY_NAMES)}",
                    phone=next(phones),
                    relation=rng.choice(["sibling", "relative", "friend", "acquaintance"]),
                    gender=rng.choice(["male", "female"]),
                    birth_year=rng.randint(1975, 2006),
                    province=rng.choice(PROVINCES),
                    sectors=rng.sample(list(JOB_TEMPLATES), rng.randint(0, 2)),
                    agreed_to_calls=True,
                ),
                at(when),
            )
        except DomainError:
            continue
        report.workers += 1
        answer = rng.random()
        consent = (
            Consent.CONSENTED
            if answer < 0.7
            else Consent.DECLINED
            if answer < 0.8
            else Consent.OPTED_OUT
            if answer < 0.85
            else None
        )
        async with at(when) as uow:
            placed = when + timedelta(hours=1)
            uow.session.add(
                Call(
                    worker_id=result.worker_id,
                    purpose=CallPurpose.CONSENT,
                    nomination_id=result.nomination_id,
                    attempts=1,
                    status=CallStatus.COMPLETED if consent else CallStatus.FAILED,
                    placed_at=placed,
                    answered_at=placed if consent else None,
                    ended_at=placed + timedelta(minutes=1),
                    next_attempt_at=placed,
                    created_at=when,
                )
            )
            await uow.session.flush()
            await _attempt(uow, result.worker_id, placed)
            await uow.commit()
        report.calls += 1
        if consent is not None:
            await record_consent(RecordConsent(result.worker_id, consent, "ivr:demo"), at(when + timedelta(hours=1)))
        if consent is Consent.CONSENTED:
            workers.append((result.worker_id, when))
    progress(report.workers)

    # Pitches and applications over the months, through the phone and the chat apps.
    async with sessions() as session:
        live = {j.id: j for j in (await session.scalars(select(Job).where(Job.id.in_(job_ids)))).all()}
    for worker_id, consented_at in workers:
        for job_id in rng.sample(job_ids, 3):
            job = live[job_id]
            assert job.published_at is not None
            when = max(job.published_at, consented_at) + timedelta(hours=rng.randint(2, 48))
            if when >= now or (job.expires_at and when >= job.expires_at):
                continue
            answered = rng.random() < 0.75
            async with at(when) as uow:
                call = Call(
                    worker_id=worker_id,
                    purpose=CallPurpose.JOB_PITCH,
                    job_ids=[job_id],
                    attempts=1,
                    status=CallStatus.COMPLETED if answered else CallStatus.FAILED,
                    placed_at=when,
                    answered_at=when if answered else None,
                    ended_at=when + timedelta(seconds=50),
                    next_attempt_at=when,
                    created_at=when,
                )
                uow.session.add(call)
                await uow.session.flush()
                await _attempt(uow, worker_id, when)
                uow.session.add(JobPitch(job_id=job_id, worker_id=worker_id, call_id=call.id, created_at=when))
                await uow.commit()
            report.calls += 1
            if not answered or rng.random() < 0.5:
                continue
            channel = rng.choice(["ivr", "ivr", "telegram", "messenger", "web"])
            application_id, created = await apply(
                Apply(job_id, channel, worker_id=worker_id, experience=rng.choice(["yes", "no"])), at(when)
            )
            if not created:
                continue
            report.applications += 1
            employer = job.employer_id
            steps = [ApplicationStatus.SEEN, ApplicationStatus.CONTACTED]
            steps.append(ApplicationStatus.HIRED if rng.random() < 0.45 else ApplicationStatus.NOT_HIRED)
            for k, step in enumerate(steps[: rng.randint(0, 3)]):
                await set_application_status(
                    SetApplicationStatus(application_id, employer, step, "employer:demo"),
                    at(min(when + timedelta(days=k + 1), now - timedelta(minutes=5))),
                )
    await expire_jobs(UnitOfWork(sessions, now=now))
    progress(report.applications)
    return report
