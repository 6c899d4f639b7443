"""Relatives: browse jobs, nominate a family member for calls, see family members, apply, report, alerts."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import func, select

from conversations import greeting
from conversations.common import (
    ANY,
    GENDERS,
    RELATIONSHIPS,
    back_and_cancel,
    back_button,
    error_message,
    job_card,
    pick_province,
    pick_sector,
    province_from,
    sector_from,
    sector_label,
    toggle,
    toggles,
)
from conversations.i18n import N_
from conversations.replies import Button
from conversations.state import IDLE
from conversations.turn import BadInput, Step, Turn
from jobs_core import geo
from jobs_core.clock import local, local_date, start_of_local_day
from jobs_core.errors import DomainError, InvalidField, LimitReached, NotAllowed, NotFound
from jobs_core.model import Consent, Job, Nomination, Sector, Subscription, Worker
from jobs_core.numbers import parse_int
from jobs_core.phones import display_phone, normalize_phone
from jobs_core.services import applications, jobs, people, reports
from jobs_core.text import clean_text
from jobs_core.typed import parse_year

REPORT_REASONS = {
    "fees": N_("Asks for a fee or deposit"),
    "documents": N_("Keeps ID cards or passports"),
    "fake_job": N_("The job is fake or different"),
    "abuse": N_("Abuse or threats"),
    "unpaid": N_("Wages not paid"),
    "cannot_leave": N_("Workers cannot leave"),
    "other": N_("Something else"),
}
FAMILY_PAGE = 5  # family members on one page of "My family members"


# ------------------------------------------------------------------------------------------------ menu


async def relative_menu(t: Turn, args: list[str]) -> str:
    """What a relative can do."""
    _ = t._
    t.started = True
    await t.relative()
    t.say(
        _("How can we help your family?"),
        (
            (Button(_("🔎 Browse jobs"), "browse"),),
            (Button(_("➕ Add a family member for job calls"), "nom"),),
            (Button(_("👪 My family members"), "family"),),
            (Button(_("🔔 Job alerts"), "alerts"),),
            (back_button(t),),
        ),
    )
    return IDLE


# ------------------------------------------------------------------------------------------------ browse


async def browse(t: Turn, args: list[str]) -> str:
    """Start browsing: which province?"""
    t.data = {}
    return await ask_browse_province(t)


async def ask_browse_province(t: Turn) -> str:
    """Which province?"""
    pick_province(t, t._("Where should the job be?"), with_any=True, nav=(back_and_cancel(t, back=False),))
    return "browse.province"


async def take_browse_province(t: Turn) -> str:
    """The province (or any) → which kind of work?"""
    t.data["province"] = province_from(t, allow_any=True)
    return await ask_browse_sector(t)


async def ask_browse_sector(t: Turn) -> str:
    """Which kind of work?"""
    await pick_sector(t, t._("What kind of work?"), with_any=True, nav=(back_and_cancel(t),))
    return "browse.sector"


async def take_browse_sector(t: Turn) -> str:
    """The sector (or any) → the first page of jobs."""
    sector = await sector_from(t, allow_any=True)
    return await show_jobs(t, t.data.get("province"), sector, 0)


async def page(t: Turn, args: list[str]) -> str:
    """jobs:<province|->:<sector|->:<offset>: another page of a search (works from any old message)."""
    if len(args) != 3:
        raise BadInput(t._("This button is no longer valid."))
    province = None if args[0] == ANY else geo.province(args[0]).code
    sector = None if args[1] == ANY else args[1]
    offset = parse_int("offset", args[2], minimum=0, maximum=100_000)
    return await show_jobs(t, province, sector, offset)


async def show_jobs(t: Turn, province: str | None, sector: str | None, offset: int) -> str:
    """Up to a page of job cards, newest first, and a "more" button when there are more."""
    _ = t._
    t.started = True
    size = t.deps.page_size
    found, total = await jobs.live_jobs_page(
        t.reads, province_code=province, sector_code=sector, offset=offset, limit=size + 1
    )
    filters = f"{province or ANY}:{sector or ANY}"
    if not found:
        t.say(
            _("No more jobs here right now.") if offset else _("There are no jobs here right now."),
            (
                (Button(_("🔔 Tell me when a job is posted"), f"sub:{filters}"),),
                (Button(_("🔎 Search again"), "browse"), back_button(t)),
            ),
        )
        return IDLE
    for job in found[:size]:
        card = await job_card(job, t.deps, _, t.language, cached=True)
        if job.is_featured(t.now):  # paid featured weeks: first in the list, and said so
            card = replace(card, text="⭐ " + _("Featured") + "\n" + card.text)
        t.add(card)
    buttons: list[tuple[Button, ...]] = []
    if len(found) > size:
        buttons.append((Button(_("More jobs ▶️"), f"jobs:{filters}:{offset + size}"),))
    buttons.append((Button(_("🔔 Alerts for these jobs"), f"sub:{filters}"),))
    buttons.append((Button(_("🔎 Search again"), "browse"), back_button(t)))
    shown = _("Jobs {first}–{last} of {total}").format(
        first=offset + 1, last=offset + min(size, len(found)), total=max(total, offset + len(found))
    )
    t.say(shown, tuple(buttons))
    return IDLE


# ------------------------------------------------------------------------------------------------ a job's buttons


async def job_action(t: Turn, args: list[str]) -> str:
    """job:<id>[:call|apply|report]: what a job card's buttons do."""
    if not args:
        raise BadInput(t._("This button is no longer valid."))
    job_id = parse_int("job", args[0], minimum=1, maximum=2**31 - 1)
    verb = args[1] if len(args) > 1 else "show"
    if verb == "report":
        # Only a job shown to this person can be reported; any other id gets the answer a missing one gets.
        await reports.reportable_by(t.uow, job_id, (await t.relative()).id)
        t.started = True
        t.data = {"job_id": job_id}
        return await ask_report_reason(t)
    if verb not in ("show", "call", "apply"):
        raise BadInput(t._("This button is no longer valid."))
    job = await t.session.get(Job, job_id)
    if job is None or job.published_at is None:
        # A listing never published (a draft, one under review or rejected) answers as a missing id does, so
        # forged buttons cannot tell which job ids exist.
        raise NotFound("job", job_id)
    t.started = True
    if not job.is_live(t.now):
        raise NotAllowed("this job is no longer open")
    if verb == "show":
        t.add(await job_card(job, t.deps, t._, t.language, cached=True))
        return IDLE
    t.data = {"job_id": job_id, "purpose": verb}
    return await ask_member(t)


async def _members(t: Turn) -> list[people.FamilyMember]:
    relative = await t.relative()
    return await people.family_members(t.uow, relative.id)


async def ask_member(t: Turn) -> str:
    """Which family member is this for?"""
    _ = t._
    # Only an opt-out this relative was told about hides a member: any other would give another family away.
    members = [m for m in await _members(t) if m.consent is not Consent.OPTED_OUT]
    # Adding someone from here keeps the job: once added, they are applied for it (or called about it).
    add = Button(_("➕ Add a family member for job calls"), f"nom:{t.data['job_id']}:{t.data['purpose']}")
    if not members:
        t.say(_("First add a family member, then you can do this for them."), ((add,), (back_button(t),)))
        return IDLE
    question = (
        _("Which family member should we call about this job?")
        if t.data.get("purpose") == "call"
        else _("Which family member are you applying for?")
    )
    t.say(question, (*t.choices([(m.name, str(m.worker_id)) for m in members], per_row=1), (add,)))
    return "pick.member"


async def take_member(t: Turn) -> str:
    """The family member → apply for them (they confirm on the phone), or ask the dialer to call them."""
    _ = t._
    if t.choice is None:
        raise BadInput(_("Please choose a family member from the buttons."))
    worker_id = parse_int("worker", t.choice, minimum=1, maximum=2**31 - 1)
    relative = await t.relative()
    nomination = await t.session.scalar(
        select(Nomination).where(Nomination.relative_id == relative.id, Nomination.worker_id == worker_id)
    )
    if nomination is None:
        raise NotFound("worker", worker_id)
    if nomination.known_consent is Consent.OPTED_OUT:
        raise NotAllowed("this person asked not to be contacted")
    return await _for_job(t, nomination, int(t.data["job_id"]), str(t.data.get("purpose")))


async def _for_job(t: Turn, nomination: Nomination, job_id: int, purpose: str) -> str:
    """Apply for the family member (they confirm on the phone), or ask the dialer to call them about the job."""
    _ = t._
    relative = await t.relative()
    worker_id, name = nomination.worker_id, nomination.name
    if purpose == "apply":
        result = await applications.apply_for_family(
            applications.ApplyForFamily(
                job_id=job_id, worker_id=worker_id, relative_id=relative.id, channel=t.incoming.channel
            ),
            t.uow,
        )
        t.say(
            _("You already applied for {name} for this job.").format(name=name)
            if result.already_yours
            else _(
                "Done! We will call {name} to confirm. The employer gets {name}'s number only after {name} says yes."
            ).format(name=name),
            ((back_button(t, "rel"),),),
        )
        return IDLE
    job = await t.session.get(Job, job_id)
    if job is None or not job.is_live(t.now):
        raise NotAllowed("this job is no longer open")
    # The dialer consumes this event: a consent call first if the worker has not agreed yet, then the pitch;
    # never a call to a worker who asked never to be called. The reply is the same in every case.
    applications.request_call(
        t.uow, job_id=job_id, worker_id=worker_id, nomination_id=nomination.id, relative_id=relative.id
    )
    t.uow.audit(t.actor, "job.call_requested", "job", job_id, worker_id=worker_id)
    if nomination.known_consent is Consent.CONSENTED:
        t.say(_("We will call {name} about this job soon.").format(name=name), ((back_button(t, "rel"),),))
    else:
        t.say(
            _(
                "We will call {name} about this job. If they have not agreed to job calls yet, we ask them first."
            ).format(name=name),
            ((back_button(t, "rel"),),),
        )
    return IDLE


# ------------------------------------------------------------------------------------------------ report


async def ask_report_reason(t: Turn) -> str:
    """What is wrong with the job?"""
    options = [(t._(label), code) for code, label in REPORT_REASONS.items()]
    t.say(t._("What is the problem with this job?"), (*t.choices(options, per_row=1), back_and_cancel(t, back=False)))
    return "report.reason"


async def take_report_reason(t: Turn) -> str:
    """The reason → any details?"""
    if t.choice not in REPORT_REASONS:
        raise BadInput(t._("Please choose one of the buttons."))
    t.data["reason"] = t.choice
    return await ask_report_details(t)


async def ask_report_details(t: Turn) -> str:
    """Anything to add?"""
    t.say(
        t._("Tell us more in a few words, or press Skip."),
        (tuple([t.step_button(t._("Skip"), "skip")]), back_and_cancel(t)),
    )
    return "report.details"


async def take_report_details(t: Turn) -> str:
    """The details (or none) → the report is filed for the moderators."""
    details = "" if t.choice == "skip" else clean_text("details", t.require_text(), max_length=2000)
    relative = await t.relative()
    await reports.report_problem(
        reports.ReportProblem(
            reason=t.data["reason"], job_id=int(t.data["job_id"]), details=details, reporter_relative_id=relative.id
        ),
        t.uow,
    )
    if t.data["reason"] in reports.PROTECT_FIRST:
        t.say(
            t._("Thank you. We have hidden this job until our team has checked it. We will tell you what they decide."),
            ((back_button(t, "rel"),),),
        )
    else:
        t.say(t._("Thank you. Our team will look at this job."), ((back_button(t, "rel"),),))
    return IDLE


# ------------------------------------------------------------------------------------------------ nominate


async def nominate(t: Turn, args: list[str]) -> str:
    """Start adding a family member (refused early when today's limit is reached)."""
    t.started = True
    relative = await t.relative()
    made_today = await t.session.scalar(
        select(func.count())
        .select_from(Nomination)
        .where(Nomination.relative_id == relative.id, Nomination.created_at >= start_of_local_day(t.now))
    )
    if (made_today or 0) >= t.deps.nominations_per_day:
        raise LimitReached("nominations per day", t.deps.nominations_per_day)
    t.data = {}
    if len(args) == 2 and args[1] in ("apply", "call"):  # nom:<job>:<purpose>, from a job's "for whom?"
        t.data.update(job_id=parse_int("job", args[0], minimum=1, maximum=2**31 - 1), purpose=args[1])
    t.say(t._("We will call your family member to tell them about jobs. We never call anyone who did not agree."))
    return await ask_name(t)


async def ask_name(t: Turn) -> str:
    """What is their name?"""
    t.say(t._("What is your family member's name?"), (back_and_cancel(t, back=False),))
    return "nominate.name"


async def take_name(t: Turn) -> str:
    """The name → their phone number."""
    t.data["name"] = clean_text("name", t.require_text(), max_length=120, required=True)
    return await ask_phone(t)


async def ask_phone(t: Turn) -> str:
    """What is their phone number? (typed: no "send my number" button, the relative's own is not theirs)"""
    t.say(
        t._("What is {name}'s phone number? For example 012 345 678.").format(name=t.data["name"]),
        (back_and_cancel(t),),
    )
    return "nominate.phone"


async def take_phone(t: Turn) -> str:
    """A valid Cambodian number (Khmer digits accepted), not one this relative added before → the relation."""
    if t.incoming.contact_phone and t.incoming.extra.get("contact_is_own") == "1":
        raise BadInput(
            t._("That is your own number. Please type your family member's number, for example 012 345 678.")
        )
    raw = t.incoming.contact_phone or t.require_text(t._("Please type the phone number, for example 012 345 678."))
    phone = normalize_phone(raw)
    relative = await t.relative()
    # Only this relative's own nominations: whether anyone else added the number must not show.
    already = await t.session.scalar(
        select(Nomination.id)
        .join(Worker, Worker.id == Nomination.worker_id)
        .where(Nomination.relative_id == relative.id, Worker.phone == phone)
    )
    if already is not None:
        raise NotAllowed("you have already nominated this person")
    t.data["phone"] = phone
    return await ask_relation(t)


async def ask_relation(t: Turn) -> str:
    """How are you related?"""
    options = [(t._(label), code) for code, label in RELATIONSHIPS.items()]
    t.say(t._("Who is {name} to you?").format(name=t.data["name"]), (*t.choices(options), back_and_cancel(t)))
    return "nominate.relation"


async def take_relation(t: Turn) -> str:
    """The relationship → their gender."""
    if t.choice not in RELATIONSHIPS:
        raise BadInput(t._("Please choose one of the buttons."))
    t.data["relation"] = t.choice
    return await ask_gender(t)


async def ask_gender(t: Turn) -> str:
    """Man or woman?"""
    options = [(t._(label), code) for code, label in GENDERS.items()]
    t.say(t._("Is {name} a man or a woman?").format(name=t.data["name"]), (*t.choices(options), back_and_cancel(t)))
    return "nominate.gender"


async def take_gender(t: Turn) -> str:
    """The gender → their birth year."""
    if t.choice not in GENDERS:
        raise BadInput(t._("Please choose one of the buttons."))
    t.data["gender"] = t.choice
    return await ask_birth_year(t)


async def ask_birth_year(t: Turn) -> str:
    """Which year were they born?"""
    t.say(t._("In which year was {name} born? For example 1998.").format(name=t.data["name"]), (back_and_cancel(t),))
    return "nominate.birth_year"


async def take_birth_year(t: Turn) -> str:
    """A plausible birth year (Latin or Khmer digits; at least 15 years old) → their province."""
    this_year = local_date(t.now).year
    typed = t.require_text(t._("Please type the year, for example 1998."))
    try:  # "១៩៩៨", "ឆ្នាំ 1998", with emoji or zero-width spaces
        year = parse_year(typed, minimum=this_year - 80, maximum=this_year)
    except InvalidField as exc:
        if exc.code != "not_a_year":
            raise
        raise BadInput(t._("Please type the year, for example 1998.")) from exc
    if this_year - year < people.MIN_WORKER_AGE:
        raise InvalidField("birth_year", "too_young", "too young")
    t.data["birth_year"] = year
    return await ask_province(t)


async def ask_province(t: Turn) -> str:
    """Where do they live?"""
    pick_province(t, t._("In which province does {name} live?").format(name=t.data["name"]), nav=(back_and_cancel(t),))
    return "nominate.province"


async def take_province(t: Turn) -> str:
    """The province → the kinds of work they want."""
    t.data["province"] = province_from(t)
    t.data["sectors"] = []
    return await ask_sectors(t)


async def _sector_options(t: Turn) -> dict[str, str]:
    # Sector names come from the database in both languages, not from the catalog.
    return {s.code: sector_label(s, t.language) for s in await t.sectors()}


async def ask_sectors(t: Turn) -> str:
    """Which kinds of work? (several; none means any)"""
    options = await _sector_options(t)
    chosen = list(t.data.get("sectors", []))
    keyboard = toggles(t, options, chosen, t._("Done ✔️"))
    t.say(
        t._("What kind of work does {name} want? Choose one or more, then press Done.").format(name=t.data["name"]),
        (*keyboard, back_and_cancel(t)),
    )
    return "nominate.sectors"


async def take_sectors(t: Turn) -> str:
    """Toggle a sector, or Done → the confirmation."""
    choice = t.choice or ""
    if choice.startswith("t:"):
        code = choice[2:]
        if code not in await _sector_options(t):
            raise BadInput(t._("Please choose one of the buttons."))
        t.data["sectors"] = toggle(list(t.data.get("sectors", [])), code)
        return await ask_sectors(t)  # the engine edits the pressed message rather than sending a new one
    if choice != "done":
        raise BadInput(t._("Please choose one or more kinds of work, then press Done."))
    return await ask_greeting(t)


async def ask_greeting(t: Turn) -> str:
    """A short recorded greeting, so the worker hears whom the call is from (or skip)?"""
    return greeting.ask(t)


async def take_greeting(t: Turn) -> str:
    """The greeting (normalised, at most five seconds) or skip → the confirmation."""
    await greeting.take(t)
    return await ask_confirm(t)


async def ask_confirm(t: Turn) -> str:
    """Did they agree to be called?"""
    _ = t._
    d = t.data
    sectors = await _sector_options(t)
    summary = "\n".join(
        [
            f"👤 {d['name']}",
            f"📞 {display_phone(d['phone'])}",
            f"🤝 {_(RELATIONSHIPS[d['relation']])} · {_(GENDERS[d['gender']])} · {d['birth_year']}",
            f"📍 {geo.province(d['province']).name(t.language)}",
            "💼 " + (", ".join(sectors.get(s, s) for s in d.get("sectors", [])) or _("Any kind of work")),
            *(["🎙 " + _("Your greeting is recorded")] if d.get("greeting") else []),
        ]
    )
    t.say(
        summary + "\n\n" + _("Did {name} agree that we call them about jobs?").format(name=d["name"]),
        (
            (t.step_button(_("✅ Yes, they agreed"), "yes"),),
            (t.step_button(_("↩️ Back"), "back"), t.step_button(_("❌ Cancel"), "no")),
        ),
    )
    return "nominate.confirm"


async def take_confirm(t: Turn) -> str:
    """Yes → the nomination (daily limit checked); No → nothing is saved."""
    _ = t._
    if t.choice == "no":
        t.say(_("Cancelled. Nothing was saved."), ((back_button(t, "rel"),),))
        return IDLE
    if t.choice != "yes":
        raise BadInput(_("Please press one of the buttons."))
    relative = await t.relative()
    d = t.data
    added = await people.nominate_worker(
        people.NominateWorker(
            relative_id=relative.id,
            name=d["name"],
            phone=d["phone"],
            relation=d["relation"],
            gender=d["gender"],
            birth_year=d["birth_year"],
            province=d["province"],
            sectors=tuple(d.get("sectors", [])),
            agreed_to_calls=True,
            greeting_clip=d.get("greeting"),
        ),
        t.uow,
        per_day=t.deps.nominations_per_day,
    )
    # One answer whatever the phone's past: a known number, an agreed or an opted-out one must not show.
    t.say(
        _("Thank you! We added {name}. Nobody gets job calls without saying yes on the phone first.").format(
            name=d["name"]
        )
    )
    if d.get("job_id"):
        nomination = await t.session.get(Nomination, added.nomination_id)
        assert nomination is not None
        try:
            return await _for_job(t, nomination, int(d["job_id"]), str(d.get("purpose")))
        except DomainError as exc:  # the job closed meanwhile: the family member stays added
            t.say(error_message(exc, t._))
    t.say(_("Anything else?"), ((Button(_("👪 My family members"), "family"),), (back_button(t, "rel"),)))
    return IDLE


# ------------------------------------------------------------------------------------------------ family


FAMILY_CONSENT = {
    None: N_("added: nobody gets job calls without saying yes on the phone"),
    "consented": N_("agreed to job calls"),
    "declined": N_("did not agree to job calls"),
    "opted_out": N_("asked never to be called"),
}
OWN_APPLICATION = {
    "awaiting_worker": N_("waiting for them to confirm on the phone"),
    "new": N_("sent to the employer"),
    "seen": N_("sent to the employer"),
    "contacted": N_("the employer contacted them"),
    "hired": N_("hired 🎉"),
    "not_hired": N_("not chosen"),
    "withdrawn": N_("they did not confirm"),
    "expired": N_("the job closed before they confirmed"),
}


async def family(t: Turn, args: list[str]) -> str:
    """family[:<offset>]: a page of family members, with what this relative entered and their own outcomes."""
    _ = t._
    t.started = True
    offset = parse_int("offset", args[0], minimum=0, maximum=100_000) if args else 0
    relative = await t.relative()
    total = int(
        await t.session.scalar(
            select(func.count()).select_from(Nomination).where(Nomination.relative_id == relative.id)
        )
        or 0
    )
    members = await people.family_members(t.uow, relative.id, offset=offset, limit=FAMILY_PAGE)
    if not members and offset:
        raise BadInput(_("This button is no longer valid."))
    if not members:
        t.say(
            _("You have not added any family members yet."),
            ((Button(_("➕ Add a family member for job calls"), "nom"),), (back_button(t, "rel"),)),
        )
        return IDLE
    lines = [
        _("Your family members: {first}–{last} of {total}").format(
            first=offset + 1, last=offset + len(members), total=total
        )
    ]
    for m in members:
        lines.append(f"\n👤 {m.name} · {display_phone(m.phone)}")
        lines.append("   " + _(FAMILY_CONSENT[m.consent.value if m.consent else None]))
        if m.missed_call_at is not None:
            lines.append(
                "   " + _("We could not reach them by phone ({date}).").format(date=local(m.missed_call_at).date())
            )
        elif m.call_planned:
            lines.append("   " + _("A call to ask them is planned."))
        for own in m.applications:
            lines.append(
                "   "
                + _("Application for {title}: {status}").format(
                    title=own.job_title, status=_(OWN_APPLICATION[own.status.value])
                )
            )
    buttons: list[tuple[Button, ...]] = []
    if offset + len(members) < total:
        buttons.append((Button(_("More ▶️"), f"family:{offset + FAMILY_PAGE}"),))
    buttons.append((Button(_("➕ Add a family member for job calls"), "nom"),))
    buttons.append((back_button(t, "rel"),))
    t.say("\n".join(lines), tuple(buttons))
    return IDLE


# ------------------------------------------------------------------------------------------------ alerts


async def alerts(t: Turn, args: list[str]) -> str:
    """Job alerts: the relative's subscriptions, each with a remove button, and "add"."""
    _ = t._
    t.started = True
    relative = await t.relative()
    subscriptions = list(
        (
            await t.session.scalars(
                select(Subscription).where(Subscription.relative_id == relative.id).order_by(Subscription.id)
            )
        ).all()
    )
    sectors = {s.code: sector_label(s, t.language) for s in await t.sectors()}
    buttons: list[tuple[Button, ...]] = []
    if subscriptions:
        lines = [_("Job alerts: {count}").format(count=len(subscriptions))]
        lines.append(_("You get a message when a new job is posted for:"))
        for s in subscriptions:
            where = geo.province(s.province_code).name(t.language) if s.province_code else _("Any province")
            what = sectors.get(s.sector_code, s.sector_code) if s.sector_code else _("Any kind of work")
            lines.append(f"🔔 {where} · {what}")
            buttons.append(
                (Button(_("🗑 Stop: {where} · {what}").format(where=where, what=what)[:60], f"unsub:{s.id}"),)
            )
        buttons.append((Button(_("🔕 Stop all alerts"), "unsub:all"),))
    else:
        lines = [_("You have no job alerts.")]
    buttons.append((Button(_("➕ New alert"), "alert"),))
    buttons.append((back_button(t, "rel"),))
    t.say("\n".join(lines), tuple(buttons))
    return IDLE


async def new_alert(t: Turn, args: list[str]) -> str:
    """Start a new alert: which province?"""
    t.started = True
    t.data = {}
    return await ask_alert_province(t)


async def ask_alert_province(t: Turn) -> str:
    """Alerts for which province?"""
    pick_province(t, t._("Alerts for jobs in which province?"), with_any=True, nav=(back_and_cancel(t, back=False),))
    return "alerts.province"


async def take_alert_province(t: Turn) -> str:
    """The province → which kind of work?"""
    t.data["province"] = province_from(t, allow_any=True)
    return await ask_alert_sector(t)


async def ask_alert_sector(t: Turn) -> str:
    """Alerts for which kind of work?"""
    await pick_sector(t, t._("Alerts for which kind of work?"), with_any=True, nav=(back_and_cancel(t),))
    return "alerts.sector"


async def take_alert_sector(t: Turn) -> str:
    """The sector → subscribed."""
    sector = await sector_from(t, allow_any=True)
    return await _subscribe(t, t.data.get("province"), sector)


async def subscribe_to(t: Turn, args: list[str]) -> str:
    """sub:<province|->:<sector|->: alerts for a search's filters in one press."""
    if len(args) != 2:
        raise BadInput(t._("This button is no longer valid."))
    province = None if args[0] == ANY else geo.province(args[0]).code
    sector = None if args[1] == ANY else args[1]
    if sector is not None and await t.session.get(Sector, sector) is None:
        raise InvalidField("sectors", "unknown_sector", sector)
    return await _subscribe(t, province, sector)


async def _subscribe(t: Turn, province: str | None, sector: str | None) -> str:
    relative = await t.relative()
    await people.subscribe(people.Subscribe(relative_id=relative.id, province=province, sector=sector), t.uow)
    t.say(
        t._("Done! We will send you new jobs like these."),
        ((Button(t._("🔔 Job alerts"), "alerts"),), (back_button(t, "rel"),)),
    )
    return IDLE


async def unsubscribe(t: Turn, args: list[str]) -> str:
    """unsub:<id>|all: remove one alert or all (only the relative's own)."""
    if len(args) != 1:
        raise BadInput(t._("This button is no longer valid."))
    relative = await t.relative()
    subscription_id = None if args[0] == "all" else parse_int("subscription", args[0], minimum=1, maximum=2**31 - 1)
    removed = await people.unsubscribe(t.uow, relative.id, subscription_id)
    if not removed:
        raise NotFound("subscription", args[0])
    t.say(t._("Alert removed.") if subscription_id else t._("All alerts removed."))
    return await alerts(t, [])


STEPS: dict[str, Step] = {
    "browse.province": Step(ask_browse_province, take_browse_province),
    "browse.sector": Step(ask_browse_sector, take_browse_sector),
    "pick.member": Step(ask_member, take_member),
    "report.reason": Step(ask_report_reason, take_report_reason),
    "report.details": Step(ask_report_details, take_report_details),
    "nominate.name": Step(ask_name, take_name),
    "nominate.phone": Step(ask_phone, take_phone),
    "nominate.relation": Step(ask_relation, take_relation),
    "nominate.gender": Step(ask_gender, take_gender),
    "nominate.birth_year": Step(ask_birth_year, take_birth_year),
    "nominate.province": Step(ask_province, take_province),
    "nominate.sectors": Step(ask_sectors, take_sectors),
    "nominate.confirm": Step(ask_confirm, take_confirm),
    greeting.GREETING_STEP: Step(ask_greeting, take_greeting),
    "alerts.province": Step(ask_alert_province, take_alert_province),
    "alerts.sector": Step(ask_alert_sector, take_alert_sector),
}
# Each question's Back button asks the one before it again (what was answered stays until answered anew).
PREVIOUS = {
    "browse.sector": "browse.province",
    "report.details": "report.reason",
    "nominate.phone": "nominate.name",
    "nominate.relation": "nominate.phone",
    "nominate.gender": "nominate.relation",
    "nominate.birth_year": "nominate.gender",
    "nominate.province": "nominate.birth_year",
    "nominate.sectors": "nominate.province",
    "nominate.greeting": "nominate.sectors",
    "nominate.confirm": "nominate.greeting",
    "alerts.sector": "alerts.province",
}
ACTIONS = {
    "rel": relative_menu,
    "browse": browse,
    "jobs": page,
    "job": job_action,
    "nom": nominate,
    "family": family,
    "alerts": alerts,
    "alert": new_alert,
    "sub": subscribe_to,
    "unsub": unsubscribe,
}
COMMANDS = {"jobs": "browse", "nominate": "nom", "family": "family", "alerts": "alerts"}
