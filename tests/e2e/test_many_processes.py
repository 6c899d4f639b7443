"""Many processes, one PostgreSQL: three `bongpheak serve` and two `bongpheak dialer` processes, as an operator
runs them, against the fake Bot API and the carrier simulator (tests/e2e/fleet.py).

The load comes the way it does in production: relatives subscribed to alerts and jobs published through the
services (2,000 alerts, which the serve processes' notifiers turn into outbox rows), families whose workers
agreed to calls (a pitch call each when a job in their province is published: 200 calls due at once), and
504 chat updates (/start, a language and button presses, browsing jobs) posted to the three serve processes in turn.
Nobody answers the calls (each rings and ends; its retry is minutes away), so the serve processes only take
the carrier's status callbacks, through a load balancer. The whole run takes 2.5-4 minutes on 2 cores.

What Telegram and the carrier see, checked at the end:
  * every message arrives once: each alert (chat, job), each family's news, each reply to each update;
  * the bot never sends more than 30 messages in any 1-second window, a chat never gets two within a second,
    a group never more than 20 within a minute;
  * every due call is placed once, and never more than CALLS_PER_SECOND in any 1-second window.

Halfway through, while messages and calls flow, the serve process that is sending and one dialer are killed
with SIGKILL and started again on the same ports. Calls stay exactly once (the dialer's recovery asks the
carrier about calls it may have placed). Messages are delivered at least once, with one known window: a
message Telegram accepted whose "sent" mark the killed process had not yet committed is sent again by the
next sender. So a message may come twice only if its first copy came from the killed process in the last
seconds before the kill, and there are at most as many such messages as that process's sender has in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import itertools
import json
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.telegram.outbox import TelegramOutboxSender
from bots.telegram.webhook import SECRET_HEADER, WEBHOOK_PATH
from dialer.simulator.carrier import Script
from jobs_core.model import Worker
from jobs_core.services.people import Subscribe, subscribe
from tests.builders import Builder
from tests.e2e.fleet import Fleet, Member, OutsideWorld, tcp_ports
from tests.e2e.test_startup import Bongpheak
from tests.fakes.telegram_api import MESSAGE_METHODS, ApiCall, callback_update, message_update

T = TypeVar("T")

SECRET = "many-processes-secret"
ACCOUNT = "AC" + "4" * 32
VOICE_TOKEN = "many-processes-voice"

SERVES, DIALERS = 3, 2
ALERT_TITLES = (
    "Sewing machine operators",
    "Quality checkers",
    "Cutting room helpers",
    "Packing line workers",
    "Ironing staff",
)
ALERT_RELATIVES = 400  # x 5 jobs = 2,000 alerts
FAMILIES = 200  # one consented worker each: 200 pitch calls
BROWSERS = 84  # x 6 updates = 504 updates
BROWSING_UPDATES = 6
PITCH_TITLE = "Rice mill packers"
PITCH_PROVINCE = "Kampong Cham"  # the workers' province; no alert is subscribed there
CALLS_PER_SECOND = 3

# Telegram's limits for one bot.
BOT_PER_SECOND = 30
CHAT_INTERVAL = 1.0
GROUP_PER_MINUTE = 20

EMPLOYER_CHAT = "5001"
MODERATORS_CHAT = "-1001234567890"
ALERT_CHAT, FAMILY_CHAT, BROWSER_CHAT = 3_000_000, 4_000_000, 5_000_000

# A message sent twice must have been sent first by the killed process within this long before the kill.
IN_FLIGHT_SECONDS = 3.0
ARRIVAL_SLACK = 1.0  # a request the killed process had sent may be read a moment after the kill
# The kill comes once this share of the messages (at least an alert each, a family's news, a reply per update)
# and of the calls went out.
KILL_AFTER_MESSAGES, KILL_AFTER_CALLS = 0.3, 0.15
AT_LEAST = ALERT_RELATIVES * len(ALERT_TITLES) + FAMILIES + BROWSERS * BROWSING_UPDATES
WITHIN = 300.0  # seconds for the whole load to be delivered
QUIET = 5.0  # nothing new for this long: done
# Updates in flight at once: a few per serve process (Telegram allows up to 40 connections, but the database
# server, shared with whatever else runs, has only so many connections for the processes' pools).
POSTING_AT_ONCE = 12


def sender_concurrency() -> int:
    """How many messages one Telegram sender has in flight at most (its workers)."""
    workers = inspect.signature(TelegramOutboxSender).parameters["workers"].default
    assert isinstance(workers, int)
    return workers


# ------------------------------------------------------------------------------------------------ the load


@dataclass
class Load:
    alert_chats: list[str]
    family_chats: list[str]
    browser_chats: list[str]
    phones: set[str]
    titles: list[str] = field(default_factory=list)


async def gather_limited(limit: int, factories: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
    gate = asyncio.Semaphore(limit)

    async def one(factory: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await factory()

    return await asyncio.gather(*(one(f) for f in factories))


async def seed(build: Builder, sessions: async_sessionmaker[AsyncSession]) -> Load:
    """Relatives with alerts, and families whose worker agreed to calls: everything but the jobs."""
    alert_chats = [str(ALERT_CHAT + i) for i in range(ALERT_RELATIVES)]
    family_chats = [str(FAMILY_CHAT + i) for i in range(FAMILIES)]

    async def alert_relative(chat: str) -> None:
        relative = await build.relative(external_id=chat)
        await subscribe(Subscribe(relative, "Phnom Penh", "manufacturing"), build.uow())

    async def family(chat: str) -> None:
        relative = await build.relative(external_id=chat)
        await build.worker(relative, province=PITCH_PROVINCE)

    await gather_limited(8, [lambda c=c: alert_relative(c) for c in alert_chats])  # type: ignore[misc]
    await gather_limited(8, [lambda c=c: family(c) for c in family_chats])  # type: ignore[misc]
    async with sessions() as session:
        phones = set((await session.scalars(select(Worker.phone))).all())
    assert len(phones) == FAMILIES
    return Load(alert_chats, family_chats, [str(BROWSER_CHAT + i) for i in range(BROWSERS)], phones)


async def publish(build: Builder, employer: int, load: Load) -> None:
    for title in ALERT_TITLES:
        await build.published(employer, title=title, province="Phnom Penh", sector="manufacturing")
    await build.published(employer, title=PITCH_TITLE, province=PITCH_PROVINCE, sector="manufacturing")
    load.titles = [*ALERT_TITLES, PITCH_TITLE]


def browsing(chat: str, update_ids: itertools.count[int]) -> list[dict[str, Any]]:
    """What one person does: /start, English, "help a family member", "browse jobs", the first page of jobs,
    help."""
    number = int(chat)
    return [
        message_update(next(update_ids), number, "/start"),
        callback_update(next(update_ids), number, "lang:en"),
        callback_update(next(update_ids), number, "rel"),
        callback_update(next(update_ids), number, "browse"),
        callback_update(next(update_ids), number, "jobs:-:-:0"),
        callback_update(next(update_ids), number, "help"),
    ]


@dataclass
class Posting:
    """Updates posted as Telegram does: each chat's in order, the next only after the previous got its 200;
    one that fails (its process was killed) is delivered again, to the next process in turn."""

    serves: list[Member]
    turn: itertools.count[int] = field(default_factory=itertools.count)
    redelivered: int = 0
    failed: list[str] = field(default_factory=list)

    async def chat(self, http: aiohttp.ClientSession, updates: list[dict[str, Any]]) -> None:
        for update in updates:
            await self.deliver(http, update)

    async def deliver(self, http: aiohttp.ClientSession, update: dict[str, Any]) -> None:
        last = ""
        for attempt in range(40):
            serve = self.serves[next(self.turn) % len(self.serves)]
            if attempt:
                self.redelivered += 1
                await asyncio.sleep(0.25)
            try:
                async with http.post(
                    f"{serve.url}{WEBHOOK_PATH}", json=update, headers={SECRET_HEADER: SECRET}
                ) as answer:
                    await answer.read()
                    if answer.status == 200:
                        return
                    last = f"{serve.name} answered {answer.status}"
            except (aiohttp.ClientError, OSError, TimeoutError) as error:
                last = f"{serve.name}: {type(error).__name__}"
        self.failed.append(f"update {update['update_id']}: {last}")


# ------------------------------------------------------------------------------------------------ the checks


@dataclass(frozen=True)
class Sent:
    """A message as Telegram received it."""

    at: float
    chat: str
    content: str
    client_port: int

    @classmethod
    def of(cls, call: ApiCall) -> Sent:
        return cls(call.at, call.chat_id or "", call.content, call.client_port)


@dataclass
class Kill:
    at: float  # time.monotonic() just before SIGKILL
    serve: str
    ports: set[int]  # the killed serve's connections in its last seconds: the client ports Telegram saw it use
    dialer: str
    messages_before: int
    dials_before: int


def crowded_windows(
    times: Sequence[float], width: float, limit: int, late: Callable[[float], float]
) -> list[tuple[float, int]]:
    """Windows of ``width`` seconds certainly holding more than ``limit`` arrivals: (start, count), disjoint.

    "Certainly": the stamps come from a loop that may have been held up (``late(stamp)`` says by how much an
    arrival may precede its stamp), so a window counts only what lies within ``width`` minus that.
    """
    ordered = sorted(times)
    found: list[tuple[float, int]] = []
    i = j = 0
    while i < len(ordered):
        j = max(j, i)
        while j < len(ordered) and ordered[j] - ordered[i] < width:
            j += 1
        if j - i > limit:
            narrower = width - max(late(t) for t in ordered[i:j])
            k = i
            while k < len(ordered) and ordered[k] - ordered[i] < narrower:
                k += 1
            if k - i > limit:
                found.append((ordered[i], k - i))
                i = k
                continue
        i += 1
    return found


VOICE = " [voice]"


def card(content: str) -> str:
    """A message's words, without the mark of the voice note it carries."""
    return content.removesuffix(VOICE)


def short(content: str) -> str:
    return content if len(content) <= 80 else f"{content[:40]}…{content[-40:]}"


def crowding(what: str, found: list[tuple[float, int]], limit: int, per: str, t0: float) -> str:
    start, most = max(found, key=lambda w: w[1])
    return (
        f"{what}: {most} in the {per} from t={start - t0:.2f} s (limit {limit}); "
        f"{len(found)} separate {per}s above the limit"
    )


def rate_problems(messages: list[Sent], late: Callable[[float], float], t0: float) -> list[str]:
    problems = []
    found = crowded_windows([m.at for m in messages], 1.0, BOT_PER_SECOND, late)
    if found:
        problems.append(crowding("bot: messages", found, BOT_PER_SECOND, "second", t0))
    by_chat: dict[str, list[float]] = defaultdict(list)
    for m in messages:
        by_chat[m.chat].append(m.at)
    close = []
    for chat, arrivals in by_chat.items():
        arrivals.sort()
        # Certainly closer than a second: even if the first arrived as early as its stamp allows.
        gaps = [(b - a, a) for a, b in itertools.pairwise(arrivals) if b - a + late(a) < CHAT_INTERVAL]
        if gaps:
            gap, at = min(gaps)
            close.append(f"chat {chat}: {len(gaps)} times (closest {gap:.3f} s apart, at t={at - t0:.2f} s)")
        if chat.startswith("-"):
            found = crowded_windows(arrivals, 60.0, GROUP_PER_MINUTE, late)
            if found:
                problems.append(crowding(f"group {chat}: messages", found, GROUP_PER_MINUTE, "minute", t0))
    if close:
        problems.append(f"{len(close)} chats got two messages within 1 s: " + "; ".join(close[:5]))
    return problems


def delivery_problems(messages: list[Sent], load: Load, kill: Kill | None, t0: float) -> list[str]:
    """Missing, unexpected and repeated messages; repeats only allowed in the killed sender's window."""
    problems: list[str] = []
    by_chat: dict[str, list[Sent]] = defaultdict(list)
    for m in sorted(messages, key=lambda m: m.at):
        by_chat[m.chat].append(m)

    def missing(what: str, chats: list[str], wanted: Callable[[list[Sent]], list[str]]) -> None:
        lacking = [(chat, gap) for chat in chats if (gap := wanted(by_chat.get(chat, [])))]
        if lacking:
            sample = "; ".join(f"chat {chat} lacks {', '.join(gap)}" for chat, gap in lacking[:5])
            problems.append(f"{what}: {len(lacking)} of {len(chats)} chats lack messages: {sample}")

    def titles_lacking(titles: Sequence[str]) -> Callable[[list[Sent]], list[str]]:
        return lambda got: [repr(t) for t in titles if not any(t in m.content for m in got)]

    missing("alerts", load.alert_chats, titles_lacking(ALERT_TITLES))
    missing("families' news", load.family_chats, lambda got: [] if got else ["any message"])
    missing("the employer's notices", [EMPLOYER_CHAT], titles_lacking(load.titles))
    # Everyone browsing did the same in the same order, with the same jobs live: they all get the same replies.
    # A job card whose voice note this serve process is still rendering goes out with its text only (a turn
    # never waits for ffmpeg; each process keeps its own audio cache), so cards are compared by their words;
    # every card that went out bare must also have gone out with its note once it was rendered.
    browsing = [m for c in load.browser_chats for m in by_chat.get(c, [])]
    voiced = {card(m.content) for m in browsing if m.content.endswith(VOICE)}
    job_cards = {card(m.content) for m in browsing if any(m.content.startswith(f"💼 {t}\n") for t in load.titles)}
    never_voiced = sorted(job_cards - voiced)
    if not job_cards:
        problems.append("replies: nobody browsing got a job card")
    if never_voiced:
        problems.append(f"replies: job cards never sent with their voice note: {[short(c) for c in never_voiced]}")
    shapes = Counter(
        frozenset(Counter(card(m.content) for m in by_chat.get(c, [])).items()) for c in load.browser_chats
    )
    reference: Counter[str] = Counter(dict(shapes.most_common(1)[0][0])) if shapes else Counter()
    if len(reference) < BROWSING_UPDATES:
        problems.append(
            f"replies: the most common replies to the {BROWSING_UPDATES} updates are only {len(reference)} messages"
        )
    odd = []
    for chat in load.browser_chats:
        got = Counter(card(m.content) for m in by_chat.get(chat, []))
        lacking = reference - got
        unexpected = {c: n for c, n in got.items() if c not in reference}
        if lacking or unexpected:
            odd.append(f"chat {chat} lacks {[short(c) for c in lacking]}, has {[short(c) for c in unexpected]}")
    if odd:
        problems.append(f"replies: {len(odd)} of {len(load.browser_chats)} chats differ: " + "; ".join(odd[:5]))

    # Repeats: the copies beyond the expected number of each (chat, content).
    repeats: list[tuple[Sent, Sent]] = []
    for chat, sent in by_chat.items():
        copies: dict[str, list[Sent]] = defaultdict(list)
        for m in sent:
            copies[m.content].append(m)
        for content, same in copies.items():
            expected = reference[content] if chat in load.browser_chats and content in reference else 1
            repeats.extend((same[0], again) for again in same[expected:])
    allowed: list[tuple[Sent, Sent]] = []
    refused: list[tuple[Sent, Sent]] = []
    for first, again in repeats:
        # The port says the killed process sent the first copy (so before it died, though Telegram may have
        # stamped it a moment after the kill); the time, that it was among the last it sent.
        in_window = (
            kill is not None
            and first.client_port in kill.ports
            and kill.at - IN_FLIGHT_SECONDS <= first.at <= kill.at + ARRIVAL_SLACK
            and again.at > kill.at
        )
        (allowed if in_window else refused).append((first, again))
    bound = sender_concurrency()
    if refused:
        sample = "; ".join(
            f"chat {f.chat} {short(f.content)!r} at t={f.at - t0:.2f} s and t={a.at - t0:.2f} s" for f, a in refused[:5]
        )
        where = f" (the kill was at t={kill.at - t0:.2f} s)" if kill else ""
        problems.append(
            f"{len(refused)} messages sent more than once outside the killed sender's window{where}: {sample}"
        )
    if len(allowed) > bound:
        problems.append(
            f"{len(allowed)} messages the killed sender had in flight were sent again: more than its {bound} workers"
        )
    return problems


def call_problems(world: OutsideWorld, load: Load, t0: float) -> list[str]:
    problems = []
    calls = [world.carrier.calls[d.sid] for d in world.dials]
    per_phone = Counter(c.to for c in calls)
    never = sorted(load.phones - set(per_phone))
    if never:
        problems.append(f"calls: {len(never)} of {len(load.phones)} due calls never placed, e.g. {never[:5]}")
    twice = {phone: n for phone, n in per_phone.items() if n > 1}
    if twice:
        problems.append(f"calls: {len(twice)} workers called more than once, e.g. {list(twice.items())[:5]}")
    strangers = sorted(set(per_phone) - load.phones)
    if strangers:
        problems.append(f"calls: {len(strangers)} numbers called that had no call due, e.g. {strangers[:5]}")
    per_call = Counter(c.query().get("call") for c in calls)
    again = {call: n for call, n in per_call.items() if n > 1}
    if again:
        problems.append(f"calls: {len(again)} calls placed more than once, e.g. {list(again.items())[:5]}")
    found = crowded_windows([d.at for d in world.dials], 1.0, CALLS_PER_SECOND, world.lateness)
    if found:
        problems.append(crowding("calls placed", found, CALLS_PER_SECOND, "second", t0))
    return problems


# ------------------------------------------------------------------------------------------------ the run


def messages_of(world: OutsideWorld) -> list[Sent]:
    return [Sent.of(c) for c in list(world.telegram.calls) if c.ok and c.method in MESSAGE_METHODS]


def owner(ports: Sequence[int], members: list[Member]) -> Member | None:
    """The live member most of these client ports belong to."""
    votes: Counter[str] = Counter()
    by_name = {m.name: m for m in members if m.alive}
    for member in by_name.values():
        assert member.process is not None
        mine = tcp_ports(member.process.pid)
        votes[member.name] = sum(p in mine for p in ports)
    if not votes or votes.most_common(1)[0][1] == 0:
        return None
    return by_name[votes.most_common(1)[0][0]]


async def kill_mid_run(world: OutsideWorld, fleet: Fleet, load: Load, deadline: float) -> Kill:
    """When part of the messages and calls went out: SIGKILL the serve process sending right now and a dialer
    placing calls, then start both again (same ports)."""
    sent, dials = 0, 0
    # Each serve process's connections as they come and go (port -> when last seen): a message sent just
    # before the kill may have gone over a connection closed since.
    seen: dict[str, dict[int, float]] = defaultdict(dict)
    while time.monotonic() < deadline:
        for member in fleet.serve_members:
            if member.process is not None:
                seen[member.name].update(dict.fromkeys(tcp_ports(member.process.pid), time.monotonic()))
        sent, dials = len(messages_of(world)), len(world.dials)
        if sent >= KILL_AFTER_MESSAGES * AT_LEAST and dials >= KILL_AFTER_CALLS * FAMILIES:
            break
        await asyncio.sleep(0.2)
    recent = [m.client_port for m in messages_of(world)[-30:]]
    serve = owner(recent, fleet.serve_members) or fleet.serve_members[0]
    dialer = owner([d.client_port for d in world.dials[-10:]], fleet.dialer_members) or fleet.dialer_members[0]
    assert serve.process is not None
    now = time.monotonic()
    ports = tcp_ports(serve.process.pid) | {
        port for port, at in seen[serve.name].items() if at >= now - IN_FLIGHT_SECONDS - 1.0
    }
    kill = Kill(now, serve.name, ports, dialer.name, sent, dials)
    for member in (serve, dialer):
        fleet.kill(member)
    for member in (serve, dialer):
        assert member.process is not None
        await member.process.wait()
        await fleet.start(member)
    return kill


async def until(check: Callable[[], bool], deadline: float) -> bool:
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(0.3)
    return check()


def settings_for(world: OutsideWorld, folder: Path) -> dict[str, str]:
    """The environment of every process: the fakes' addresses, calling hours all day, our pace of calls."""
    return {
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "PUBLIC_BASE_URL": world.balancer_url,  # loopback http: allowed for tests and simulators
        "STARTUP_TIMEOUT": "120",
        "MODERATORS_CHAT_ID": MODERATORS_CHAT,
        "VOICE_API_BASE_URL": world.carrier_url,
        "VOICE_ACCOUNT_SID": ACCOUNT,
        "VOICE_AUTH_TOKEN": VOICE_TOKEN,
        "VOICE_FROM_NUMBER": "+85523000000",
        "CALLING_HOURS_START": "00:00",  # start == end: any time of day
        "CALLING_HOURS_END": "00:00",
        "CALLS_PER_SECOND": str(CALLS_PER_SECOND),
        "MAX_CONCURRENT_CALLS": "50",
        "ANSWERING_MACHINE_DETECTION": "false",
        "AUDIO_CACHE_DIR": str(folder / "audio"),
    }


@dataclass
class Run:
    t0: float = 0.0  # when the jobs were published
    kill: Kill | None = None


async def run_load(
    build: Builder, employer: int, load: Load, world: OutsideWorld, fleet: Fleet, posting: Posting, run: Run
) -> None:
    """Publish the jobs, post the updates, kill and restart mid-run, and wait until everything went out
    (or the time is up: the checks then say what is missing)."""
    await fleet.start_all()
    await asyncio.gather(*(fleet.ready(m) for m in fleet.serve_members))
    run.t0 = time.monotonic()
    deadline = run.t0 + WITHIN
    await publish(build, employer, load)
    update_ids = itertools.count(1)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        chats = [lambda c=c: posting.chat(http, browsing(c, update_ids)) for c in load.browser_chats]
        posted = asyncio.create_task(gather_limited(POSTING_AT_ONCE, chats))
        try:
            run.kill = await kill_mid_run(world, fleet, load, deadline)
            await fleet.ready(next(m for m in fleet.serve_members if m.name == run.kill.serve))
            await asyncio.wait_for(asyncio.shield(posted), max(1.0, deadline - time.monotonic()))
        finally:
            if not posted.done():
                posted.cancel()
            with contextlib.suppress(BaseException):
                await posted
    alert_chats, family_chats = set(load.alert_chats), set(load.family_chats)

    def delivered() -> bool:
        got = messages_of(world)
        alerts = sum(m.chat in alert_chats for m in got)
        families = len({m.chat for m in got if m.chat in family_chats})
        called = {world.carrier.calls[d.sid].to for d in world.dials}
        return (
            alerts >= len(alert_chats) * len(ALERT_TITLES) and families == len(family_chats) and called >= load.phones
        )

    def quiet() -> bool:
        last = max([m.at for m in messages_of(world)[-1:]] + [d.at for d in world.dials[-1:]] + [run.t0])
        return time.monotonic() - last >= QUIET

    await until(delivered, deadline)
    await until(quiet, deadline + QUIET)


def write_records(world: OutsideWorld, folder: Path, t0: float) -> None:
    """Every Bot API request and every call the carrier accepted, for whoever reads a failure."""
    with (folder / "telegram.jsonl").open("w") as out:
        for call in world.telegram.calls:
            row = {"t": round(call.at - t0, 4), "method": call.method, "chat": call.chat_id, "status": call.status}
            row |= {"port": call.client_port, "uploads": sorted(call.files), "content": call.content}
            out.write(json.dumps(row) + "\n")
    with (folder / "stalls.jsonl").open("w") as out:
        for end, held in world.stalls:
            out.write(json.dumps({"t": round(end - t0, 4), "held": round(held, 4)}) + "\n")
    with (folder / "calls.jsonl").open("w") as out:
        for dial in world.dials:
            placed = world.carrier.calls[dial.sid]
            row = {"t": round(dial.at - t0, 4), "port": dial.client_port, "to": placed.to, "call": placed.query()}
            out.write(json.dumps(row) + "\n")


@pytest.mark.slow
async def test_three_serve_and_two_dialer_processes_send_every_message_and_call_once_within_the_limits(
    session_factory: async_sessionmaker[AsyncSession], database_url: str, tmp_path: Path
) -> None:
    build = Builder(session_factory, now=None)  # type: ignore[arg-type]  # the real clock, as the processes'
    employer = await build.employer(external_id=EMPLOYER_CHAT)
    load = await seed(build, session_factory)
    run = Run()
    async with OutsideWorld(ACCOUNT, VOICE_TOKEN, lambda to: Script(outcome="no-answer", ring_seconds=0.5)) as world:
        bongpheak = Bongpheak(database_url, tmp_path, world.telegram.base_url)
        fleet = Fleet(bongpheak, settings_for(world, tmp_path), SERVES, DIALERS)
        world.backends = [m.url for m in fleet.serve_members]
        posting = Posting(fleet.serve_members)
        # What the test has built so far lives on: the collector's full passes over it would hold up the fakes'
        # loop (and its stamps) for a good part of a second.
        gc.freeze()
        try:
            await run_load(build, employer, load, world, fleet, posting, run)
        finally:
            gc.unfreeze()
            await fleet.stop_all()
    write_records(world, tmp_path, run.t0)
    async with session_factory() as session:
        rows = await session.scalars(text("SELECT row_to_json(o)::text FROM outbox o ORDER BY id"))
        (tmp_path / "outbox.jsonl").write_text("".join(f"{row}\n" for row in rows))
    messages, kill = messages_of(world), run.kill
    problems = [
        *rate_problems(messages, world.lateness, run.t0),
        *delivery_problems(messages, load, kill, run.t0),
        *call_problems(world, load, run.t0),
        *posting.failed[:5],
    ]
    if kill is None or kill.messages_before >= AT_LEAST or kill.dials_before >= FAMILIES:
        problems.append(f"the kill did not come while messages and calls flowed: {kill}")
    if problems:
        assert kill is not None
        summary = (
            f"{len(messages)} messages and {len(world.dials)} calls in {time.monotonic() - run.t0:.0f} s; "
            f"{kill.serve} and {kill.dialer} killed at t={kill.at - run.t0:.1f} s; "
            f"{posting.redelivered} updates delivered again; the fakes' loop was held up {len(world.stalls)} times, "
            f"{sum(held for _, held in world.stalls):.1f} s in all (longest "
            f"{max((held for _, held in world.stalls), default=0.0):.2f} s; the windows count only what is certain)"
        )
        where = f"every Bot API request, call and outbox row: {tmp_path}/*.jsonl, the processes' logs beside them"
        raise AssertionError("\n".join([summary, *problems, *fleet.errors(), where]))
